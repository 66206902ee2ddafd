"""SQLite store: every sample appended as it arrives, read back raw (docs/methods.md, section 9)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from monoculture.errors import MonocultureError
from monoculture.store._identity import KEY_COLUMNS, SampleKey
from monoculture.store._schema import MIGRATIONS

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

    @property
    def key(self) -> SampleKey:
        """The sample's identity."""
        return SampleKey(*(getattr(self, name) for name in KEY_COLUMNS))


_COLUMNS = [field.name for field in fields(SampleRecord)]
_SQL_COLUMNS = ["decoding_json" if name == "decoding" else name for name in _COLUMNS]
assert tuple(_COLUMNS[: len(KEY_COLUMNS)]) == KEY_COLUMNS, "a SampleRecord starts with its SampleKey"
_KEY_MATCH = " AND ".join(f"{column} = ?" for column in KEY_COLUMNS)


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            # WAL: readers never block the writer, and a killed process loses no committed sample.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=60000")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise MonocultureError(f"{self.path} is not a monoculture store ({error}): choose another --out folder") from error

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise MonocultureError(f"{self.path} was written by a newer monoculture (schema {version}): upgrade monoculture")
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
                self._db.execute("ROLLBACK")
                raise

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
        cursor = self._db.execute(
            "INSERT INTO runs (started_at, study_json, environment_json, plan_json) VALUES (?, ?, ?, ?)",
            (_now(), json.dumps(study, sort_keys=True), json.dumps(environment, sort_keys=True),
             None if plan is None else json.dumps(plan, sort_keys=True)),
        )
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int) -> None:
        """Record a run's end."""
        self._db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (_now(), run_id))

    def unfinished_runs_before(self, run_id: int) -> int:
        """How many runs started before ``run_id`` have not finished (running now, or killed)."""
        return int(self._db.execute("SELECT COUNT(*) FROM runs WHERE id < ? AND finished_at IS NULL",
                                    (run_id,)).fetchone()[0])

    def runs(self) -> list[dict]:
        """Every run, oldest first, with its study, environment and plan (``None`` before schema 3)."""
        rows = self._db.execute("SELECT id, started_at, finished_at, study_json, environment_json, plan_json "
                                "FROM runs ORDER BY id")
        return [{"id": r[0], "started_at": r[1], "finished_at": r[2], "study": json.loads(r[3]),
                 "environment": json.loads(r[4]), "plan": None if r[5] is None else json.loads(r[5])} for r in rows]

    def put_model_version(self, spec: str, info: dict, run_id: int | None = None) -> int:
        """Record a loaded model; returns the id of its version (a new one when the weights or runtime changed)."""
        fingerprint = version_fingerprint(info)
        self._db.execute("INSERT OR IGNORE INTO model_versions (spec, fingerprint, info_json, first_run_id) "
                         "VALUES (?, ?, ?, ?)", (spec, fingerprint, json.dumps(info, sort_keys=True), run_id))
        row = self._db.execute("SELECT id FROM model_versions WHERE spec = ? AND fingerprint = ?",
                               (spec, fingerprint)).fetchone()
        return int(row[0])

    def model_versions(self) -> dict[int, dict]:
        """Every recorded model version by id: ``{"spec": ..., "info": {...}}``, oldest first."""
        rows = self._db.execute("SELECT id, spec, info_json FROM model_versions ORDER BY id")
        return {int(i): {"spec": spec, "info": json.loads(info)} for i, spec, info in rows}

    def put_probe(self, run_id: int, model: str, result: dict) -> None:
        """Record the sampling probe a run made of a model before sampling it."""
        self._db.execute("INSERT INTO probes (run_id, model, result_json) VALUES (?, ?, ?)",
                         (run_id, model, json.dumps(result, sort_keys=True)))

    def probes(self) -> dict[str, dict]:
        """The latest sampling probe of every model."""
        rows = self._db.execute("SELECT model, result_json FROM probes ORDER BY id")
        return {model: json.loads(result) for model, result in rows}

    # samples ---------------------------------------------------------------------------------------
    def add(self, record: SampleRecord) -> bool:
        """Append one sample; False if a sample with the same identity was already stored."""
        values = [json.dumps(record.decoding, sort_keys=True) if name == "decoding" else getattr(record, name)
                  for name in _COLUMNS]
        cursor = self._db.execute(
            f"INSERT OR IGNORE INTO samples ({', '.join(_SQL_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            values,
        )
        return cursor.rowcount == 1

    def existing_keys(self, model: str | None = None) -> set[SampleKey]:
        """The identities already stored (for one model, or all)."""
        sql = f"SELECT {', '.join(KEY_COLUMNS)} FROM samples"
        rows = self._db.execute(sql + " WHERE model = ?", (model,)) if model else self._db.execute(sql)
        return {SampleKey(*row) for row in rows}

    def has(self, key: SampleKey) -> bool:
        """Whether a sample with this identity is stored (perhaps by another run writing to the same store)."""
        return self._db.execute(f"SELECT 1 FROM samples WHERE {_KEY_MATCH}", astuple(key)).fetchone() is not None

    def samples(self, **where: str | None) -> Iterator[SampleRecord]:
        """Stored samples in the order they arrived, optionally only those whose key columns have given values
        (``model=``, ``condition=``, ``task=``, ``mode=``, ``settings=``)."""
        unknown = set(where) - set(KEY_COLUMNS)
        if unknown:
            raise TypeError(f"samples() filters on key columns only, not {sorted(unknown)}")
        clauses = [(column, value) for column, value in where.items() if value is not None]
        sql_where = f" WHERE {' AND '.join(f'{column} = ?' for column, _ in clauses)}" if clauses else ""
        rows = self._db.execute(f"SELECT {', '.join(_SQL_COLUMNS)} FROM samples{sql_where} ORDER BY id",
                                [value for _, value in clauses])
        for row in rows:
            data = dict(zip(_COLUMNS, row))
            data["decoding"] = json.loads(data["decoding"])
            data["valid"] = bool(data["valid"])
            yield SampleRecord(**data)

    def count(self) -> int:
        """How many samples are stored."""
        return int(self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
