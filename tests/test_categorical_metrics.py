"""Categorical metrics on samples and populations whose answer is known by hand, closed form or construction."""

from __future__ import annotations

import itertools
import json
import math
import random
import time
from collections import Counter

import numpy as np
import pytest

from monoculture.metrics import (
    CategoricalAnswer,
    entropy_corrected,
    entropy_plugin,
    gini_simpson_unbiased,
    hill_numbers,
    jensen_shannon_distance,
    replicate_disagreement,
    summarize_categorical,
    total_variation,
)

DISAGREEMENT = ("internal_disagreement", "population_disagreement", "distance_from_diagonal", "signed_difference")
DISTRIBUTION = ("entropy_bits", "entropy_corrected_bits", "gini_simpson", "hill_q0", "hill_q1", "hill_q2")


def _both(individual: str, item: str, first: str | None, second: str | None) -> list[CategoricalAnswer]:
    return [CategoricalAnswer(individual, item, 1, first), CategoricalAnswer(individual, item, 2, second)]


def _shared_distribution(n_individuals: int, items: list[str], labels: list[str], seed: int) -> list[CategoricalAnswer]:
    """Every answer an independent draw from one list of labels: no individual differs from another."""
    rng = random.Random(seed)
    return [a for i in range(n_individuals) for item in items
            for a in _both(f"ind-{i}", item, rng.choice(labels), rng.choice(labels))]


def _consistent_individuals(n_individuals: int, items: list[str], labels: list[str],
                            seed: int) -> list[CategoricalAnswer]:
    """Each individual gives its own randomly chosen label for an item, both times."""
    rng = random.Random(seed)
    answers = []
    for i in range(n_individuals):
        for item in items:
            own = rng.choice(labels)
            answers += _both(f"ind-{i}", item, own, own)
    return answers


def _brute_population(first: list[str], second: list[str], pairs: str) -> float:
    n = len(first)
    keep = [(i, j) for i in range(n) for j in range(n) if (i < j if pairs == "upper" else i != j)]
    return sum(first[i] != second[j] for i, j in keep) / len(keep)


# --- answer distributions ---------------------------------------------------------------------------------------

def test_plugin_entropy_by_hand():
    # p = (1/2, 1/4, 1/4): 1/2·1 + 2·(1/4·2) = 1.5 bits
    assert entropy_plugin([2, 1, 1]) == pytest.approx(1.5)
    assert entropy_plugin({"red": 2, "blue": 1, "green": 1, "unused": 0}) == pytest.approx(1.5)
    assert entropy_plugin([3, 3, 3, 3, 3, 3, 3, 3]) == pytest.approx(3.0)  # log2 8
    assert entropy_plugin([9]) == 0.0
    assert entropy_plugin([]) is None and entropy_plugin({"a": 0}) is None
    with pytest.raises(ValueError):
        entropy_plugin([2, -1])
    with pytest.raises(ValueError):
        entropy_plugin([0.5, 0.5])


def test_chao_shen_by_hand():
    # [2, 1, 1]: n = 4, f1 = 2, C = 1 − 2/4 = 1/2, pa = (1/4, 1/8, 1/8);
    # −pa log2 pa = 1/2 and 3/8; seen in 4 draws with probability 1 − (3/4)^4 and 1 − (7/8)^4.
    expected = 0.5 / (1 - 0.75**4) + 2 * 0.375 / (1 - 0.875**4)
    assert entropy_corrected([2, 1, 1]) == pytest.approx(expected)
    assert entropy_corrected([2, 1, 1]) == pytest.approx(2.54382, abs=1e-5)
    # No singletons: C = 1, pa = (1/2, 1/2), each −pa log2 pa = 1/2 over 1 − (1/2)^6 = 63/64: 2 · 32/63.
    assert entropy_corrected([3, 3]) == pytest.approx(64 / 63)
    # All singletons, f1 = n = 3: f1 = n − 1 = 2 gives C = 1/3, pa = 1/9 each, seen with 1 − (8/9)^3.
    assert entropy_corrected([1, 1, 1]) == pytest.approx(3 * (math.log2(9) / 9) / (1 - (8 / 9) ** 3))
    assert entropy_corrected([7]) == 0.0 and entropy_corrected([1]) == 0.0
    assert entropy_corrected([]) is None


def test_chao_shen_corrects_the_plugin_bias_on_undersampled_uniform_draws():
    # 30 draws from 50 equally likely labels: the plug-in entropy is far below log2(50) = 5.64 bits.
    truth = math.log2(50)
    rng = np.random.default_rng(7)
    plugin, corrected = [], []
    for _ in range(300):
        counts = np.bincount(rng.integers(0, 50, size=30), minlength=50)
        plugin.append(entropy_plugin(counts))
        corrected.append(entropy_corrected(counts))
    plugin_arr, corrected_arr = np.array(plugin), np.array(corrected)
    assert np.all(corrected_arr >= plugin_arr)
    assert np.mean(np.abs(corrected_arr - truth)) < np.mean(np.abs(plugin_arr - truth))
    # The plug-in's mean is at most log2(30) = 4.9; the correction recovers most of the gap.
    assert truth - np.mean(plugin_arr) > 0.7
    assert abs(np.mean(corrected_arr) - truth) < 0.5 * (truth - np.mean(plugin_arr))


def test_gini_simpson_by_hand_and_unbiased_in_closed_form():
    assert gini_simpson_unbiased([2, 1, 1]) == pytest.approx(1 - 2 / 12)  # Σ n(n − 1) = 2 over 4·3
    assert gini_simpson_unbiased({"a": 5}) == 0.0
    assert gini_simpson_unbiased([1, 1, 1, 1]) == 1.0
    assert gini_simpson_unbiased([1]) is None and gini_simpson_unbiased([]) is None
    # Its expectation over every sample of 3 draws from p = (0.5, 0.3, 0.2) is exactly 1 − Σp² = 0.62.
    p = {"a": 0.5, "b": 0.3, "c": 0.2}
    expectation = 0.0
    for draw in itertools.product(p, repeat=3):
        expectation += math.prod(p[label] for label in draw) * gini_simpson_unbiased(Counter(draw))
    assert expectation == pytest.approx(0.62)


def test_hill_numbers_by_hand():
    hill = hill_numbers([2, 1, 1])
    assert hill["q0"] == 3.0
    assert hill["q1"] == pytest.approx(2**1.5)  # exp(1.5 ln 2): the plug-in entropy 1.5 bits
    assert hill["q2"] == pytest.approx(1 / (0.25 + 0.0625 + 0.0625))
    assert hill_numbers({"a": 4, "b": 4, "c": 4, "d": 4}) == pytest.approx({"q0": 4.0, "q1": 4.0, "q2": 4.0})
    assert hill_numbers([12]) == {"q0": 1.0, "q1": 1.0, "q2": 1.0}
    assert hill_numbers([]) == {"q0": None, "q1": None, "q2": None}
    skewed = hill_numbers([10, 5, 1, 1])
    assert skewed["q0"] > skewed["q1"] > skewed["q2"] > 1


@pytest.mark.parametrize("size", [1, 2, 50])
def test_one_label_scores_what_the_summary_calls_homogeneous(size):
    homogeneous = summarize_categorical([])["homogeneous"]
    hill = hill_numbers([size])
    values = {"entropy_bits": entropy_plugin([size]), "entropy_corrected_bits": entropy_corrected([size]),
              "hill_q0": hill["q0"], "hill_q1": hill["q1"], "hill_q2": hill["q2"]}
    if size >= 2:
        values["gini_simpson"] = gini_simpson_unbiased([size])
    for measure, value in values.items():
        assert value == homogeneous[measure], measure


def test_distances_between_distributions():
    counts = {"red": 2, "blue": 1, "green": 1}
    shares = {"red": 0.5, "blue": 0.25, "green": 0.25}
    assert total_variation(counts, shares) == pytest.approx(0.0, abs=1e-12)
    assert jensen_shannon_distance(counts, shares) == pytest.approx(0.0, abs=1e-7)
    assert total_variation({"a": 3}, {"b": 1, "c": 5}) == 1.0
    assert jensen_shannon_distance({"a": 3}, {"b": 1, "c": 5}) == pytest.approx(1.0)
    # p = (1/2, 1/2), q = (1, 0): TV = ½(1/2 + 1/2) = 1/2; m = (3/4, 1/4),
    # JSD = ½[½ log2(2/3) + ½ log2 2] + ½ log2(4/3) = 1.5 − 0.75 log2 3.
    assert total_variation({"a": 1, "b": 1}, {"a": 7}) == pytest.approx(0.5)
    assert jensen_shannon_distance({"a": 1, "b": 1}, {"a": 7}) == pytest.approx(math.sqrt(1.5 - 0.75 * math.log2(3)))
    assert jensen_shannon_distance({"a": 7}, {"a": 1, "b": 1}) == jensen_shannon_distance({"a": 1, "b": 1}, {"a": 7})
    assert total_variation({}, {"a": 1}) is None and jensen_shannon_distance({"a": 0}, {"a": 1}) is None
    with pytest.raises(ValueError):
        total_variation({"a": -1}, {"a": 1})


# --- replicate disagreement -------------------------------------------------------------------------------------

def test_homogeneous_population_scores_zero_everywhere():
    answers = [a for i in range(20) for item in ("snow", "milk") for a in _both(f"p{i}", item, "white", "white")]
    summary = summarize_categorical(answers)
    for measure in (*DISAGREEMENT, *DISTRIBUTION):
        assert summary[measure] == summary["homogeneous"][measure], measure
    assert summary["homogeneous"]["internal_disagreement"] == 0.0
    assert summary["homogeneous"]["hill_q1"] == 1.0
    assert summary["items"][0]["distribution"] == {"white": 40}
    assert summary["items"][0]["modal_answer"] == "white" and summary["items"][0]["modal_share"] == 1.0


def test_consistent_individuals_who_all_differ_sit_furthest_from_the_diagonal():
    answers = [a for i in range(15) for a in _both(f"p{i}", "word", f"label-{i}", f"label-{i}")]
    summary = summarize_categorical(answers)
    assert summary["internal_disagreement"] == 0.0
    assert summary["population_disagreement"] == 1.0
    assert summary["signed_difference"] == 1.0
    assert summary["distance_from_diagonal"] == pytest.approx(1 / math.sqrt(2))
    assert summary["hill_q0"] == 15.0 and summary["gini_simpson"] == pytest.approx(1 - 15 * 2 / (30 * 29))


def test_shared_distribution_gives_one_minus_one_over_k_on_both_axes():
    k = 4
    answers = _shared_distribution(4000, ["a", "b", "c"], [f"l{j}" for j in range(k)], seed=3)
    summary = summarize_categorical(answers, permutations=100)
    assert summary["internal_disagreement"] == pytest.approx(1 - 1 / k, abs=0.02)
    assert summary["population_disagreement"] == pytest.approx(1 - 1 / k, abs=0.02)
    assert summary["distance_from_diagonal"] < 0.02
    assert summary["gini_simpson"] == pytest.approx(1 - 1 / k, abs=0.02)
    assert summary["entropy_bits"] == pytest.approx(math.log2(k), abs=0.01)
    # A population without individual consistency is the null's own model: at this seed it is not rejected
    # (a 5% test rejects such a population once in 20 seeds).
    assert summary["null"]["indistinguishable"] and summary["null"]["p_value"] >= 0.05
    assert summary["null"]["n_items"] == 3 and summary["null"]["permutations"] == 100


@pytest.mark.parametrize("pairs", ["upper", "all"])
def test_population_disagreement_matches_a_double_loop(pairs):
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(2, 14)
        labels = ["x", "y", "z"][: rng.randint(1, 3)]
        first = [rng.choice(labels) for _ in range(n)]
        second = [rng.choice(labels) for _ in range(n)]
        result = replicate_disagreement(first, second, population_pairs=pairs)
        internal = sum(a != b for a, b in zip(first, second)) / n
        population = _brute_population(first, second, pairs)
        assert result["n_individuals"] == n
        assert result["internal_disagreement"] == pytest.approx(internal)
        assert result["population_disagreement"] == pytest.approx(population)
        assert result["signed_difference"] == pytest.approx(population - internal)
        assert result["distance_from_diagonal"] == pytest.approx(abs(population - internal) / math.sqrt(2))


def test_population_disagreement_with_many_labels_matches_a_double_loop():
    # Past 4 million individuals x labels the pairs are counted by binary search instead of a table.
    rng = np.random.default_rng(5)
    first = [f"w{v}" for v in rng.integers(0, 3000, size=1500)]
    second = [f"w{v}" for v in rng.integers(0, 3000, size=1500)]
    first[::7] = ["common"] * len(first[::7])
    second[::5] = ["common"] * len(second[::5])
    a, b = np.array(first), np.array(second)
    equal_upper = sum(int(np.sum(a[:j] == b[j])) for j in range(len(b)))
    n = len(a)
    result = replicate_disagreement(first, second)
    assert result["population_disagreement"] == pytest.approx(1 - equal_upper / (n * (n - 1) / 2))


def test_too_few_individuals():
    assert replicate_disagreement([], []) == {"n_individuals": 0, **dict.fromkeys(DISAGREEMENT)}
    one = replicate_disagreement(["a"], ["b"])
    assert one["internal_disagreement"] == 1.0 and one["population_disagreement"] is None
    with pytest.raises(ValueError):
        replicate_disagreement(["a", "b"], ["a"])
    with pytest.raises(ValueError):
        replicate_disagreement(["a", "b"], ["a", "b"], population_pairs="lower")  # type: ignore[arg-type]


def test_natural_order_of_individuals_and_shuffled_input_change_nothing():
    rng = random.Random(2)
    values = [(rng.choice("abc"), rng.choice("abc")) for _ in range(12)]
    numeric = [a for i, (v1, v2) in enumerate(values, start=1) for a in _both(str(i), "item", v1, v2)]
    padded = [a for i, (v1, v2) in enumerate(values, start=1) for a in _both(f"id-{i:02d}", "item", v1, v2)]
    first, second = [v1 for v1, _ in values], [v2 for _, v2 in values]
    expected = _brute_population(first, second, "upper")
    # The data are order-sensitive: string order ("1", "10", "11", "12", "2", ...) would give another figure.
    string_order = sorted(range(12), key=lambda k: str(k + 1))
    assert _brute_population([first[k] for k in string_order], [second[k] for k in string_order], "upper") \
        != pytest.approx(expected)
    by_number = summarize_categorical(numeric)
    assert by_number["population_disagreement"] == pytest.approx(expected)
    shuffled = numeric[:]
    random.Random(5).shuffle(shuffled)
    assert summarize_categorical(shuffled) == by_number
    relabelled = summarize_categorical(padded)
    for measure in (*DISAGREEMENT, *DISTRIBUTION, "null"):
        assert relabelled[measure] == by_number[measure], measure


def test_consistent_individuals_with_spread_answers_beat_the_null():
    labels = [f"l{j}" for j in range(10)]
    summary = summarize_categorical(_consistent_individuals(200, [f"i{k}" for k in range(5)], labels, seed=1))
    null = summary["null"]
    assert null["observed"] == pytest.approx(summary["distance_from_diagonal"])
    # Internal 0, population about 0.9: a distance near 0.64 against a null near 0.
    assert null["observed"] > 0.5 and null["null_mean"] < 0.05 and null["excess"] > 0.5
    assert null["p_value"] == pytest.approx(1 / 201)
    assert not null["indistinguishable"]
    assert null["null_ci"][0] <= null["null_mean"] <= null["null_ci"][1] < null["observed"]


# --- the summary ------------------------------------------------------------------------------------------------

def test_summary_counts_exclusions_distributions_and_human_distances():
    answers = [
        *_both("p1", "sky", "blue", "blue"),
        *_both("p2", "sky", "blue", "grey"),
        *_both("p3", "sky", "grey", None),      # one valid answer: counted in the distribution only
        *_both("p10", "sky", None, None),
        *_both("p1", "grass", "green", "green"),  # one complete individual: excluded from disagreement
        *_both("p2", "grass", None, "green"),
    ]
    human = {"sky": {"blue": 3, "grey": 1}, "sun": {"yellow": 5}}
    summary = summarize_categorical(answers, human=human, permutations=50)
    assert summary["n_samples"] == 12 and summary["n_valid"] == 8 and summary["valid_fraction"] == pytest.approx(8 / 12)
    assert summary["n_individuals"] == 4 and summary["n_items"] == 1 and summary["n_items_excluded"] == 1
    grass, sky = summary["items"]
    assert [grass["item"], sky["item"]] == ["grass", "sky"]
    assert sky["n_individuals"] == 2 and sky["n_answers"] == 5
    assert sky["distribution"] == {"blue": 3, "grey": 2} and list(sky["distribution"]) == ["blue", "grey"]
    assert sky["modal_answer"] == "blue" and sky["modal_share"] == pytest.approx(0.6)
    # p1 (blue, blue) and p2 (blue, grey): internal 1/2; the one pair i < j compares blue with grey.
    assert sky["internal_disagreement"] == 0.5 and sky["population_disagreement"] == 1.0
    assert summary["internal_disagreement"] == 0.5 and summary["internal_disagreement_ci"] is None
    assert grass["n_individuals"] == 1 and grass["population_disagreement"] is None
    assert grass["internal_disagreement"] == 0.0 and grass["distribution"] == {"green": 3}
    # Model (3/5, 2/5) against human (3/4, 1/4): TV = 3/20.
    assert sky["total_variation_to_human"] == pytest.approx(0.15)
    m = (0.675, 0.325)
    js = 0.5 * (0.6 * math.log2(0.6 / m[0]) + 0.4 * math.log2(0.4 / m[1])) \
        + 0.5 * (0.75 * math.log2(0.75 / m[0]) + 0.25 * math.log2(0.25 / m[1]))
    assert sky["js_distance_to_human"] == pytest.approx(math.sqrt(js))
    assert grass["total_variation_to_human"] is None
    assert summary["total_variation_to_human"] == pytest.approx(0.15) and summary["n_items_with_human"] == 1
    # Distribution means run over both items: grass has one label, sky two.
    assert summary["hill_q0"] == pytest.approx(1.5)
    assert summary["entropy_bits"] == pytest.approx((0.0 + entropy_plugin([3, 2])) / 2)
    json.dumps(summary)


def test_bootstrap_intervals_bracket_the_means_and_follow_the_seed():
    items = [f"item{k}" for k in range(8)]
    answers = _shared_distribution(30, items, ["a", "b", "c"], seed=4)
    first = summarize_categorical(answers, seed=1, permutations=20)
    for measure in DISAGREEMENT:
        low, high = first[f"{measure}_ci"]
        assert low <= first[measure] <= high and low < high
    assert summarize_categorical(answers, seed=1, permutations=20) == first
    assert summarize_categorical(answers, seed=2, permutations=20)["internal_disagreement_ci"] \
        != first["internal_disagreement_ci"]


def test_all_pairs_estimator_ignores_who_comes_first():
    rng = random.Random(8)
    values = [(rng.choice("ab"), rng.choice("ab")) for _ in range(9)]
    answers = [a for i, (v1, v2) in enumerate(values) for a in _both(f"p{i}", "item", v1, v2)]
    reversed_ids = [a for i, (v1, v2) in enumerate(values) for a in _both(f"p{8 - i}", "item", v1, v2)]
    both = summarize_categorical(answers, population_pairs="all", permutations=10)
    assert summarize_categorical(reversed_ids, population_pairs="all", permutations=10)["items"] == both["items"]
    first, second = [v1 for v1, _ in values], [v2 for _, v2 in values]
    assert both["population_disagreement"] == pytest.approx(_brute_population(first, second, "all"))
    assert both["population_pairs"] == "all"


def test_malformed_input_is_refused():
    with pytest.raises(ValueError):
        CategoricalAnswer("p1", "item", 3, "a")
    with pytest.raises(ValueError, match="two answers"):
        summarize_categorical([CategoricalAnswer("p1", "item", 1, "a"), CategoricalAnswer("p1", "item", 1, "b")])
    with pytest.raises(ValueError):
        summarize_categorical([], population_pairs="some")  # type: ignore[arg-type]
    empty = summarize_categorical([])
    assert empty["null"] is None and empty["valid_fraction"] is None and empty["items"] == []
    assert empty["internal_disagreement"] is None and empty["entropy_bits"] is None


def test_ten_thousand_individuals_summarise_quickly():
    rng = np.random.default_rng(0)
    labels = [f"label-{j}" for j in range(12)]
    draws = rng.integers(0, len(labels), size=(10_000, 5, 2))
    answers = [CategoricalAnswer(f"ind-{i}", f"item-{k}", r + 1, labels[draws[i, k, r]])
               for i in range(10_000) for k in range(5) for r in range(2)]
    start = time.perf_counter()
    summary = summarize_categorical(answers)
    elapsed = time.perf_counter() - start
    print(f"10,000 individuals x 5 items: {elapsed:.2f} s")
    assert summary["n_individuals"] == 10_000 and summary["n_items"] == 5
    assert summary["population_disagreement"] == pytest.approx(1 - 1 / 12, abs=0.01)
    assert summary["null"]["permutations"] == 200
