"""Categorical-answer metrics: answer distributions, and internal vs population disagreement.

A categorical answer is one label out of a set (a word, an option); each individual answers each item twice.

**Answer distributions.** Over one item's label counts ``n_i`` (``n = Σ n_i``, ``p_i = n_i / n``); logarithms are
base 2, so entropies are in bits:

* plug-in Shannon entropy ``H = −Σ p_i log2 p_i``: 0 for one label, ``log2 K`` for K equally used ones. It is
  biased low when labels go unseen (Miller 1955; Paninski 2003, Neural Computation 15:1191);
* Chao–Shen entropy: the coverage-adjusted Horvitz–Thompson estimator of Chao & Shen (2003, Environmental and
  Ecological Statistics 10:429-443), which corrects most of that bias (formula in :func:`entropy_corrected`);
* unbiased Gini–Simpson ``1 − Σ n_i (n_i − 1) / (n (n − 1))``: the probability that two answers drawn without
  replacement differ (Simpson 1949, Nature 163:688), in [0, 1];
* Hill numbers (Hill 1973, Ecology 54:427; Jost 2006, Oikos 113:363), the effective number of labels:
  ``q0`` the labels seen, ``q1 = exp(H in nats)``, ``q2 = 1 / Σ p_i²``; each 1 for one label, K for K equal ones;
* total variation ``½ Σ |p_i − q_i|`` and the Jensen–Shannon distance ``√JSD`` in bits (Lin 1991, IEEE Trans.
  Inf. Theory 37:145; Endres & Schindelin 2003, IEEE Trans. Inf. Theory 49:1858: the square root is a metric)
  between two distributions: both in [0, 1], 0 for identical and 1 for disjoint ones.

**Replicate disagreement.** The categorical counterpart of internal vs population ΔE (docs/methods.md, section 3;
Murthy, Ullman & Hu 2025) with the distance ``[a ≠ b]``. For one item, with its *complete* individuals (both
replicates valid) in natural id order (:func:`natural_key`, as for colours):

* internal disagreement   = mean over individuals i of ``[answer1_i ≠ answer2_i]``;
* population disagreement = mean over pairs i < j of ``[answer1_i ≠ answer2_j]`` (``population_pairs="all"``:
  over all i ≠ j, which does not depend on the order of the individuals);
* distance from the diagonal = |population − internal| / √2, signed difference = population − internal.

All lie in [0, 1] (the signed difference in [−1, 1]). Individuals who each draw both answers from one shared
distribution p score internal ≈ population ≈ 1 − Σ p²: distance 0 up to sampling noise; individuals who are
each consistent but differ from one another score internal 0 and population up to 1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from monoculture.metrics._colour import PopulationPairs, _bootstrap_means, natural_key
from monoculture.metrics._modes import total_variation as _total_variation_of_shares
from monoculture.metrics._null import null_summary

__all__ = [
    "CategoricalAnswer",
    "entropy_corrected",
    "entropy_plugin",
    "gini_simpson_unbiased",
    "hill_numbers",
    "jensen_shannon_distance",
    "replicate_disagreement",
    "summarize_categorical",
    "total_variation",
]

Counts = Mapping[str, int] | Sequence[int] | NDArray[np.integer]

# Bounds the (permutations x individuals) arrays of the null: 200 permutations of 10,000 individuals are 2e6.
_NULL_BLOCK_ELEMENTS = 2_000_000
# Up to this many (individuals x labels) cells (16 MB of int32) an item's cumulative label counts are tabulated;
# beyond it (many distinct answers) the pairs are counted by binary search, whose memory stays linear.
_TABLE_ELEMENTS = 4_000_000

_DISAGREEMENT = ("internal_disagreement", "population_disagreement", "distance_from_diagonal", "signed_difference")
_DISTRIBUTION = ("entropy_bits", "entropy_corrected_bits", "gini_simpson", "hill_q0", "hill_q1", "hill_q2")
_TO_HUMAN = ("total_variation_to_human", "js_distance_to_human")

# What every estimator returns for a sample with one label, whatever its size (a test checks each one): the
# figure a population in which everyone gives the same answer both times gets.
_HOMOGENEOUS: dict[str, float] = {
    "internal_disagreement": 0.0, "population_disagreement": 0.0, "distance_from_diagonal": 0.0,
    "signed_difference": 0.0, "entropy_bits": 0.0, "entropy_corrected_bits": 0.0, "gini_simpson": 0.0,
    "hill_q0": 1.0, "hill_q1": 1.0, "hill_q2": 1.0,
}


@dataclass(frozen=True)
class CategoricalAnswer:
    """One answer of one individual to one item: ``value`` is the label, or None for an invalid answer."""

    individual: str
    item: str
    replicate: int   # 1 or 2
    value: str | None  # None = invalid answer

    def __post_init__(self) -> None:
        if self.replicate not in (1, 2):
            raise ValueError(f"replicate must be 1 or 2, got {self.replicate!r}")


# --- answer distributions ---------------------------------------------------------------------------------------

def _count_array(counts: Counts) -> NDArray[np.int64]:
    """The positive counts as integers; raises on negative or fractional ones."""
    values = list(counts.values()) if isinstance(counts, Mapping) else counts
    array = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.floor(array)):
        raise ValueError("counts must be non-negative integers (use total_variation or jensen_shannon_distance "
                         "for probabilities)")
    return array[array > 0].astype(np.int64)


def entropy_plugin(counts: Counts) -> float | None:
    """Plug-in (maximum-likelihood) Shannon entropy in bits: ``−Σ p_i log2 p_i`` with ``p_i = n_i / n``.

    ``counts`` is a mapping label -> count or a sequence of counts. Range [0, log2 K] for K labels seen; 0 for one
    label, higher = answers spread over more labels more evenly. Biased low in small samples (see
    :func:`entropy_corrected`). None for an empty sample.
    """
    n_i = _count_array(counts)
    if n_i.size == 0:
        return None
    p = n_i / n_i.sum()
    return float(max(0.0, -np.sum(p * np.log2(p))))


def entropy_corrected(counts: Counts) -> float | None:
    """Chao–Shen (2003) coverage-adjusted Shannon entropy in bits.

    With ``n`` answers, ``f1`` labels seen exactly once, sample coverage ``C = 1 − f1 / n`` (Good 1953) and
    coverage-adjusted shares ``pa_i = C · n_i / n``, the Horvitz–Thompson estimator is::

        H = − Σ_i  pa_i log2 pa_i / (1 − (1 − pa_i)^n)

    (Chao, A. & Shen, T.-J. 2003, "Nonparametric estimation of Shannon's index of diversity when there are unseen
    species in sample", Environmental and Ecological Statistics 10:429-443). Shrinking the shares by C leaves
    mass 1 − C to the labels nobody gave; dividing by each label's probability of being seen in n draws weights
    up the rare ones. When every answer is a singleton (``f1 = n``) the coverage would be 0; as in the
    ``entropy`` R package (Hausser & Strimmer, ``entropy.ChaoShen``), ``f1 = n − 1`` is used then, so ``C = 1 / n``.

    Range: 0 for one label; otherwise above the plug-in entropy when labels go unseen, up to about 2 log2 n when
    every answer is a singleton. None for an empty sample.
    """
    n_i = _count_array(counts)
    if n_i.size == 0:
        return None
    n = int(n_i.sum())
    singletons = int(np.count_nonzero(n_i == 1))
    if singletons == n:
        singletons = n - 1
    coverage = 1.0 - singletons / n
    pa = coverage * n_i / n
    seen = 1.0 - (1.0 - pa) ** n
    return float(max(0.0, -np.sum(pa * np.log2(pa) / seen)))


def gini_simpson_unbiased(counts: Counts) -> float | None:
    """Unbiased Gini–Simpson index ``1 − Σ n_i (n_i − 1) / (n (n − 1))`` (Simpson 1949).

    The probability that two different answers drawn at random (without replacement) carry different labels.
    Range [0, 1]: 0 when all answers agree, 1 when no two do. None with fewer than 2 answers.
    """
    n_i = _count_array(counts)
    n = int(n_i.sum())
    if n < 2:
        return None
    return float(1.0 - np.sum(n_i * (n_i - 1)) / (n * (n - 1)))


def hill_numbers(counts: Counts) -> dict[str, float | None]:
    """Plug-in Hill numbers (Hill 1973; Jost 2006): effective numbers of labels, keys ``q0``, ``q1``, ``q2``.

    ``q0`` = labels seen, ``q1 = exp(−Σ p_i ln p_i)`` (exponential of the plug-in entropy in nats),
    ``q2 = 1 / Σ p_i²``. Each lies in [1, K] for K labels seen, q0 ≥ q1 ≥ q2; 1 for one label, K for K labels
    used equally often. All None for an empty sample.
    """
    n_i = _count_array(counts)
    if n_i.size == 0:
        return {"q0": None, "q1": None, "q2": None}
    p = n_i / n_i.sum()
    return {"q0": float(n_i.size), "q1": float(np.exp(-np.sum(p * np.log(p)))), "q2": float(1.0 / np.sum(p * p))}


def _shares(distribution: Mapping[str, float]) -> dict[str, float] | None:
    """Counts or probabilities normalised to sum to 1; None when there is no mass."""
    values = np.asarray(list(distribution.values()), dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("a distribution's counts or probabilities must be finite and non-negative")
    total = float(values.sum())
    if total <= 0:
        return None
    return {label: float(value) / total for label, value in distribution.items()}


def total_variation(p: Mapping[str, float], q: Mapping[str, float]) -> float | None:
    """Total variation distance ``½ Σ |p_i − q_i|`` between two distributions over labels.

    ``p`` and ``q`` map labels to counts or probabilities; each is normalised to sum to 1 and a label missing from
    one has share 0 there. Range [0, 1]: 0 for identical distributions, 1 for disjoint ones. None when either
    has no mass. (Generalises the probabilities-only function of the modes comparison, which it calls.)
    """
    p_shares, q_shares = _shares(p), _shares(q)
    if p_shares is None or q_shares is None:
        return None
    return float(min(_total_variation_of_shares(p_shares, q_shares), 1.0))


def jensen_shannon_distance(p: Mapping[str, float], q: Mapping[str, float]) -> float | None:
    """Jensen–Shannon distance in bits: ``√(½ KL(p ‖ m) + ½ KL(q ‖ m))`` with ``m = (p + q) / 2``, log base 2.

    Same inputs as :func:`total_variation`. Range [0, 1]: 0 for identical distributions, 1 for disjoint ones;
    the square root makes it a metric (Endres & Schindelin 2003). Equals ``scipy.spatial.distance.jensenshannon``
    with ``base=2``, without importing scipy. None when either has no mass.
    """
    p_shares, q_shares = _shares(p), _shares(q)
    if p_shares is None or q_shares is None:
        return None
    labels = sorted(set(p_shares) | set(q_shares))
    p_array = np.array([p_shares.get(label, 0.0) for label in labels])
    q_array = np.array([q_shares.get(label, 0.0) for label in labels])
    m = (p_array + q_array) / 2

    def divergence(shares: NDArray[np.float64]) -> float:
        seen = shares > 0  # 0 log 0 = 0; where shares > 0, m > 0 too
        return float(np.sum(shares[seen] * np.log2(shares[seen] / m[seen])))

    js = (divergence(p_array) + divergence(q_array)) / 2
    # Rounding can leave a divergence of identical distributions a hair below 0, or of disjoint ones above 1.
    return float(math.sqrt(min(max(js, 0.0), 1.0)))


# --- replicate disagreement -------------------------------------------------------------------------------------

def _equal_before(first: NDArray[np.int64], second: NDArray[np.int64]) -> NDArray[np.int64]:
    """For each position j of ``second`` (1-D, or 2-D with one population per row), how many i < j have
    ``first[i] == second[..., j]``: O(n) or O(n log n) per row instead of the n² pairs."""
    n = first.shape[-1]
    positions = np.arange(n)
    labels = int(max(first.max(), second.max())) + 1
    if n * labels <= _TABLE_ELEMENTS:
        # before[j, label] = how many i < j answered that label first: one lookup per position. On 10,000
        # individuals, 8 labels and 200 permutations this takes 0.015 s an item against 0.17 s by binary search.
        own = np.zeros((n, labels), dtype=np.int32)
        own[positions, first] = 1
        before = np.cumsum(own, axis=0, dtype=np.int32) - own
        return before[positions, second].astype(np.int64)
    # Label-major keys: each label's replicate-1 positions, in increasing order, occupy [label·n, label·n + n).
    keys = np.sort(first * n + positions)
    start = np.searchsorted(keys, second * n)
    stop = np.searchsorted(keys, second * n + positions)
    return stop - start


def _disagreements(first: NDArray[np.int64], second: NDArray[np.int64],
                   pairs: PopulationPairs) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Internal and population disagreement of each row of ``second`` (shape (m, n)) against ``first`` (n,)."""
    n = first.shape[0]
    same = np.count_nonzero(first == second, axis=-1)
    internal = 1.0 - same / n
    if pairs == "upper":
        equal_pairs = _equal_before(first, second).sum(axis=-1)
        population = 1.0 - equal_pairs / (n * (n - 1) / 2)
    else:
        # Equal pairs over all i, j are Σ_label count1 · count2; the diagonal i = j is taken out.
        labels = int(max(first.max(), second.max())) + 1
        rows = np.arange(second.shape[0])[:, None]
        second_counts = np.bincount((rows * labels + second).ravel(), minlength=second.shape[0] * labels)
        cross = second_counts.reshape(-1, labels) @ np.bincount(first, minlength=labels)
        population = 1.0 - (cross - same) / (n * (n - 1))
    return internal, population


def _check_pairs(population_pairs: str) -> None:
    if population_pairs not in ("upper", "all"):
        raise ValueError(f"population_pairs must be 'upper' or 'all', got {population_pairs!r}")


def _codes(first: Sequence[str], second: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Both replicates' labels as integers 0..K−1 (one code per distinct label across both)."""
    _, inverse = np.unique(np.array([*first, *second], dtype=object), return_inverse=True)
    inverse = inverse.astype(np.int64).reshape(-1)
    return inverse[:len(first)], inverse[len(first):]


def replicate_disagreement(first: Sequence[str], second: Sequence[str], *,
                           population_pairs: PopulationPairs = "upper") -> dict[str, float | int | None]:
    """One item's internal and population disagreement, distance from the diagonal and signed difference.

    ``first[k]`` and ``second[k]`` are individual k's replicate-1 and replicate-2 labels (both valid), the
    individuals in the order the i < j estimator uses (:func:`summarize_categorical` uses natural id order).
    Definitions and ranges in the module docstring. With fewer than 2 individuals the population numbers are
    None (and everything is None with none). Runs in O(n log n): 10,000 individuals take milliseconds.
    """
    _check_pairs(population_pairs)
    if len(first) != len(second):
        raise ValueError(f"replicate 1 has {len(first)} answers and replicate 2 has {len(second)}")
    n = len(first)
    result: dict[str, float | int | None] = {"n_individuals": n, **dict.fromkeys(_DISAGREEMENT)}
    if n == 0:
        return result
    codes1, codes2 = _codes(first, second)
    result["internal_disagreement"] = float(np.mean(codes1 != codes2))
    if n < 2:
        return result
    internal, population = _disagreements(codes1, codes2[None, :], population_pairs)
    signed = float(population[0] - internal[0])
    result.update(population_disagreement=float(population[0]), signed_difference=signed,
                  distance_from_diagonal=abs(signed) / math.sqrt(2))
    return result


def _diagonal_null(items: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]], *, permutations: int, seed: int,
                   pairs: PopulationPairs) -> dict[str, Any] | None:
    """The mean distance from the diagonal with replicate-2 answers shuffled across individuals within each item.

    The shuffle keeps each item's answers and breaks every individual's link between its two: what a population
    drawing from the same answer distribution, with no individual consistency, scores at this size (the
    categorical form of :func:`monoculture.metrics.diagonal_null`). None when no item has 2 individuals.
    """
    usable = [codes for codes in items if len(codes[0]) >= 2]
    if not usable or permutations < 1:
        return None
    rng = np.random.default_rng(seed)
    observed = np.zeros(len(usable))
    null = np.zeros((permutations, len(usable)))
    for index, (first, second) in enumerate(usable):
        n = len(first)
        internal, population = _disagreements(first, second[None, :], pairs)
        observed[index] = abs(population[0] - internal[0]) / math.sqrt(2)
        orders = rng.permuted(np.tile(np.arange(n), (permutations, 1)), axis=1)
        block = max(1, _NULL_BLOCK_ELEMENTS // n)
        for start in range(0, permutations, block):
            internal, population = _disagreements(first, second[orders[start:start + block]], pairs)
            null[start:start + block, index] = np.abs(population - internal) / math.sqrt(2)
    return {**null_summary(float(observed.mean()), null.mean(axis=1)), "n_items": len(usable)}


# --- the summary ------------------------------------------------------------------------------------------------

@dataclass
class _Item:
    """One item's complete individuals' (replicate 1, replicate 2) in natural id order, and its valid answers."""

    pairs: list[tuple[str, str]]
    counts: Counter[str]


def _collect(answers: Iterable[CategoricalAnswer]) -> tuple[dict[str, _Item], int, int, set[str]]:
    seen: dict[tuple[str, str, int], str | None] = {}
    individuals: set[str] = set()
    n_samples = n_valid = 0
    for answer in answers:
        if answer.replicate not in (1, 2):
            raise ValueError(f"replicate must be 1 or 2, got {answer.replicate!r}")
        key = (answer.item, answer.individual, answer.replicate)
        if key in seen:
            # An unreduced population has one answer per (individual, item, replicate); a repeat is a bug upstream.
            raise ValueError(f"two answers for individual {answer.individual!r}, item {answer.item!r}, "
                             f"replicate {answer.replicate}")
        seen[key] = answer.value
        individuals.add(answer.individual)
        n_samples += 1
        n_valid += answer.value is not None
    rows: dict[str, list[tuple[str, str, str]]] = {}
    counts: dict[str, Counter[str]] = {}
    for (item, individual, replicate), value in seen.items():
        rows.setdefault(item, [])
        counts.setdefault(item, Counter())
        if value is None:
            continue
        counts[item][value] += 1
        second = seen.get((item, individual, 2)) if replicate == 1 else None
        if second is not None:
            rows[item].append((individual, value, second))
    order = {individual: natural_key(individual) for individual in individuals}
    items = {item: _Item([(v1, v2) for _, v1, v2 in sorted(rows[item], key=lambda row: order[row[0]])],
                         counts[item]) for item in rows}
    return items, n_samples, n_valid, individuals


def _item_row(item: str, data: _Item, human: Mapping[str, int] | None,
              population_pairs: PopulationPairs) -> dict[str, Any]:
    first = [v1 for v1, _ in data.pairs]
    second = [v2 for _, v2 in data.pairs]
    disagreement = replicate_disagreement(first, second, population_pairs=population_pairs)
    hill = hill_numbers(data.counts)
    # Most frequent first; ties by label, so the order never depends on the input's.
    distribution = dict(sorted(data.counts.items(), key=lambda entry: (-entry[1], entry[0])))
    n_answers = sum(distribution.values())
    modal = next(iter(distribution), None)
    compared = human is not None and n_answers > 0
    return {
        "item": item,
        "n_individuals": disagreement["n_individuals"],
        "n_answers": n_answers,
        **{measure: disagreement[measure] for measure in _DISAGREEMENT},
        "entropy_bits": entropy_plugin(data.counts),
        "entropy_corrected_bits": entropy_corrected(data.counts),
        "gini_simpson": gini_simpson_unbiased(data.counts),
        "hill_q0": hill["q0"], "hill_q1": hill["q1"], "hill_q2": hill["q2"],
        "total_variation_to_human": total_variation(data.counts, human) if compared else None,
        "js_distance_to_human": jensen_shannon_distance(data.counts, human) if compared else None,
        "distribution": distribution,
        "modal_answer": modal,
        "modal_share": distribution[modal] / n_answers if modal is not None else None,
    }


def _mean_defined(rows: Sequence[Mapping[str, Any]], measure: str) -> float | None:
    values = [row[measure] for row in rows if row[measure] is not None]
    return float(np.mean(values)) if values else None


def summarize_categorical(answers: Iterable[CategoricalAnswer], *, human: Mapping[str, Mapping[str, int]] | None = None,
                          n_bootstrap: int = 2000, permutations: int = 200, seed: int = 0,
                          population_pairs: PopulationPairs = "upper") -> dict[str, Any]:
    """A categorical task's numbers over an unreduced population, as a JSON-able dict.

    ``answers`` holds at most one answer per (individual, item, replicate); ``human`` optionally maps items to
    the human answer counts (label -> count). Keys (definitions, ranges and sources in the module docstring):

    * ``population_pairs``: "upper" (pairs i < j, the published estimator) or "all" (i ≠ j);
    * ``internal_disagreement``, ``population_disagreement``, ``distance_from_diagonal``, ``signed_difference``:
      means over the items with at least 2 complete individuals, each with ``<name>_ci``, a 95% percentile
      bootstrap interval over those items (``n_bootstrap`` draws seeded by ``seed``; None with fewer than 2);
    * ``entropy_bits``, ``entropy_corrected_bits``, ``gini_simpson``, ``hill_q0``, ``hill_q1``, ``hill_q2``:
      per item over all its valid answers (both replicates), averaged over the items where they are defined;
    * ``total_variation_to_human``, ``js_distance_to_human``: the same, over the items ``human`` has (None
      without); ``n_items_with_human`` counts those items;
    * ``homogeneous``: what a population that gives one answer throughout scores on each measure above
      (disagreements and entropies 0, Gini–Simpson 0, Hill numbers 1), to show beside each figure;
    * ``null``: the mean distance from the diagonal against a permutation null with replicate-2 answers
      shuffled across individuals within each item (a population with the same answers but no individual
      consistency): ``observed``, ``null_mean``, ``null_sd``, ``null_ci``, ``excess``, ``p_value`` (one-sided),
      ``indistinguishable`` (p >= 0.05), ``permutations``, ``n_items``; None when no item has 2 complete
      individuals or ``permutations`` is 0;
    * ``n_samples``, ``n_valid``, ``valid_fraction`` (None without samples), ``n_individuals``, ``n_items`` (items
      in the disagreement means), ``n_items_excluded`` (items with fewer than 2 complete individuals; still in
      the distribution means when they have valid answers);
    * ``items``: per item, sorted by item: ``item``, ``n_individuals`` (complete), ``n_answers`` (valid),
      the four disagreement numbers (population ones None with fewer than 2 complete individuals), the six
      distribution numbers, the two distances to the human answers (None without), ``distribution`` (label ->
      count, most frequent first, ties by label), ``modal_answer`` and ``modal_share`` (None without answers).
    """
    _check_pairs(population_pairs)
    data, n_samples, n_valid, individuals = _collect(answers)
    human = human or {}
    items = [_item_row(item, data[item], human.get(item), population_pairs) for item in sorted(data)]
    included = [row for row in items if row["population_disagreement"] is not None]
    intervals = _bootstrap_means({m: np.array([row[m] for row in included], float) for m in _DISAGREEMENT},
                                 n_bootstrap, seed)
    summary: dict[str, Any] = {"population_pairs": population_pairs}
    for measure in _DISAGREEMENT:
        summary[measure] = _mean_defined(included, measure)
        summary[f"{measure}_ci"] = intervals[measure]
    for measure in (*_DISTRIBUTION, *_TO_HUMAN):
        summary[measure] = _mean_defined(items, measure)
    codes = [_codes([v1 for v1, _ in data[row["item"]].pairs], [v2 for _, v2 in data[row["item"]].pairs])
             for row in included]
    summary.update({
        "n_items_with_human": sum(row["total_variation_to_human"] is not None for row in items),
        "homogeneous": dict(_HOMOGENEOUS),
        "null": _diagonal_null(codes, permutations=permutations, seed=seed, pairs=population_pairs),
        "n_samples": n_samples,
        "n_valid": n_valid,
        "valid_fraction": n_valid / n_samples if n_samples else None,
        "n_individuals": len(individuals),
        "n_items": len(included),
        "n_items_excluded": len(items) - len(included),
        "items": items,
    })
    return summary
