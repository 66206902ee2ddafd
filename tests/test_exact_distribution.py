"""Exact answer distributions from the log-probabilities of one decoding path."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from monoculture._run import draw
from monoculture.backends._distribution import (
    deciding_step,
    decisive_distribution,
    log_masses,
    single_answer_grammar,
)

CHOICES = ("a finch", "a chicken")


def lp(p):
    return math.log(p)


def test_the_deciding_step_gives_the_restricted_renormalised_distribution():
    # Step 1 keeps both answers open; step 2 decides. Tokens that lead nowhere (" robin", " A") are
    # excluded, and prefixes of one answer (" chick", " ch") count for it.
    steps = [
        (" a", lp(0.2), [(" A", lp(0.3)), (" a", lp(0.2)), ("\n", lp(0.1))]),
        (" fin", lp(0.3), [(" fin", lp(0.30)), (" robin", lp(0.30)), (" chicken", lp(0.06)), (" chick", lp(0.03)),
                           (" ch", lp(0.01))]),
        ("ch", lp(0.99), [("ch", lp(0.99))]),
    ]
    distribution = decisive_distribution(steps, CHOICES, temperature=1.0)
    assert distribution == pytest.approx({"a finch": 0.30 / 0.40, "a chicken": 0.10 / 0.40})


def test_temperature_scales_the_logits():
    steps = [("a", lp(0.5), [("a", lp(0.5))]), (" fin", lp(0.6), [(" fin", lp(0.6)), (" chicken", lp(0.2))])]
    hot = decisive_distribution(steps, CHOICES, temperature=2.0)
    # p^(1/T) renormalised: sqrt(.6) / (sqrt(.6) + sqrt(.2))
    assert hot["a finch"] == pytest.approx(math.sqrt(0.6) / (math.sqrt(0.6) + math.sqrt(0.2)))
    assert decisive_distribution(steps, CHOICES, temperature=0.0) == {"a finch": 1.0, "a chicken": 0.0}


def test_answers_decided_at_the_first_token_and_a_leading_space():
    steps = [(" Barack", lp(0.7), [(" Barack", lp(0.7)), ("Barack", lp(0.1)), (" Bernie", lp(0.1)),
                                   (" Donald", lp(0.1))])]
    distribution = decisive_distribution(steps, ("Barack Obama", "Bernie Sanders"), temperature=1.0)
    assert distribution == pytest.approx({"Barack Obama": 0.8 / 0.9, "Bernie Sanders": 0.1 / 0.9})


def test_a_path_that_leaves_the_answers_is_an_error():
    with pytest.raises(ValueError, match="left the answers"):
        decisive_distribution([(" robin", 0.0, [(" robin", 0.0)])], CHOICES, temperature=1.0)


def test_a_forced_token_outside_the_top_list_still_counts():
    # The grammar forced " chicken", which the model ranked below every listed alternative.
    steps = [(" a", lp(0.5), [(" a", lp(0.5))]), (" chicken", lp(0.01), [(" robin", lp(0.6)), (" bird", lp(0.2))])]
    masses = log_masses(*deciding_step(steps, CHOICES), CHOICES)
    assert masses == {"a finch": [], "a chicken": [lp(0.01)]}
    assert single_answer_grammar('a "finch"') == 'root ::= " "? "a \\"finch\\""\n'


def test_draws_follow_the_distribution_and_the_seed():
    distribution = {"a finch": 0.75, "a chicken": 0.25}
    assert draw(distribution, 5) == draw(distribution, 5)
    counts = Counter(draw(distribution, seed) for seed in range(20_000))
    assert counts["a finch"] / 20_000 == pytest.approx(0.75, abs=0.015)
    assert draw({"a finch": 1.0, "a chicken": 0.0}, 3) == "a finch"
