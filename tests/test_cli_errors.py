"""User mistakes through the real command: one line on stderr, a distinct exit code, no traceback."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import run_cli

STUDY = """
models = [{models}]
conditions = [{{ context = "none" }}]
[colour]
individuals = 2
words = ["lemon"]
mode = "constrained"
"""


def _study(tmp_path, models='"embedded:smollm2-135m-instruct"', text=None):
    path = tmp_path / "study.toml"
    path.write_text(text if text is not None else STUDY.format(models=models))
    return path


def _one_line_error(result, code, fragment):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("monoculture: error:") and fragment in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("models", "code", "fragment"),
    [
        ('"embedded:gpt-5"', 4, "unknown embedded model 'gpt-5'"),
        ('"nonsense:x"', 4, "unknown backend 'nonsense'"),
        ('"gguf:/nowhere/model.gguf"', 4, "model file /nowhere/model.gguf does not exist"),
    ],
)
def test_bad_models(tmp_path, models, code, fragment):
    _one_line_error(run_cli("run", str(_study(tmp_path, models)), "--out", str(tmp_path / "out")), code, fragment)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("models = [\n", "not valid TOML"),
        ('models = ["embedded:gemma-3-270m"]\nconditions = [{context = "none"}]\n[colour]\nindividual = 3\n',
         "colour.individual: unknown key"),
        ('models = ["embedded:gemma-3-270m"]\nconditions = [{context = "none"}]\n[colour]\nindividuals = "ten"\n',
         "colour.individuals"),
        ('models = ["embedded:gemma-3-270m"]\nconditions = [{context = "none"}]\n[colour]\nwords = ["zzyzx"]\n',
         "'zzyzx' not among the 199 words"),
    ],
)
def test_malformed_study_files(tmp_path, text, fragment):
    _one_line_error(run_cli("run", str(_study(tmp_path, text=text)), "--out", str(tmp_path / "out")), 3, fragment)


def test_missing_data_file(tmp_path):
    result = run_cli("run", str(_study(tmp_path)), "--out", str(tmp_path / "out"),
                     env={"MONOCULTURE_DATA": str(tmp_path / "empty")})
    _one_line_error(result, 5, "monoculture data fetch")


def test_a_failure_after_collection_keeps_what_was_collected(tmp_path, data_root):
    """A run whose second model cannot load stops with one line; the first model's samples stay stored."""
    study = _study(tmp_path, models='"embedded:smollm2-135m-instruct", "gguf:/nowhere/model.gguf"')
    out = tmp_path / "out"
    _one_line_error(run_cli("run", str(study), "--out", str(out)), 4, "does not exist")
    with sqlite3.connect(out / "samples.sqlite") as db:
        assert db.execute("SELECT COUNT(*), SUM(valid) FROM samples").fetchone() == (4, 4)
