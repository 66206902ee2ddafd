"""The public API a user scripts with, and the commands built on it: export and report."""

from __future__ import annotations

import subprocess
import sys

import pandas
import pytest

import monoculture
from conftest import count_samples, run_cli
from monoculture.store import KEY_COLUMNS

STUDY = """name = "api"
models = ["fake:uniform", "fake:constant"]
conditions = [{ context = "none" }, { context = "none", temperature = 0.0 }]
[colour]
individuals = 3
words = ["wisdom", "lemon"]
[concepts]
individuals_per_target = 2
targets = ["eagle"]
mode = "exact"
sweeps = 20
burn_in = 2
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory, data_root):
    folder = tmp_path_factory.mktemp("api")
    (folder / "study.toml").write_text(STUDY)
    summary = monoculture.run(folder / "study.toml", folder / "out")
    assert isinstance(summary, monoculture.Summary)
    return folder / "out"


def test_the_public_names_import_from_the_package():
    code = "import monoculture as m; m.load_study, m.run, m.open_results, m.Study, m.Summary, m.MonocultureError"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0


def test_samples_are_one_row_per_stored_sample_with_the_whole_record(folder):
    samples = monoculture.open_results(folder).samples()
    assert isinstance(samples, pandas.DataFrame)
    assert len(samples) == count_samples(folder / "samples.sqlite") == 2 * 2 * (3 * 2 * 2 + 2 * 72)
    for column in (*KEY_COLUMNS, "context", "prompt", "raw_output", "answer", "valid", "invalid_reason", "seed",
                   "decoding_temperature", "decoding_top_k", "decoding_max_tokens", "started_at", "latency_s",
                   "model_version", "logprob"):
        assert column in samples.columns, column
    assert samples[list(KEY_COLUMNS)].drop_duplicates().shape[0] == len(samples)
    assert set(samples.decoding_temperature) == {0.0, 1.0}
    # exact mode stores the distribution as the raw output and the individual's drawn answer as its answer
    exact = samples[samples["mode"] == "exact"]
    assert exact.raw_output.str.startswith("{").all() and exact.answer.isin(["chicken", "finch", "robin", "ostrich",
                                                                             "penguin", "salmon", "seal", "dolphin",
                                                                             "whale"]).all()


def test_the_summary_is_recomputed_from_the_store(folder):
    import json

    again = monoculture.open_results(folder).summary()
    written = (folder / "summary.json").read_text()
    stored = json.loads(written)
    recomputed = json.loads(again.to_json())
    stored.pop("created"), recomputed.pop("created")
    assert stored == recomputed


def test_export_csv_and_parquet(folder, tmp_path):
    done = run_cli("export", str(folder), "--out", str(tmp_path / "samples.csv"))
    assert done.returncode == 0, done.stderr
    frame = pandas.read_csv(tmp_path / "samples.csv")
    assert len(frame) == count_samples(folder / "samples.sqlite") and f"wrote {len(frame)} samples" in done.stdout
    done = run_cli("export", str(folder), "--out", str(tmp_path / "samples.parquet"), "--format", "parquet")
    assert done.returncode == 0, done.stderr
    parquet = pandas.read_parquet(tmp_path / "samples.parquet")
    pandas.testing.assert_frame_equal(parquet, monoculture.open_results(folder).samples())


def test_report_command_rebuilds_the_outputs_from_the_store(folder):
    (folder / "report.html").unlink()
    (folder / "summary.json").unlink()
    done = run_cli("report", str(folder))
    assert done.returncode == 0, done.stderr
    assert (folder / "report.html").is_file() and (folder / "summary.json").is_file()
    assert "api — colour" in done.stdout and "api — concepts" in done.stdout


def test_a_folder_without_a_store_is_one_line(tmp_path):
    for args in (("report", str(tmp_path)), ("export", str(tmp_path), "--out", str(tmp_path / "x.csv"))):
        done = run_cli(*args)
        assert done.returncode == 2 and done.stderr.count("\n") == 1
        assert "holds no samples.sqlite" in done.stderr
    with pytest.raises(monoculture.MonocultureError, match="holds no samples.sqlite"):
        monoculture.open_results(tmp_path)
