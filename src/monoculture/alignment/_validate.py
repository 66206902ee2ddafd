"""Input checks shared by the alignment functions: each bad input is one ValueError line that names it."""

from __future__ import annotations

import math

import numpy as np


def probabilities(values: object, name: str = "reference") -> np.ndarray:
    """A 1-D distribution: finite, non-negative entries with a positive sum, returned normalised to sum 1.

    Normalising here lets counts stand in for shares (a pool's counts, a sample's counts) and absorbs the
    rounding of a stored distribution; a vector that is not a distribution at all is refused.
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D vector of probabilities, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has a NaN or infinite entry: {array.tolist()}")
    if np.any(array < 0):
        raise ValueError(f"{name} has a negative entry: {array.tolist()}")
    total = array.sum()
    if total <= 0:
        raise ValueError(f"{name} sums to 0: it puts no mass on any answer")
    return array / total


def reward_vector(values: object, size: int, name: str = "reward") -> np.ndarray:
    """A 1-D reward of ``size`` entries: finite, or −inf for an answer the reward rules out (never NaN or +inf)."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector, got shape {array.shape}")
    if array.size != size:
        raise ValueError(f"{name} has {array.size} entries but the distribution has {size} answers")
    if np.any(np.isnan(array)) or np.any(array == math.inf):
        raise ValueError(f"{name} has a NaN or +inf entry (only -inf, an answer ruled out, is allowed): "
                         f"{array.tolist()}")
    return array


def positive_beta(beta: float) -> float:
    """The KL weight β: a positive number, or +inf (no alignment pressure)."""
    value = float(beta)
    if math.isnan(value) or value <= 0:
        raise ValueError(f"beta must be > 0 (the weight of the KL penalty; inf for none), got {beta!r}")
    return value


def count(value: int, name: str, minimum: int) -> int:
    """A whole number of at least ``minimum`` (rounds, samples, raters)."""
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)
