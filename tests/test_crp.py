"""The CRP Gibbs sampler and the richness estimator, on populations whose answer is known."""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import pytest

from monoculture.metrics import (
    CRPResult,
    chao1_richness,
    log_posterior,
    p_multiple_concepts,
    run_crp,
    split_r_hat,
    subsampled_p_multiple_concepts,
)

ALPHA = 0.16


def _set_partitions(items: list[int]):
    """Every partition of ``items`` (Bell(n) of them), as lists of blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _set_partitions(rest):
        for index in range(len(partition)):
            yield partition[:index] + [[first] + partition[index]] + partition[index + 1:]
        yield [[first]] + partition


def _labels(partition: list[list[int]], n: int) -> tuple[int, ...]:
    """Labels numbered by first appearance, the sampler's canonical form."""
    raw = [0] * n
    for block_index, block in enumerate(partition):
        for member in block:
            raw[member] = block_index
    order: dict[int, int] = {}
    return tuple(order.setdefault(label, len(order)) for label in raw)


def _exact_posterior(x: np.ndarray) -> dict[tuple[int, ...], float]:
    """The posterior over all partitions, written from the model's definition (not the sampler's code):
    CRP(1) prior Π_t (n_t − 1)! / N!, times Π_t Π_q B(y + α, n − y + α) / B(α, α)."""
    n = x.shape[0]
    weights = {}
    for partition in _set_partitions(list(range(n))):
        log_weight = -math.lgamma(n + 1)
        for block in partition:
            size = len(block)
            log_weight += math.lgamma(size)
            for q in range(x.shape[1]):
                ones = int(x[block, q].sum())
                beta = math.lgamma(ones + ALPHA) + math.lgamma(size - ones + ALPHA) - math.lgamma(size + 2 * ALPHA)
                log_weight += beta - (2 * math.lgamma(ALPHA) - math.lgamma(2 * ALPHA))
        weights[_labels(partition, n)] = log_weight
    top = max(weights.values())
    total = sum(math.exp(value - top) for value in weights.values())
    return {labels: math.exp(value - top) / total for labels, value in weights.items()}


SMALL = np.array([[1, 1, 0, 0], [1, 1, 0, 1], [1, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1]])


def _frequencies(partitions: np.ndarray) -> dict[tuple[int, ...], float]:
    counts: dict[tuple[int, ...], int] = {}
    for row in partitions.reshape(-1, partitions.shape[-1]):
        key = tuple(row.tolist())
        counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    return {key: count / total for key, count in counts.items()}


def _assert_matches(frequencies: dict[tuple[int, ...], float], exact: dict[tuple[int, ...], float],
                    tv_limit: float = 0.03, cell_limit: float = 0.02) -> None:
    # Draws are autocorrelated; 12,000 Gibbs sweeps still give a total-variation distance well under 0.03 for
    # a correct sampler, while a wrong conditional (e.g. dropping the n_t weight) gives > 0.1.
    tv = 0.5 * sum(abs(frequencies.get(labels, 0.0) - p) for labels, p in exact.items())
    assert tv < tv_limit, tv
    for labels, p in exact.items():
        if p > 0.05:
            assert abs(frequencies.get(labels, 0.0) - p) < cell_limit, (labels, p, frequencies.get(labels, 0.0))


@pytest.mark.parametrize("settings", [
    {},  # the default: Gibbs, split-merge moves, tempered replicas (5 people: through the whole run)
    {"split_merge": 0, "tempered_sweeps": 0, "starts": ("alone",)},  # the published sampler's moves
    {"split_merge": 5, "split_merge_scans": 1, "split_attempt": 1.0, "tempered_sweeps": 0},
], ids=["default", "gibbs-only", "split-merge-heavy"])
def test_exact_partition_frequencies_match_enumeration(settings: dict) -> None:
    # 5 people, 4 questions: 52 partitions. Answers chosen so the posterior spreads over many partitions.
    exact = _exact_posterior(SMALL)
    assert len(exact) == 52
    result = run_crp(SMALL, sweeps=4001, burn_in=0, chains=3, seed=11, keep_partitions=True, **settings)
    _assert_matches(_frequencies(result.partitions[:, 1:]), exact)


def _tempered(exact: dict[tuple[int, ...], float], beta: float) -> dict[tuple[int, ...], float]:
    """The distribution ∝ posterior^beta over the same partitions."""
    weights = {labels: p**beta for labels, p in exact.items()}
    total = sum(weights.values())
    return {labels: weight / total for labels, weight in weights.items()}


@pytest.mark.parametrize(("beta", "scans", "split_attempt"), [(1.0, 0, 0.25), (0.5, 1, 0.25)])
def test_split_merge_moves_alone_leave_the_posterior_invariant(beta: float, scans: int, split_attempt: float) -> None:
    # Split-merge proposals only (no Gibbs sweep to hide a wrong acceptance ratio), from everyone alone: their
    # stationary distribution must be the posterior (or its power beta, for a tempered replica). One proposal
    # moves less than a sweep, so 60,000 of them still leave a total-variation distance of about 0.02-0.045;
    # measured on broken kernels (split-attempt probability, merge proposal probability or the power left out
    # of the ratio): 0.085-0.26.
    from monoculture.metrics._crp import _Sampler

    sampler = _Sampler(SMALL, 1, ALPHA, 1.0, beta=np.array([beta]))
    sampler.place(0, np.arange(5))
    rng = np.random.default_rng(5)
    draws = np.empty((60_000, 5), dtype=np.int64)
    accepted = 0
    for index in range(draws.shape[0]):
        accepted += sampler.split_merge(0, rng, scans, split_attempt)
        draws[index] = sampler.labels(0)
    assert accepted > 5_000  # the moves do move
    _assert_matches(_frequencies(draws[500:]), _tempered(_exact_posterior(SMALL), beta), tv_limit=0.06,
                    cell_limit=0.035)


def test_tempered_gibbs_sweeps_sample_the_powered_posterior() -> None:
    from monoculture.metrics._crp import _Sampler

    sampler = _Sampler(SMALL, 2, ALPHA, 1.0, beta=np.array([0.5, 0.5]))
    sampler.place(0, np.arange(5))
    sampler.place(1, np.zeros(5, dtype=np.int64))
    rng = np.random.default_rng(6)
    draws = np.empty((6_000, 2, 5), dtype=np.int64)
    for sweep in range(draws.shape[0]):
        sampler.gibbs_sweep(rng.random((5, 2)))
        draws[sweep] = [sampler.labels(0), sampler.labels(1)]
    _assert_matches(_frequencies(draws[100:]), _tempered(_exact_posterior(SMALL), 0.5))


def test_each_replica_samples_its_own_population_at_its_own_power() -> None:
    # One Gibbs pass re-seats replicas of several populations at several powers (run_crp_many, tempering). Two
    # populations (SMALL and its people reversed) x powers 1 and 0.5: each replica must match the exact posterior
    # of its own population at its own power. Measured: total-variation distance 0.016-0.033 over seeds; a
    # replica handed another replica's population or power gives 0.25-0.57.
    from monoculture.metrics._crp import _Sampler

    x = np.stack([SMALL, SMALL[::-1]])
    population, power = [0, 1, 0, 1], [1.0, 1.0, 0.5, 0.5]
    sampler = _Sampler(x, 4, ALPHA, 1.0, beta=np.array(power), population=np.array(population))
    for replica in range(4):
        sampler.place(replica, np.arange(5) if replica % 2 else np.zeros(5, dtype=np.int64))
    rng = np.random.default_rng(7)
    draws = np.empty((6_000, 4, 5), dtype=np.int64)
    for sweep in range(draws.shape[0]):
        sampler.gibbs_sweep(rng.random((5, 4)))
        draws[sweep] = [sampler.labels(replica) for replica in range(4)]
    for replica in range(4):
        exact = _tempered(_exact_posterior(x[population[replica]]), power[replica])
        _assert_matches(_frequencies(draws[100:, replica]), exact, tv_limit=0.06, cell_limit=0.025)


def test_exact_log_posterior_matches_sampler_trace() -> None:
    x = np.array([[1, 1, 0, 0], [1, 1, 0, 1], [1, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1]])
    exact = _exact_posterior(x)
    result = run_crp(x, sweeps=30, burn_in=0, chains=2, seed=3, keep_partitions=True)
    reference = {labels: math.log(p) for labels, p in exact.items()}
    offset = None
    for chain in range(2):
        for sweep in range(30):
            labels = tuple(result.partitions[chain, sweep].tolist())
            difference = result.log_posterior_trace[chain, sweep] - reference[labels]
            offset = difference if offset is None else offset
            assert difference == pytest.approx(offset, abs=1e-9)  # same up to the normalising constant
            assert result.log_posterior_trace[chain, sweep] == pytest.approx(
                log_posterior(np.array(labels), x, alpha=ALPHA), abs=1e-9)


def test_log_posterior_of_one_table_by_hand() -> None:
    # Two people, one question, both answered 1, one table: prior Γ(2)/2! = 1/2;
    # likelihood B(2 + α, α)/B(α, α) = (α/(2α)) · ((α + 1)/(2α + 1)).
    x = np.array([[1], [1]])
    expected = math.log(0.5) + math.log(0.5) + math.log((ALPHA + 1) / (2 * ALPHA + 1))
    assert log_posterior([0, 0], x) == pytest.approx(expected, abs=1e-12)


def test_identical_individuals_share_one_table() -> None:
    x = np.tile(np.array([0, 1] * 18), (30, 1))
    result = run_crp(x, sweeps=60, burn_in=10, chains=2, seed=1)
    assert np.all(result.tables_trace[:, 11:] == 1)
    assert result.p_multiple_concepts == 0.0
    assert result.richness == 1.0
    assert set(result.map_partition.tolist()) == {0}


def test_opposite_groups_separate() -> None:
    pattern = np.random.default_rng(5).integers(0, 2, 36)
    x = np.vstack([np.tile(pattern, (12, 1)), np.tile(1 - pattern, (8, 1))])
    result = run_crp(x, sweeps=60, burn_in=10, chains=2, seed=2)
    assert np.all(result.tables_trace[:, 11:] == 2)
    # 12 and 8 of 20: 1 − (0.6² + 0.4²) = 0.48
    assert result.p_multiple_concepts == pytest.approx(0.48)
    assert result.map_partition.tolist() == [0] * 12 + [1] * 8


def _noisy_clusters(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 2, (3, 12))
    return prototypes[rng.integers(0, 3, 24)] ^ (rng.random((24, 12)) < 0.2)


def test_exchangeable_in_individuals_and_questions() -> None:
    x = _noisy_clusters(7)
    rng = np.random.default_rng(8)
    shuffled = x[rng.permutation(x.shape[0])][:, rng.permutation(x.shape[1])]
    base = run_crp(x, sweeps=700, burn_in=100, chains=3, seed=1)
    permuted = run_crp(shuffled, sweeps=700, burn_in=100, chains=3, seed=2)
    # Posterior means agree within Monte-Carlo error (chain-to-chain spread sets the scale).
    spread = np.std(base.p_multiple_concepts_trace[:, 101:].mean(axis=1)) + 0.01
    assert abs(base.p_multiple_concepts - permuted.p_multiple_concepts) < 4 * spread
    assert abs(base.tables - permuted.tables) < 0.5


def test_seeded_chains_are_reproducible_and_independent_of_chain_count() -> None:
    x = _noisy_clusters(3)
    one = run_crp(x, sweeps=40, burn_in=5, chains=1, seed=9)
    three = run_crp(x, sweeps=40, burn_in=5, chains=3, seed=9)
    again = run_crp(x, sweeps=40, burn_in=5, chains=3, seed=9)
    np.testing.assert_array_equal(one.p_multiple_concepts_trace[0], three.p_multiple_concepts_trace[0])
    np.testing.assert_array_equal(three.log_posterior_trace, again.log_posterior_trace)
    assert not np.array_equal(three.tables_trace[0], three.tables_trace[1])


def test_result_summaries() -> None:
    x = _noisy_clusters(4)
    result = run_crp(x, sweeps=50, burn_in=9, chains=2, seed=0)
    post = result.p_multiple_concepts_trace[:, 10:]
    assert result.p_multiple_concepts == pytest.approx(post.mean())
    low, high = result.p_multiple_concepts_ci
    assert low <= result.p_multiple_concepts <= high
    assert result.single_sweep(49) == pytest.approx(result.p_multiple_concepts_trace[:, 49].mean())
    assert result.map_log_posterior == pytest.approx(log_posterior(result.map_partition, x))
    assert result.map_log_posterior == pytest.approx(result.log_posterior_trace[:, 10:].max())
    with pytest.raises(ValueError):
        result.single_sweep(50)
    assert 0 < result.tables


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.array([1, 0, 1]), np.array([[0, 2]]), np.array([[0.5, 1]])])
def test_rejects_bad_responses(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        run_crp(bad, sweeps=5, burn_in=1)


def test_rejects_burn_in_without_draws() -> None:
    with pytest.raises(ValueError):
        run_crp(np.ones((3, 2), dtype=int), sweeps=10, burn_in=9)


def test_p_multiple_concepts_by_hand() -> None:
    assert p_multiple_concepts([10]) == 0.0
    assert p_multiple_concepts([1, 1, 1, 1]) == pytest.approx(0.75)
    assert p_multiple_concepts([3, 1]) == pytest.approx(1 - (9 + 1) / 16)


def test_subsampled_statistic_caps_sizes() -> None:
    x = _noisy_clusters(2)  # 24 individuals
    stat = subsampled_p_multiple_concepts(x, sizes=(10, 20, 30), sweeps=30, burn_in=5, sweep=29, chains=1)
    assert stat.n_people == (10, 20, 24)
    assert stat.mean == pytest.approx(sum(stat.p_multiple_concepts) / 3)
    assert all(0 <= value < 1 for value in stat.p_multiple_concepts)


# --- richness: expected values worked out by hand from the formula of docs/methods.md, section 4 ---------------------------

def test_richness_all_singletons_without_doubletons() -> None:
    # 4 tables of 1, N = 4: f1 = 4, f2 = 0 → x = 4·3/2 = 6; Chao1 = 4 + (3/4)·6 = 8.5; f4 = 0.
    assert chao1_richness([1, 1, 1, 1]) == pytest.approx(8.5)


def test_richness_with_doubletons() -> None:
    # sizes 1,1,2,3 (N = 7): f1 = 2, f2 = 1 → x = 4/2 = 2; Chao1 = 4 + (6/7)·2 = 5.714285...
    assert chao1_richness([1, 1, 2, 3]) == pytest.approx(4 + 12 / 7)


def test_richness_with_ichao1_correction() -> None:
    # sizes 1,1,1,2,3,4 (N = 12): f1 = 3, f2 = 1, f3 = 1, f4 = 1, K = 6.
    # x = 9/2 = 4.5; Chao1 = 6 + (11/12)·4.5 = 10.125.
    # correction = (9/12)·(1/4)·max(3 − (9/11)·(1·1)/2, 0) = 0.1875·(3 − 0.409090...) = 0.48579545...
    assert chao1_richness([1, 1, 1, 2, 3, 4]) == pytest.approx(10.125 + 0.1875 * (3 - 9 / 22))


def test_richness_correction_clipped_at_zero() -> None:
    # sizes 2,2,2,3,3,4 (N = 16): f1 = 0 → x = 0; Chao1 = 6; shortfall 0 − ... < 0 → no correction.
    assert chao1_richness([2, 2, 2, 3, 3, 4]) == pytest.approx(6.0)


def test_richness_one_table_and_empty_tables_ignored() -> None:
    assert chao1_richness([5, 0]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        chao1_richness([])


def test_sampler_richness_trace_matches_formula() -> None:
    x = _noisy_clusters(6)
    result = run_crp(x, sweeps=12, burn_in=1, chains=2, seed=4, keep_partitions=True)
    for chain in range(2):
        for sweep in range(12):
            sizes = np.bincount(result.partitions[chain, sweep])
            assert result.richness_trace[chain, sweep] == pytest.approx(chao1_richness(sizes))
            assert result.tables_trace[chain, sweep] == sizes.size
            assert result.p_multiple_concepts_trace[chain, sweep] == pytest.approx(p_multiple_concepts(sizes))


def test_permuting_people_permutes_map_labels_consistently() -> None:
    # A tiny, well-separated population: the MAP partition is the same grouping whatever the order.
    x = np.array([[1, 1, 1, 1, 0, 0]] * 3 + [[0, 0, 0, 0, 1, 1]] * 3)
    for order in list(permutations(range(6)))[:5]:
        result = run_crp(x[list(order)], sweeps=30, burn_in=5, chains=1, seed=0)
        groups = {tuple(sorted(np.flatnonzero(result.map_partition == label))) for label in set(result.map_partition)}
        expected = {tuple(sorted(i for i, person in enumerate(order) if person < 3)),
                    tuple(sorted(i for i, person in enumerate(order) if person >= 3))}
        assert groups == expected


def test_many_questions_use_the_normalised_path() -> None:
    # 300 questions: scores span more than exp() can hold unnormalised, so the sampler rescales per chain.
    pattern = np.random.default_rng(1).integers(0, 2, 300)
    x = np.vstack([np.tile(pattern, (6, 1)), np.tile(1 - pattern, (4, 1))])
    result = run_crp(x, sweeps=20, burn_in=2, chains=2, seed=0)
    assert np.all(result.tables_trace[:, 3:] == 2)
    assert result.p_multiple_concepts == pytest.approx(1 - (0.6**2 + 0.4**2))


# --- convergence: split-merge moves, several starts, tempered replicas and the chains' agreement ----------------


def _homogeneous(seed: int, people: int = 100, flip: float = 0.05) -> np.ndarray:
    """Everyone shares one answer pattern, each answer flipped with probability ``flip``: one concept."""
    rng = np.random.default_rng(seed)
    pattern = rng.integers(0, 2, 36)
    return pattern[None, :] ^ (rng.random((people, 36)) < flip).astype(np.int64)


@pytest.mark.parametrize("population", [5, 6])
def test_a_homogeneous_population_is_one_concept(population: int) -> None:
    # The case: 100 people x 36 questions sharing one pattern, 5% of answers flipped; the best partition
    # is one table. Gibbs moves alone from everyone-alone left chains split (68/32, 55/45) for 1,500 sweeps.
    x = _homogeneous(population)
    published = run_crp(x, seed=0, split_merge=0, tempered_sweeps=0, starts=("alone",))
    assert published.p_multiple_concepts > 0.05  # the failure this guards against, with these very data
    assert not published.converged
    result = run_crp(x, seed=0)
    assert result.p_multiple_concepts < 0.05
    assert result.converged and result.r_hat_p_multiple_concepts <= 1.1
    assert result.log_posterior_trace[:, -1].max() >= log_posterior(np.zeros(100, dtype=int), x) - 1e-6
    assert result.split_merge_proposed.tolist() == [500, 500, 500] and result.split_merge_accepted.sum() > 0


def test_split_r_hat_by_hand() -> None:
    # Two chains of 4 draws → four halves of 2: (0, 1), (2, 3), (1, 0), (3, 2); half means 0.5, 2.5, 0.5, 2.5.
    # W = mean within-half variance = 0.5; B/n = variance of the half means = 4/3; n = 2.
    # R̂ = √(((n − 1)/n · W + B/n) / W) = √((0.25 + 4/3) / 0.5) = √(19/6).
    draws = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 3.0, 2.0]])
    assert split_r_hat(draws) == pytest.approx(math.sqrt(19 / 6))
    assert split_r_hat(np.full((3, 10), 0.25)) == 1.0  # constant everywhere: nothing disagrees
    assert split_r_hat(np.array([[0.0] * 10, [0.5] * 10])) == math.inf  # constant chains, different values
    assert math.isnan(split_r_hat(np.zeros((2, 3))))  # fewer than 4 draws per chain
    rng = np.random.default_rng(0)
    assert split_r_hat(rng.normal(size=(4, 1000))) == pytest.approx(1.0, abs=0.01)  # independent draws
    trend = np.linspace(0, 1, 1000)[None, :] + rng.normal(scale=0.05, size=(1, 1000))
    assert split_r_hat(trend) > 1.5  # one chain still drifting: its halves disagree


def _fake_result(p_multiple: np.ndarray, tables: np.ndarray) -> CRPResult:
    chains, sweeps = p_multiple.shape
    return CRPResult(n_individuals=20, n_questions=36, alpha=ALPHA, concentration=1.0, burn_in=1,
                     tables_trace=tables, p_multiple_concepts_trace=p_multiple,
                     log_posterior_trace=-np.arange(chains * sweeps, dtype=float).reshape(chains, sweeps),
                     richness_trace=tables.astype(float), map_partition=np.zeros(20, dtype=np.int64),
                     map_log_posterior=0.0)


def test_convergence_check_and_chain_summaries() -> None:
    rng = np.random.default_rng(1)
    agree = rng.normal(0.4, 0.05, (3, 402))
    result = _fake_result(agree, rng.integers(3, 6, (3, 402)))
    assert result.converged and result.convergence_problems == ()
    np.testing.assert_allclose(result.chain_p_multiple_concepts, agree[:, 2:].mean(axis=1))
    assert result.chain_tables.shape == (3,)
    np.testing.assert_array_equal(result.chain_final_log_posterior, result.log_posterior_trace[:, -1])
    np.testing.assert_allclose(result.chain_mean_log_posterior, result.log_posterior_trace[:, 2:].mean(axis=1))
    # One chain elsewhere: R̂ far above 1.1 and chain means 0.2 apart.
    apart = agree.copy()
    apart[2] += 0.2
    flagged = _fake_result(apart, rng.integers(3, 6, (3, 402)))
    assert not flagged.converged and flagged.r_hat_p_multiple_concepts > 1.1
    assert any("chain means" in problem for problem in flagged.convergence_problems)
    # Chain means 0.06 apart inside wide posteriors (R̂ near 1): still more than the tolerance of 0.05.
    wide = rng.normal(0.5, 0.5, (3, 402))
    wide -= wide[:, 2:].mean(axis=1, keepdims=True) - np.array([[0.47], [0.5], [0.53]])
    spread = _fake_result(wide, rng.integers(3, 6, (3, 402)))
    assert spread.r_hat_p_multiple_concepts < 1.1 and not spread.converged
    # Near-constant traces with rare, unevenly spread excursions: R̂ is large but the chain means differ by far
    # less than anyone would read (0.01), so that alone is no alarm.
    rare = np.zeros((3, 402))
    rare[0, 10:80] = 0.0198  # one person alone for 70 sweeps of one chain, never in the others
    quiet = _fake_result(rare, np.ones((3, 402), dtype=np.int64))
    assert quiet.r_hat_p_multiple_concepts > 1.1 and quiet.converged


def test_starts_and_split_merge_settings_are_recorded_and_checked() -> None:
    x = _noisy_clusters(3)
    result = run_crp(x, sweeps=20, burn_in=2, chains=4, seed=1, split_merge=0.5)
    assert result.starts == ("alone", "together", "kmeans", "alone")
    assert result.split_merge_proposed.tolist() == [10] * 4
    assert result.temperatures == (1.0, 0.7, 0.45) and result.tempered_sweeps == 20  # 24 people: throughout
    assert result.swaps_proposed.tolist() == [40] * 4 and result.swaps_accepted.sum() > 0
    off = run_crp(x, sweeps=20, burn_in=2, chains=2, split_merge=0, tempered_sweeps=0, starts=("together",))
    assert off.starts == ("together", "together") and off.split_merge_accepted.tolist() == [0, 0]
    assert off.tempered_sweeps == 0 and off.swaps_proposed.tolist() == [0, 0]
    assert off.tables_trace[:, 0].tolist() != [24, 24]  # not everyone alone after the first sweep
    for bad in ({"starts": ("nowhere",)}, {"starts": ()}, {"split_merge": -1}, {"split_merge": math.nan},
                {"split_attempt": 0.0}, {"temperatures": (0.7, 1.0)}, {"temperatures": (1.0, 1.5)},
                {"tempered_sweeps": -1}, {"alpha": math.nan}, {"alpha": math.inf}):
        with pytest.raises(ValueError):
            run_crp(x, sweeps=10, burn_in=2, **bad)


def test_replicas_stop_after_the_burn_in_above_sixty_people() -> None:
    x = _homogeneous(3, people=80, flip=0.1)
    result = run_crp(x, sweeps=30, burn_in=9, chains=2, seed=2)
    assert result.tempered_sweeps == 10 and result.swaps_proposed.tolist() == [20, 20]
    assert result.p_multiple_concepts_trace.shape == (2, 30) and np.isfinite(result.log_posterior_trace).all()
    assert result.map_log_posterior == pytest.approx(log_posterior(result.map_partition, x))


def test_kmeans_start_is_a_partition_near_the_clusters() -> None:
    from monoculture.metrics._crp import _kmeans_start

    pattern = np.random.default_rng(5).integers(0, 2, 36)
    x = np.vstack([np.tile(pattern, (12, 1)), np.tile(1 - pattern, (8, 1))])
    labels = _kmeans_start(x, np.random.default_rng(0))
    assert labels.tolist() == [0] * 12 + [1] * 8  # identical rows share a centre; numbered by first appearance
    noisy = _noisy_clusters(9)
    labels = _kmeans_start(noisy, np.random.default_rng(1))
    assert labels.shape == (24,) and labels[0] == 0 and set(labels.tolist()) == set(range(labels.max() + 1))
    assert labels.max() + 1 <= math.ceil(math.sqrt(24))

def test_the_install_step_compiles_every_kernel_a_run_calls() -> None:
    """setup.sh compiles the sampler's loops once (compile_crp_kernels); a run afterwards, even on answers in
    Fortran order and through the many-population path, must find every signature it calls already compiled,
    or each new process would compile again for 8-19 s."""
    from numba.core.registry import CPUDispatcher

    from monoculture.metrics import _crp_kernels, compile_crp_kernels, run_crp_many

    compile_crp_kernels()
    kernels = {name: kernel for name, kernel in vars(_crp_kernels).items() if isinstance(kernel, CPUDispatcher)}
    compiled = {name: list(kernel.signatures) for name, kernel in kernels.items()}
    assert compiled["gibbs_sweep"] and compiled["split_merge"]
    rng = np.random.default_rng(4)
    answers = np.asfortranarray(rng.integers(0, 2, size=(12, 9)))
    run_crp(answers, sweeps=6, burn_in=2, seed=2, keep_partitions=True, split_merge_scans=2)
    run_crp_many([answers, answers[::-1]], seeds=[1, 2], sweeps=6, burn_in=2, chains=2, temperatures=(1.0,))
    assert {name: list(kernel.signatures) for name, kernel in kernels.items()} == compiled
