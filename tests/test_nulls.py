"""Every diversity figure with the value a homogeneous population of the same size gets: the permutation null
of the diagonal distance, checked on populations whose truth is known."""

from __future__ import annotations

import random

import numpy as np
import pytest

import monoculture
from monoculture.metrics import ColourAnswer, summarize_colour
from monoculture.study import parse_study
from monoculture.tasks.colour import ColourSpec, ColourTask, human_colour_answers

WORDS = ["lemon", "wisdom", "fear", "ocean", "joy", "tree", "love", "fire", "rock", "shirt"]


def _drawn_from_pooled_humans(n_individuals: int, seed: int) -> list[ColourAnswer]:
    """Simulated people drawing both answers independently from each word's pooled human answers: homogeneous."""
    pooled: dict[str, list[str]] = {}
    for answer in human_colour_answers():
        if answer.word in WORDS:
            pooled.setdefault(answer.word, []).append(answer.hex)
    rng = random.Random(seed)
    return [ColourAnswer(str(i), word, replicate, rng.choice(pooled[word]))
            for i in range(n_individuals) for word in WORDS for replicate in (1, 2)]


def _consistent(n_individuals: int, seed: int) -> list[ColourAnswer]:
    """Each individual gives the same random colour twice: perfectly consistent, diverse individuals."""
    rng = random.Random(seed)
    answers = []
    for i in range(n_individuals):
        for word in WORDS:
            colour = f"#{rng.randrange(16**6):06x}"
            answers += [ColourAnswer(str(i), word, 1, colour), ColourAnswer(str(i), word, 2, colour)]
    return answers


@pytest.mark.parametrize(("n", "floor"), [(10, (3.0, 7.0)), (30, (1.5, 3.8))])
def test_a_homogeneous_population_is_above_zero_and_indistinguishable_from_its_null(n, floor, data_root):
    block = summarize_colour(_drawn_from_pooled_humans(n, seed=n), {w: "any" for w in WORDS}, n_bootstrap=200)
    # The floor a distance of absolute differences has at this size (the issue measured 4.5-4.7 at N = 10 over
    # 199 words, 2.5 at N = 30), and the null reproduces it.
    low, high = floor
    assert low < block["distance_from_diagonal"] < high
    assert low < block["null"]["null_mean"] < high
    assert block["null"]["indistinguishable"] and block["null"]["p_value"] >= 0.05


def test_consistent_diverse_individuals_are_far_beyond_their_null():
    block = summarize_colour(_consistent(20, seed=1), {w: "any" for w in WORDS}, n_bootstrap=200)
    assert block["internal_delta_e"] == 0.0 and block["distance_from_diagonal"] > 40
    null = block["null"]
    assert not null["indistinguishable"] and null["p_value"] == pytest.approx(1 / 201)
    assert null["null_mean"] < 10 and null["excess"] > 30


def test_a_constant_population_sits_at_its_null_of_zero():
    answers = [ColourAnswer(str(i), w, r, "#808080") for i in range(12) for w in WORDS for r in (1, 2)]
    null = summarize_colour(answers, {w: "any" for w in WORDS}, n_bootstrap=50)["null"]
    assert null["observed"] == null["null_mean"] == 0.0 and null["indistinguishable"] and null["p_value"] == 1.0


def test_the_null_uses_the_estimate_s_own_pairing():
    # The observed value the null reports is the estimate itself, for both pairings of the population ΔE.
    answers = _consistent(8, seed=3) + [ColourAnswer("x", "lemon", 1, "#000000")]
    for pairs in ("upper", "all"):
        block = summarize_colour(answers, {w: "any" for w in WORDS}, n_bootstrap=20, population_pairs=pairs)
        assert block["null"]["observed"] == pytest.approx(block["distance_from_diagonal"], rel=1e-12)


def test_the_people_are_far_beyond_a_homogeneous_population_of_their_size(data_root):
    human = ColourTask(ColourSpec(), seed=0).human()
    assert human.distance_from_diagonal == pytest.approx(15.88, abs=0.005)
    assert human.null.null_mean < 2.0 and not human.null.indistinguishable and human.null.excess > 13.5


def test_the_report_says_which_cells_are_indistinguishable_from_a_homogeneous_population(tmp_path, data_root):
    study = parse_study({"name": "nulls", "models": ["fake:human", "fake:uniform"], "conditions": [{"context": "none"}],
                         "colour": {"individuals": 10, "words": WORDS}})
    summary = monoculture.run(study, tmp_path)
    human_like = summary.models["fake:human"]["none@default"].tasks["colour"].result
    assert human_like.null.indistinguishable
    assert np.isclose(human_like.null.observed, human_like.distance_from_diagonal)
    html = (tmp_path / "report.html").read_text()
    assert html.count("≈ homogeneous") >= 2 and "homogeneous null" in html


def test_the_unbiased_p_multiple_recovers_a_known_population_value_at_small_n():
    from monoculture.tasks.concepts import ConceptAnswer, item_id, pair_items, summarize_concepts

    # Four concepts with shares 0.4/0.3/0.2/0.1 (truth 1 - Σπ² = 0.70), each a distinct answer pattern.
    rng = np.random.default_rng(5)
    shares = np.array([0.4, 0.3, 0.2, 0.1])
    patterns = rng.integers(0, 2, size=(4, 36))
    pairs = pair_items("robin")
    plug_in, unbiased = [], []
    for population in range(30):
        concepts = rng.choice(4, size=10, p=shares)
        answers = [ConceptAnswer(f"{population}-{i}", "robin", item_id("robin", a, b), order,
                                 (b if patterns[c, q] else a))
                   for i, c in enumerate(concepts) for q, (a, b) in enumerate(pairs) for order in (1, 2)]
        block = summarize_concepts(answers, sweeps=60, burn_in=10, chains=2, seed=population, null_permutations=0)
        plug_in.append(block["p_multiple_concepts"])
        unbiased.append(block["p_multiple_concepts_unbiased"])
    truth = 1 - float(np.sum(shares**2))
    # The plug-in is biased low by the factor (N - 1)/N = 0.9; the corrected one is not.
    assert np.mean(plug_in) == pytest.approx(0.9 * np.mean(unbiased), rel=1e-9)
    assert abs(np.mean(unbiased) - truth) < 0.03
    assert truth - np.mean(plug_in) > 0.04


def test_two_sampled_modes_from_one_distribution_sit_at_their_two_sample_null():
    from monoculture.metrics import compare_modes, compare_sampled_modes

    rng = np.random.default_rng(3)
    items = [f"q{i}" for i in range(40)]
    same_a = {item: list(rng.choice(["x", "y"], size=12, p=[0.6, 0.4])) for item in items}
    same_b = {item: list(rng.choice(["x", "y"], size=12, p=[0.6, 0.4])) for item in items}
    same = compare_sampled_modes(same_a, same_b, seed=1)
    # Before: one sampled mode was taken for the exact truth, and equal modes looked apart (0.169 vs 0.104).
    old = compare_modes({item: [{a: 1.0} for a in same_a[item]] for item in items}, same_b, seed=1)
    assert old["total_variation"] > 1.3 * old["total_variation_expected_from_noise"]
    assert abs(same["total_variation"] - same["total_variation_expected_from_noise"]) < 0.03
    assert same["p_value"] > 0.05 and same["n_items"] == 40 and same["n_samples"] == 40 * 24
    apart = compare_sampled_modes(same_a, {item: list(rng.choice(["x", "y"], size=12, p=[0.1, 0.9]))
                                           for item in items}, seed=1)
    assert apart["total_variation"] > apart["null_ci"][1] and apart["p_value"] < 0.01
