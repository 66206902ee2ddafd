"""Temperature before or after truncation: the study says which, every backend follows it and records it."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import pytest

from monoculture.backends import Decoding, GenerationRequest, ModelOptions, load_backend
from monoculture.backends._distribution import llama_samplers
from monoculture.backends._hf import draw_token
from monoculture.errors import StudyFileError
from monoculture.study import parse_study

PROBABILITIES = [0.5, 0.3, 0.15, 0.05]


def _closed_form(order: str) -> list[float]:
    """min_p 0.2 at T = 2 on PROBABILITIES, by hand."""
    if order == "truncation_first":
        kept = [p for p in PROBABILITIES if p >= 0.2 * max(PROBABILITIES)]  # 0.05 < 0.1 is cut
        weights = [math.sqrt(p) for p in kept] + [0.0]
    else:
        tempered = [math.sqrt(p) for p in PROBABILITIES]
        weights = [w if w >= 0.2 * max(tempered) else 0.0 for w in tempered]  # all four stay
    return [w / sum(weights) for w in weights]


@pytest.mark.parametrize("order", ["temperature_first", "truncation_first"])
def test_the_hf_sampler_follows_the_order(order):
    import torch

    logits = torch.log(torch.tensor(PROBABILITIES, dtype=torch.float64))
    decoding = Decoding(temperature=2.0, top_k=0, top_p=1.0, min_p=0.2, max_tokens=1, order=order)
    expected = _closed_form(order)
    drawn = set()
    for seed in range(400):
        index, logprob = draw_token(logits, decoding, torch.Generator().manual_seed(seed))
        drawn.add(index)
        assert math.exp(logprob) == pytest.approx(expected[index], rel=1e-9)
    # Only temperature first lets the 5% token back in at T = 2.
    assert (3 in drawn) == (order == "temperature_first")


def test_llama_cpp_is_sent_the_chain_of_the_order():
    first = Decoding(1.0, 40, 0.95, 0.05, 8, "temperature_first")
    assert llama_samplers(first) == ["temperature", "top_k", "top_p", "min_p"]
    assert llama_samplers(replace(first, order="truncation_first")) == ["top_k", "top_p", "min_p", "temperature"]


@pytest.mark.model
def test_the_embedded_runtime_follows_the_order():
    """min_p 0.5 at T = 5: truncation first keeps the few tokens near the top of the model's own distribution;
    temperature first flattens it before cutting, so many more first tokens can be drawn."""
    backend = load_backend("embedded:smollm2-135m-instruct", ModelOptions())
    question = (("user", "Name any animal."),)

    async def first_tokens(order: str) -> set[str]:
        decoding = Decoding(temperature=5.0, top_k=0, top_p=1.0, min_p=0.5, max_tokens=1, order=order)
        texts = await asyncio.gather(*(backend.generate(GenerationRequest(decoding=decoding, seed=seed,
                                                                          messages=question))
                                       for seed in range(40)))
        return {t.text for t in texts}

    async def both():
        try:
            return await first_tokens("truncation_first"), await first_tokens("temperature_first")
        finally:
            await backend.aclose()

    truncated, tempered = asyncio.run(both())
    assert len(truncated) <= 3 < len(tempered), (truncated, tempered)


def test_the_order_is_a_study_setting_with_a_default():
    base = {"models": ["fake:uniform"], "conditions": [{"context": "none"}], "colour": {"individuals": 2, "words": 2}}
    assert parse_study(base).decoding.order == "temperature_first"
    with pytest.raises(StudyFileError, match="decoding.order"):
        parse_study({**base, "decoding": {"order": "sideways"}})
