"""Exact mode on a real embedded model: one call per distinct prompt, individuals drawn from the distribution."""

from __future__ import annotations

import json

import pytest

from monoculture._run import draw, run_study
from monoculture.store import Store
from monoculture.study import parse_study


@pytest.mark.model
def test_exact_mode_with_a_sampled_comparison(tmp_path, data_root):
    study = parse_study({
        "name": "exact", "models": ["embedded:smollm2-135m-instruct"], "conditions": [{"context": "none"}],
        "concepts": {"individuals_per_target": 2, "targets": ["Richard Nixon"], "mode": "exact",
                     "compare_with": "constrained", "sweeps": 50, "burn_in": 10},
    })
    result = run_study(study, tmp_path)
    with Store(tmp_path / "samples.sqlite") as store:
        exact = list(store.samples(task="concepts"))
    exact, constrained = [s for s in exact if s.mode == "exact"], [s for s in exact if s.mode == "constrained"]
    assert len(exact) == len(constrained) == 2 * 72
    for sample in exact:
        distribution = json.loads(sample.raw_output)
        assert set(distribution) == set(sample.item.split("|")[1:])  # the two politicians asked about
        assert sum(distribution.values()) == pytest.approx(1.0)
        assert all(0.0 <= p <= 1.0 for p in distribution.values())
        # The answer is the seeded draw from the stored distribution, parsed like any answer.
        drawn = draw(distribution, sample.seed)
        assert sample.valid and sample.answer == drawn
    # Two individuals share each prompt in the none condition: one model call serves both.
    summary = json.loads(result.summary.to_json())
    population = summary["models"]["embedded:smollm2-135m-instruct"]["none@default"]["tasks"]["concepts"]
    assert population["accounting"]["exact"]["model_calls"] == 72
    comparison = population["result"]["mode_comparison"]
    assert comparison["modes"] == ["exact", "constrained"]
    assert comparison["model_calls"] == {"exact": 72, "constrained": 144}
    assert comparison["n_items"] == 72
    assert 0.0 <= comparison["total_variation"] <= 1.0
    assert 0.0 < comparison["total_variation_expected_from_noise"] <= 1.0
