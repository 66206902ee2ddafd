"""What alignment pressure does to a closed answer distribution: exact, pure functions over probability vectors.

For a closed answer set monoculture obtains a model's exact answer distribution π_ref. This package computes
what KL-regularised preference optimisation makes of it, so the homogenisation alignment causes can be
predicted, scripted and checked against what aligned models actually say.

**The tilt.** RLHF with a KL penalty and DPO both target the maximiser of E_π[r] − β·KL(π ‖ π_ref),

    π*(y) = π_ref(y) · exp(r(y)/β) / Z                                         (:func:`tilt`)

(Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
eq. 4; Korbak, Perez & Buckley 2022, "RL with KL penalties is better viewed as Bayesian inference"; Ziegler
et al. 2019, "Fine-Tuning Language Models from Human Preferences"). For two answers with a Bradley–Terry
preference P(A ≻ B) = 0.7, i.e. r_A − r_B = log(0.7/0.3): a uniform π_ref goes to (0.70, 0.30) at β = 1 and to
(0.9998, 0.0002) at β = 0.1; π_ref = (0.9, 0.1) goes to (0.9545, 0.0455) at β = 1. The majority's share grows
beyond the raters' own 70 %: preference collapse (Xiao et al. 2024). :func:`preference_matching`, π ∝ exp(r),
is the target that keeps the raters' proportions.

**Where rewards come from** (each returns one reward per answer, in nats):

* :func:`consensus_reward` — a pool of raters (:func:`rater_pool` draws one) rewards the pool's smoothed share;
* :func:`typicality_reward` — α·log π_ref, the typicality bias of human preference data (Zhang et al. 2025,
  "Verbalized Sampling", α ≈ 0.57). Its tilt is π_ref^(1 + α/β) normalised (:func:`power_sharpen`):
  (0.5, 0.3, 0.2) becomes (0.593, 0.266, 0.141) at β = 1;
* :func:`bradley_terry` — maximum-likelihood log-strengths from pairwise wins, e.g. a judge's verdicts with
  its position bias cancelled by :func:`pairwise_from_judge`.

**Repetition.** :func:`iterate` tilts the previous round's policy again (π_t ∝ π_0·exp(t·r/β) for a fixed
reward: five β = 1 rounds take (0.6, 0.3, 0.1) with r = (0, 0.2, 0.5) to (0.228, 0.310, 0.463));
:func:`finite_sample_loop` also trains each round on M answers sampled from the last, the Wright–Fisher drift
of model collapse, and :func:`rounds_to_collapse` reads off when one answer took over.

**Conventions.** A distribution argument may be any finite, non-negative vector with a positive sum: it is
normalised (counts stand in for shares). A reward entry is finite, or −inf for an answer it rules out; NaN and
+inf are refused. Bad input raises ValueError with a one-line message. Results are new float arrays; answers
with probability 0 keep it through every tilt (a tilt reweights, it does not invent answers).
"""

from __future__ import annotations

from monoculture.alignment._bradley_terry import bradley_terry, pairwise_from_judge
from monoculture.alignment._loops import LoopResult, finite_sample_loop, iterate, rounds_to_collapse
from monoculture.alignment._rewards import consensus_reward, rater_pool, typicality_reward
from monoculture.alignment._tilt import expected_reward, kl_divergence, power_sharpen, preference_matching, tilt

__all__ = [
    # the KL-regularised optimum and the quantities of the reward–KL frontier
    "tilt",
    "power_sharpen",
    "preference_matching",
    "kl_divergence",
    "expected_reward",
    # repeated alignment, exact and with finite samples
    "iterate",
    "finite_sample_loop",
    "LoopResult",
    "rounds_to_collapse",
    # rewards
    "consensus_reward",
    "rater_pool",
    "typicality_reward",
    "bradley_terry",
    "pairwise_from_judge",
]
