"""Condition grids expand as declared, and ``monoculture plan`` counts what a run draws (before and after it)."""

from __future__ import annotations

import pytest

import monoculture
from conftest import run_cli
from monoculture.study import parse_study


def _study(conditions):
    return parse_study({"name": "grid", "seed": 1, "models": ["fake:uniform", "fake:constant"],
                        "conditions": conditions, "concepts": {"individuals_per_target": 2, "targets": ["robin"]}})


def test_a_grid_is_every_combination_in_the_order_written():
    study = _study({"context": ["none", "persona"], "temperature": ["default", 1.5, 2.0]})
    assert [c.condition().label for c in study.conditions] == [
        "none@default", "none@1.5", "none@2", "persona@default", "persona@1.5", "persona@2"]
    assert [c.condition().label for c in _study({"context": "random"}).conditions] == ["random@default"]
    # The stored study holds the expanded list, which reads back the same.
    assert parse_study(study.model_dump(mode="json")).conditions == study.conditions


def test_the_plan_counts_what_the_run_draws_and_what_is_stored(tmp_path, data_root):
    study = _study({"context": ["none", "persona"]})
    before = monoculture.plan(study, tmp_path)
    # 2 models x 2 conditions x 2 individuals x 72 prompts; free mode: one call per sample.
    assert before.samples == before.to_draw == 2 * 2 * 2 * 72
    assert {(row.model, row.condition) for row in before.rows} == {
        (m, c) for m in ("fake:uniform", "fake:constant") for c in ("none@default", "persona@default")}
    assert all(row.model_calls == row.samples == 144 for row in before.rows)
    summary = monoculture.run(study, tmp_path)
    assert summary.n_samples_planned == before.samples
    after = monoculture.plan(study, tmp_path)
    assert after.to_draw == 0 and after.seconds == 0.0


def test_the_command_prints_the_plan(tmp_path, data_root):
    path = tmp_path / "study.toml"
    path.write_text('models = ["embedded:smollm2-135m-instruct"]\nconditions = { context = ["none", "persona"] }\n'
                    '[concepts]\nindividuals_per_target = 1\ntargets = ["robin"]\nmode = "exact"\n')
    done = run_cli("plan", str(path))
    assert done.returncode == 0, done.stderr
    # Exact mode: the none individual's 72 prompts, the persona individual's own 72.
    assert "144 samples planned, 144 to draw" in done.stdout and "about 0 min" in done.stdout


def test_a_decoding_axis_reaches_every_request(tmp_path, data_root):
    # Truncation per condition: the grid's third axis; each condition's samples store what they were drawn with.
    study = parse_study({"name": "decoding-grid", "seed": 1, "models": ["embedded:smollm2-135m-instruct"],
                         "conditions": {"context": "none", "temperature": [1.0], "top_p": [1.0, 0.5]},
                         "decoding": {"top_k": 0, "min_p": 0.0},
                         "colour_terms": {"individuals": 2, "words": ["ocean", "joy"], "mode": "constrained"}})
    assert [c.condition().label for c in study.conditions] == ["none@1+top_p=1", "none@1+top_p=0.5"]
    summary = monoculture.run(study, tmp_path)
    cells = summary.models["embedded:smollm2-135m-instruct"]
    assert cells["none@1+top_p=0.5"].decoding["top_p"] == 0.5 and cells["none@1+top_p=1"].decoding["top_p"] == 1.0
    assert cells["none@1+top_p=0.5"].decoding["top_k"] == 0  # what the condition leaves unset comes from [decoding]


def test_two_embedded_models_in_a_row_sample_side_by_side_and_the_estimate_counts_the_slower():
    """Embedded models that follow each other share the cores; a model with its own threads, a deterministic one, a
    twin or a server keeps its turn. The estimate of a pair is its slower member at SHARED_CORES_RATE of its speed."""
    from monoculture._run._runner import _LOAD_SECONDS, SHARED_CORES_RATE, sampled_together
    from monoculture.backends import default_threads

    gemma, smol = "embedded:gemma-3-270m", "embedded:smollm2-135m-instruct"

    def groups(models):
        study = parse_study({"name": "pairs", "seed": 1, "conditions": [{"context": "none"}], "models": models,
                             "concepts": {"individuals_per_target": 1, "targets": ["robin"]}})
        return [[entry.spec for entry in group] for group in sampled_together(study, list(study.models))]

    if default_threads() < 2:  # one core: nothing to share
        assert groups([gemma, smol]) == [[gemma], [smol]]
        return
    twin = {"spec": f"aligned:{gemma}", "reward": "consensus", "beta": 0.3}
    twin_label = f"aligned:{gemma} [reward=consensus beta=0.3]"
    assert groups([gemma, smol, twin, "fake:uniform"]) == [[gemma, smol], [twin_label], ["fake:uniform"]]
    assert groups([{"spec": gemma, "threads": 1}, smol]) == [[gemma], [smol]]
    assert groups([{"spec": gemma, "deterministic": True}, smol]) == [[gemma], [smol]]
    assert groups([gemma, "fake:uniform", smol]) == [[gemma], ["fake:uniform"], [smol]]
    preview = monoculture.plan(parse_study({"name": "pairs", "seed": 1, "conditions": [{"context": "none"}],
                                            "models": [gemma, smol],
                                            "concepts": {"individuals_per_target": 1, "targets": ["robin"]}}))
    alone = {spec: sum(row.seconds for row in preview.rows if row.model == spec) for spec in (gemma, smol)}
    assert preview.seconds == pytest.approx(max(alone.values()) / SHARED_CORES_RATE + 2 * _LOAD_SECONDS)
