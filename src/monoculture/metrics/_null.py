"""What a homogeneous population of the same size would score: permutation nulls for the diagonal distance.

The distance from the diagonal is a mean of absolute per-word differences, so it is above 0 even for a
population whose individuals all draw from one shared distribution: simulated people drawing both answers from
the pooled human answers score 4.5-4.7 at N = 10, 2.5 at N = 30 and 1.0-1.15 at N = 150. Shuffling the
replicate-2 answers across individuals within each word breaks every individual's link between its two
answers and keeps everything else (the answers, their number per word): the distance of the shuffled population
is the distance a homogeneous population of the same size and answer distribution gets.

Each word's cross matrix C[i, j] = ΔE(answer1_i, answer2_j) is computed once. Under a permutation π of the
replicate-2 answers the internal ΔE is the mean of C[i, π(i)] and the population ΔE (pairs i < j) the sum of
P[j, π(j)] over j divided by n(n - 1)/2, where P[j, k] = Σ_{i<j} C[i, k]; so a permutation costs O(n) per word.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

# Above this many complete individuals per word the n x n matrices take too much memory for a null.
MAX_INDIVIDUALS = 2000
SIGNIFICANCE = 0.05


def _cross(lab1: NDArray[np.float64], lab2: NDArray[np.float64],
           delta_e: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]) -> NDArray[np.float64]:
    return delta_e(lab1[:, None, :], lab2[None, :, :])


def diagonal_null(words: Mapping[str, tuple[NDArray[np.float64], NDArray[np.float64]]],
                  delta_e: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]], *,
                  permutations: int = 200, seed: int = 0, pairs: str = "upper") -> dict | None:
    """The mean distance from the diagonal under shuffled replicate-2 answers, against the observed one.

    ``words`` maps each word to the CIELAB colours of its complete individuals' replicate-1 and replicate-2
    answers, in the order the estimate uses. Words with fewer than 2 individuals are left out, as in the
    estimate. Returns the observed mean distance, the null's mean, 95% interval and spread, the excess over the
    null, the one-sided permutation p-value and whether the population is indistinguishable from a
    homogeneous one (p >= 0.05); None when no word has 2 individuals or one has more than
    :data:`MAX_INDIVIDUALS`.
    """
    usable = {word: labs for word, labs in words.items() if len(labs[0]) >= 2}
    if not usable or permutations < 1 or any(len(labs[0]) > MAX_INDIVIDUALS for labs in usable.values()):
        return None
    rng = np.random.default_rng(seed)
    observed = np.zeros(len(usable))
    null = np.zeros((permutations, len(usable)))
    for index, (lab1, lab2) in enumerate(usable.values()):
        n = len(lab1)
        cross = _cross(lab1, lab2, delta_e)
        rows = np.arange(n)
        if pairs == "upper":
            # P[j, k] = sum of cross[i, k] over i < j
            before = np.vstack([np.zeros((1, n)), np.cumsum(cross, axis=0)[:-1]])
            normaliser = n * (n - 1) / 2
        else:
            total = cross.sum()
            normaliser = n * (n - 1)

        def distance(order: NDArray[np.int64]) -> NDArray[np.float64]:
            internal_sum = cross[rows, order].sum(axis=-1)
            population_sum = before[rows, order].sum(axis=-1) if pairs == "upper" else total - internal_sum
            return np.abs(population_sum / normaliser - internal_sum / n) / math.sqrt(2)

        observed[index] = distance(rows)
        orders = rng.permuted(np.tile(rows, (permutations, 1)), axis=1)
        null[:, index] = distance(orders)
    observed_mean = float(observed.mean())
    null_means = null.mean(axis=1)
    p_value = float((1 + np.sum(null_means >= observed_mean)) / (1 + permutations))
    low, high = np.percentile(null_means, [2.5, 97.5])
    return {
        "observed": observed_mean, "null_mean": float(null_means.mean()), "null_sd": float(null_means.std(ddof=1))
        if permutations > 1 else 0.0, "null_ci": [float(low), float(high)],
        "excess": observed_mean - float(null_means.mean()), "p_value": p_value,
        "indistinguishable": p_value >= SIGNIFICANCE, "permutations": permutations, "n_words": len(usable),
    }


def shuffled_columns(responses: NDArray[np.int8], rng: np.random.Generator) -> NDArray[np.int8]:
    """A population with each question's answers shuffled across individuals: the answer shares per question
    are kept, any link between one individual's answers is broken (a homogeneous population)."""
    return rng.permuted(responses, axis=0)


def permutation_p_value(observed: float, null: Sequence[float]) -> float:
    """One-sided: the share of null values at or above the observed one, counting the observed itself."""
    null = np.asarray(null, dtype=float)
    return float((1 + np.sum(null >= observed)) / (1 + len(null)))
