"""How far two elicitation modes' answer distributions are apart on the same prompts.

For each item, the population's answer distribution under exact mode is the mean of the individuals'
exact distributions; under a sampled mode it is the share of each answer among the valid samples. Their
total variation distance (0: identical, 1: disjoint) is averaged over items. A sampled estimate is noisy
even when it comes from the exact distribution itself, so the function also reports the total variation
expected from that noise alone (simulated draws of the same size from the exact distribution): observed
values near it mean the modes agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np


def total_variation(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Total variation distance between two distributions over answers: ½ Σ |p − q|, in [0, 1]."""
    return 0.5 * sum(abs(p.get(answer, 0.0) - q.get(answer, 0.0)) for answer in set(p) | set(q))


def _mean_distribution(distributions: Sequence[Mapping[str, float]]) -> dict[str, float]:
    answers = {answer for distribution in distributions for answer in distribution}
    return {answer: float(np.mean([d.get(answer, 0.0) for d in distributions])) for answer in answers}


def compare_modes(exact: Mapping[str, Sequence[Mapping[str, float]]], sampled: Mapping[str, Sequence[str | None]],
                  *, simulations: int = 200, seed: int = 0) -> dict:
    """Mean total variation between exact and sampled answer distributions over the items both have.

    ``exact`` maps an item to its individuals' exact distributions, ``sampled`` to their sampled answers
    (``None`` for an invalid answer, left out). Returns the mean total variation, the mean expected from
    sampling noise alone, and the number of items and valid samples it rests on.
    """
    rng = np.random.default_rng(seed)
    observed, noise, n_samples = [], [], 0
    for item in sorted(set(exact) & set(sampled)):
        answers = [answer for answer in sampled[item] if answer is not None]
        if not answers or not exact[item]:
            continue
        population = _mean_distribution(exact[item])
        counts = Counter(answers)
        empirical = {answer: count / len(answers) for answer, count in counts.items()}
        observed.append(total_variation(population, empirical))
        labels = sorted(population)
        probabilities = np.array([population[label] for label in labels])
        draws = rng.multinomial(len(answers), probabilities / probabilities.sum(), size=simulations) / len(answers)
        noise.append(float(np.mean(0.5 * np.abs(draws - probabilities).sum(axis=1))))
        n_samples += len(answers)
    if not observed:
        return {"total_variation": None, "total_variation_expected_from_noise": None, "n_items": 0, "n_samples": 0}
    return {"total_variation": float(np.mean(observed)), "total_variation_expected_from_noise": float(np.mean(noise)),
            "n_items": len(observed), "n_samples": n_samples}


def compare_sampled_modes(first: Mapping[str, Sequence[str | None]], second: Mapping[str, Sequence[str | None]],
                          *, permutations: int = 200, seed: int = 0) -> dict:
    """Mean total variation between two sampled modes' answer shares over the items both have, with a
    two-sample null: the mode labels shuffled within each item (neither mode is taken for the truth).

    ``None`` answers (invalid) are left out. Returns the observed mean total variation, the null's mean and 95%
    interval (what two samples of these sizes from one distribution differ by), the permutation p-value and the
    items and valid samples it rests on.
    """
    rng = np.random.default_rng(seed)
    observed, null, n_samples = [], [], 0
    for item in sorted(set(first) & set(second)):
        a = [answer for answer in first[item] if answer is not None]
        b = [answer for answer in second[item] if answer is not None]
        if not a or not b:
            continue
        labels = sorted(set(a) | set(b))
        codes = np.array([labels.index(answer) for answer in a + b])
        observed.append(_tv_of_split(codes, len(a), len(labels)))
        shuffled = rng.permuted(np.tile(codes, (permutations, 1)), axis=1)
        null.append([_tv_of_split(row, len(a), len(labels)) for row in shuffled])
        n_samples += len(a) + len(b)
    if not observed:
        return {"total_variation": None, "total_variation_expected_from_noise": None, "null_ci": None,
                "p_value": None, "n_items": 0, "n_samples": 0}
    null_means = np.mean(np.array(null), axis=0)  # per permutation, the mean over items
    observed_mean = float(np.mean(observed))
    low, high = np.percentile(null_means, [2.5, 97.5])
    return {"total_variation": observed_mean, "total_variation_expected_from_noise": float(null_means.mean()),
            "null_ci": [float(low), float(high)],
            "p_value": float((1 + np.sum(null_means >= observed_mean)) / (1 + permutations)),
            "n_items": len(observed), "n_samples": n_samples}


def _tv_of_split(codes: np.ndarray, first: int, categories: int) -> float:
    p = np.bincount(codes[:first], minlength=categories) / first
    q = np.bincount(codes[first:], minlength=categories) / (len(codes) - first)
    return float(0.5 * np.abs(p - q).sum())
