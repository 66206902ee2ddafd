"""Alignment applied again and again: exact iteration, and the finite-sample loop that adds model collapse.

**Iterated tilt.** Round t tilts round t−1's policy, which becomes the next round's reference:
π_t ∝ π_{t−1}·exp(r_t/β). With a fixed reward this is one tilt by t·r (π_t ∝ π_0·exp(t·r/β)), so any reward
gap, however small, ends in the top answer taking everything. A reward recomputed from the policy each round
(``reward_of``: a judge or a rater pool re-applied to what the model now says) can feed on itself.

**Finite-sample loop.** Each round draws M answers from the current policy, the empirical shares become the
new reference (a model trained on its own outputs: Shumailov et al. 2024, "AI models collapse when trained on
recursively generated data", Nature 631:755), and the tilt is applied. An answer not drawn is gone for good.
With reward 0 this is the Wright–Fisher model of genetic drift with a population of M: an answer fixes with
probability equal to its initial share, and from two answers at p the mean time to fixation is about
−2M[p ln p + (1−p) ln(1−p)] rounds (Kimura & Ohta 1969, Genetics 61:763, the diffusion approximation; 138.6
for M = 100, p = ½).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monoculture.alignment._tilt import tilt_unchecked
from monoculture.alignment._validate import count, positive_beta, probabilities, reward_vector

# reward_of(reference) -> one reward per answer, given the distribution about to be tilted.
RewardOf = Callable[[np.ndarray], object]


@dataclass(frozen=True, eq=False)
class LoopResult:
    """What :func:`finite_sample_loop` did.

    ``policies`` has rounds + 1 rows (row 0 the normalised reference, row t the policy after round t; read-only);
    ``rounds_to_collapse`` is the first row whose largest share reaches ``collapse_at`` (None if none does);
    ``survivors`` are the answers with a positive share in the last row.
    """

    policies: np.ndarray
    rounds_to_collapse: int | None
    survivors: tuple[int, ...]


def rounds_to_collapse(policies: object, threshold: float = 0.99) -> int | None:
    """The first row (round) of ``policies`` whose largest share is ≥ ``threshold``; None if no row reaches it.

    Row 0 is the reference, so a reference that already meets the threshold gives 0. The comparison is exact:
    ``threshold=1.0`` means one answer holds everything (fixation), which iterated tilts with full support only
    reach through floating-point underflow.
    """
    array = np.asarray(policies, dtype=float)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"policies must be a 2-D array, one distribution per round, got shape {array.shape}")
    level = _threshold(threshold)
    reached = np.flatnonzero(array.max(axis=1) >= level)
    return int(reached[0]) if reached.size else None


def _threshold(value: float, name: str = "threshold") -> float:
    level = float(value)
    if not 0 < level <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return level


def _reward_for(reference: np.ndarray, reward: object | None, reward_of: RewardOf | None) -> np.ndarray:
    if reward_of is not None:
        return reward_vector(reward_of(reference.copy()), reference.size, "reward_of(policy)")
    return reward  # type: ignore[return-value]  # validated once by the caller


def _fixed_reward(reward: object | None, reward_of: RewardOf | None, size: int) -> np.ndarray | None:
    """The fixed reward, validated once; None when ``reward_of`` supplies one each round."""
    if (reward is None) == (reward_of is None):
        raise ValueError("give either a fixed reward or reward_of (a function of the policy), not both or neither")
    return None if reward is None else reward_vector(reward, size)


def iterate(reference: object, reward: object | None, beta: float, rounds: int, *,
            reward_of: RewardOf | None = None) -> np.ndarray:
    """``rounds`` tilts in a row, each of the previous round's policy: an array of shape (rounds + 1, K).

    Row 0 is the normalised reference. Give a fixed ``reward`` vector, or ``reward=None`` and
    ``reward_of(policy) -> reward``, called each round on that round's reference (the previous policy), for
    rewards that depend on the policy (typicality, a judge re-run on the new model).
    """
    ref = probabilities(reference)
    fixed = _fixed_reward(reward, reward_of, ref.size)
    weight, total = positive_beta(beta), count(rounds, "rounds", 0)
    policies = np.empty((total + 1, ref.size))
    policies[0] = ref
    for round_index in range(1, total + 1):
        previous = policies[round_index - 1]
        policies[round_index] = tilt_unchecked(previous, _reward_for(previous, fixed, reward_of), weight)
    return policies


def finite_sample_loop(reference: object, reward: object | None, beta: float, rounds: int,
                       samples_per_round: int, *, seed: int | np.random.Generator,
                       reward_of: RewardOf | None = None, collapse_at: float = 0.99) -> LoopResult:
    """Sample M answers, make their shares the reference, tilt; ``rounds`` times (model collapse plus alignment).

    ``samples_per_round`` is M; the draws are multinomial from ``numpy.random.default_rng(seed)`` (an int, or a
    Generator to continue a stream). ``reward_of``, when given, is called each round on the empirical shares
    just drawn (the reference about to be tilted). All rounds are recorded; ``collapse_at`` sets
    ``rounds_to_collapse``.
    """
    ref = probabilities(reference)
    fixed = _fixed_reward(reward, reward_of, ref.size)
    weight, total = positive_beta(beta), count(rounds, "rounds", 0)
    draws = count(samples_per_round, "samples_per_round", 1)
    _threshold(collapse_at, "collapse_at")
    rng = np.random.default_rng(seed)
    policies = np.empty((total + 1, ref.size))
    policies[0] = ref
    for round_index in range(1, total + 1):
        previous = policies[round_index - 1]
        if reward_of is None and np.count_nonzero(previous) == 1:
            # A point mass is a fixed point: sampling it returns it and tilting it changes nothing. Filling the
            # remaining rows gives the same policies as drawing them (400 Wright–Fisher runs of 1,500 rounds:
            # 9.2 s -> 0.9 s).
            policies[round_index:] = previous
            break
        shares = rng.multinomial(draws, previous) / draws
        policies[round_index] = tilt_unchecked(shares, _reward_for(shares, fixed, reward_of), weight)
    policies.flags.writeable = False
    return LoopResult(policies=policies, rounds_to_collapse=rounds_to_collapse(policies, collapse_at),
                      survivors=tuple(int(i) for i in np.flatnonzero(policies[-1] > 0)))
