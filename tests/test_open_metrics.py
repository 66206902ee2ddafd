"""Open-answer metrics on populations and matrices whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture.metrics import (
    DEFAULT_DISTINCT_THRESHOLD,
    CategoricalAnswer,
    between_models_cosine,
    distinct_classes,
    distinct_k,
    mean_pairwise_cosine,
    summarize_open,
    vendi_from_embeddings,
    vendi_score,
)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=float)
    return vector / np.linalg.norm(vector)


# Vendi score -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [1.0, 2.0, math.inf])
@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_vendi_of_identical_items_is_1_and_of_orthogonal_items_is_n(n, q):
    assert vendi_score(np.ones((n, n)), q) == pytest.approx(1.0)
    assert vendi_score(np.eye(n), q) == pytest.approx(n)
    # The same from embeddings, through the n x n gram (n <= d) and the d x d covariance (n > d).
    assert vendi_from_embeddings(np.tile(unit(1, 2, 3), (n, 1)), q) == pytest.approx(1.0)
    assert vendi_from_embeddings(np.eye(n, 20), q) == pytest.approx(n)


@pytest.mark.parametrize("s", [0.0, 0.3, 0.9, -0.5])
def test_vendi_of_two_items_matches_the_hand_computed_eigenvalues(s):
    # [[1, s], [s, 1]] / 2 has eigenvalues (1 + s)/2 and (1 - s)/2.
    high, low = (1 + s) / 2, (1 - s) / 2
    shannon = -sum(p * math.log(p) for p in (high, low) if p > 0)
    matrix = [[1.0, s], [s, 1.0]]
    assert vendi_score(matrix, 1.0) == pytest.approx(math.exp(shannon))
    assert vendi_score(matrix, 2.0) == pytest.approx(1 / (high**2 + low**2))
    assert vendi_score(matrix, math.inf) == pytest.approx(1 / max(high, low))


def test_vendi_from_embeddings_is_vendi_of_their_cosine_matrix_on_both_paths():
    rng = np.random.default_rng(3)
    for n, d in [(5, 8), (40, 6)]:  # n <= d: the gram; n > d: the covariance trick
        vectors = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=(n, 1))  # lengths do not matter
        units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        for q in (1.0, 2.0):
            assert vendi_from_embeddings(vectors, q) == pytest.approx(vendi_score(units @ units.T, q))


def test_vendi_refuses_what_is_not_a_similarity_matrix():
    with pytest.raises(ValueError, match="diagonal"):
        vendi_score([[2.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="symmetric"):
        vendi_score([[1.0, 0.5], [0.1, 1.0]])
    with pytest.raises(ValueError, match="square"):
        vendi_score(np.ones((2, 3)))
    with pytest.raises(ValueError, match="at least one"):
        vendi_score(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="order q"):
        vendi_score(np.eye(2), q=0)
    with pytest.raises(ValueError, match="zero vector"):
        vendi_from_embeddings([[1.0, 0.0], [0.0, 0.0]])


# distinct answers -----------------------------------------------------------------------------------------------
def test_a_chain_of_alike_answers_is_one_class_even_when_its_ends_differ():
    # a ~ b (0.9) and b ~ c (0.9) but a !~ c (0.2): transitive closure puts all three together; d stands alone.
    similarity = np.array([[1.0, 0.9, 0.2, 0.0],
                           [0.9, 1.0, 0.9, 0.0],
                           [0.2, 0.9, 1.0, 0.0],
                           [0.0, 0.0, 0.0, 1.0]])
    assert distinct_classes(similarity, 0.8) == [0, 0, 0, 1]
    assert distinct_k(similarity, 0.8) == 2
    # Whatever order the items come in: a greedy first-match assignment starting at a or c would not merge them
    # unless b came first; the closure always does.
    order = [0, 2, 1, 3]
    assert distinct_k(similarity[np.ix_(order, order)], 0.8) == 2


def test_similarity_at_the_threshold_counts_as_alike():
    similarity = np.array([[1.0, 0.5], [0.5, 1.0]])  # 0.5 is exact in binary
    assert distinct_k(similarity, 0.5) == 1
    assert distinct_k(similarity, np.nextafter(0.5, 1.0)) == 2
    assert distinct_classes(np.zeros((0, 0)), 0.5) == []
    assert distinct_k(np.ones((3, 3)), 1.0) == 1
    assert distinct_k(np.eye(3), DEFAULT_DISTINCT_THRESHOLD) == 3


@st.composite
def similarity_and_permutation(draw):
    n = draw(st.integers(1, 9))
    points = np.array(draw(st.lists(st.lists(st.integers(-3, 3), min_size=3, max_size=3), min_size=n, max_size=n)),
                      dtype=float)
    points[np.all(points == 0, axis=1)] = [1.0, 0.0, 0.0]
    units = points / np.linalg.norm(points, axis=1, keepdims=True)
    similarity = np.clip(units @ units.T, -1, 1)
    np.fill_diagonal(similarity, 1.0)
    permutation = draw(st.permutations(range(n)))
    threshold = draw(st.sampled_from([0.0, 0.5, 0.8, 0.95, 1.0]))
    return similarity, np.array(permutation), threshold


@settings(max_examples=200, deadline=None)
@given(similarity_and_permutation())
def test_distinct_classes_do_not_depend_on_the_order_of_the_answers(case):
    similarity, permutation, threshold = case
    labels = distinct_classes(similarity, threshold)
    permuted = distinct_classes(similarity[np.ix_(permutation, permutation)], threshold)
    # Item permutation[i] of the original sits at position i: same partition, labels moved with their items.
    for i in range(len(permutation)):
        for j in range(len(permutation)):
            assert (permuted[i] == permuted[j]) == (labels[permutation[i]] == labels[permutation[j]])
    assert len(set(permuted)) == len(set(labels))
    assert permuted[0] == 0 and sorted(set(permuted)) == list(range(len(set(permuted))))


# similarity means -----------------------------------------------------------------------------------------------
def test_mean_pairwise_cosine_by_hand():
    a = [unit(1, 0), unit(0, 1), unit(1, 1)]
    # pairs: (1,0).(0,1) = 0; (1,0).(1,1)/√2 = 1/√2; (0,1).(1,1)/√2 = 1/√2
    assert mean_pairwise_cosine(a) == pytest.approx(2 / math.sqrt(2) / 3)
    assert mean_pairwise_cosine([[3.0, 0.0], [5.0, 0.0]]) == pytest.approx(1.0)  # lengths do not matter
    assert mean_pairwise_cosine([unit(1, 0), unit(-1, 0)]) == pytest.approx(-1.0)
    # between two sets: all 2 x 1 pairs: (1,0).(0,1) = 0 and (0,1).(0,1) = 1
    assert mean_pairwise_cosine([unit(1, 0), unit(0, 1)], [unit(0, 1)]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_cosine([unit(1, 0)])


def test_between_models_cosine_averages_over_the_items_both_answered():
    a = {"cat": np.array([unit(1, 0), unit(1, 0)]), "dog": np.array([unit(0, 1)]), "only-a": np.array([unit(1, 0)])}
    b = {"cat": np.array([unit(1, 0)]), "dog": np.array([unit(1, 0), unit(0, 1)])}
    result = between_models_cosine(a, b)
    assert result["items"] == {"cat": pytest.approx(1.0), "dog": pytest.approx(0.5)}
    assert result["mean"] == pytest.approx(0.75) and result["n_items"] == 2
    assert between_models_cosine(a, {})["mean"] is None


# the summary ----------------------------------------------------------------------------------------------------
def population(texts_by_individual: dict[str, tuple[str | None, str | None]], item: str = "q1"):
    return [CategoricalAnswer(individual, item, replicate, text)
            for individual, texts in texts_by_individual.items() for replicate, text in zip((1, 2), texts)]


def test_a_homogeneous_population_scores_like_its_yardstick():
    answers = population({str(i): ("Whiskers", "Whiskers") for i in range(6)})
    answers += population({str(i): ("Blue", "Blue") for i in range(6)}, item="q2")
    vectors = {"Whiskers": unit(1, 2, 0), "Blue": unit(0, 1, 5)}
    summary = summarize_open(answers, vectors, threshold=DEFAULT_DISTINCT_THRESHOLD)
    for measure in ("internal_similarity", "population_similarity", "mean_pairwise_similarity", "distinct",
                    "distinct_first", "vendi_q1", "vendi_q2"):
        assert summary[measure] == pytest.approx(1.0), measure
        assert summary[measure] == pytest.approx(summary["homogeneous"][measure])
    assert summary["signed_difference"] == pytest.approx(0.0)
    assert summary["exact_duplicate_share"] == pytest.approx(1 - 1 / 12)
    assert summary["homogeneous"]["exact_duplicate_share"] == pytest.approx(1 - 1 / 12)
    assert summary["n_items"] == 2 and summary["n_individuals"] == 6 and summary["valid_fraction"] == 1.0
    assert summary["internal_similarity_ci"] == [pytest.approx(1.0), pytest.approx(1.0)]


def test_consistent_individuals_who_differ_from_each_other():
    # Each individual repeats its own answer; the answers are mutually orthogonal.
    names = ["Whiskers", "Luna", "Mittens", "Shadow"]
    answers = population({f"p{i}": (name, name) for i, name in enumerate(names)})
    vectors = {name: row for name, row in zip(names, np.eye(4))}
    (item,) = summarize_open(answers, vectors, threshold=0.9)["items"]
    assert item["internal_similarity"] == pytest.approx(1.0)
    assert item["population_similarity"] == pytest.approx(0.0)
    assert item["signed_difference"] == pytest.approx(1.0)
    assert item["distinct"] == 4 and item["distinct_first"] == 4
    assert item["vendi_q1"] == pytest.approx(4.0) and item["vendi_q2"] == pytest.approx(4.0)
    assert item["exact_duplicate_share"] == pytest.approx(0.5)
    # Every valid answer, 8 of them, in pairs i < j: only the 4 replicate pairs are alike.
    assert item["mean_pairwise_similarity"] == pytest.approx(4 / 28)


def test_population_pairs_follow_the_natural_order_of_the_ids_and_not_the_input():
    # i < j pairs answer1_i with answer2_j: with "p2" before "p10" the pair is (A, B); read as text it would be (B, A).
    vectors = {"A1": unit(1, 0, 0), "A2": unit(0, 1, 0), "B1": unit(0, 0, 1), "B2": unit(1, 0, 0)}
    answers = population({"p10": ("B1", "B2"), "p2": ("A1", "A2")})
    (item,) = summarize_open(answers, vectors, threshold=0.9)["items"]
    assert item["population_similarity"] == pytest.approx(float(vectors["A1"] @ vectors["B2"]))  # 1, not B1.A2 = 0
    reordered = summarize_open(list(reversed(answers)), vectors, threshold=0.9)
    assert reordered["items"][0] == item


def test_invalid_answers_and_incomplete_individuals():
    vectors = {"x": unit(1, 0), "y": unit(0, 1)}
    answers = population({"1": ("x", "x"), "2": ("y", None), "3": (None, None)})
    summary = summarize_open(answers, vectors, threshold=0.9)
    (item,) = summary["items"]
    assert item["n_individuals"] == 3 and item["n_complete"] == 1 and item["n_valid"] == 3
    assert item["internal_similarity"] == pytest.approx(1.0)
    assert item["population_similarity"] is None  # needs 2 complete individuals
    assert item["distinct"] == 2 and item["distinct_first"] == 2
    assert summary["n_items"] == 0 and summary["n_items_excluded"] == 1
    assert summary["internal_similarity"] is None and summary["homogeneous"]["vendi_q1"] is None
    assert summary["valid_fraction"] == pytest.approx(3 / 6)
    with pytest.raises(ValueError, match="no vector"):
        summarize_open(answers, {"x": unit(1, 0)}, threshold=0.9)
    with pytest.raises(ValueError, match="two answers"):
        summarize_open(answers + answers[:1], vectors, threshold=0.9)
