"""Deterministic mode: two runs of one study store the same outputs, byte for byte (docs/methods.md, reproducibility).

Without it llama.cpp's logits depend on how requests were batched and which cached prompt prefix they reused, so
the same study drew different texts in every run; backends that cannot promise the same output are refused before
anything loads.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

import monoculture
from conftest import run_cli

STUDY = """
name = "reproducible"
seed = 3
models = [{models}]
conditions = [{conditions}]
deterministic = {deterministic}

[colour]
individuals = {individuals}
words = ["ocean"]
mode = "free"
max_tokens = 8
"""
NONE, PERSONA = '{ context = "none" }', '{ context = "persona" }'


def _study(tmp_path, name, *, models='"embedded:gemma-3-270m"', conditions=(NONE, PERSONA), deterministic="true",
           individuals=2):
    path = tmp_path / f"{name}.toml"
    path.write_text(STUDY.format(models=models, conditions=", ".join(conditions), deterministic=deterministic,
                                 individuals=individuals))
    return path


def _stored_outputs(folder) -> dict[tuple, tuple]:
    """Every stored sample's identity -> its raw output as bytes, the log-probability of its tokens, its seed."""
    with sqlite3.connect(folder / "samples.sqlite") as db:
        rows = db.execute("SELECT model, condition, task, individual, item, replicate, mode, settings, "
                          "CAST(raw_output AS BLOB), logprob, seed FROM samples").fetchall()
    return {tuple(row[:8]): tuple(row[8:]) for row in rows}


@pytest.mark.model
def test_two_deterministic_runs_store_identical_outputs(tmp_path, data_root):
    """The second run asks the same requests in another order (its conditions listed the other way round), so
    its samples follow other requests than in the first run: a batch shared with them, or a prompt prefix they
    left in the cache, would change the logits (without deterministic mode, 29-37 of 45 such texts differed)."""
    first = monoculture.run(_study(tmp_path, "first"), tmp_path / "first")
    second = monoculture.run(_study(tmp_path, "second", conditions=(PERSONA, NONE)), tmp_path / "second")

    outputs, again = _stored_outputs(tmp_path / "first"), _stored_outputs(tmp_path / "second")
    assert len(outputs) == 8 and outputs.keys() == again.keys()
    for key, (text, logprob, seed) in outputs.items():
        # The same bytes, and the same log-probability to the last bit: the logits themselves were identical.
        assert again[key] == (text, logprob, seed), key
    # Real draws, not a degenerate comparison: different seeds and contexts gave different texts.
    assert len({text for text, _, _ in outputs.values()}) > 1
    for summary, folder in ((first, tmp_path / "first"), (second, tmp_path / "second")):
        assert summary.deterministic == {"embedded:gemma-3-270m": True}
        assert json.loads((folder / "summary.json").read_text())["deterministic"] == {"embedded:gemma-3-270m": True}
        assert "<th>deterministic</th>" in (folder / "report.html").read_text()


@pytest.mark.parametrize(
    ("models", "deterministic"),
    [
        # Study-wide: the embedded model listed first would have sampled for minutes before the server was refused.
        ('"embedded:gemma-3-270m", "openai:some-model@http://127.0.0.1:9/v1"', "true"),
        ('{ spec = "hf:/models/checkpoint", deterministic = true }', "false"),
    ],
)
def test_a_backend_that_cannot_be_deterministic_is_refused_up_front(tmp_path, models, deterministic):
    result = run_cli("run", str(_study(tmp_path, "study", models=models, deterministic=deterministic)),
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("monoculture: error:") and "cannot run deterministically" in lines[0]
    assert "set deterministic = false for this model" in lines[0]
    # Before any model loaded (the server at port 9 was never asked) and before anything was stored.
    assert not (tmp_path / "out" / "samples.sqlite").exists()


@pytest.mark.parametrize(
    ("models", "deterministic", "fragment"),
    [
        ('"embedded:gemma-3-270m"', '"yes"', "deterministic: Input should be a valid boolean"),
        ('{ spec = "embedded:gemma-3-270m", deterministic = 1 }', "false", "models.0.deterministic"),
        ('{ spec = "embedded:gemma-3-270m", parallel = 4 }', "true", "parallel = 4 contradicts deterministic = true"),
    ],
)
def test_the_setting_is_validated_like_the_others(tmp_path, models, deterministic, fragment):
    result = run_cli("run", str(_study(tmp_path, "study", models=models, deterministic=deterministic)),
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 3, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr


def test_the_mode_is_recorded_per_run_and_does_not_change_sample_identity(tmp_path, data_root):
    """Switching the mode keeps the stored samples (same distribution, same identity); the summary calls a model
    deterministic only while every sample it rests on was drawn in deterministic mode."""
    folder = tmp_path / "out"
    models = '"fake:uniform", { spec = "fake:constant", deterministic = false }'
    summary = monoculture.run(_study(tmp_path, "a", models=models, individuals=2), folder)
    assert summary.deterministic == {"fake:uniform": True, "fake:constant": False}
    stored = _stored_outputs(folder)

    # The same study in default mode draws nothing new: its samples are the same samples.
    summary = monoculture.run(_study(tmp_path, "b", models=models, individuals=2, deterministic="false"), folder)
    assert _stored_outputs(folder) == stored
    assert summary.deterministic == {"fake:uniform": True, "fake:constant": False}

    # A larger population drawn in default mode: fake:uniform's samples now come from both modes.
    summary = monoculture.run(_study(tmp_path, "c", models=models, individuals=3, deterministic="false"), folder)
    assert summary.deterministic == {"fake:uniform": False, "fake:constant": False}
    assert len(_stored_outputs(folder)) == len(stored) * 3 // 2


def test_the_terminal_says_which_models_ran_deterministically(tmp_path, data_root):
    models = '"fake:uniform", { spec = "fake:constant", deterministic = false }'
    result = run_cli("run", str(_study(tmp_path, "study", models=models)), "--out", str(tmp_path / "out"),
                     env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "loaded fake:uniform (chat, monoculture" in result.stdout and "population, deterministic)" in result.stdout
    assert "models: fake:uniform deterministic; fake:constant not deterministic" in result.stdout

    listing = json.loads(run_cli("models", "--json").stdout)
    assert {entry["prefix"]: entry["deterministic"] for entry in listing["backends"]} == {
        "embedded": True, "gguf": True, "openai": False, "hf": False, "fake": True}
