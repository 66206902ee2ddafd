"""Rewards over a closed answer set: what a rater pool or a typicality-biased judge asks an aligned model for.

Each function returns one reward per answer, in nats, ready for :func:`~monoculture.alignment.tilt`. Only
differences between answers matter to a tilt; the levels here are log-probabilities so that the rewards also
mean something on their own (:func:`~monoculture.alignment.expected_reward`).
"""

from __future__ import annotations

import math

import numpy as np

from monoculture.alignment._validate import count, probabilities


def rater_pool(shares: object, raters: int, *, seed: int | np.random.Generator) -> np.ndarray:
    """How many of ``raters`` raters, each drawing one answer from ``shares``, pick each answer (integer counts).

    ``shares`` is the distribution the raters come from: people's shares (human raters) or the base model's own
    (a model judging itself). Multinomial draws from ``numpy.random.default_rng(seed)``: pass a Generator to
    draw a fresh pool each round from one stream.
    """
    distribution = probabilities(shares, "shares")
    size = count(raters, "raters", 1)
    return np.random.default_rng(seed).multinomial(size, distribution)


def consensus_reward(pool_counts: object, smoothing: float = 1.0) -> np.ndarray:
    """RLHF by a pool of raters: r(y) = log((c_y + s) / (n + s·K)), the log of the pool's smoothed share.

    ``pool_counts`` c are how many raters chose each answer (n in all, K answers). ``smoothing`` s is additive
    (Laplace, s = 1) smoothing: an answer no rater chose keeps a finite reward instead of −inf, as if each answer
    had s more votes. With s = 0 an unchosen answer gets −inf and a tilt removes it. Tilting π_ref by this at
    β = 1 gives π_ref · pool share: the model moves towards what the majority of the pool said.
    """
    counts = np.asarray(pool_counts, dtype=float)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"pool_counts must be a non-empty 1-D vector of counts, got shape {counts.shape}")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"pool_counts must be finite and non-negative: {counts.tolist()}")
    prior = float(smoothing)
    if not math.isfinite(prior) or prior < 0:
        raise ValueError(f"smoothing must be a finite number >= 0, got {smoothing!r}")
    denominator = counts.sum() + prior * counts.size
    if denominator <= 0:
        raise ValueError("pool_counts are all 0 and smoothing is 0: the pool says nothing")
    with np.errstate(divide="ignore"):  # log(0) = -inf is the intended reward of an unchosen answer at s = 0
        return np.log((counts + prior) / denominator)


def typicality_reward(reference: object, alpha: float = 0.57) -> np.ndarray:
    """A judge's typicality bias: r(y) = α · log π_ref(y), −inf where π_ref = 0.

    Zhang et al. 2025, "Verbalized Sampling: How to Mitigate Mode Collapse and Unlock LLM Diversity": human
    preference data reward text that is typical under a base model, with α ≈ 0.57 estimated from preference
    datasets. Tilting π_ref by this at β gives π_ref^(1 + α/β), normalised
    (:func:`~monoculture.alignment.power_sharpen`): a sharpening towards the mode even when every answer is
    equally correct. ``reference`` is normalised first.
    """
    ref = probabilities(reference)
    weight = float(alpha)
    if not math.isfinite(weight):
        raise ValueError(f"alpha must be a finite number, got {alpha!r}")
    reward = np.full(ref.shape, -math.inf)
    support = ref > 0
    reward[support] = weight * np.log(ref[support])
    return reward
