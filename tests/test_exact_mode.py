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


@pytest.mark.model
def test_exact_agrees_with_constrained_sampling_on_the_eagle_questions(data_root):
    """The issue's case on a real model: "a finch" against "an eagle", where " a"/"a" keeps both answers open.

    Before the fix, exact mode read the alternatives at the greedy path's deciding step only and gave eagle
    about 1e-8 on these prompts; constrained sampling at the same temperature without truncation draws it about
    three times in four.
    """
    import asyncio
    import math
    from dataclasses import replace

    from monoculture.backends import Decoding, GenerationRequest, ModelOptions, load_backend
    from monoculture.tasks import render
    from monoculture.tasks.concepts._items import pair_items
    from monoculture.tasks.concepts._task import concept_question

    first, second = next(pair for pair in pair_items("robin") if set(pair) == {"eagle", "finch"})
    decoding = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=8)
    draws = 50

    async def compare():
        backend = load_backend("embedded:smollm2-135m-instruct", ModelOptions())
        try:
            rows = []
            for replicate in (1, 2):
                prompt = concept_question(f"robin|{first}|{second}", replicate)
                rendered = render("chat", "", prompt.text)
                grammar = 'root ::= " "? (' + " | ".join(f'"{c}"' for c in prompt.choices) + ")\n"
                request = GenerationRequest(decoding=decoding, seed=0, messages=rendered.messages, grammar=grammar)
                exact = await backend.answer_distribution(request, prompt.choices)
                texts = [g.text.strip() for g in await asyncio.gather(
                    *(backend.generate(replace(request, seed=seed)) for seed in range(draws)))]
                rows.append((exact, texts))
            return rows
        finally:
            await backend.aclose()

    difference = variance = 0.0
    for exact, texts in asyncio.run(compare()):
        p = exact.probabilities["an eagle"]
        assert 0.1 < p < 0.95, exact  # the old method gave about 1e-8 here
        assert all(text in ("a finch", "an eagle") for text in texts)
        assert 0.5 < exact.outside_mass <= 1.0  # SmolLM2 mostly wants "An eagle" or a sentence
        difference += sum(text == "an eagle" for text in texts) - draws * p
        variance += draws * p * (1 - p)
    assert abs(difference / math.sqrt(variance)) < 3.5, difference / math.sqrt(variance)
