"""An aligned twin of a real embedded model (llama.cpp): its distributions are the closed-form tilt of the base's
own exact distributions, stored in the same run; and a judge twin's reward is the judge's own pairwise verdict."""

from __future__ import annotations

import asyncio
import json
import math

import numpy as np
import pytest

import monoculture
from monoculture.store import Store
from monoculture.study import parse_study

BASE = "embedded:smollm2-135m-instruct"


def _exact(folder, model):
    with Store(folder / "samples.sqlite") as store:
        return {s.item: json.loads(s.raw_output) for s in store.samples(model=model, mode="exact")}


@pytest.mark.model
def test_typicality_twin_is_the_bases_distribution_to_the_power_one_plus_alpha_over_beta(tmp_path, data_root):
    # Not deterministic: the twin reuses the very distributions its base computed earlier in the run.
    study = parse_study({
        "name": "twin", "seed": 1, "conditions": [{"context": "none"}],
        "models": [BASE, {"spec": f"aligned:{BASE}", "reward": "typicality", "beta": 0.5}],
        "colour_terms": {"individuals": 2, "words": ["ocean", "joy"], "mode": "exact"},
    })
    monoculture.run(study, tmp_path)
    base, twin = _exact(tmp_path, BASE), _exact(tmp_path, f"aligned:{BASE} [reward=typicality beta=0.5]")
    exponent = 1 + 0.57 / 0.5  # typicality r = 0.57 log pi_ref: the optimum is pi_ref^(1 + alpha / beta)
    for word in ("ocean", "joy"):
        powered = {choice: p ** exponent for choice, p in base[word].items()}
        total = sum(powered.values())
        for choice, p in twin[word].items():
            assert p == pytest.approx(powered[choice] / total, rel=1e-9, abs=1e-12)
        assert max(twin[word].values()) > max(base[word].values())  # sharper


@pytest.mark.model
def test_a_self_judging_twin_tilts_by_the_judges_own_pairwise_preference(tmp_path, data_root):
    from monoculture.backends import Decoding, GenerationRequest, ModelOptions, load_backend
    from monoculture.backends._aligned import JUDGE_CHOICES, JUDGE_PROMPT

    pet = {"id": "pet", "question": "Which pet is better, a cat or a dog? Answer with one word.",
           "answers": ["cat", "dog"]}
    study = parse_study({
        "name": "judge", "seed": 1, "deterministic": True, "conditions": [{"context": "none"}],
        "models": [BASE, {"spec": f"aligned:{BASE}", "reward": f"judge:{BASE}", "beta": 1.0}],
        "questions": {"individuals": 2, "items": [pet], "mode": "exact"},
    })
    monoculture.run(study, tmp_path)
    base = _exact(tmp_path, BASE)["pet"]
    twin = _exact(tmp_path, f"aligned:{BASE} [reward=judge:{BASE} beta=1]")["pet"]

    async def verdicts() -> dict[tuple[str, str], float]:
        judge = load_backend(BASE, ModelOptions(deterministic=True))  # as the twin's judge ran
        try:
            found = {}
            for first, second in (("cat", "dog"), ("dog", "cat")):
                text = JUDGE_PROMPT.format(question=pet["question"], first=first, second=second)
                request = GenerationRequest(Decoding(1.0, 0, 1.0, 0.0, 64), 0, messages=(("user", text),),
                                            grammar='root ::= " "? ("A" | "B")\n')
                distribution = (await judge.answer_distribution(request, JUDGE_CHOICES)).probabilities
                found[(first, second)] = distribution["A"] / sum(distribution.values())
            return found
        finally:
            await judge.aclose()

    p = asyncio.run(verdicts())
    # Both orders cancel position bias; two answers: Bradley-Terry's r_cat - r_dog is the log-odds of that average.
    q = (p[("cat", "dog")] + 1 - p[("dog", "cat")]) / 2
    weights = {"cat": base["cat"] * math.sqrt(q / (1 - q)), "dog": base["dog"] * math.sqrt((1 - q) / q)}
    total = sum(weights.values())
    assert twin["cat"] == pytest.approx(weights["cat"] / total, abs=1e-4)
    assert np.isclose(sum(twin.values()), 1.0)
