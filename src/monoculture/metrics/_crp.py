"""Latent concepts from forced-choice answers: a Chinese-Restaurant-Process mixture, sampled by collapsed Gibbs.

Source: Martí, Wu, Piantadosi & Kidd (2023) "Latent diversity in human concepts" and its re-use by Murthy,
Ullman & Hu (2025); the model is docs/methods.md, section 4. Individuals sit at tables (concepts). A table's
likelihood is, for every question, a Beta(α, α)-Bernoulli marginal; the prior over partitions is a CRP with
concentration 1 (log P = Σ_t log Γ(n_t) − log N!). The exact conditional for seating individual x, with x
removed, at a table t of n_t members of whom y_tq answered 1 to question q is

    ∝ n_t · Π_q p_tq^x_q (1 − p_tq)^(1 − x_q),   p_tq = (y_tq + α) / (n_t + 2α),

and at a new table ∝ concentration · 0.5^Q.

The published sampler rescored the whole joint posterior for every candidate seat (about 1.8 s per sweep
for 74 people). This one keeps per-table sufficient statistics (member counts and per-question "1" counts,
encoded together as one integer key per table and question), looks the log-probabilities up in
precomputed tables, scores every table with one matrix-vector product, and runs all chains at once:
a full 500-sweep, 3-chain run on 100 people x 36 questions takes well under a second on one core
(``benchmarks/crp_speed.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln

from monoculture.metrics._richness import chao1_from_frequencies

__all__ = [
    "CRPResult",
    "SubsampledCRP",
    "log_posterior",
    "p_multiple_concepts",
    "run_crp",
    "subsampled_p_multiple_concepts",
]

DEFAULT_ALPHA = 0.16  # ≈ 88% test-retest agreement (Martí et al. 2023)
PAPER_SIZES = (25, 50, 75, 100)
# exp() of a score below about -745 underflows to 0; scores are bounded, so normalising by the
# per-chain maximum is needed only when the bound comes near that.
_SAFE_LOG_RANGE = 600.0


@dataclass(frozen=True, eq=False)
class CRPResult:
    """Per-sweep traces of every chain and their posterior summaries.

    Traces have shape ``(chains, sweeps)``; index ``s`` is the state after ``s + 1`` full sweeps, so
    index 499 of a 500-sweep run is the published "Iteration 499". Post-burn-in means sweeps with index
    greater than ``burn_in`` (101-499 for the default run), as in the published sampler.
    ``map_partition`` labels each individual's table (numbered by first appearance) in the sample with
    the highest log posterior after burn-in, over all chains. ``partitions`` holds every sampled
    partition, shape ``(chains, sweeps, N)``, when the run was asked to keep them.
    """

    n_individuals: int
    n_questions: int
    alpha: float
    concentration: float
    burn_in: int
    tables_trace: np.ndarray
    p_multiple_concepts_trace: np.ndarray
    log_posterior_trace: np.ndarray
    richness_trace: np.ndarray
    map_partition: np.ndarray
    map_log_posterior: float
    partitions: np.ndarray | None = None

    @property
    def chains(self) -> int:
        """Number of chains."""
        return int(self.tables_trace.shape[0])

    @property
    def sweeps(self) -> int:
        """Number of sweeps per chain."""
        return int(self.tables_trace.shape[1])

    @property
    def post_burn_in(self) -> slice:
        """The sweeps that enter the posterior summaries (index > ``burn_in``)."""
        return slice(self.burn_in + 1, None)

    def _post(self, trace: np.ndarray) -> np.ndarray:
        return trace[:, self.post_burn_in].ravel()

    @property
    def p_multiple_concepts(self) -> float:
        """Posterior mean of P(multiple concepts) = 1 − Σ_t (n_t/N)², over post-burn-in sweeps and chains.

        Range [0, 1 − 1/N]; 0 = everyone holds one concept, higher = more diverse.
        """
        return float(self._post(self.p_multiple_concepts_trace).mean())

    @property
    def p_multiple_concepts_ci(self) -> tuple[float, float]:
        """Central 95% posterior interval of P(multiple concepts) (2.5th and 97.5th percentiles)."""
        low, high = np.percentile(self._post(self.p_multiple_concepts_trace), [2.5, 97.5])
        return float(low), float(high)

    @property
    def tables(self) -> float:
        """Posterior mean number of tables (concepts); range [1, N]."""
        return float(self._post(self.tables_trace).mean())

    @property
    def tables_ci(self) -> tuple[float, float]:
        """Central 95% posterior interval of the number of tables."""
        low, high = np.percentile(self._post(self.tables_trace), [2.5, 97.5])
        return float(low), float(high)

    @property
    def richness(self) -> float:
        """Posterior mean Chao1 + iChao1 richness (estimated number of concepts, seen or not)."""
        return float(self._post(self.richness_trace).mean())

    def single_sweep(self, sweep: int = 499) -> float:
        """P(multiple concepts) at one sweep, mean over chains: the paper's statistic used sweep 499."""
        if not 0 <= sweep < self.sweeps:
            raise ValueError(f"sweep {sweep} is outside 0..{self.sweeps - 1}")
        return float(self.p_multiple_concepts_trace[:, sweep].mean())


@dataclass(frozen=True)
class SubsampledCRP:
    """The paper's statistic: the sampler run on the first n complete individuals for each n.

    ``n_people[k]`` is the requested size capped at the number available (so sizes can repeat, as in
    the published runs); ``p_multiple_concepts[k]`` is that run's sweep value, mean over chains.
    """

    n_people: tuple[int, ...]
    p_multiple_concepts: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean over the sub-sample sizes: what the paper reports per concept."""
        return float(np.mean(self.p_multiple_concepts))


def p_multiple_concepts(table_sizes: Sequence[int] | np.ndarray) -> float:
    """Probability that two people drawn with replacement sit at different tables: 1 − Σ_t (n_t/N)².

    Range [0, 1 − 1/N]; 0 when everyone shares one table. Source: Martí et al. (2023).
    """
    sizes = np.asarray(table_sizes, dtype=float)
    total = sizes.sum()
    if total <= 0:
        raise ValueError("a partition needs at least one person")
    return float(1.0 - np.sum((sizes / total) ** 2))


def log_posterior(
    partition: Sequence[int] | np.ndarray,
    responses: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    concentration: float = 1.0,
) -> float:
    """Unnormalised log posterior of a partition: log CRP prior + log Beta-Bernoulli marginal likelihood.

    Prior: K log(concentration) + log Γ(concentration) − log Γ(concentration + N) + Σ_t log Γ(n_t), which
    for concentration 1 is Σ_t log Γ(n_t) − log N! (the published "Posterior" column). Likelihood: Σ_t Σ_q
    [log B(y_tq + α, n_t − y_tq + α) − log B(α, α)]. Written straight from the formulas, without the
    sampler's bookkeeping, so it can check the sampler.
    """
    x = _as_responses(responses)
    labels = np.asarray(partition)
    if labels.shape != (x.shape[0],):
        raise ValueError(f"partition has shape {labels.shape}, expected ({x.shape[0]},)")
    total = 0.0
    tables = np.unique(labels)
    for table in tables:
        members = x[labels == table]
        size = members.shape[0]
        ones = members.sum(axis=0)
        total += float(gammaln(size))
        total += float(np.sum(betaln(ones + alpha, size - ones + alpha) - betaln(alpha, alpha)))
    n = x.shape[0]
    total += len(tables) * np.log(concentration) + gammaln(concentration) - gammaln(concentration + n)
    return float(total)


def _as_responses(responses: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    x = np.asarray(responses)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"responses must be a non-empty (individuals, questions) array, got shape {x.shape}")
    if not np.isin(x, (0, 1)).all():
        raise ValueError("responses must be 0 or 1 (1 = the second choice)")
    return x.astype(np.int64)


def _seed_entropy(seed: int | Sequence[int]) -> list[int]:
    entropy = [seed] if isinstance(seed, (int, np.integer)) else list(seed)
    if not entropy or any(int(part) < 0 for part in entropy):
        raise ValueError("seed must be a non-negative integer or a non-empty sequence of them")
    return [int(part) for part in entropy]


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel tables 0, 1, 2, ... by first appearance, so equal partitions have equal labels."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.ravel()]


def run_crp(
    responses: np.ndarray | Sequence[Sequence[int]],
    *,
    sweeps: int = 500,
    burn_in: int = 100,
    chains: int = 3,
    alpha: float = DEFAULT_ALPHA,
    concentration: float = 1.0,
    seed: int | Sequence[int] = 0,
    keep_partitions: bool = False,
) -> CRPResult:
    """Collapsed Gibbs sampling of the CRP mixture over individuals' 0/1 answer vectors.

    ``responses``: (N individuals, Q questions) array of 0/1. Every chain starts with everyone alone and
    visits the individuals in order each sweep. Chain ``c`` draws from ``numpy.random.default_rng([*seed,
    c])``, so a chain's draws do not depend on how many chains run beside it. Post-burn-in sweeps are
    those with index > ``burn_in``. ``keep_partitions`` stores every sampled partition (memory
    chains × sweeps × N integers).
    """
    x = _as_responses(responses)
    if sweeps < 1 or chains < 1 or burn_in < 0:
        raise ValueError("sweeps and chains must be at least 1 and burn_in non-negative")
    if burn_in + 1 >= sweeps:
        raise ValueError(f"burn_in {burn_in} leaves no post-burn-in sweeps out of {sweeps}")
    if alpha <= 0 or concentration <= 0:
        raise ValueError("alpha and concentration must be positive")
    entropy = _seed_entropy(seed)

    n_people, n_questions = x.shape
    capacity = n_people + 1  # slots per chain: N tables at most, plus one empty "new table" slot
    stride = n_people + 1  # key of a (table, question) = members * stride + ones
    n_keys = (n_people + 1) * stride
    members = np.arange(n_people + 1)[:, None]
    ones = np.arange(stride)[None, :]
    possible = ones <= members
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p1 = np.where(possible, np.log((ones + alpha) / (members + 2 * alpha)), 0.0).ravel()
        log_p0 = np.where(possible, np.log((members - ones + alpha) / (members + 2 * alpha)), 0.0).ravel()
        log_n = np.log(np.arange(n_people + 2, dtype=float))  # log 0 = -inf: an empty slot never wins
        log_n_minus_1 = np.log(np.arange(n_people + 2, dtype=float) - 1.0)
    log_ratio = log_p1 - log_p0
    # Indexed by key + x * n_keys: log p when x = 1, log(1 - p) when x = 0.
    log_p_given_x = np.concatenate([log_p0, log_p1])
    # Per (table, question) marginal likelihood, for recording the log posterior.
    member_grid = np.broadcast_to(members, possible.shape)
    one_grid = np.broadcast_to(ones, possible.shape)
    log_marginal = np.where(
        possible,
        betaln(np.where(possible, one_grid, 0) + alpha, np.where(possible, member_grid - one_grid, 0) + alpha)
        - betaln(alpha, alpha),
        0.0,
    ).ravel()
    log_gamma_size = np.where(np.arange(n_people + 1) > 0, gammaln(np.maximum(np.arange(n_people + 1), 1)), 0.0)
    prior_constant = float(gammaln(concentration) - gammaln(concentration + n_people))
    log_concentration = float(np.log(concentration))
    new_table_score = log_concentration + n_questions * np.log(0.5)
    worst = n_questions * np.log((n_people + 2 * alpha) / alpha) + abs(log_concentration) + np.log(n_people + 1)
    normalise = worst > _SAFE_LOG_RANGE

    # Flat state over all chains; row 0 is a dummy slot scored -inf so the cumulative sum of chain c's
    # weights starts at the value just before its first slot.
    rows = 1 + chains * capacity
    chain_ids = np.arange(chains)
    first_slot = 1 + chain_ids * capacity
    seat = (first_slot[:, None] + np.arange(n_people)[None, :]).astype(np.int64)  # (chains, N) flat slots
    size = np.zeros(rows, dtype=np.int64)
    keys = np.zeros((rows, n_questions), dtype=np.int64)
    size[seat.ravel()] = 1
    keys[seat.ravel()] = np.tile(stride + x, (chains, 1))
    # weights @ [x, 1] = the score of seating x at each slot: Σ_q x_q log(p/(1-p)) + Σ_q log(1-p) + log n.
    weights = np.zeros((rows, n_questions + 1))
    weights[:, :n_questions] = log_ratio.take(keys)
    weights[:, n_questions] = log_p0.take(keys).sum(axis=1) + log_n.take(size)
    weights[0, n_questions] = -np.inf
    new_slot = (first_slot + n_people).tolist()
    weights[new_slot, n_questions] = new_table_score

    join_delta = stride + x  # key change when an individual joins a table
    removed_offset = join_delta - x * n_keys  # key - join_delta + x * n_keys in one subtraction
    # Lists of row views: indexing a list is cheaper than indexing an array in the inner loop.
    offset_rows = list(removed_offset)
    delta_rows = list(join_delta)
    x_rows = list(np.hstack([x.astype(float), np.ones((n_people, 1))]))
    segment_end = first_slot + capacity - 1
    segment_start = first_slot - 1
    generators = [np.random.default_rng([*entropy, chain]) for chain in range(chains)]

    tables_trace = np.zeros((chains, sweeps), dtype=np.int64)
    p_multiple_trace = np.zeros((chains, sweeps))
    log_posterior_trace = np.zeros((chains, sweeps))
    richness_trace = np.zeros((chains, sweeps))
    partitions = np.zeros((chains, sweeps, n_people), dtype=np.int64) if keep_partitions else None
    map_value = -np.inf
    map_partition = np.zeros(n_people, dtype=np.int64)

    for sweep in range(sweeps):
        uniform_rows = list(np.stack([generator.random(n_people) for generator in generators], axis=1))
        for person in range(n_people):
            slot = seat[:, person]
            # Scores with everyone where they sit; only the person's own table changes when they stand up.
            removed_score = log_p_given_x.take(keys.take(slot, axis=0) - offset_rows[person]).sum(axis=1)
            removed_score += log_n_minus_1.take(size.take(slot))
            scores = weights @ x_rows[person]
            scores[slot] = removed_score
            if normalise:
                block = scores[1:].reshape(chains, capacity)
                block -= block.max(axis=1, keepdims=True)
            np.exp(scores, out=scores)
            np.add.accumulate(scores, out=scores)
            low = scores.take(segment_start)
            high = scores.take(segment_end)
            chosen = scores.searchsorted(low + uniform_rows[person] * (high - low), side="right")
            chosen_list = chosen.tolist()
            if chosen_list == slot.tolist():
                continue  # nobody moved: the statistics are unchanged
            delta = delta_rows[person]
            leave = keys.take(slot, axis=0)
            leave -= delta
            keys[slot] = leave
            left_size = size.take(slot) - 1
            size[slot] = left_size
            weights[slot, :n_questions] = log_ratio.take(leave)
            weights[slot, n_questions] = log_p0.take(leave).sum(axis=1) + log_n.take(left_size)
            join = keys.take(chosen, axis=0)
            join += delta
            keys[chosen] = join
            joined_size = size.take(chosen) + 1
            size[chosen] = joined_size
            weights[chosen, :n_questions] = log_ratio.take(join)
            weights[chosen, n_questions] = log_p0.take(join).sum(axis=1) + log_n.take(joined_size)
            for chain in range(chains):
                if chosen_list[chain] == new_slot[chain]:
                    # The new-table slot is taken: designate an empty slot of this chain instead.
                    start = int(first_slot[chain])
                    empty = start + int(size[start : start + capacity].argmin())
                    new_slot[chain] = empty
                    weights[empty, n_questions] = new_table_score
            seat[:, person] = chosen

        sizes = size[1:].reshape(chains, capacity)
        occupied = sizes > 0
        table_count = occupied.sum(axis=1)
        tables_trace[:, sweep] = table_count
        p_multiple_trace[:, sweep] = 1.0 - ((sizes / n_people) ** 2).sum(axis=1)
        frequencies = [(sizes == k).sum(axis=1) for k in (1, 2, 3, 4)]
        richness_trace[:, sweep] = chao1_from_frequencies(*frequencies, table_count, n_people)
        likelihood = log_marginal.take(keys[1:]).reshape(chains, -1).sum(axis=1)
        prior = log_gamma_size.take(sizes).sum(axis=1) + table_count * log_concentration + prior_constant
        log_posterior_trace[:, sweep] = prior + likelihood
        if partitions is not None:
            for chain in range(chains):
                partitions[chain, sweep] = _canonical(seat[chain])
        if sweep > burn_in:
            best = int(np.argmax(log_posterior_trace[:, sweep]))
            if log_posterior_trace[best, sweep] > map_value:
                map_value = float(log_posterior_trace[best, sweep])
                map_partition = _canonical(seat[best])

    return CRPResult(
        n_individuals=n_people,
        n_questions=n_questions,
        alpha=float(alpha),
        concentration=float(concentration),
        burn_in=burn_in,
        tables_trace=tables_trace,
        p_multiple_concepts_trace=p_multiple_trace,
        log_posterior_trace=log_posterior_trace,
        richness_trace=richness_trace,
        map_partition=map_partition,
        map_log_posterior=map_value,
        partitions=partitions,
    )


def subsampled_p_multiple_concepts(
    responses: np.ndarray | Sequence[Sequence[int]],
    *,
    sizes: Sequence[int] = PAPER_SIZES,
    sweep: int = 499,
    sweeps: int = 500,
    burn_in: int = 100,
    chains: int = 3,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> SubsampledCRP:
    """The paper's statistic: P(multiple concepts) at ``sweep`` on the first n individuals, n in ``sizes``.

    Murthy, Ullman & Hu (2025) ran the sampler on the first 25, 50, 75 and 100 complete individuals
    (each size capped at the number available) and averaged the sweep-499 values over the sizes;
    ``.mean`` gives that average. Run ``k`` is seeded with ``(seed, k)``. Range and direction as
    :attr:`CRPResult.p_multiple_concepts`.
    """
    x = _as_responses(responses)
    if not sizes or min(sizes) < 1:
        raise ValueError("sizes must be positive")
    used: list[int] = []
    values: list[float] = []
    for index, requested in enumerate(sizes):
        n = min(int(requested), x.shape[0])
        result = run_crp(x[:n], sweeps=sweeps, burn_in=burn_in, chains=chains, alpha=alpha, seed=(seed, index))
        used.append(n)
        values.append(result.single_sweep(sweep))
    return SubsampledCRP(n_people=tuple(used), p_multiple_concepts=tuple(values))
