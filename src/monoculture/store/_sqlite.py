"""SQLite store: every sample appended as it arrives, read back raw (docs/methods.md, section 9)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from monoculture.errors import MonocultureError, OutputError, StoreError
from monoculture.files import process_alive
from monoculture.store._identity import KEY_COLUMNS, SampleKey
from monoculture.store._schema import MIGRATIONS

if TYPE_CHECKING:
    import numpy as np

# What makes two loads of a model the same version: the weights, the backend and runtime that run them and the
# defaults "temperature = default" resolves to. Not the concurrency: more slots do not change the model.
VERSION_FIELDS = ("backend", "kind", "file", "sha256", "runtime", "default_decoding")


@dataclass(frozen=True)
class SampleRecord:
    """One stored sample, exactly as it came; its first fields are its :class:`SampleKey`."""

    model: str
    condition: str
    task: str
    individual: int
    item: str
    replicate: int
    mode: str
    settings: str
    target: str | None
    context: str
    prompt: str
    raw_output: str
    answer: str | None
    valid: bool
    invalid_reason: str | None
    seed: int
    decoding: dict
    finish_reason: str | None
    started_at: float
    latency_s: float
    run_id: int | None = None
    logprob: float | None = None  # of the raw output under its sampling distribution, if the backend said
    model_version: int | None = None  # the model_versions row of the model that drew it (None: before schema 3)
    parse_note: str | None = None  # how a valid answer was read when not literally (e.g. alpha digits dropped)
    # Exact mode: the model's own probability (T = 1, no truncation) of leaving the answer set before an answer
    # is decided; renormalised away in the stored distribution (backends/_distribution).
    outside_mass: float | None = None
    # An aligned twin's exact samples: {"reference": base probabilities, "reward": reward per answer} as JSON.
    alignment: str | None = None

    @property
    def key(self) -> SampleKey:
        """The sample's identity."""
        return SampleKey(*(getattr(self, name) for name in KEY_COLUMNS))


_COLUMNS = [field.name for field in fields(SampleRecord)]
_SQL_COLUMNS = ["decoding_json" if name == "decoding" else name for name in _COLUMNS]
assert tuple(_COLUMNS[: len(KEY_COLUMNS)]) == KEY_COLUMNS, "a SampleRecord starts with its SampleKey"
_KEY_MATCH = " AND ".join(f"{column} = ?" for column in KEY_COLUMNS)


# Text hashes per embeddings query (SQLite builds before 3.32 allow 999 parameters).
_HASHES_PER_QUERY = 500

# The store's mark: PRAGMA application_id of every monoculture store ("MoNo"). A database without it that is
# not an empty file nor an earlier monoculture store is someone else's, and is left exactly as it was.
APPLICATION_ID = 0x4D6F4E6F


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def version_fingerprint(info: dict) -> str:
    """What identifies a model version (see :data:`VERSION_FIELDS`), hashed."""
    payload = json.dumps({name: info.get(name) for name in VERSION_FIELDS}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class Store:
    """An append-only sample store in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise OutputError(f"cannot use {folder} as the output folder: it, or a folder on its path, is a file; "
                              "choose another --out") from None
        except OSError as error:
            raise OutputError(f"cannot create the output folder {folder} ({error.strerror}): choose another --out "
                              "on a writable disk") from None
        if self.path.is_dir():
            raise OutputError(f"{self.path} is a folder, not a store: choose another --out")
        try:
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._check_mark()
            # WAL: readers never block the writer, and a killed process loses no committed sample.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=60000")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise self._problem(error) from error

    def _check_mark(self) -> None:
        """Refuse a database that is not a monoculture store before anything in it changes."""
        marked = self._db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = [row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        earlier = {"runs", "samples"} <= set(tables) and self._db.execute("PRAGMA user_version").fetchone()[0] >= 1
        if not (marked or earlier or not tables):
            self._db.close()
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(f"{self.path} is not a monoculture store (it holds the tables {shown}); nothing in it "
                             "was changed: choose another --out folder")

    def _problem(self, error: sqlite3.Error) -> MonocultureError:
        """A SQLite failure as one line naming its cause and the fix; every committed sample stays stored."""
        text = str(error)
        if "disk is full" in text or "disk I/O error" in text:
            return StoreError(f"no space left to write {self.path} ({text}): free some space and run again; "
                              "every sample stored so far is kept")
        if "not a database" in text or "file is encrypted" in text:
            return StoreError(f"{self.path} is not a SQLite database ({text}); nothing in it was changed: choose "
                              "another --out folder")
        if "malformed" in text:
            return StoreError(f"{self.path} is damaged ({text}): recover it with `sqlite3 {self.path.name} .recover` "
                              "into a new file, or run into a new --out folder")
        if "readonly" in text or "unable to open" in text or "read-only" in text:
            return StoreError(f"{self.path} cannot be written ({text}): the folder is read-only or not yours; copy "
                              "it somewhere writable, or choose another --out")
        if "locked" in text:
            return StoreError(f"{self.path} stayed locked by another process for a minute ({text}): wait for the "
                              "other run, or choose another --out")
        return StoreError(f"{self.path} cannot be used ({text}): choose another --out folder")

    def _execute(self, sql: str, parameters: tuple | list = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            raise self._problem(error) from error

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} was written by a newer monoculture (schema {version}): upgrade monoculture")
        for number in range(version, len(MIGRATIONS)):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # Re-read under the write lock: another process may have migrated meanwhile.
                if self._db.execute("PRAGMA user_version").fetchone()[0] == number:
                    for statement in MIGRATIONS[number].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {number + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk): the original error is the one to report.
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
        if self._db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # runs and models -------------------------------------------------------------------------------
    def start_run(self, study: dict, environment: dict, plan: dict | None = None) -> int:
        """Record a run's start with what it plans to draw; returns its id."""
        cursor = self._execute(
            "INSERT INTO runs (started_at, study_json, environment_json, plan_json, pid, host) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), json.dumps(study, sort_keys=True), json.dumps(environment, sort_keys=True),
             None if plan is None else json.dumps(plan, sort_keys=True), os.getpid(), socket.gethostname()),
        )
        return int(cursor.lastrowid)

    def live_runs_before(self, run_id: int) -> list[dict]:
        """The runs started before ``run_id`` that are still running: unfinished, and their process alive on
        this host (a run on another host sharing the folder counts as live, since its process cannot be seen)."""
        rows = self._execute("SELECT id, started_at, study_json, pid, host FROM runs WHERE id < ? AND "
                             "finished_at IS NULL AND pid IS NOT NULL", (run_id,))
        here = socket.gethostname()
        return [{"id": r[0], "started_at": r[1], "study": json.loads(r[2]), "pid": r[3], "host": r[4]}
                for r in rows.fetchall() if r[4] != here or process_alive(r[3])]

    def finish_run(self, run_id: int) -> None:
        """Record a run's end."""
        self._execute("UPDATE runs SET finished_at = ? WHERE id = ?", (_now(), run_id))

    def discard_run(self, run_id: int) -> None:
        """Remove a run that was refused before it drew or probed anything."""
        self._execute("DELETE FROM runs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM samples WHERE run_id = ?)",
                      (run_id, run_id))

    def unfinished_runs_before(self, run_id: int) -> int:
        """How many runs started before ``run_id`` have not finished (running now, or killed)."""
        return int(self._execute("SELECT COUNT(*) FROM runs WHERE id < ? AND finished_at IS NULL",
                                    (run_id,)).fetchone()[0])

    def runs(self) -> list[dict]:
        """Every run, oldest first, with its study, environment and plan (``None`` before schema 3)."""
        rows = self._execute("SELECT id, started_at, finished_at, study_json, environment_json, plan_json "
                                "FROM runs ORDER BY id")
        return [{"id": r[0], "started_at": r[1], "finished_at": r[2], "study": json.loads(r[3]),
                 "environment": json.loads(r[4]), "plan": None if r[5] is None else json.loads(r[5])} for r in rows]

    def put_model_version(self, spec: str, info: dict, run_id: int | None = None) -> int:
        """Record a loaded model; returns the id of its version (a new one when the weights or runtime changed)."""
        fingerprint = version_fingerprint(info)
        self._execute("INSERT OR IGNORE INTO model_versions (spec, fingerprint, info_json, first_run_id) "
                         "VALUES (?, ?, ?, ?)", (spec, fingerprint, json.dumps(info, sort_keys=True), run_id))
        row = self._execute("SELECT id FROM model_versions WHERE spec = ? AND fingerprint = ?",
                               (spec, fingerprint)).fetchone()
        return int(row[0])

    def model_versions(self) -> dict[int, dict]:
        """Every recorded model version by id: ``{"spec": ..., "info": {...}}``, oldest first."""
        rows = self._execute("SELECT id, spec, info_json FROM model_versions ORDER BY id")
        return {int(i): {"spec": spec, "info": json.loads(info)} for i, spec, info in rows}

    def put_probe(self, run_id: int, model: str, result: dict) -> None:
        """Record the sampling probe a run made of a model before sampling it."""
        self._execute("INSERT INTO probes (run_id, model, result_json) VALUES (?, ?, ?)",
                         (run_id, model, json.dumps(result, sort_keys=True)))

    def probes(self) -> dict[str, dict]:
        """The latest sampling probe of every model."""
        rows = self._execute("SELECT model, result_json FROM probes ORDER BY id")
        return {model: json.loads(result) for model, result in rows}

    # samples ---------------------------------------------------------------------------------------
    def add(self, record: SampleRecord) -> bool:
        """Append one sample; False if a sample with the same identity was already stored."""
        values = [json.dumps(record.decoding, sort_keys=True) if name == "decoding" else getattr(record, name)
                  for name in _COLUMNS]
        cursor = self._execute(
            f"INSERT OR IGNORE INTO samples ({', '.join(_SQL_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            values,
        )
        return cursor.rowcount == 1

    def add_many(self, records: Iterable[SampleRecord]) -> int:
        """Append many samples in one transaction (an import: all or none are stored); returns how many were new."""
        rows = ([json.dumps(record.decoding, sort_keys=True) if name == "decoding" else getattr(record, name)
                 for name in _COLUMNS] for record in records)
        before = self.count()
        try:
            with self._db:  # BEGIN ... COMMIT, or ROLLBACK on an error
                self._db.execute("BEGIN")
                self._db.executemany(f"INSERT OR IGNORE INTO samples ({', '.join(_SQL_COLUMNS)}) "
                                     f"VALUES ({', '.join('?' * len(_COLUMNS))})", rows)
        except sqlite3.DatabaseError as error:
            raise self._problem(error) from error
        return self.count() - before

    def existing_keys(self, model: str | None = None) -> set[SampleKey]:
        """The identities already stored (for one model, or all)."""
        sql = f"SELECT {', '.join(KEY_COLUMNS)} FROM samples"
        rows = self._execute(sql + " WHERE model = ?", (model,)) if model else self._execute(sql)
        return {SampleKey(*row) for row in rows}

    def has(self, key: SampleKey) -> bool:
        """Whether a sample with this identity is stored (perhaps by another run writing to the same store)."""
        return self._execute(f"SELECT 1 FROM samples WHERE {_KEY_MATCH}", astuple(key)).fetchone() is not None

    def samples(self, **where: str | None) -> Iterator[SampleRecord]:
        """Stored samples in the order they arrived, optionally only those whose key columns have given values
        (``model=``, ``condition=``, ``task=``, ``mode=``, ``settings=``)."""
        unknown = set(where) - set(KEY_COLUMNS)
        if unknown:
            raise TypeError(f"samples() filters on key columns only, not {sorted(unknown)}")
        clauses = [(column, value) for column, value in where.items() if value is not None]
        sql_where = f" WHERE {' AND '.join(f'{column} = ?' for column, _ in clauses)}" if clauses else ""
        rows = self._execute(f"SELECT {', '.join(_SQL_COLUMNS)} FROM samples{sql_where} ORDER BY id",
                                [value for _, value in clauses])
        try:
            for row in rows:
                data = dict(zip(_COLUMNS, row))
                try:
                    data["decoding"] = json.loads(data["decoding"])
                except (TypeError, ValueError):
                    raise StoreError(f"{self.path} holds a sample whose decoding is not JSON ({data['decoding']!r:.60}, "
                                     f"sample of {data['model']!r}, item {data['item']!r}): the store was edited by hand; "
                                     "restore it from a copy or run into a new --out folder") from None
                data["valid"] = bool(data["valid"])
                yield SampleRecord(**data)
        except sqlite3.DatabaseError as error:
            raise self._problem(error) from error

    def count(self) -> int:
        """How many samples are stored."""
        return int(self._execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    # embeddings ------------------------------------------------------------------------------------
    def embeddings(self, embedder: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``embedder`` for those of the text hashes it has (float32, one per hash)."""
        import numpy as np

        found: dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(hashes))
        for start in range(0, len(wanted), _HASHES_PER_QUERY):
            chunk = wanted[start:start + _HASHES_PER_QUERY]
            rows = self._execute(f"SELECT text_sha256, dimensions, vector FROM embeddings WHERE embedder = ? AND "
                                 f"text_sha256 IN ({', '.join('?' * len(chunk))})", [embedder, *chunk]).fetchall()
            for digest, dimensions, blob in rows:
                if not isinstance(blob, bytes) or len(blob) != 4 * dimensions:
                    raise StoreError(f"{self.path} holds an embedding of {digest[:12]} by {embedder} whose size does "
                                     "not match its dimensions: the store was edited by hand; restore it from a "
                                     "copy or summarise into a new --out folder")
                found[digest] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        return found

    def put_embeddings(self, embedder: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Store vectors of ``embedder`` by text hash, in one transaction; a hash already stored keeps its vector."""
        import numpy as np

        rows = []
        for digest, vector in vectors.items():
            values = np.asarray(vector, dtype="<f4")
            if values.ndim != 1 or not len(values):
                raise ValueError(f"an embedding must be a non-empty 1-D vector, got shape {values.shape}")
            rows.append((embedder, digest, len(values), values.tobytes()))
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO embeddings (embedder, text_sha256, dimensions, vector) "
                                 "VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except BaseException as error:
            # SQLite may have rolled back already (a full disk): the original error is the one to report.
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if isinstance(error, sqlite3.DatabaseError):
                raise self._problem(error) from error
            raise
