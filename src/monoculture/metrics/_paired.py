"""Paired comparisons of two populations on the same items (a base model and its aligned stage, per word, target or
question), and how much of the people's diversity a population keeps.

* ``paired_difference``: the mean over items of d_i = later_i − base_i, a 95% percentile bootstrap interval over
  items, and a two-sided sign-flip permutation test of "no difference" (under it each d_i is as likely to be
  −d_i): exact over all 2^n sign patterns up to 16 items, else 10,000 seeded random patterns (the p-value counts
  the observed pattern, so it is never 0).
* ``share_of_people``: mean over items of the population's measure over the mean of the people's on the same items,
  with a bootstrap interval over items (items resampled together, so the two means stay paired).

Both are over items: they say whether the difference holds across the study's items (each item's value carries
its own individuals' noise, so the spread over items includes it).

* ``jackknife_interval``: items held fixed, how much a figure moves with the individuals drawn: the grouped
  delete-a-group jackknife (Efron & Stein 1981; Quenouille): with θ_(g) the figure recomputed without group g of G,
  variance (G − 1)/G · Σ_g (θ_(g) − θ̄)², and a normal 95% interval around the full-data estimate. Unlike resampling
  individuals with replacement it never pairs an individual with its own copy, so pair statistics (disagreement,
  Gini–Simpson, ΔE between individuals) keep their meaning; for a mean over individuals it is exactly s²/n.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

import numpy as np

__all__ = ["jackknife_interval", "jackknife_variance", "normal_interval", "paired_difference", "share_of_people"]

EXACT_UP_TO = 16
RANDOM_FLIPS = 10_000


def _bootstrap(values: np.ndarray, statistic, n_bootstrap: int, rng: np.random.Generator
               ) -> tuple[float, float] | None:
    n = len(values)
    if n < 2:
        return None
    draws = rng.integers(0, n, size=(n_bootstrap, n))
    stats = np.array([statistic(values[rows]) for rows in draws])
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return None
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def paired_difference(base: Sequence[float], later: Sequence[float], *, n_bootstrap: int = 2000,
                      seed: int = 0) -> dict:
    """Mean paired difference later − base, its interval over items and a sign-flip p-value (see the module)."""
    a, b = np.asarray(base, dtype=float), np.asarray(later, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same items, got {a.shape} and {b.shape}")
    differences = b - a
    n = len(differences)
    if n == 0:
        return {"mean": None, "ci": None, "p_value": None, "n_items": 0}
    rng = np.random.default_rng(seed)
    observed = abs(differences.mean())
    if n <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        null = np.abs((signs * differences).mean(axis=1))
        p_value = float(np.mean(null >= observed - 1e-12))
    else:
        signs = rng.choice((1.0, -1.0), size=(RANDOM_FLIPS, n))
        null = np.abs((signs * differences).mean(axis=1))
        p_value = float((np.sum(null >= observed - 1e-12) + 1) / (RANDOM_FLIPS + 1))
    ci = _bootstrap(differences, np.mean, n_bootstrap, rng)
    return {"mean": float(differences.mean()), "ci": ci, "p_value": p_value, "n_items": n}


def share_of_people(population: Sequence[float], people: Sequence[float], *, n_bootstrap: int = 2000,
                    seed: int = 0) -> dict:
    """The population's mean measure over the people's on the same items, with an interval over items."""
    model, human = np.asarray(population, dtype=float), np.asarray(people, dtype=float)
    if model.shape != human.shape:
        raise ValueError(f"paired values need the same items, got {model.shape} and {human.shape}")
    if len(model) == 0 or human.mean() <= 0:
        return {"share": None, "ci": None, "n_items": len(model)}
    pairs = np.column_stack([model, human])

    def ratio(rows: np.ndarray) -> float:
        denominator = rows[:, 1].mean()
        return rows[:, 0].mean() / denominator if denominator > 0 else float("nan")

    ci = _bootstrap(pairs, ratio, n_bootstrap, np.random.default_rng(seed))
    return {"share": float(model.mean() / human.mean()), "ci": ci, "n_items": len(model)}


def jackknife_variance(leave_out: Sequence[float]) -> float | None:
    """The grouped jackknife variance (G − 1)/G · Σ (θ_(g) − θ̄)² from the G figures recomputed without each group
    (None with fewer than 2 groups)."""
    values = np.asarray(leave_out, dtype=float)
    groups = len(values)
    if groups < 2 or not np.all(np.isfinite(values)):
        return None
    return float((groups - 1) / groups * np.sum((values - values.mean()) ** 2))


def normal_interval(estimate: float, variance: float, *, level: float = 0.95) -> tuple[float, float]:
    """estimate ± z·sqrt(variance), z the normal quantile of the level (1.96 for 95%)."""
    half = statistics.NormalDist().inv_cdf(0.5 + level / 2) * variance ** 0.5
    return float(estimate - half), float(estimate + half)


def jackknife_interval(estimate: float, *leave_outs: Sequence[float], level: float = 0.95
                       ) -> tuple[float, float] | None:
    """A normal interval around ``estimate`` with the grouped jackknife's variance (see the module); with several
    independent populations (a base and its later stage), each one's leave-out figures, their variances added."""
    variances = [jackknife_variance(values) for values in leave_outs]
    if not variances or any(v is None for v in variances):
        return None
    return normal_interval(estimate, sum(variances), level=level)
