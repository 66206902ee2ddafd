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

The concept task's null (:func:`p_multiple_concepts_null`) shuffles each question's answers across a target's
individuals instead: every question keeps its answer shares, every link between one individual's answers is
broken, so the shuffled population is a homogeneous one of the same size and answer frequencies, and the CRP
is run again on it (docs/methods.md, section 4.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from monoculture.metrics._crp import DEFAULT_ALPHA, _seed_entropy, run_crp_many

# Above this many complete individuals per word the n x n matrices take too much memory for a null.
MAX_INDIVIDUALS = 2000
SIGNIFICANCE = 0.05
# The concept null. 20 permutations are the fewest whose one-sided p-value can fall below 0.05 (1/21 = 0.048).
# Each shuffled population gets one chain of 60 sweeps (12 burn-in) from a k-modes start: on shuffled populations
# of 10 and 30 people (coin flips, shares spread over 0-1, shares 0.2/0.8 and 0.05/0.95) its null mean and spread
# matched those of 3 chains x 500 sweeps within their Monte-Carlo error. Where it errs (0.05/0.95 shares at 50 and
# 100 people: 0.01-0.02 against 0.000) a split is left unmerged, which raises the null: the test errs on the
# conservative side. A "together" start erred the other way (coin flips at 30 people: 0.81 against 0.96), which
# would call homogeneous populations diverse. A 20-population batch costs about 0.13 s at 10 people, 0.55 s at
# 30 and 0.8 s at 100 (coin flips; benchmarks/crp_null.py).
CONCEPT_NULL_PERMUTATIONS = 20
CONCEPT_NULL_SWEEPS = 60
CONCEPT_NULL_BURN_IN = 12
CONCEPT_NULL_START = "kmeans"
# Null values up to this far below the observed P(multiple concepts) count as reaching it. A difference of 0.01
# is one nobody would read (the convergence check ignores chain means closer than that, too), and the null's
# short chains resolve rare excursions more coarsely than the estimate: a population of identical-looking
# people whose estimate caught someone alone in a few of its 1,197 draws (0.002) beat 20 null values of exactly
# 0 from 47 draws each (p = 0.048). Counting near misses as ties only raises p, so the test stays valid.
CONCEPT_NULL_MARGIN = 0.01


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
    return {**null_summary(float(observed.mean()), null.mean(axis=1)), "n_words": len(usable)}


def null_summary(observed: float, null: Sequence[float] | NDArray[np.float64], *, margin: float = 0.0) -> dict:
    """An observed statistic against its permutation null: the null's mean, spread (standard deviation over
    permutations) and central 95% interval, the excess over its mean, the one-sided permutation p-value
    (:func:`permutation_p_value`; null values within ``margin`` below the observed one count as reaching it) and
    ``indistinguishable`` (p >= 0.05: no evidence that the population is more diverse than a homogeneous one)."""
    values = np.asarray(null, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("the null needs at least one permutation")
    p_value = permutation_p_value(observed, values, margin=margin)
    low, high = np.percentile(values, [2.5, 97.5])
    return {
        "observed": float(observed), "null_mean": float(values.mean()),
        "null_sd": float(values.std(ddof=1)) if values.size > 1 else 0.0, "null_ci": [float(low), float(high)],
        "excess": float(observed) - float(values.mean()), "p_value": p_value,
        "indistinguishable": p_value >= SIGNIFICANCE, "permutations": int(values.size),
    }


def p_multiple_concepts_null(
    responses: NDArray[np.integer] | Sequence[Sequence[int]],
    *,
    permutations: int = CONCEPT_NULL_PERMUTATIONS,
    sweeps: int = CONCEPT_NULL_SWEEPS,
    burn_in: int = CONCEPT_NULL_BURN_IN,
    alpha: float = DEFAULT_ALPHA,
    seed: int | Sequence[int] = 0,
) -> NDArray[np.float64]:
    """P(multiple concepts) (posterior mean, one chain each) of ``permutations`` shuffled copies of a population.

    ``responses`` is one target's (N, Q) 0/1 answers. Each copy shuffles every question's answers across the
    individuals (:func:`shuffled_columns`): a homogeneous population with the same size and the same answer
    shares per question. The copies are sampled together (:func:`monoculture.metrics.run_crp_many`), each by
    one chain of ``sweeps`` sweeps from a k-modes start; the values, shape ``(permutations,)``, are the null
    distribution of the observed posterior mean (their extra Monte-Carlo noise widens it a little: the test
    errs on the conservative side). Copy k is drawn from ``seed``'s stream: the shuffle from
    ``default_rng([*seed, 0])``, the chain from ``run_crp`` seeded ``(*seed, 1, k)``.
    """
    x = np.asarray(responses)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"the null needs an (individuals, questions) array of at least 2 individuals, got {x.shape}")
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    entropy = _seed_entropy(seed)
    rng = np.random.default_rng([*entropy, 0])
    shuffled = np.stack([shuffled_columns(x, rng) for _ in range(permutations)])
    results = run_crp_many(shuffled, seeds=[(*entropy, 1, k) for k in range(permutations)], chains=1,
                           sweeps=sweeps, burn_in=burn_in, alpha=alpha,
                           starts=(CONCEPT_NULL_START,))
    return np.array([result.p_multiple_concepts for result in results])


def shuffled_columns(responses: NDArray[np.int8], rng: np.random.Generator) -> NDArray[np.int8]:
    """A population with each question's answers shuffled across individuals: the answer shares per question
    are kept, any link between one individual's answers is broken (a homogeneous population)."""
    return rng.permuted(responses, axis=0)


def permutation_p_value(observed: float, null: Sequence[float] | NDArray[np.float64], *,
                        margin: float = 0.0) -> float:
    """One-sided: the share of null values at or above the observed one (or within ``margin`` below it),
    counting the observed itself."""
    null = np.asarray(null, dtype=float)
    return float((1 + np.sum(null >= observed - margin)) / (1 + len(null)))
