"""monoculture.alignment against closed forms: every expectation is written out here, not computed by the code."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest

from monoculture.alignment import (
    LoopResult,
    bradley_terry,
    consensus_reward,
    expected_reward,
    finite_sample_loop,
    iterate,
    kl_divergence,
    pairwise_from_judge,
    power_sharpen,
    preference_matching,
    rater_pool,
    rounds_to_collapse,
    tilt,
    typicality_reward,
)

# A Bradley-Terry preference of 70/30 between two answers: r_A - r_B = log(0.7 / 0.3).
SEVENTY_THIRTY = [math.log(0.7 / 0.3), 0.0]


def _normalised(weights: list[float]) -> list[float]:
    return [weight / sum(weights) for weight in weights]


# --- the tilt: the closed forms of the issue -------------------------------------------------------------------

def test_uniform_reference_with_a_70_30_preference():
    # π* ∝ (½·(7/3)^(1/β), ½): at β = 1 the raters' own 70/30; at β = 0.1 the ratio is (7/3)^10 = 4784.3.
    assert tilt([0.5, 0.5], SEVENTY_THIRTY, 1.0) == pytest.approx([0.7, 0.3], abs=1e-12)
    ratio = (0.7 / 0.3) ** 10
    sharp = tilt([0.5, 0.5], SEVENTY_THIRTY, 0.1)
    assert sharp == pytest.approx([ratio / (1 + ratio), 1 / (1 + ratio)], abs=1e-12)
    assert np.round(sharp, 4).tolist() == [0.9998, 0.0002]


def test_a_peaked_reference_collapses_the_minority_further():
    # (0.9·0.7, 0.1·0.3) normalised = (0.63, 0.03) / 0.66 = (21/22, 1/22)
    aligned = tilt([0.9, 0.1], SEVENTY_THIRTY, 1.0)
    assert aligned == pytest.approx([21 / 22, 1 / 22], abs=1e-12)
    assert np.round(aligned, 4).tolist() == [0.9545, 0.0455]


def test_five_rounds_of_tilting_are_one_tilt_by_five_times_the_reward():
    # π_5 ∝ p0 · exp(5 r / β) = (0.6, 0.3·e, 0.1·e^2.5)
    expected = _normalised([0.6, 0.3 * math.e, 0.1 * math.exp(2.5)])
    policies = iterate([0.6, 0.3, 0.1], [0.0, 0.2, 0.5], 1.0, 5)
    assert policies.shape == (6, 3)
    assert policies[0] == pytest.approx([0.6, 0.3, 0.1])
    assert policies[-1] == pytest.approx(expected, abs=1e-12)
    assert np.round(policies[-1], 3).tolist() == [0.228, 0.310, 0.463]


def test_typicality_tilt_is_a_power_of_the_reference():
    # α log π_ref at β = 1 gives π_ref^1.57 normalised (Verbalized Sampling's typicality bias, α = 0.57)
    reference = [0.5, 0.3, 0.2]
    expected = _normalised([0.5 ** 1.57, 0.3 ** 1.57, 0.2 ** 1.57])
    via_tilt = tilt(reference, typicality_reward(reference, alpha=0.57), 1.0)
    assert via_tilt == pytest.approx(expected, abs=1e-12)
    assert power_sharpen(reference, 1.57) == pytest.approx(expected, abs=1e-12)
    assert np.round(via_tilt, 3).tolist() == [0.593, 0.266, 0.141]
    # and at β = 0.5 the exponent is 1 + 0.57 / 0.5 = 2.14
    assert tilt(reference, typicality_reward(reference), 0.5) == pytest.approx(
        _normalised([0.5 ** 2.14, 0.3 ** 2.14, 0.2 ** 2.14]), abs=1e-12)


def test_iterated_typicality_compounds_the_exponent():
    # Each round's reward is α log of that round's reference: t rounds give π_0^((1 + α/β)^t).
    calls = []

    def judge(policy: np.ndarray) -> np.ndarray:
        calls.append(policy)
        return typicality_reward(policy, alpha=0.57)

    policies = iterate([0.5, 0.3, 0.2], None, 1.0, 3, reward_of=judge)
    assert len(calls) == 3 and calls[0] == pytest.approx([0.5, 0.3, 0.2])
    exponent = 1.57 ** 3
    assert policies[3] == pytest.approx(_normalised([0.5 ** exponent, 0.3 ** exponent, 0.2 ** exponent]), abs=1e-12)


def test_the_tilt_is_the_kl_regularised_optimum():
    # max_π E_π[r] − β KL(π ‖ π_ref) = β log Σ π_ref exp(r/β), attained by the tilt and by nothing else
    reference, reward, beta = np.array([0.5, 0.3, 0.2]), np.array([1.0, -0.5, 2.0]), 0.7
    best = beta * math.log(sum(p * math.exp(r / beta) for p, r in zip(reference, reward)))
    optimum = tilt(reference, reward, beta)
    assert expected_reward(optimum, reward) - beta * kl_divergence(optimum, reference) == pytest.approx(best)
    for candidate in np.random.default_rng(0).dirichlet(np.ones(3), size=200):
        assert expected_reward(candidate, reward) - beta * kl_divergence(candidate, reference) < best


# --- limits and numerics ----------------------------------------------------------------------------------------

def test_no_pressure_returns_the_reference():
    assert tilt([0.9, 0.1], SEVENTY_THIRTY, math.inf).tolist() == [0.9, 0.1]
    assert tilt([0.9, 0.1], SEVENTY_THIRTY, 1e12) == pytest.approx([0.9, 0.1], abs=1e-12)
    assert tilt([0.9, 0.1], [0.0, 0.0], 0.01) == pytest.approx([0.9, 0.1], abs=1e-15)


def test_a_tilt_never_invents_an_answer():
    aligned = tilt([0.5, 0.0, 0.5], [0.0, 100.0, 0.0], 0.01)
    assert aligned[1] == 0.0 and aligned == pytest.approx([0.5, 0.0, 0.5])
    assert power_sharpen([0.5, 0.0, 0.5], 0.0).tolist() == [0.5, 0.0, 0.5]
    assert power_sharpen([0.8, 0.0, 0.2], -1.0) == pytest.approx([0.2, 0.0, 0.8])


def test_large_rewards_at_small_beta_do_not_overflow():
    # exp(10 / 0.01) = exp(1000) overflows a float; the answer is still exact
    aligned = tilt([0.25, 0.25, 0.5], [10.0, 9.99, 0.0], 0.01)
    assert np.all(np.isfinite(aligned)) and aligned.sum() == pytest.approx(1.0)
    assert aligned == pytest.approx(_normalised([1.0, math.exp(-1.0), 2 * math.exp(-1000.0)]), abs=1e-12)
    extreme = tilt([0.5, 0.5], [1e307, -1e307], 1e-3)
    assert extreme.tolist() == [1.0, 0.0]


def test_a_reward_of_minus_infinity_rules_an_answer_out():
    assert tilt([0.5, 0.5], [-math.inf, 0.0], 1.0).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="-inf on every answer"):
        tilt([1.0, 0.0], [-math.inf, 3.0], 1.0)


def test_counts_are_normalised():
    assert tilt([9, 1], [0.0, 0.0], 1.0) == pytest.approx([0.9, 0.1])


# --- preference matching ----------------------------------------------------------------------------------------

def test_preference_matching_is_the_softmax_of_the_reward():
    reward = [1.0, 0.0, -2.0]
    softmax = _normalised([math.e, 1.0, math.exp(-2.0)])
    assert preference_matching(reward) == pytest.approx(softmax, abs=1e-15)
    # it keeps the raters' 70/30 whatever the reference, where the KL tilt of (0.9, 0.1) gives 21/22
    assert preference_matching(SEVENTY_THIRTY) == pytest.approx([0.7, 0.3], abs=1e-12)
    assert preference_matching(np.array(reward) + 1000.0) == pytest.approx(softmax, abs=1e-15)
    assert preference_matching([-math.inf, 0.0]).tolist() == [0.0, 1.0]


# --- finite samples: Wright–Fisher drift ------------------------------------------------------------------------

def test_wright_fisher_drift_fixes_each_answer_half_the_time_after_about_139_rounds():
    # Reward 0: the loop is neutral Wright–Fisher drift with M = 100. An answer fixes with probability equal to
    # its initial share (½), and the diffusion approximation (Kimura & Ohta 1969) gives a mean time to fixation
    # of −2M[p ln p + (1−p) ln(1−p)] = 200 ln 2 = 138.6 rounds. The exact discrete chain's mean is 136.6
    # (solving (I − Q)t = 1 over its 99 transient states), SD 101: the 2.0 gap is the approximation's, and the
    # replicate standard error covers the rest.
    replicates, population = 400, 100
    started = time.perf_counter()
    results = [finite_sample_loop([0.5, 0.5], [0.0, 0.0], 1.0, 1500, population, seed=seed, collapse_at=1.0)
               for seed in range(replicates)]
    elapsed = time.perf_counter() - started
    assert all(result.rounds_to_collapse is not None for result in results)  # P(no fixation in 1500) ≈ 1e-6
    first_fixed = sum(result.survivors == (0,) for result in results)
    assert sum(len(result.survivors) == 1 for result in results) == replicates
    # Binomial(400, ½): SD 10, so 200 ± 30 is a 3-SD interval
    assert 170 <= first_fixed <= 230
    times = np.array([result.rounds_to_collapse for result in results], dtype=float)
    standard_error = times.std(ddof=1) / math.sqrt(replicates)
    diffusion = -2 * population * (0.5 * math.log(0.5) + 0.5 * math.log(0.5))
    assert diffusion == pytest.approx(138.63, abs=0.01)
    assert abs(times.mean() - diffusion) <= 3 * standard_error + 2.0
    assert elapsed < 10  # ~1 s here; a loop that drew every round after fixation took ~10x longer


def test_the_finite_sample_loop_is_reproducible_and_records_what_happened():
    run = finite_sample_loop([0.6, 0.3, 0.1], [0.0, 0.2, 0.5], 2.0, 30, 20, seed=7)
    again = finite_sample_loop([0.6, 0.3, 0.1], [0.0, 0.2, 0.5], 2.0, 30, 20, seed=7)
    assert isinstance(run, LoopResult)
    assert np.array_equal(run.policies, again.policies) and run.survivors == again.survivors
    assert run.policies.shape == (31, 3) and run.policies[0] == pytest.approx([0.6, 0.3, 0.1])
    assert np.allclose(run.policies.sum(axis=1), 1.0)
    assert run.survivors == tuple(int(i) for i in np.flatnonzero(run.policies[-1] > 0))
    assert run.rounds_to_collapse == rounds_to_collapse(run.policies, 0.99)
    assert not np.array_equal(run.policies, finite_sample_loop([0.6, 0.3, 0.1], [0.0, 0.2, 0.5], 2.0, 30, 20,
                                                                seed=8).policies)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.survivors = ()  # type: ignore[misc]
    with pytest.raises(ValueError):
        run.policies[0, 0] = 1.0


def test_an_answer_lost_to_sampling_never_comes_back():
    # With M = 1 each round keeps one answer: the reference of round 1 is already a point mass.
    run = finite_sample_loop([0.2, 0.3, 0.5], [5.0, 0.0, 0.0], 0.1, 10, 1, seed=3)
    assert run.rounds_to_collapse == 1 and len(run.survivors) == 1
    assert np.all(run.policies[1:] == run.policies[1])


def test_finite_sample_loop_calls_reward_of_on_the_drawn_shares():
    seen = []

    def pool_judge(shares: np.ndarray) -> np.ndarray:
        seen.append(shares)
        return consensus_reward(shares * 10)

    run = finite_sample_loop([0.5, 0.5], None, 1.0, 4, 10, seed=0, reward_of=pool_judge)
    assert len(seen) == 4
    for shares in seen:  # draws of 10: shares are multiples of 1/10
        assert np.allclose(shares * 10, np.round(shares * 10))
    assert run.policies.shape == (5, 2)


def test_rounds_to_collapse_reads_iterated_policies():
    policies = iterate([0.5, 0.5], SEVENTY_THIRTY, 1.0, 20)
    # π_t(A) = 7^t / (7^t + 3^t) ≥ 0.99 first at t = 6 (0.9938; t = 5 gives 0.9857)
    assert rounds_to_collapse(policies, 0.99) == 6
    assert rounds_to_collapse(policies[:6], 0.99) is None
    assert rounds_to_collapse([[1.0, 0.0]]) == 0


# --- rewards ----------------------------------------------------------------------------------------------------

def test_consensus_reward_is_the_log_of_the_smoothed_share():
    # counts (3, 1, 0), n = 4, K = 3, Laplace smoothing: (4, 2, 1) / 7
    assert consensus_reward([3, 1, 0]) == pytest.approx([math.log(4 / 7), math.log(2 / 7), math.log(1 / 7)])
    unsmoothed = consensus_reward([3, 1, 0], smoothing=0.0)
    assert unsmoothed[:2] == pytest.approx([math.log(0.75), math.log(0.25)]) and unsmoothed[2] == -math.inf
    # at β = 1 the tilt multiplies the reference by the pool's share
    assert tilt([1 / 3] * 3, consensus_reward([3, 1, 0], smoothing=0.0), 1.0) == pytest.approx([0.75, 0.25, 0.0])


def test_rater_pool_draws_seeded_counts():
    pool = rater_pool([0.5, 0.3, 0.2], 1000, seed=1)
    assert pool.sum() == 1000 and pool.shape == (3,)
    assert np.array_equal(pool, rater_pool([0.5, 0.3, 0.2], 1000, seed=1))
    assert rater_pool([0.0, 1.0], 50, seed=2).tolist() == [0, 50]
    stream = np.random.default_rng(5)
    assert not np.array_equal(rater_pool([0.5, 0.5], 100, seed=stream), rater_pool([0.5, 0.5], 100, seed=stream))


def test_typicality_reward_of_an_answer_the_reference_never_gives():
    reward = typicality_reward([0.5, 0.5, 0.0], alpha=0.57)
    assert reward[:2] == pytest.approx([0.57 * math.log(0.5)] * 2) and reward[2] == -math.inf


# --- Bradley–Terry ----------------------------------------------------------------------------------------------

def test_bradley_terry_of_a_70_30_preference():
    theta = bradley_terry([[0.0, 0.7], [0.3, 0.0]])
    assert theta[0] - theta[1] == pytest.approx(math.log(0.7 / 0.3), abs=1e-5)  # the default prior moves it by 2e-6
    assert theta.sum() == pytest.approx(0.0, abs=1e-12)
    exact = bradley_terry([[0.0, 0.7], [0.3, 0.0]], prior=0.0)
    assert exact[0] - exact[1] == pytest.approx(math.log(0.7 / 0.3), abs=1e-10)
    assert exact == pytest.approx([0.5 * math.log(0.7 / 0.3), -0.5 * math.log(0.7 / 0.3)], abs=1e-10)


def test_bradley_terry_recovers_known_strengths():
    # Expected wins of 1000 comparisons per pair under θ = (0, 0.5, -1.2): the likelihood equations hold at θ.
    truth = np.array([0.0, 0.5, -1.2])
    wins = np.array([[0.0 if i == j else 1000 / (1 + math.exp(truth[j] - truth[i])) for j in range(3)]
                     for i in range(3)])
    for prior, tolerance in ((0.0, 1e-9), (1e-6, 1e-5)):
        theta = bradley_terry(wins, prior=prior)
        assert theta - theta[0] == pytest.approx(truth - truth[0], abs=tolerance)
    # counts and the same data as probabilities give the same strengths
    assert bradley_terry(wins / 1000) == pytest.approx(bradley_terry(wins), abs=1e-9)


def test_bradley_terry_keeps_an_answer_that_never_wins_finite():
    wins = np.ones((3, 3)) * 5
    wins[2, :] = 0.0  # answer 2 never wins
    theta = bradley_terry(wins)
    assert np.all(np.isfinite(theta)) and theta[2] < theta[0] - 10 and theta[0] == pytest.approx(theta[1])
    ranking = bradley_terry(np.triu(np.ones((5, 5)), 1))  # a judge that ranks deterministically
    assert np.all(np.isfinite(ranking)) and np.all(np.diff(ranking) < 0)
    with pytest.raises(ValueError, match="prior > 0"):
        bradley_terry(wins, prior=0.0)


def test_a_judge_that_always_picks_the_first_answer_expresses_no_preference():
    assert pairwise_from_judge(np.ones((3, 3))).tolist() == [[0.5] * 3] * 3
    assert bradley_terry(pairwise_from_judge(np.ones((3, 3)))) == pytest.approx([0.0] * 3, abs=1e-12)


def test_a_constant_position_bias_cancels():
    # P(first wins | i first) = q[i, j] + b for a true preference q: the average of both orders is q again
    true = np.array([[0.5, 0.8, 0.6], [0.2, 0.5, 0.3], [0.4, 0.7, 0.5]])
    biased = np.clip(true + 0.15, 0.0, 1.0)
    assert np.all(biased < 1.0)
    np.fill_diagonal(biased, np.nan)  # the diagonal is never read
    assert pairwise_from_judge(biased) == pytest.approx(true, abs=1e-12)


# --- KL and expected reward -------------------------------------------------------------------------------------

def test_kl_divergence_and_expected_reward():
    assert kl_divergence([0.5, 0.5], [0.9, 0.1]) == pytest.approx(
        0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert kl_divergence([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert expected_reward([0.25, 0.75], [4.0, -1.0]) == pytest.approx(0.25)
    assert expected_reward([1.0, 0.0], [2.0, -math.inf]) == 2.0


# --- bad input --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "message"), [
    (lambda: tilt([0.5, -0.1, 0.6], [0, 0, 0], 1.0), "negative"),
    (lambda: tilt([0.5, math.nan], [0, 0], 1.0), "NaN"),
    (lambda: tilt([0.5, 0.5], [0, math.nan], 1.0), "NaN"),
    (lambda: tilt([0.5, 0.5], [0, math.inf], 1.0), r"\+inf"),
    (lambda: tilt([0.5, 0.5], [0, 0, 0], 1.0), "3 entries"),
    (lambda: tilt([0.0, 0.0], [0, 0], 1.0), "sums to 0"),
    (lambda: tilt([], [], 1.0), "non-empty"),
    (lambda: tilt([[0.5, 0.5]], [0, 0], 1.0), "1-D"),
    (lambda: tilt([0.5, 0.5], [0, 0], 0.0), "beta"),
    (lambda: tilt([0.5, 0.5], [0, 0], -1.0), "beta"),
    (lambda: tilt([0.5, 0.5], [0, 0], math.nan), "beta"),
    (lambda: iterate([0.5, 0.5], [0, 0], 1.0, -1), "rounds"),
    (lambda: iterate([0.5, 0.5], [0, 0], 1.0, 2, reward_of=lambda p: p), "not both"),
    (lambda: iterate([0.5, 0.5], None, 1.0, 2), "neither"),
    (lambda: iterate([0.5, 0.5], None, 1.0, 2, reward_of=lambda p: [0.0]), "reward_of"),
    (lambda: finite_sample_loop([0.5, 0.5], [0, 0], 1.0, 2, 0, seed=0), "samples_per_round"),
    (lambda: finite_sample_loop([0.5, 0.5], [0, 0], 1.0, 2, 10, seed=0, collapse_at=1.5), "collapse_at"),
    (lambda: rounds_to_collapse([0.5, 0.5]), "2-D"),
    (lambda: kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), "answers"),
    (lambda: power_sharpen([0.5, 0.5], math.inf), "exponent"),
    (lambda: consensus_reward([1, -1]), "non-negative"),
    (lambda: consensus_reward([0, 0], smoothing=0.0), "says nothing"),
    (lambda: rater_pool([0.5, 0.5], 0, seed=0), "raters"),
    (lambda: typicality_reward([0.5, 0.5], alpha=math.nan), "alpha"),
    (lambda: bradley_terry([[0.0, 1.0, 0.0]]), "square"),
    (lambda: bradley_terry([[0.0, -1.0], [1.0, 0.0]]), "non-negative"),
    (lambda: bradley_terry([[0.0, 0.0], [0.0, 0.0]]), "no comparisons"),
    (lambda: pairwise_from_judge([[0.5, 1.2], [0.3, 0.5]]), r"\[0, 1\]"),
    (lambda: preference_matching([-math.inf, -math.inf]), "-inf on every answer"),
])
def test_bad_input_is_one_line_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)
