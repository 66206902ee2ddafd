"""Open-answer metrics: how alike free-form answers (a name, a sentence, a poem, a plan) are, from their embeddings.

Every answer is a unit vector (an :class:`~monoculture.embedders.Embedder` gives them); the similarity of two
answers is their cosine, in [-1, 1], 1 for the same direction. Per question (*item*):

* **internal similarity**: mean over complete individuals (both replicates valid) of cos(answer1_i, answer2_i);
* **population similarity**: mean over pairs i < j of cos(answer1_i, answer2_j), individuals in the natural sort
  order of their ids, the colour task's estimator (``metrics._colour``) with ΔE replaced by cosine similarity.
  A homogeneous population (every individual a draw from one shared distribution) has the two equal in
  expectation; consistent individuals who differ from each other have internal above population
  (docs/methods.md, section 1);
* **mean pairwise similarity** of all valid answers (i < j): the within-model "hivemind" index; the same mean
  across two models' answers (:func:`between_models_cosine`) is the between-models one (Jiang et al. 2025,
  "Artificial Hivemind: The Open-Ended Homogeneity of Language Models (and Beyond)", arXiv 2510.22954);
* **distinct answers**: the number of classes of the partition of the answers into equivalence classes, two
  answers being equivalent when a chain of answers links them, each step with cosine ≥ ``threshold``
  (:func:`distinct_classes`). NoveltyBench's distinct_k (Zhang et al. 2025, arXiv 2504.05228) compares each new
  answer with one member of each class found so far and joins the first class it matches, so its count can
  change with the order of the answers; the transitive closure here cannot. Range 1 (all alike) to n (all
  different);
* **Vendi score** (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine
  Learning", TMLR; arXiv 2210.02410): exp of the Rényi entropy of order q of the eigenvalues of K/n, K the
  cosine similarity matrix. The effective number of distinct answers without a threshold: 1 when all n
  answers are alike, n when they are mutually orthogonal (:func:`vendi_score`);
* **exact-duplicate share**: the fraction of valid answers whose text repeats an earlier one (1 − unique/n).

Higher similarity and lower distinct/Vendi mean a more homogeneous population. All functions are pure: they
take vectors or similarity matrices and return numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from monoculture.metrics._categorical import CategoricalAnswer
from monoculture.metrics._colour import _bootstrap_means, natural_key

__all__ = [
    "DEFAULT_DISTINCT_THRESHOLD",
    "between_models_cosine",
    "distinct_classes",
    "distinct_k",
    "mean_pairwise_cosine",
    "summarize_open",
    "vendi_from_embeddings",
    "vendi_score",
]

# Two answers of the default embedder (all-MiniLM-L6-v2, int8 ONNX) with cosine at least this are the same answer.
# Measured on hand-made answers to a handful of questions (cat names, colours, cities, plans, short poems):
# 15 paraphrase pairs ("Blue is my favorite color." / "My favourite colour is blue.") scored 0.70 to 1.00,
# median 0.87; 18 pairs of different answers to one question scored 0.14 to 0.84, and the closest different
# answers of all were one-word swaps in a template: "My favourite colour is blue." / "... green." 0.84, eight
# such colour sentences 0.78 to 0.86. At 0.875 every one of those stays apart (8 colour sentences, 8 classes)
# while 7 of the 15 paraphrase pairs merge; at 0.85 the colour sentences chain into 5 classes, at 0.80 into 1.
# Single linkage chains, and merging different answers would overstate homogeneity, so the threshold errs high:
# a paraphrase that keeps its own class makes a population look more diverse, never less.
DEFAULT_DISTINCT_THRESHOLD = 0.875

# Tolerance for "unit diagonal" and "symmetric" in float32 embeddings turned into float64 similarity matrices.
_TOLERANCE = 1e-4


# similarity matrices and vectors ------------------------------------------------------------------------------
def _similarity_matrix(similarity: ArrayLike) -> NDArray[np.float64]:
    matrix = np.asarray(similarity, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a similarity matrix must be square, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("a similarity matrix must hold finite numbers")
    if not np.allclose(matrix, matrix.T, atol=_TOLERANCE):
        raise ValueError("a similarity matrix must be symmetric")
    return matrix


def _unit_rows(vectors: ArrayLike) -> NDArray[np.float64]:
    """Rows scaled to length 1 (cosine similarity is then a dot product); a zero row has no direction."""
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array (one row per answer), got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("vectors must hold finite numbers")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a zero vector has no direction, so no cosine similarity")
    return matrix / norms


# Vendi score ----------------------------------------------------------------------------------------------------
def _vendi_from_eigenvalues(eigenvalues: NDArray[np.float64], q: float) -> float:
    """exp(Rényi entropy of order q) of a probability vector given as eigenvalues (which sum to 1)."""
    # Rounding leaves eigenvalues of a PSD matrix slightly below 0; they are 0.
    p = np.clip(eigenvalues, 0.0, None)
    p = p / p.sum()
    p = p[p > 0]
    if q == 1:
        return float(np.exp(-np.sum(p * np.log(p))))
    if math.isinf(q):
        return float(1.0 / p.max())
    return float(np.sum(p**q) ** (1.0 / (1.0 - q)))


def _check_q(q: float) -> None:
    if not (q > 0 or math.isinf(q)) or math.isnan(q):
        raise ValueError(f"the Vendi score's order q must be above 0 (1, 2 or inf), got {q!r}")


def vendi_score(similarity: ArrayLike, q: float = 1.0) -> float:
    """The Vendi score of n items from their n × n similarity matrix K (positive semi-definite, unit diagonal).

    exp(H_q(λ)), λ the eigenvalues of K/n (they sum to 1) and H_q the Rényi entropy of order q: for q = 1 the
    Shannon entropy −Σ λ log λ; for q = 2, VS = 1/Σλ²; for q = inf, VS = 1/max λ. Range 1 (all items identical)
    to n (all mutually orthogonal); higher is more diverse. Friedman & Dieng (2023); Pasarkar & Dieng (2024,
    "Cousins of the Vendi Score") for orders other than 1: a larger q weighs common items more, so q = 2 counts
    rare answers less than q = 1 does (AISTATS 2024, arXiv 2310.12952).
    """
    _check_q(q)
    matrix = _similarity_matrix(similarity)
    n = len(matrix)
    if n == 0:
        raise ValueError("the Vendi score needs at least one item")
    if not np.allclose(np.diag(matrix), 1.0, atol=_TOLERANCE):
        # K/n sums to 1 only with a unit diagonal: any other diagonal gives a number that is not a Vendi score.
        raise ValueError("a Vendi similarity matrix needs 1 on its diagonal (every item is identical to itself)")
    return _vendi_from_eigenvalues(np.linalg.eigvalsh(matrix / n), q)


def vendi_from_embeddings(vectors: ArrayLike, q: float = 1.0) -> float:
    """The Vendi score of n items under the cosine similarity of their embeddings (one row each).

    Rows are scaled to unit length, so K = X Xᵀ has a unit diagonal. With more items than dimensions (n > d),
    the eigenvalues come from the d × d matrix Xᵀ X / n, which has the same nonzero eigenvalues as X Xᵀ / n
    and costs O(n d²) instead of O(n³) (Friedman & Dieng 2023, section 3).
    """
    _check_q(q)
    matrix = _unit_rows(vectors)
    n, d = matrix.shape
    if n == 0:
        raise ValueError("the Vendi score needs at least one item")
    gram = matrix @ matrix.T if n <= d else matrix.T @ matrix
    return _vendi_from_eigenvalues(np.linalg.eigvalsh(gram / n), q)


# distinct answers -----------------------------------------------------------------------------------------------
def distinct_classes(similarity: ArrayLike, threshold: float) -> list[int]:
    """A class label per item: the connected components of the graph "similarity ≥ threshold" (single linkage).

    Two items share a class when a chain of items links them, each step at or above the threshold: the
    transitive closure of "alike", hence an equivalence relation whose partition does not depend on the order of
    the items (a permutation of the items permutes the labels with them, and nothing else). Labels are numbered
    0, 1, ... in the order each class first appears. The diagonal is ignored.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    matrix = _similarity_matrix(similarity)
    if not math.isfinite(threshold):
        raise ValueError(f"the threshold must be a finite number, got {threshold!r}")
    if len(matrix) == 0:
        return []
    _, components = connected_components(csr_matrix(matrix >= threshold), directed=False)
    first_seen: dict[int, int] = {}
    return [first_seen.setdefault(int(component), len(first_seen)) for component in components]


def distinct_k(similarity: ArrayLike, threshold: float) -> int:
    """The number of distinct items: classes of :func:`distinct_classes`. Range 0 (no items) to n."""
    return len(set(distinct_classes(similarity, threshold)))


# similarity means -----------------------------------------------------------------------------------------------
def mean_pairwise_cosine(a: ArrayLike, b: ArrayLike | None = None) -> float:
    """Mean cosine similarity over the pairs i < j of one set of vectors, or over all pairs (i, j) of two sets.

    Range [-1, 1]; 1 when every vector points the same way. Computed from sums, in O(n d):
    Σ_{i<j} a_i·a_j = (|Σ a_i|² − Σ |a_i|²) / 2 and Σ_{i,j} a_i·b_j = (Σ a_i)·(Σ b_j).
    """
    first = _unit_rows(a)
    if b is None:
        n = len(first)
        if n < 2:
            raise ValueError(f"a mean over pairs needs at least 2 vectors, got {n}")
        total = first.sum(axis=0)
        return float((total @ total - n) / (n * (n - 1)))
    second = _unit_rows(b)
    if len(first) == 0 or len(second) == 0:
        raise ValueError("a mean between two sets needs at least one vector in each")
    if first.shape[1] != second.shape[1]:
        raise ValueError(f"vectors of {first.shape[1]} and {second.shape[1]} dimensions cannot be compared")
    return float(first.mean(axis=0) @ second.mean(axis=0))


def _ordered_pair_mean(first: NDArray[np.float64], second: NDArray[np.float64]) -> float:
    """Mean of first_i · second_j over i < j (rows already in the individuals' order), in O(n d)."""
    # Row j pairs with every earlier row of ``first``: the prefix sums hold them.
    earlier = np.cumsum(first, axis=0)[:-1]
    n = len(first)
    return float(np.einsum("ij,ij->", earlier, second[1:]) / (n * (n - 1) / 2))


def between_models_cosine(vectors_a: Mapping[str, ArrayLike], vectors_b: Mapping[str, ArrayLike]) -> dict[str, Any]:
    """The between-models hivemind index: per item, the mean cosine over all pairs of model A's and model B's
    answers (:func:`mean_pairwise_cosine` of the two sets), and its mean over the items both answered.

    ``vectors_a`` and ``vectors_b`` map an item to its answers' embeddings (one row each). Keys: ``mean``
    (None without a shared item), ``n_items``, ``items`` (item -> mean, sorted by item).
    """
    shared = sorted(item for item in set(vectors_a) & set(vectors_b)
                    if len(np.asarray(vectors_a[item])) and len(np.asarray(vectors_b[item])))
    items = {item: mean_pairwise_cosine(vectors_a[item], vectors_b[item]) for item in shared}
    return {"mean": float(np.mean(list(items.values()))) if items else None, "n_items": len(items), "items": items}


# the summary ----------------------------------------------------------------------------------------------------
_MEASURES = ("internal_similarity", "population_similarity", "signed_difference", "mean_pairwise_similarity",
             "distinct", "distinct_first", "vendi_q1", "vendi_q2", "exact_duplicate_share")


def _collect(answers: Iterable[CategoricalAnswer]) -> tuple[dict[str, dict[tuple[str, int], str | None]], int, int,
                                                               set[str]]:
    """Per item, (individual, replicate) -> text; plus counts of samples and valid answers, and the individuals."""
    by_item: dict[str, dict[tuple[str, int], str | None]] = {}
    individuals: set[str] = set()
    n_samples = n_valid = 0
    for answer in answers:
        cell = by_item.setdefault(answer.item, {})
        key = (answer.individual, answer.replicate)
        if key in cell:
            # An unreduced population has one answer per (individual, item, replicate); a repeat is a bug upstream.
            raise ValueError(f"two answers for individual {answer.individual!r}, item {answer.item!r}, "
                             f"replicate {answer.replicate}")
        cell[key] = answer.value
        individuals.add(answer.individual)
        n_samples += 1
        n_valid += answer.value is not None
    return by_item, n_samples, n_valid, individuals


def _item_stats(cell: Mapping[tuple[str, int], str | None], vectors: Mapping[str, NDArray[np.float64]],
                threshold: float) -> dict[str, Any]:
    order = sorted({individual for individual, _ in cell}, key=natural_key)
    valid = [cell[(i, r)] for i in order for r in (1, 2) if cell.get((i, r)) is not None]
    first = [cell[(i, 1)] for i in order if cell.get((i, 1)) is not None]
    complete = [(cell[(i, 1)], cell[(i, 2)]) for i in order
                if cell.get((i, 1)) is not None and cell.get((i, 2)) is not None]
    stats: dict[str, Any] = {"n_individuals": len(order), "n_complete": len(complete), "n_valid": len(valid)}
    stats.update({measure: None for measure in _MEASURES})
    if complete:
        one = np.array([vectors[t1] for t1, _ in complete])
        two = np.array([vectors[t2] for _, t2 in complete])
        stats["internal_similarity"] = float(np.mean(np.einsum("ij,ij->i", one, two)))
        if len(complete) >= 2:
            stats["population_similarity"] = _ordered_pair_mean(one, two)
            stats["signed_difference"] = stats["internal_similarity"] - stats["population_similarity"]
    if valid:
        matrix = np.array([vectors[text] for text in valid])
        similarity = np.clip(matrix @ matrix.T, -1.0, 1.0)
        np.fill_diagonal(similarity, 1.0)
        if len(valid) >= 2:
            stats["mean_pairwise_similarity"] = mean_pairwise_cosine(matrix)
        stats["distinct"] = distinct_k(similarity, threshold)
        stats["vendi_q1"] = vendi_from_embeddings(matrix, 1.0)
        stats["vendi_q2"] = vendi_from_embeddings(matrix, 2.0)
        stats["exact_duplicate_share"] = 1.0 - len(set(valid)) / len(valid)
    if first:
        rows = np.array([vectors[text] for text in first])
        first_similarity = np.clip(rows @ rows.T, -1.0, 1.0)
        np.fill_diagonal(first_similarity, 1.0)
        stats["distinct_first"] = distinct_k(first_similarity, threshold)
    return stats


def summarize_open(answers: Iterable[CategoricalAnswer], vectors: Mapping[str, ArrayLike], *, threshold: float,
                   n_bootstrap: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The open-answer numbers of one population: per item and their means over items.

    ``answers`` is the unreduced population (one :class:`CategoricalAnswer` per individual, item and replicate;
    ``value`` None for an invalid answer); ``vectors`` maps every valid answer's text to its embedding (rows are
    scaled to unit length here). ``threshold`` is the cosine at which two answers are the same answer
    (:data:`DEFAULT_DISTINCT_THRESHOLD` for the default embedder; another embedder needs its own).

    Keys: ``threshold``, ``n_samples``, ``n_valid``, ``valid_fraction`` (None without samples),
    ``n_individuals``, ``n_items`` (items with at least 2 complete individuals, the ones the means are over),
    ``n_items_excluded``; the means over those items of ``internal_similarity``, ``population_similarity``,
    ``signed_difference`` (internal − population: above 0, individuals are more like themselves than like each
    other), ``mean_pairwise_similarity`` (all valid answers, i < j: the within-model hivemind index),
    ``distinct`` (classes among all valid answers), ``distinct_first`` (classes among replicate-1 answers,
    k = the individuals who gave one), ``vendi_q1``, ``vendi_q2`` (all valid answers) and
    ``exact_duplicate_share``, each None without items and with a ``<name>_ci`` 95% bootstrap interval over items
    (``n_bootstrap`` draws from ``numpy.random.default_rng(seed)``; None with fewer than 2 items);
    ``homogeneous``: what a population of identical answers of the same size gets on the same items
    (similarities 1, signed difference 0, distinct 1, Vendi 1, duplicate share the mean of 1 − 1/n_valid);
    ``items``: every item (sorted) with ``item``, ``n_individuals``, ``n_complete``, ``n_valid`` and the measures
    above (None where undefined: similarities need a complete individual, population similarity 2; the rest a
    valid answer). Similarities are cosines in [-1, 1]; distinct counts range from 1 to ``n_valid``
    (``distinct_first``: to the replicate-1 answers), Vendi scores from 1 to ``n_valid``.
    """
    if not math.isfinite(threshold):
        raise ValueError(f"the threshold must be a finite number, got {threshold!r}")
    by_item, n_samples, n_valid, individuals = _collect(answers)
    texts = {text for cell in by_item.values() for text in cell.values() if text is not None}
    missing = sorted(texts - set(vectors))
    if missing:
        raise ValueError(f"no vector for {len(missing)} answer(s), e.g. {missing[:3]}")
    ordered = sorted(texts)
    units = dict(zip(ordered, _unit_rows(np.array([vectors[text] for text in ordered])))) if ordered else {}

    items = [{"item": item, **_item_stats(by_item[item], units, threshold)} for item in sorted(by_item)]
    included = [item for item in items if item["population_similarity"] is not None]
    intervals = _bootstrap_means({m: np.array([item[m] for item in included], float) for m in _MEASURES},
                                 n_bootstrap, seed)
    block: dict[str, Any] = {
        "threshold": threshold,
        "n_samples": n_samples,
        "n_valid": n_valid,
        "valid_fraction": n_valid / n_samples if n_samples else None,
        "n_individuals": len(individuals),
        "n_items": len(included),
        "n_items_excluded": len(items) - len(included),
    }
    for measure in _MEASURES:
        block[measure] = float(np.mean([item[measure] for item in included])) if included else None
        block[f"{measure}_ci"] = intervals[measure]
    block["homogeneous"] = _homogeneous(included)
    block["items"] = items
    return block


def _homogeneous(included: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """The yardstick: every answer to an item the same text, so every vector the same."""
    if not included:
        return {measure: None for measure in _MEASURES}
    return {
        "internal_similarity": 1.0,
        "population_similarity": 1.0,
        "signed_difference": 0.0,
        "mean_pairwise_similarity": 1.0,
        "distinct": 1.0,
        "distinct_first": 1.0,
        "vendi_q1": 1.0,
        "vendi_q2": 1.0,
        "exact_duplicate_share": float(np.mean([1.0 - 1.0 / item["n_valid"] for item in included])),
    }
