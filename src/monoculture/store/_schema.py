"""The store's schema as append-only numbered migrations; ``PRAGMA user_version`` is the number applied."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: runs, models and samples. A sample's identity is unique, so a resumed run can neither duplicate
    # a sample nor collapse two replicates into one.
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        study_json TEXT NOT NULL,
        environment_json TEXT NOT NULL
    );
    CREATE TABLE models (
        spec TEXT PRIMARY KEY,
        info_json TEXT NOT NULL
    );
    CREATE TABLE samples (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        condition TEXT NOT NULL,
        task TEXT NOT NULL,
        individual INTEGER NOT NULL,
        item TEXT NOT NULL,
        replicate INTEGER NOT NULL,
        mode TEXT NOT NULL,
        target TEXT,
        context TEXT NOT NULL,
        prompt TEXT NOT NULL,
        raw_output TEXT NOT NULL,
        answer TEXT,
        valid INTEGER NOT NULL,
        invalid_reason TEXT,
        seed INTEGER NOT NULL,
        decoding_json TEXT NOT NULL,
        finish_reason TEXT,
        started_at REAL NOT NULL,
        latency_s REAL NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        UNIQUE (model, condition, task, individual, item, replicate, mode)
    );
    CREATE INDEX samples_by_population ON samples (model, condition, task);
    """,
    # 2: the probability of each sampled text under its own sampling distribution (for the duplicate-samples
    # alarm; NULL where the backend does not report it), and the sampling probe each run makes per model.
    """
    ALTER TABLE samples ADD COLUMN logprob REAL;
    CREATE TABLE probes (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        model TEXT NOT NULL,
        result_json TEXT NOT NULL
    );
    """,
)
