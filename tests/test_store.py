import sqlite3

import pytest

from monoculture.store import SampleRecord, Store
from monoculture.store._schema import MIGRATIONS


def record(**changes):
    base = dict(model="m", condition="none@default", task="colour", individual=0, item="banana", replicate=1,
                mode="free", settings="abc123",
                target=None, context="", prompt="Q\nAnswer:", raw_output=" #ffcc00", answer="#ffcc00",
                valid=True, invalid_reason=None, seed=12, decoding={"temperature": 0.8}, finish_reason="stop",
                started_at=1.0, latency_s=0.1)
    return SampleRecord(**{**base, **changes})


def test_samples_round_trip_exactly(tmp_path):
    sample = record(raw_output="<b>\u00e9\x00 text", answer=None, valid=False, invalid_reason="no #RRGGBB code")
    with Store(tmp_path / "s.sqlite") as store:
        assert store.add(sample)
    with Store(tmp_path / "s.sqlite") as store:
        assert list(store.samples()) == [sample]


def test_replicates_stay_separate_and_duplicates_are_refused(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        assert store.add(record(replicate=1))
        assert store.add(record(replicate=2, raw_output=" #ffcc00"))  # same text, another draw: kept
        assert not store.add(record(replicate=1, raw_output=" #000000"))  # same identity: refused
        assert store.count() == 2
        assert [s.raw_output for s in store.samples()] == [" #ffcc00", " #ffcc00"]
        assert {k.replicate for k in store.existing_keys("m")} == {1, 2}


def test_schema_is_versioned_and_reopening_does_not_migrate_twice(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    Store(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 8
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_of_the_first_schema_is_migrated_keeping_its_samples(tmp_path):
    # A store written by a monoculture that knew only migration 1 (no logprob column, no probes table).
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        db.execute("INSERT INTO samples (model, condition, task, individual, item, replicate, mode, context, prompt, "
                   "raw_output, answer, valid, seed, decoding_json, started_at, latency_s) VALUES "
                   "('m', 'none@default', 'colour', 0, 'banana', 1, 'free', '', 'Q', ' #ffcc00', '#ffcc00', 1, 12, "
                   "'{\"temperature\": 0.8}', 1.0, 0.1)")
    with Store(path) as store:
        (sample,) = store.samples()
        assert sample.raw_output == " #ffcc00" and sample.logprob is None
        # Migration 3: samples of earlier stores get the settings "legacy" and an unknown model version.
        assert sample.settings == "legacy" and sample.model_version is None
        store.put_probe(1, "m", {"checks": []})
        assert store.probes() == {"m": {"checks": []}}
        assert store.add(record(replicate=2, logprob=-1.5))
        assert [s.logprob for s in store.samples()] == [None, -1.5]


def test_filters_on_key_columns(tmp_path):
    # Store.populations() was removed (the summary reads the run's plan); samples(**where) filters on key columns.
    with Store(tmp_path / "s.sqlite") as store:
        store.add(record())
        store.add(record(condition="persona@default"))
        store.add(record(model="n"))
        store.add(record(settings="def456"))
        assert sorted({(s.model, s.condition, s.task) for s in store.samples()}) == [
            ("m", "none@default", "colour"), ("m", "persona@default", "colour"), ("n", "none@default", "colour")]
        assert len(list(store.samples(model="m", condition="persona@default"))) == 1
        assert len(list(store.samples(model="m", condition="none@default"))) == 2
        assert len(list(store.samples(model="m", settings="def456"))) == 1
        with pytest.raises(TypeError, match="key columns"):
            list(store.samples(valid=True))
