"""SQLite store: every sample appended as it arrives, read back raw (STYLE principle 11)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from monoculture._identity import SampleKey
from monoculture.errors import MonocultureError
from monoculture.store._schema import MIGRATIONS


@dataclass(frozen=True)
class SampleRecord:
    """One stored sample, exactly as it came."""

    model: str
    condition: str
    task: str
    individual: int
    item: str
    replicate: int
    mode: str
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

    @property
    def key(self) -> SampleKey:
        """The sample's identity."""
        return SampleKey(self.model, self.condition, self.task, self.individual, self.item, self.replicate, self.mode)


_COLUMNS = [field.name for field in fields(SampleRecord)]
_SQL_COLUMNS = ["decoding_json" if name == "decoding" else name for name in _COLUMNS]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
    def start_run(self, study: dict, environment: dict) -> int:
        """Record a run's start; returns its id."""
        cursor = self._db.execute(
            "INSERT INTO runs (started_at, study_json, environment_json) VALUES (?, ?, ?)",
            (_now(), json.dumps(study, sort_keys=True), json.dumps(environment, sort_keys=True)),
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
        """Every run, oldest first, with its study and environment."""
        rows = self._db.execute("SELECT id, started_at, finished_at, study_json, environment_json FROM runs ORDER BY id")
        return [{"id": r[0], "started_at": r[1], "finished_at": r[2], "study": json.loads(r[3]),
                 "environment": json.loads(r[4])} for r in rows]

    def put_model(self, spec: str, info: dict) -> None:
        """Record what a run knows about a model (file, hash, kind, defaults)."""
        self._db.execute("INSERT OR REPLACE INTO models (spec, info_json) VALUES (?, ?)",
                         (spec, json.dumps(info, sort_keys=True)))

    def put_probe(self, run_id: int, model: str, result: dict) -> None:
        """Record the sampling probe a run made of a model before sampling it."""
        self._db.execute("INSERT INTO probes (run_id, model, result_json) VALUES (?, ?, ?)",
                         (run_id, model, json.dumps(result, sort_keys=True)))

    def probes(self) -> dict[str, dict]:
        """The latest sampling probe of every model."""
        rows = self._db.execute("SELECT model, result_json FROM probes ORDER BY id")
        return {model: json.loads(result) for model, result in rows}

    def models(self) -> dict[str, dict]:
        """Every recorded model's information, by spec."""
        return {spec: json.loads(info) for spec, info in self._db.execute("SELECT spec, info_json FROM models")}

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
        sql = "SELECT model, condition, task, individual, item, replicate, mode FROM samples"
        rows = self._db.execute(sql + " WHERE model = ?", (model,)) if model else self._db.execute(sql)
        return {SampleKey(*row) for row in rows}

    def has(self, key: SampleKey) -> bool:
        """Whether a sample with this identity is stored (perhaps by another run writing to the same store)."""
        row = self._db.execute(
            "SELECT 1 FROM samples WHERE model = ? AND condition = ? AND task = ? AND individual = ? AND item = ?"
            " AND replicate = ? AND mode = ?", astuple(key)).fetchone()
        return row is not None

    def samples(self, *, model: str | None = None, condition: str | None = None,
                task: str | None = None) -> Iterator[SampleRecord]:
        """Stored samples in the order they arrived, optionally for one population."""
        clauses, params = [], []
        for column, value in (("model", model), ("condition", condition), ("task", task)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(f"SELECT {', '.join(_SQL_COLUMNS)} FROM samples{where} ORDER BY id", params)
        for row in rows:
            data = dict(zip(_COLUMNS, row))
            data["decoding"] = json.loads(data["decoding"])
            data["valid"] = bool(data["valid"])
            yield SampleRecord(**data)

    def populations(self) -> list[tuple[str, str, str]]:
        """The (model, condition, task) populations present, in order of first arrival."""
        rows = self._db.execute("SELECT model, condition, task FROM samples GROUP BY model, condition, task ORDER BY MIN(id)")
        return [tuple(row) for row in rows]

    def count(self) -> int:
        """How many samples are stored."""
        return int(self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
