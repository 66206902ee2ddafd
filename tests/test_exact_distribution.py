"""Exact answer distributions: what grammar-constrained sampling without truncation would give.

A synthetic model (a table of next-token probabilities per token path) has a closed-form answer: each
answer's probability is the sum over its token paths of the per-step probabilities tempered and
renormalised over the tokens the grammar allows. The cases are the issue's: "a finch" against "an eagle",
where " a" keeps both answers open.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter

import pytest

from monoculture._run import draw
from monoculture.backends import Candidate
from monoculture.backends._distribution import answer_grammar, explore, has_prefix_answers, spellings

CHOICES = ("a finch", "an eagle")

# Next-token probabilities after each token path (texts joined by "|"). What is not listed is refused by the
# grammar (" the", "\n") or not reachable.
MODEL = {
    "": {" a": 0.5, " an": 0.4, " the": 0.1},
    " a": {" finch": 0.95, "n": 0.001, " robin": 0.049},
    " a|n": {" eagle": 0.5, " egg": 0.5},
    " an": {" eagle": 0.9, " owl": 0.1},
}


def table_model(model: dict[str, dict[str, float]], *, end: dict[str, float] | None = None):
    """next_tokens for a table; ``end`` gives the probability of stopping after a path."""
    ids: dict[str, int] = {}
    calls = Counter()

    async def next_tokens(path, continuations):
        key = "|".join(candidate.text for candidate in path)
        calls[key] += 1
        listed = [Candidate(ids.setdefault(text, len(ids)), text, math.log(p)) for text, p in model[key].items()]
        if end and key in end:
            listed.append(Candidate(-1, "", math.log(end[key]), end=True))
        return listed

    return next_tokens, calls


def test_the_issue_case_has_its_closed_form():
    next_tokens, calls = table_model(MODEL)
    result = asyncio.run(explore(next_tokens, CHOICES, temperature=1.0))
    # Root: " a" and " an" allowed, renormalised over 0.9. Below " a": " finch" and "n" over 0.951.
    finch = (0.5 / 0.9) * (0.95 / 0.951)
    eagle = (0.4 / 0.9) + (0.5 / 0.9) * (0.001 / 0.951)
    assert result.probabilities["a finch"] == pytest.approx(finch, rel=1e-9)
    assert result.probabilities["an eagle"] == pytest.approx(eagle, rel=1e-9)
    # The greedy-path method gave eagle 0.001 / 0.951 here (it read the alternatives below " a" only).
    assert result.probabilities["an eagle"] > 0.44
    # The model's own mass refused before the answer is decided: " the" at the root, " robin" below " a".
    assert result.outside_mass == pytest.approx(0.1 + 0.5 * 0.049, rel=1e-9)
    assert result.unexplored_mass == 0.0
    # " an" and " a|n" are decided by the grammar without asking the model.
    assert set(calls) == {"", " a"}


def test_temperature_is_applied_per_step_before_renormalising():
    next_tokens, _ = table_model(MODEL)
    hot = asyncio.run(explore(next_tokens, CHOICES, temperature=2.0)).probabilities
    root = math.sqrt(0.5) / (math.sqrt(0.5) + math.sqrt(0.4))
    below = math.sqrt(0.95) / (math.sqrt(0.95) + math.sqrt(0.001))
    assert hot["a finch"] == pytest.approx(root * below, rel=1e-9)
    # Temperature 0 is greedy constrained decoding: " a" then " finch".
    assert asyncio.run(explore(next_tokens, CHOICES, temperature=0.0)).probabilities == {"a finch": 1.0,
                                                                                        "an eagle": 0.0}


def _constrained_sampler(model, choices, temperature, rng):
    """An independent grammar-constrained sampler over the table: one answer per call."""
    accepted = spellings(choices)
    path: list[str] = []
    while True:
        text = "".join(path)
        open_answers = {answer for spelling, answer in accepted.items() if spelling.startswith(text)}
        if len(open_answers) == 1:
            return open_answers.pop()
        options = [(token, p) for token, p in model["|".join(path)].items()
                   if any(spelling.startswith(text + token) for spelling in accepted)]
        weights = [p ** (1 / temperature) for _, p in options]
        path.append(rng.choices([token for token, _ in options], weights=weights)[0])


def test_the_distribution_matches_a_constrained_sampler():
    # A richer table: a leading space token that keeps everything open, and tokenizations of different depth.
    model = {
        "": {" ": 0.3, " a": 0.2, " an": 0.1, "a": 0.05, "an": 0.05, "\n": 0.3},
        " ": {"a": 0.02, "an": 0.01, "the": 0.97},
        " |a": {" finch": 0.6, "n": 0.3, " fin": 0.1},
        " a": {" finch": 0.5, " fin": 0.2, "n": 0.3},
        "a": {" finch": 0.7, "n": 0.3},
    }
    next_tokens, _ = table_model(model)
    for temperature in (0.7, 1.0, 1.5):
        exact = asyncio.run(explore(next_tokens, CHOICES, temperature)).probabilities
        rng = random.Random(7)
        draws = Counter(_constrained_sampler(model, CHOICES, temperature, rng) for _ in range(20_000))
        share = draws["an eagle"] / 20_000
        standard_error = math.sqrt(exact["an eagle"] * (1 - exact["an eagle"]) / 20_000)
        assert abs(share - exact["an eagle"]) < 4 * standard_error, (temperature, share, exact)


def test_an_answer_that_begins_another_ends_with_the_end_token():
    # "red" against "reddish": after "red" the grammar allows the end or "dish".
    model = {"": {"red": 0.6, "blue": 0.4}, "red": {"dish": 0.1, " car": 0.6}}
    next_tokens, _ = table_model(model, end={"red": 0.3})
    result = asyncio.run(explore(next_tokens, ("red", "reddish"), temperature=1.0)).probabilities
    assert result["red"] == pytest.approx(0.3 / 0.4) and result["reddish"] == pytest.approx(0.1 / 0.4)
    assert has_prefix_answers(("red", "reddish")) and not has_prefix_answers(CHOICES)


def test_paths_below_the_floor_are_reported_not_followed():
    model = {"": {" a": 0.99999, "a": 0.00001}, " a": {" finch": 0.5, "n": 0.5}, "a": {" finch": 0.5, "n": 0.5}}
    next_tokens, calls = table_model(model)
    result = asyncio.run(explore(next_tokens, CHOICES, temperature=1.0))
    assert "a" not in calls and result.unexplored_mass == pytest.approx(0.00001, rel=1e-6)
    assert sum(result.probabilities.values()) == pytest.approx(1.0)


def test_no_allowed_token_on_any_path_is_an_error():
    next_tokens, _ = table_model({"": {" a": 0.5, "\n": 0.5}, " a": {" robin": 1.0}})
    with pytest.raises(ValueError, match="no path"):
        asyncio.run(explore(next_tokens, CHOICES, temperature=1.0))


def test_answer_grammar_accepts_exactly_the_texts():
    assert answer_grammar(['n "eagle"', " finch"]) == 'root ::= " finch" | "n \\"eagle\\""\n'


def test_draws_follow_the_distribution_and_the_seed():
    distribution = {"a finch": 0.75, "a chicken": 0.25}
    assert draw(distribution, 5) == draw(distribution, 5)
    counts = Counter(draw(distribution, seed) for seed in range(20_000))
    assert counts["a finch"] / 20_000 == pytest.approx(0.75, abs=0.015)
    assert draw({"a finch": 1.0, "a chicken": 0.0}, 3) == "a finch"


def test_exact_steps_below_the_measured_own_mass_ask_once_and_count_no_outside_mass():
    """On a vocabulary-read model a step asks the allowed tokens' own total (a greedy request) only where the path's
    own probability is at least OWN_MASS_MEASURED; below it one listing request gives their relative probabilities,
    which sum to 1, so nothing is counted as refused there."""
    from monoculture.backends._distribution import OWN_MASS_MEASURED, llama_next_tokens
    from monoculture.backends._vocabulary import Vocabulary

    vocabulary = Vocabulary("gpt2", (" a", " an", "n", " eagle", " finch", "x"))
    bodies: list[dict] = []

    async def complete(body: dict) -> dict:  # a llama.cpp reply: " a" 0.2, " an" 0.1 of the model's own mass
        bodies.append(body)
        if not body.get("post_sampling_probs"):
            step = {"id": 0, "token": " a", "logprob": math.log(0.2), "top_logprobs": []}
        else:
            step = {"id": 0, "token": " a", "prob": 2 / 3,
                    "top_probs": [{"id": 0, "prob": 2 / 3}, {"id": 1, "prob": 1 / 3}]}
        return {"choices": [{"logprobs": {"content": [step]}}]}

    next_tokens = llama_next_tokens(complete, "Q?", {}, {"a finch": (" a finch",), "an eagle": (" an eagle",)},
                                    vocabulary)
    root = asyncio.run(next_tokens((), (" a finch", " an eagle")))
    assert len(bodies) == 2  # the own total and the list
    assert {c.text: math.exp(c.logprob) for c in root} == pytest.approx({" a": 0.2, " an": 0.1})
    faint = Candidate(5, "x", math.log(OWN_MASS_MEASURED / 2))
    deeper = asyncio.run(next_tokens((faint,), (" a finch", " an eagle")))
    assert len(bodies) == 3  # one request: the list
    assert {c.text: math.exp(c.logprob) for c in deeper} == pytest.approx({" a": 2 / 3, " an": 1 / 3})
