"""The KL-regularised optimum of a closed answer distribution, and the quantities that describe it.

For a reference policy π_ref over K answers and a reward r, the policy that maximises
``E_π[r] − β·KL(π ‖ π_ref)`` is the exponential tilt

    π*(y) = π_ref(y) · exp(r(y)/β) / Z,   Z = Σ_y π_ref(y) · exp(r(y)/β)

(Rafailov et al. 2023, "Direct Preference Optimization", eq. 4; Korbak, Perez & Buckley 2022, "RL with KL
penalties is better viewed as Bayesian inference"; Ziegler et al. 2019, "Fine-tuning language models from human
preferences"). RLHF with a KL penalty and DPO both target it. It is computed in log space with the maximum
subtracted before exponentiating: β = 0.01 with rewards of size 10 means exp(1000), which overflows a float.
"""

from __future__ import annotations

import math

import numpy as np

from monoculture.alignment._validate import positive_beta, probabilities, reward_vector


def _softmax_on(support: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """exp(logits) normalised over ``support``; 0 elsewhere (logits off the support are never read)."""
    out = np.zeros(logits.shape, dtype=float)
    shown = logits[support]
    shown = np.exp(shown - shown.max())
    out[support] = shown / shown.sum()
    return out


def tilt_unchecked(reference: np.ndarray, reward: np.ndarray, beta: float) -> np.ndarray:
    """:func:`tilt` on inputs already validated: the loops call it once a round without re-checking."""
    if beta == math.inf:
        return reference.copy()
    support = (reference > 0) & (reward > -math.inf)
    if not support.any():
        raise ValueError("reward is -inf on every answer the reference gives probability to")
    # Shift by the top reward before dividing: r/β itself overflows for r = 1e307, β = 0.01, while r − max r ≤ 0
    # can at worst overflow to −inf: an answer that ends with probability 0.
    logits = np.full(reference.shape, -math.inf)
    with np.errstate(over="ignore"):  # an overflow here is a −inf logit: the intended limit
        logits[support] = np.log(reference[support]) + (reward[support] - reward[support].max()) / beta
    return _softmax_on(support, logits)


def tilt(reference: object, reward: object, beta: float) -> np.ndarray:
    """The KL-regularised optimum π*(y) ∝ π_ref(y)·exp(r(y)/β) (DPO eq. 4).

    ``reference`` is any non-negative vector with a positive sum (it is normalised); ``reward`` has one entry per
    answer, finite or −inf (an answer ruled out). ``beta`` > 0 weighs the KL penalty: small β lets the reward
    dominate, ``beta=inf`` returns the reference unchanged. Answers with π_ref = 0 stay 0: a tilt reweights,
    it cannot create an answer the reference never gives.
    """
    ref = probabilities(reference)
    return tilt_unchecked(ref, reward_vector(reward, ref.size), positive_beta(beta))


def power_sharpen(reference: object, exponent: float) -> np.ndarray:
    """π_ref^exponent, normalised over the answers π_ref supports (zeros stay 0, also for exponent ≤ 0).

    Tilting by the typicality reward α·log π_ref at β gives exactly this with exponent 1 + α/β: an exponent
    above 1 sharpens the distribution towards its mode, below 1 flattens it, 1 leaves it unchanged.
    """
    ref = probabilities(reference)
    power = float(exponent)
    if not math.isfinite(power):
        raise ValueError(f"exponent must be a finite number, got {exponent!r}")
    support = ref > 0
    logits = np.zeros(ref.shape)
    logits[support] = power * np.log(ref[support])
    return _softmax_on(support, logits)


def preference_matching(reward: object) -> np.ndarray:
    """The preference-matching target π(y) ∝ exp(r(y)) of Xiao et al. 2024.

    Xiao et al. 2024, "On the Algorithmic Bias of Aligning Large Language Models with RLHF: Preference
    Collapse and Matching Regularization": with a Bradley-Terry reward, exp(r) is proportional to the raters'
    preference, so this policy gives a 30 % minority view 30 % of the answers instead of collapsing it the way
    the KL tilt of a peaked reference does. It does not depend on π_ref at all. −inf entries get 0.
    """
    array = np.asarray(reward, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"reward must be a non-empty 1-D vector, got shape {array.shape}")
    rewards = reward_vector(array, array.size)
    support = rewards > -math.inf
    if not support.any():
        raise ValueError("reward is -inf on every answer")
    return _softmax_on(support, rewards)


def kl_divergence(p: object, q: object) -> float:
    """KL(p ‖ q) = Σ p log(p/q) in nats: 0 for p = q, +inf when p puts mass where q has none.

    Both are normalised first. KL(π* ‖ π_ref) is the price an aligned policy pays in the DPO objective.
    """
    first, second = probabilities(p, "p"), probabilities(q, "q")
    if first.size != second.size:
        raise ValueError(f"p has {first.size} answers but q has {second.size}")
    support = first > 0
    if np.any(second[support] == 0):
        return math.inf
    return float(np.sum(first[support] * (np.log(first[support]) - np.log(second[support]))))


def expected_reward(policy: object, reward: object) -> float:
    """E_π[r] = Σ π(y) r(y), over the answers π supports (a ruled-out answer π never gives costs nothing)."""
    pi = probabilities(policy, "policy")
    rewards = reward_vector(reward, pi.size)
    support = pi > 0
    return float(np.sum(pi[support] * rewards[support]))
