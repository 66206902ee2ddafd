"""Colour metrics on populations whose answer is known."""

from __future__ import annotations

import math
import random

import pytest

from monoculture.metrics import ColourAnswer, colour_word_stats, summarize_colour, swatches

BLACK, WHITE = "#000000", "#ffffff"
PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
           "#bcf60c", "#008080", "#9a6324", "#800000"]


def _both(individual: str, word: str, first: str | None, second: str | None) -> list[ColourAnswer]:
    return [ColourAnswer(individual, word, 1, first), ColourAnswer(individual, word, 2, second)]


def _shared_distribution(n_individuals: int, words: list[str], seed: int) -> list[ColourAnswer]:
    """Every answer an independent draw from one palette: a perfectly homogeneous population."""
    rng = random.Random(seed)
    return [a for i in range(n_individuals) for w in words
            for a in _both(f"ind-{i}", w, rng.choice(PALETTE), rng.choice(PALETTE))]


def _fixed_individuals(n_individuals: int, words: list[str], seed: int) -> list[ColourAnswer]:
    """Each individual gives its own fixed colour for a word, both times."""
    rng = random.Random(seed)
    answers = []
    for i in range(n_individuals):
        for w in words:
            own = rng.choice(PALETTE)
            answers += _both(f"ind-{i}", w, own, own)
    return answers


def test_homogeneous_population_lies_on_the_diagonal():
    words = [f"w{k}" for k in range(10)]
    block = summarize_colour(_shared_distribution(400, words, seed=1), {w: "concrete" for w in words},
                             n_bootstrap=200)
    # Internal and population ΔE estimate the same expectation; humans sit at distance 15.88.
    assert block["internal_delta_e"] > 30
    assert block["population_delta_e"] == pytest.approx(block["internal_delta_e"], rel=0.05)
    assert block["distance_from_diagonal"] < 2.5
    assert abs(block["signed_difference"]) < 1.5


def test_fixed_individuals_have_zero_internal_delta_e():
    words = ["a", "b", "c"]
    block = summarize_colour(_fixed_individuals(50, words, seed=2), {w: "abstract" for w in words}, n_bootstrap=100)
    assert block["internal_delta_e"] == 0.0
    assert block["population_delta_e"] > 20
    assert block["distance_from_diagonal"] == pytest.approx(block["population_delta_e"] / math.sqrt(2))
    assert block["signed_difference"] == pytest.approx(block["population_delta_e"])


def test_hand_computed_word_upper_pairs_follow_natural_id_order():
    # "9" sorts before "10" (natural order): pairs i<j = ("9" answer 1, "10" answer 2) = black vs white.
    answers = _both("9", "w", BLACK, WHITE) + _both("10", "w", WHITE, WHITE)
    stats = colour_word_stats(answers)["w"]
    assert stats["n_individuals"] == 2
    assert stats["internal_delta_e"] == pytest.approx(50.0, abs=1e-6)  # (100 + 0) / 2
    assert stats["population_delta_e"] == pytest.approx(100.0, abs=1e-6)
    assert stats["signed_difference"] == pytest.approx(50.0, abs=1e-6)
    assert stats["distance_from_diagonal"] == pytest.approx(50.0 / math.sqrt(2), abs=1e-6)
    # the symmetric estimator averages both orders: (100 + 0) / 2
    assert colour_word_stats(answers, population_pairs="all")["w"]["population_delta_e"] == pytest.approx(50.0, abs=1e-6)


def test_ciede2000_option_gives_smaller_chromatic_differences():
    answers = _both("a", "w", "#ff0000", "#ff8000") + _both("b", "w", "#00ff00", "#0000ff")
    e76 = colour_word_stats(answers)["w"]
    e2000 = colour_word_stats(answers, delta_e="2000")["w"]
    assert 0 < e2000["internal_delta_e"] < e76["internal_delta_e"]
    assert 0 < e2000["population_delta_e"] < e76["population_delta_e"]


def test_shuffling_answers_changes_nothing():
    words = ["x", "y", "z", "q"]
    answers = _shared_distribution(30, words, seed=3)
    types = {"x": "abstract", "y": "abstract", "z": "concrete", "q": "concrete"}
    shuffled = answers[:]
    random.Random(5).shuffle(shuffled)
    assert summarize_colour(shuffled, types, n_bootstrap=300) == summarize_colour(answers, types, n_bootstrap=300)


def test_relabelling_individuals_leaves_symmetric_estimator_unchanged():
    words = ["x", "y"]
    answers = _shared_distribution(25, words, seed=6)
    relabelled = [ColourAnswer(f"z-{99 - int(a.individual.split('-')[1])}", a.word, a.replicate, a.hex) for a in answers]
    types = {w: "concrete" for w in words}
    original = summarize_colour(answers, types, population_pairs="all")
    renamed = summarize_colour(relabelled, types, population_pairs="all")
    for key in ("internal_delta_e", "population_delta_e", "distance_from_diagonal"):
        assert renamed[key] == pytest.approx(original[key], abs=1e-9)


def test_invalid_answers_are_counted_and_leave_the_pair_incomplete():
    answers = (_both("a", "w", BLACK, BLACK) + _both("b", "w", WHITE, WHITE)
               + _both("c", "w", BLACK, None) + _both("d", "w", None, None))
    block = summarize_colour(answers, {"w": "abstract"}, n_bootstrap=10)
    assert block["n_samples"] == 8
    assert block["n_valid"] == 5
    assert block["valid_fraction"] == pytest.approx(5 / 8)
    assert block["n_individuals"] == 4
    (word,) = block["words"]
    assert word["n_individuals"] == 2  # only a and b answered both times
    assert word["internal_delta_e"] == pytest.approx(0.0, abs=1e-6)
    assert word["population_delta_e"] == pytest.approx(100.0, abs=1e-3)


def test_words_without_two_complete_individuals_are_excluded_from_means():
    answers = (_both("a", "kept", BLACK, BLACK) + _both("b", "kept", WHITE, WHITE)
               + _both("a", "lonely", BLACK, WHITE) + _both("b", "lonely", WHITE, None))
    block = summarize_colour(answers, {"kept": "concrete", "lonely": "abstract"}, n_bootstrap=10)
    assert block["n_words"] == 1
    assert block["n_words_excluded"] == 1
    assert block["internal_delta_e"] == pytest.approx(0.0, abs=1e-6)  # "lonely" (internal 100) stays out
    lonely = next(w for w in block["words"] if w["word"] == "lonely")
    assert lonely["population_delta_e"] is None and lonely["distance_from_diagonal"] is None
    assert lonely["internal_delta_e"] == pytest.approx(100.0, abs=1e-3)
    assert set(block["by_word_type"]) == {"concrete"}
    assert block["n_per_word"] == {"min": 1, "max": 2}


def test_by_word_type_and_bootstrap_interval():
    # Each word's internal ΔE is 0 (fixed) or 100 (black then white), by construction.
    answers = []
    for i in range(3):
        answers += _both(f"p{i}", "calm", BLACK, BLACK) + _both(f"p{i}", "storm", BLACK, WHITE)
    block = summarize_colour(answers, {"calm": "concrete", "storm": "abstract"}, n_bootstrap=500, seed=7)
    assert block["by_word_type"]["concrete"]["internal_delta_e"] == pytest.approx(0.0, abs=1e-6)
    assert block["by_word_type"]["abstract"]["internal_delta_e"] == pytest.approx(100.0, abs=1e-3)
    assert block["by_word_type"]["abstract"]["n_words"] == 1
    assert block["internal_delta_e"] == pytest.approx(50.0, abs=1e-3)
    low, high = block["internal_delta_e_ci"]
    # resampling 2 words: the mean of a resample is 0, 50 or 100
    assert low == pytest.approx(0.0, abs=1e-3) and high == pytest.approx(100.0, abs=1e-3)
    again = summarize_colour(answers, {"calm": "concrete", "storm": "abstract"}, n_bootstrap=500, seed=7)
    assert again["internal_delta_e_ci"] == block["internal_delta_e_ci"]


def test_ciede2000_block_and_schema_keys():
    words = [f"w{k}" for k in range(4)]
    block = summarize_colour(_fixed_individuals(6, words, seed=8), {w: "concrete" for w in words}, n_bootstrap=50)
    for key in ("internal_delta_e", "population_delta_e", "distance_from_diagonal", "signed_difference"):
        assert isinstance(block[key], float)
        assert len(block[f"{key}_ci"]) == 2
    assert set(block["ciede2000"]) == {"internal_delta_e", "population_delta_e", "distance_from_diagonal"}
    assert block["ciede2000"]["internal_delta_e"] == 0.0
    assert 0 < block["ciede2000"]["population_delta_e"] < block["population_delta_e"]
    assert {"word", "word_type", "n_individuals", "internal_delta_e", "population_delta_e",
            "distance_from_diagonal"} <= set(block["words"][0])
    assert not {"mode", "swatches", "invalid_examples"} & set(block)


def test_duplicate_answers_and_untyped_words_are_errors():
    with pytest.raises(ValueError, match="two answers"):
        summarize_colour(_both("a", "w", BLACK, BLACK) * 2, {"w": "concrete"})
    with pytest.raises(ValueError, match="word type"):
        summarize_colour(_both("a", "w", BLACK, BLACK), {})
    with pytest.raises(ValueError):
        ColourAnswer("a", "w", 3, BLACK)


def test_swatches_take_valid_first_replicates_in_id_order():
    answers = (_both("2", "sky", "#0000ff", "#111111") + _both("10", "sky", "#00ffff", "#222222")
               + _both("1", "sky", None, "#333333") + _both("3", "grass", "#00ff00", None))
    assert swatches(answers, ["sky", "grass", "void"]) == {"sky": ["#0000ff", "#00ffff"], "grass": ["#00ff00"],
                                                            "void": []}
    assert swatches(answers, ["sky"], limit=1) == {"sky": ["#0000ff"]}
