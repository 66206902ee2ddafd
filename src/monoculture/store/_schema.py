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
    # 3: the settings a sample was drawn under join its identity (a changed study draws new samples instead of
    # mixing them with old ones), every model version is kept and each sample names the version that drew it,
    # and each run records what it planned. SQLite cannot change a UNIQUE constraint, so the samples table is
    # rebuilt; samples of earlier stores get the settings "legacy" and model version NULL (unknown).
    """
    CREATE TABLE model_versions (
        id INTEGER PRIMARY KEY,
        spec TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        info_json TEXT NOT NULL,
        first_run_id INTEGER REFERENCES runs(id),
        UNIQUE (spec, fingerprint)
    );
    CREATE TABLE samples_v3 (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        condition TEXT NOT NULL,
        task TEXT NOT NULL,
        individual INTEGER NOT NULL,
        item TEXT NOT NULL,
        replicate INTEGER NOT NULL,
        mode TEXT NOT NULL,
        settings TEXT NOT NULL,
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
        logprob REAL,
        model_version INTEGER REFERENCES model_versions(id),
        UNIQUE (model, condition, task, individual, item, replicate, mode, settings)
    );
    INSERT INTO samples_v3 (id, model, condition, task, individual, item, replicate, mode, settings, target, context,
                            prompt, raw_output, answer, valid, invalid_reason, seed, decoding_json, finish_reason,
                            started_at, latency_s, run_id, logprob, model_version)
        SELECT id, model, condition, task, individual, item, replicate, mode, 'legacy', target, context, prompt,
               raw_output, answer, valid, invalid_reason, seed, decoding_json, finish_reason, started_at, latency_s,
               run_id, logprob, NULL FROM samples;
    DROP TABLE samples;
    ALTER TABLE samples_v3 RENAME TO samples;
    CREATE INDEX samples_by_population ON samples (model, condition, task, mode, settings);
    ALTER TABLE runs ADD COLUMN plan_json TEXT;
    INSERT INTO model_versions (spec, fingerprint, info_json) SELECT spec, 'legacy', info_json FROM models;
    DROP TABLE models;
    """,
    # 4: which process runs each run, so that a second run into the folder can tell a live run from a killed one.
    """
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN host TEXT;
    """,
    # 5: how a valid answer was read when the reading was not literal (an #RRGGBBAA code's alpha dropped).
    """
    ALTER TABLE samples ADD COLUMN parse_note TEXT;
    """,
    # 6: exact mode's answer-set leak: the model's own probability of text the answer grammar refuses.
    """
    ALTER TABLE samples ADD COLUMN outside_mass REAL;
    """,
    # 7: the vectors of free-form answers, one per embedder (its identity names the exact weights) and text
    # (sha256 of its UTF-8 bytes), as little-endian float32: an answer is embedded once however often it recurs.
    """
    CREATE TABLE embeddings (
        embedder TEXT NOT NULL,
        text_sha256 TEXT NOT NULL,
        dimensions INTEGER NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (embedder, text_sha256)
    );
    """,
    # 8: an aligned twin's exact samples: its base's distribution and the reward per answer (JSON), from which the
    # KL to the base and the mean reward of every prompt are recomputed (`monoculture simulate`).
    """
    ALTER TABLE samples ADD COLUMN alignment TEXT;
    """,
)
