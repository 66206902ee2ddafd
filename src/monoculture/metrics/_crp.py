"""Latent concepts from forced-choice answers: a Chinese-Restaurant-Process mixture, sampled by collapsed Gibbs
with split-merge moves and tempered replicas, from several starting partitions.

Source: Martí, Wu, Piantadosi & Kidd (2023) "Latent diversity in human concepts" and its re-use by Murthy,
Ullman & Hu (2025); the model is docs/methods.md, section 4. Individuals sit at tables (concepts). A table's
likelihood is, for every question, a Beta(α, α)-Bernoulli marginal; the prior over partitions is a CRP with
concentration 1 (log P = Σ_t log Γ(n_t) − log N!). The exact conditional for seating individual x, with x
removed, at a table t of n_t members of whom y_tq answered 1 to question q is

    ∝ n_t · Π_q p_tq^x_q (1 − p_tq)^(1 − x_q),   p_tq = (y_tq + α) / (n_t + 2α),

and at a new table ∝ concentration · 0.5^Q.

**Moves.** Each sweep re-seats every individual once by that conditional (Gibbs), then makes
``split_merge`` split-merge proposals per chain (Jain & Neal 2004, "A split-merge Markov chain Monte Carlo
procedure for the Dirichlet process mixture model", J. Comput. Graph. Stat. 13:158-182): two individuals i
and j are drawn; S holds the others seated with either of them. A *launch state* splits S ∪ {i, j} into i's
side and j's side without looking at where S sits now: S is allocated one by one in a random order, each
individual to a side by the restricted conditional given those already allocated (the sequential allocation
of Dahl 2005), then ``split_merge_scans`` restricted Gibbs scans follow (Jain & Neal's intermediate scans).
If i and j share a table, one more restricted Gibbs scan proposes the split; otherwise the merge of their two
tables is proposed and that scan is only evaluated, for the probability of producing the current split. The
Metropolis-Hastings ratio (Jain & Neal, eqs. 3.5-3.7) uses that proposal probability, so each proposal
leaves the posterior invariant. A split is attempted only with probability ``split_attempt`` (splits of a big
table cost a pass over it and are mostly refused), a merge always; the two probabilities enter the ratio. A
merge whose ratio fails even with a proposal probability of 1 is refused before its launch state is built.
Single-person Gibbs moves cannot cross between a split and a merged state whose intermediate partitions are
improbable (a homogeneous population held at two tables for thousands of sweeps); split-merge moves can.

**Tempered replicas.** Populations whose answers are close to coin flips have two kinds of partition of
similar posterior mass, one noisy table and many small ones (docs/methods.md, section 4.5), separated by
partitions of much lower mass; no move of one person or one pair of tables crosses that barrier often, and a
17-person concept gave 0.24 to 0.88 across seeds. Each chain therefore carries replicas at powers
``temperatures`` = (1, 0.7, 0.45) of the posterior (replica exchange, "parallel tempering": Swendsen & Wang
1986, Geyer 1991); at a lower power the barrier is lower. After every sweep, neighbouring powers exchange
their partitions with probability min(1, exp((β_a − β_b)(log P_b − log P_a))), which keeps each power's
target invariant; only the replica at power 1 is recorded, and split-merge moves act on it. Replicas cost a
Gibbs pass each (in the chains' compiled pass), so they run through the whole run for at most 60 people, through
the burn-in (to leave metastable partitions) for at most 1,000, and not above.

**Starts.** Chain c starts from ``starts[c % len(starts)]``: ``"alone"`` (everyone at their own table: the
published sampler's start), ``"together"`` (everyone at one table) or ``"kmeans"`` (a k-modes clustering
with ⌈√N⌉ centres, k-means++ seeding and Hamming distance, drawn with the chain's own generator). Chains
that start from opposite ends and still agree after the burn-in are evidence of convergence;
:attr:`CRPResult.converged` checks it (split-R̂ and the spread of the chains' means).

**Cost.** The sampler keeps per-table sufficient statistics (member count, per-question counts of 0s and
1s), looks log-probabilities up in tables of length N + 2, caches each table's scores so that seating a
person costs one dot product of Q + 1 numbers per table, and keeps each replica's tables packed at the front
of its slots so only occupied tables are scored. The moves run compiled (numba,
:mod:`monoculture.metrics._crp_kernels`): the first run on a machine compiles them (about 8 s of CPU) and
caches the machine code on disk, and every later process loads it (0.25 s, plus 0.15 s to import numba).
Memory is linear in people x questions (plus the traces, chains x sweeps; ``keep_partitions`` adds chains x
sweeps x N). A full 500-sweep, 3-chain run on 100 people x 36 questions takes about 0.09 s of one core, 0.7 s
before the moves were compiled (``benchmarks/crp_speed.py``); 20,000 people fit in 0.32 GB, 0.15 GB of it
numba's compiler and the loaded code (``benchmarks/crp_memory.py``). :func:`run_crp_many` samples several
populations of one shape together (the concept task's homogeneous null: 20 shuffled copies of a target),
1.6-3.5x faster than one run after another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from scipy.special import betaln, gammaln

from monoculture.errors import MonocultureError
from monoculture.metrics._richness import chao1_from_frequencies

__all__ = [
    "CHAIN_SPREAD_TOLERANCE",
    "CRPResult",
    "R_HAT_THRESHOLD",
    "START_KINDS",
    "SubsampledCRP",
    "log_posterior",
    "p_multiple_concepts",
    "run_crp",
    "run_crp_many",
    "split_r_hat",
    "subsampled_p_multiple_concepts",
]

DEFAULT_ALPHA = 0.16  # ≈ 88% test-retest agreement (Martí et al. 2023)
PAPER_SIZES = (25, 50, 75, 100)
START_KINDS = ("alone", "together", "kmeans")
DEFAULT_SPLIT_MERGE = 1.0  # split-merge proposals per chain and sweep
DEFAULT_SPLIT_MERGE_SCANS = 0  # intermediate restricted Gibbs scans per proposal
DEFAULT_SPLIT_ATTEMPT = 0.25  # probability of attempting a split when the two people drawn share a table
DEFAULT_TEMPERATURES = (1.0, 0.7, 0.45)  # powers of the posterior of each chain's replicas
FULL_TEMPERING_MAX_PEOPLE = 60  # replicas through the whole run up to this many people
BURN_IN_TEMPERING_MAX_PEOPLE = 1000  # replicas through the burn-in up to this many; none above
# Convergence check (CRPResult.converged). Split-R̂ above 1.1 is the customary sign of chains that have not
# mixed (Gelman et al., Bayesian Data Analysis, 3rd ed., section 11.5). A statistic that barely moves (a
# population at one table with rare excursions) has a tiny within-chain variance, so R̂ flags differences
# nobody would read; below these absolute differences between chain means R̂ is not consulted.
R_HAT_THRESHOLD = 1.1
NEGLIGIBLE_SPREAD = {"p_multiple_concepts": 0.01, "tables": 0.25}
# Chain means of P(multiple concepts) further apart than this fail the check whatever R̂ says.
CHAIN_SPREAD_TOLERANCE = 0.05
# exp() of a score below about -745 underflows to 0; scores are bounded, so normalising by the
# per-chain maximum is needed only when the bound comes near that.
_SAFE_LOG_RANGE = 600.0


def split_r_hat(draws: np.ndarray) -> float:
    """Split-R̂ of one statistic's draws, shape ``(chains, draws)`` (Gelman et al., BDA3, section 11.4).

    Each chain is cut into two halves (the middle draw dropped when the count is odd), and R̂ =
    √(((n − 1)/n · W + B/n) / W) with W the mean within-half variance and B/n the variance of the half
    means, n draws per half. 1 = the halves agree; above :data:`R_HAT_THRESHOLD` (1.1) they disagree
    beyond their own spread. Constant draws: 1.0 when every half holds the same value, ``inf`` when halves
    are constant at different values. ``nan`` with fewer than 4 draws per chain.
    """
    values = np.asarray(draws, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"draws must have shape (chains, draws), got {values.shape}")
    half = values.shape[1] // 2
    if half < 2:
        return float("nan")
    halves = np.concatenate([values[:, :half], values[:, -half:]])
    means = halves.mean(axis=1)
    within = float(halves.var(axis=1, ddof=1).mean())
    between = float(means.var(ddof=1))  # B / n
    negligible = 1e-24 * max(1.0, float(np.abs(values).max())) ** 2  # rounding, not spread
    if within <= negligible:
        return 1.0 if between <= negligible else float("inf")
    return float(math.sqrt(((half - 1) / half * within + between) / within))


@dataclass(frozen=True, eq=False)
class CRPResult:
    """Per-sweep traces of every chain, their posterior summaries and convergence diagnostics.

    Traces have shape ``(chains, sweeps)``; index ``s`` is the state after ``s + 1`` full sweeps, so
    index 499 of a 500-sweep run is the published "Iteration 499". Post-burn-in means sweeps with index
    greater than ``burn_in`` (101-499 for the default run), as in the published sampler.
    ``map_partition`` labels each individual's table (numbered by first appearance) in the sample with
    the highest log posterior after burn-in, over all chains. ``partitions`` holds every sampled
    partition, shape ``(chains, sweeps, N)``, when the run was asked to keep them. ``starts`` names each
    chain's starting partition; ``split_merge_proposed`` / ``split_merge_accepted`` count each chain's
    split-merge proposals and acceptances over the whole run (zeros when split-merge moves were off);
    ``temperatures`` is the ladder of posterior powers of each chain's replicas, run through the first
    ``tempered_sweeps`` sweeps (0: no replicas), and ``swaps_proposed`` / ``swaps_accepted`` count each
    chain's replica exchanges. Traces, summaries and diagnostics are of the replicas at power 1 only.
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
    starts: tuple[str, ...] = ()
    split_merge_proposed: np.ndarray | None = None
    split_merge_accepted: np.ndarray | None = None
    temperatures: tuple[float, ...] = (1.0,)
    tempered_sweeps: int = 0
    swaps_proposed: np.ndarray | None = None
    swaps_accepted: np.ndarray | None = None

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

    # --- per-chain summaries and convergence ---------------------------------------------------------

    @property
    def chain_p_multiple_concepts(self) -> np.ndarray:
        """Each chain's post-burn-in mean of P(multiple concepts), shape ``(chains,)``."""
        return self.p_multiple_concepts_trace[:, self.post_burn_in].mean(axis=1)

    @property
    def chain_tables(self) -> np.ndarray:
        """Each chain's post-burn-in mean number of tables, shape ``(chains,)``."""
        return self.tables_trace[:, self.post_burn_in].mean(axis=1)

    @property
    def chain_final_log_posterior(self) -> np.ndarray:
        """Each chain's log posterior (up to a constant shared by all chains) at the last sweep."""
        return self.log_posterior_trace[:, -1].copy()

    @property
    def chain_mean_log_posterior(self) -> np.ndarray:
        """Each chain's post-burn-in mean log posterior: a chain well below the others sits in a worse mode."""
        return self.log_posterior_trace[:, self.post_burn_in].mean(axis=1)

    @property
    def r_hat_p_multiple_concepts(self) -> float:
        """Split-R̂ of P(multiple concepts) over the post-burn-in sweeps (:func:`split_r_hat`)."""
        return split_r_hat(self.p_multiple_concepts_trace[:, self.post_burn_in])

    @property
    def r_hat_tables(self) -> float:
        """Split-R̂ of the number of tables over the post-burn-in sweeps (:func:`split_r_hat`)."""
        return split_r_hat(self.tables_trace[:, self.post_burn_in])

    @property
    def convergence_problems(self) -> tuple[str, ...]:
        """Why the chains disagree, one sentence each; empty when :attr:`converged`.

        A statistic (P(multiple concepts), tables) fails when its split-R̂ exceeds :data:`R_HAT_THRESHOLD`
        while its chain means differ by more than a negligible amount (0.01 for P(multiple concepts),
        0.25 tables); P(multiple concepts) also fails when its chain means are further apart than
        :data:`CHAIN_SPREAD_TOLERANCE` (0.05), whatever R̂ says.
        """
        problems = []
        checks = (("p_multiple_concepts", "P(multiple concepts)", self.r_hat_p_multiple_concepts,
                   self.chain_p_multiple_concepts),
                  ("tables", "tables", self.r_hat_tables, self.chain_tables))
        for key, label, r_hat, means in checks:
            spread = float(means.max() - means.min())
            if (not r_hat <= R_HAT_THRESHOLD) and spread > NEGLIGIBLE_SPREAD[key]:
                problems.append(f"{label}: split-R-hat {r_hat:.2f} > {R_HAT_THRESHOLD} "
                                f"(chain means {', '.join(f'{value:.3f}' for value in means)})")
        spread = float(self.chain_p_multiple_concepts.max() - self.chain_p_multiple_concepts.min())
        if spread > CHAIN_SPREAD_TOLERANCE:
            problems.append(f"P(multiple concepts): chain means {spread:.3f} apart > {CHAIN_SPREAD_TOLERANCE}")
        return tuple(problems)

    @property
    def converged(self) -> bool:
        """True when the chains agree (no :attr:`convergence_problems`); False = do not trust the means yet:
        run more sweeps and check again."""
        return not self.convergence_problems


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
    # C order whatever the caller's: a Fortran-ordered array would compile the kernels a second time.
    return np.ascontiguousarray(x, dtype=np.int64)


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


def _kmeans_start(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A k-modes partition: ⌈√N⌉ centres by k-means++ seeding, Hamming distance, majority-vote centres.

    Labels are numbered by first appearance; empty clusters vanish, so there can be fewer than ⌈√N⌉.
    """
    n = x.shape[0]
    k = min(n, math.ceil(math.sqrt(n)))
    xf = x.astype(float)

    def distances(centres: np.ndarray) -> np.ndarray:  # Hamming distance of every person to every centre
        return xf @ (1.0 - centres).T + (1.0 - xf) @ centres.T

    centres = [xf[int(rng.integers(n))]]
    nearest = distances(centres[0][None, :])[:, 0]
    for _ in range(1, k):
        total = nearest.sum()
        if total <= 0:
            break  # everyone already coincides with a centre
        centre = xf[int(rng.choice(n, p=nearest / total))]
        centres.append(centre)
        nearest = np.minimum(nearest, distances(centre[None, :])[:, 0])
    grid = np.array(centres)
    labels = distances(grid).argmin(axis=1)
    for _ in range(20):
        counts = np.bincount(labels, minlength=grid.shape[0]).astype(float)
        ones = np.zeros_like(grid)
        np.add.at(ones, labels, xf)
        occupied = counts > 0
        majority = np.where(2 * ones > counts[:, None], 1.0, np.where(2 * ones < counts[:, None], 0.0, grid))
        grid = np.where(occupied[:, None], majority, grid)
        updated = distances(grid).argmin(axis=1)
        if np.array_equal(updated, labels):
            break
        labels = updated
    return _canonical(labels)


def _compiled_kernels() -> ModuleType:
    """The sampler's compiled loops. numba is imported here, by runs only: it takes about 0.3 s, and importing
    monoculture.metrics stays cheap."""
    try:
        from monoculture.metrics import _crp_kernels
    except RuntimeError as error:  # numba raises this while decorating, before anything is compiled
        if "no locator available" not in str(error):
            raise
        raise MonocultureError("the CRP sampler has nowhere to cache its compiled code: neither the installed "
                               "package nor the user cache folder can be written; set NUMBA_CACHE_DIR to a "
                               "writable folder") from error
    return _crp_kernels


def compile_crp_kernels() -> None:
    """Compile the sampler's loops and keep them in numba's disk cache, as an install step does: the first run
    that fits concepts then loads them in a fraction of a second instead of compiling for 8-19 s of CPU, and
    processes that start at once (test workers, a spawned summary worker) do not each compile them. A small
    population through every move (Gibbs, split-merge with restricted scans, tempered replicas and their
    exchange, each start), kept partitions included, reaches every compiled signature a run uses."""
    x = np.array([[0, 1, 1], [1, 0, 1], [0, 0, 0], [1, 1, 0]])
    run_crp(x, sweeps=4, burn_in=1, seed=0, keep_partitions=True, split_merge_scans=1, split_attempt=0.5)
    run_crp_many([x, x[::-1]], seeds=[0, 1], sweeps=4, burn_in=1, chains=1)


class _Sampler:
    """The state of every replica and the moves on it.

    A replica is one Markov chain on partitions; each chain of the run is a ladder of replicas at the
    powers ``beta`` of the posterior (1 = the posterior itself). Tables live in slots; slot s of replica r
    is row ``s * replicas + r`` of the per-table arrays, so the first ``(K_max + 1) * replicas`` rows hold
    every replica's occupied tables plus its one empty "new table" slot (replica r keeps its K_r tables in
    slots 0..K_r − 1 and the new-table slot at K_r). Per row: ``counts`` = per-question numbers of members
    who answered 0 (first Q columns) and 1 (last Q); ``weights`` · [x, 1] = the log score of seating answer
    vector x there at power 1 (log n_t + Σ_q log p); ``removed`` · [x, 1] = the same for a member x scored
    with x taken out (log (n_t − 1) + ..., and the new-table score for a table of one). A replica at power
    β scores β times these. Every lookup table has N + 2 entries: memory is linear in people x questions.

    ``x`` is one population's (N, Q) answers, shared by every replica, or several populations of one shape,
    (P, N, Q), with replica r sampling population ``population[r]`` (:func:`run_crp_many`: one compiled pass
    over the people re-seats the replicas of many small runs).

    The moves run compiled (:mod:`monoculture.metrics._crp_kernels`) on ``state``, which holds these arrays;
    this class draws their random numbers and summarises the state with numpy.
    """

    def __init__(self, x: np.ndarray, replicas: int, alpha: float, concentration: float,
                 beta: np.ndarray, population: np.ndarray | None = None) -> None:
        kernels = _compiled_kernels()
        populations = (x[None] if x.ndim == 2 else x).astype(np.int64)
        _, n, q = populations.shape
        self.n, self.q, self.replicas = n, q, replicas
        self.kernels = kernels
        counts_axis = np.arange(n + 2, dtype=float)
        # log(m + α) of a count m; log(m − 1 + α) of a count m that includes the person scored (0 for m = 0,
        # a placeholder: a member's own answer is counted, so m ≥ 1 where it is used).
        log_a = np.log(counts_axis + alpha)
        log_a_less = np.where(counts_axis >= 1, np.log(np.maximum(counts_axis - 1 + alpha, alpha)), 0.0)
        log_den = np.log(counts_axis + 2 * alpha)
        with np.errstate(divide="ignore"):
            log_size = np.log(counts_axis)  # log 0 = -inf: an empty slot never wins
        log_size_less = log_size.copy()
        log_size_less[0] = math.log(concentration)  # a person alone: their table is the new table
        # The count-free parts of a row's score by table size: of seating someone new, and of a member.
        less = np.maximum(counts_axis - 1, 0).astype(np.int64)
        log_concentration = math.log(concentration)
        new_table_score = log_concentration + q * math.log(0.5)
        # The score of a replica's new-table slot at power 1, indexed by the size of the person's own table:
        # a person alone already has the new-table option at their own table, so the slot is switched off.
        new_slot_value = np.full(n + 2, new_table_score)
        new_slot_value[1] = -np.inf
        worst = q * math.log((n + 2 * alpha) / alpha) + abs(log_concentration) + math.log(n + 1)
        self.lookup = kernels.Lookup(
            log_a=log_a,
            log_a_less=log_a_less,
            log_den=log_den,
            log_size=log_size,
            size_term=log_size - q * log_den,
            less_term=np.where(counts_axis >= 1, log_size_less[less] - q * log_den[less], 0.0),
            new_slot_value=new_slot_value,
            lgamma_a=gammaln(counts_axis + alpha),
            lgamma_den=gammaln(counts_axis + 2 * alpha),
            lgamma_size=np.where(counts_axis > 0, gammaln(np.maximum(counts_axis, 1)), 0.0),
            new_table_score=new_table_score,
            log_concentration=log_concentration,
            log_beta_aa=float(betaln(alpha, alpha)),
            normalise=bool(worst > _SAFE_LOG_RANGE),
        )
        self.prior_constant = float(gammaln(concentration) - gammaln(concentration + n))

        rows = (n + 1) * replicas
        weights = np.zeros((rows, q + 1))
        weights[:, q] = -np.inf
        self.state = kernels.Restaurant(
            counts=np.zeros((rows, 2 * q), dtype=np.int64),
            size=np.zeros(rows, dtype=np.int64),
            weights=weights,
            removed=np.zeros((rows, q + 1)),
            seat=np.zeros((n, replicas), dtype=np.int64),
            tables=np.zeros(replicas, dtype=np.int64),
            beta=np.asarray(beta, dtype=float).copy(),
            population=(np.zeros(replicas, dtype=np.int64) if population is None
                        else np.asarray(population, dtype=np.int64).copy()),
            answers=populations,
            columns=np.arange(q) + q * populations,
        )

    # --- state -----------------------------------------------------------------------------------------

    def place(self, replica: int, labels: np.ndarray) -> None:
        """Seat ``replica`` by ``labels`` (tables numbered 0..K − 1)."""
        self.kernels.place(self.state, self.lookup, replica, np.ascontiguousarray(labels, dtype=np.int64))

    def swap(self, first: int, second: int) -> None:
        """Exchange the powers of two replicas (replica exchange: the states stay, the targets move)."""
        beta = self.state.beta
        beta[first], beta[second] = beta[second], beta[first]

    # --- moves ------------------------------------------------------------------------------------------

    def gibbs_sweep(self, uniforms: np.ndarray) -> None:
        """Re-seat every person once in every replica; ``uniforms`` has shape (N, replicas)."""
        self.kernels.gibbs_sweep(self.state, self.lookup, np.ascontiguousarray(uniforms, dtype=float))

    def split_merge(self, replica: int, rng: np.random.Generator, scans: int, split_attempt: float) -> bool:
        """One Jain-Neal split-merge proposal in ``replica``; True if accepted (see the module docstring)."""
        n, state = self.n, self.state
        seat = state.seat[:, replica]
        pick_i, pick_j, accept_draw, attempt_draw = rng.random(4).tolist()
        i = int(pick_i * n)
        j = int(pick_j * (n - 1))
        j += j >= i  # two distinct people, uniformly
        row_i, row_j = int(seat[i]), int(seat[j])
        same = row_i == row_j
        log_accept = math.log(max(accept_draw, 1e-300))
        # Splits are attempted with probability ``split_attempt``, merges always: the move-type probabilities
        # enter the Metropolis-Hastings ratio (a split's is divided by it, a merge's multiplied).
        log_attempt = math.log(split_attempt)
        if same and attempt_draw >= split_attempt:
            return False
        if not same:
            # A merge's acceptance is q(current split | launch) · attempt · P(merged)/P(split), and q ≤ 1: when
            # attempt · P(merged)/P(split) already fails, the proposal is rejected without a launch state.
            gain = float(state.beta[replica]) * self.kernels.split_gain(
                state.counts[row_i], state.counts[row_j], int(state.size[row_i]), int(state.size[row_j]),
                self.lookup)
            if log_accept >= log_attempt - gain:
                return False
        together = (seat == row_i) if same else (seat == row_i) | (seat == row_j)
        together[i] = together[j] = False
        members = rng.permutation(np.flatnonzero(together))
        draws = rng.random(len(members) * (scans + 2))
        return bool(self.kernels.split_merge(state, self.lookup, replica, i, j, members, draws, scans, log_accept,
                                             log_attempt))

    # --- summaries --------------------------------------------------------------------------------------

    def record(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Tables, P(multiple concepts), richness and log posterior (power 1) of every replica now."""
        replicas, q, n = self.replicas, self.q, self.n
        state, lookup = self.state, self.lookup
        active = (int(state.tables.max()) + 1) * replicas
        sizes = state.size[:active].reshape(-1, replicas)
        table_count = state.tables.copy()
        p_multiple = 1.0 - (sizes * sizes).sum(axis=0) / float(n * n)  # integers first: exact for equal partitions
        frequencies = [(sizes == k).sum(axis=0) for k in (1, 2, 3, 4)]
        richness = np.atleast_1d(chao1_from_frequencies(*frequencies, table_count, n))
        occupied = state.size[:active] > 0
        marginal = (lookup.lgamma_a.take(state.counts[:active]).sum(axis=1)
                    - q * (lookup.lgamma_den.take(state.size[:active]) + lookup.log_beta_aa))
        likelihood = np.where(occupied, marginal, 0.0).reshape(-1, replicas).sum(axis=0)
        prior = (lookup.lgamma_size.take(sizes).sum(axis=0) + table_count * lookup.log_concentration
                 + self.prior_constant)
        return table_count, p_multiple, richness, prior + likelihood

    def labels(self, replica: int) -> np.ndarray:
        """Replica ``replica``'s partition, tables numbered by first appearance."""
        return self.kernels.canonical(np.ascontiguousarray(self.state.seat[:, replica]))


def default_tempered_sweeps(n_people: int, sweeps: int, burn_in: int) -> int:
    """How many of the first sweeps run the tempered replicas by default (see the module docstring)."""
    if n_people <= FULL_TEMPERING_MAX_PEOPLE:
        return sweeps
    if n_people <= BURN_IN_TEMPERING_MAX_PEOPLE:
        return min(sweeps, burn_in + 1)
    return 0


def _start_labels(kind: str, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if kind == "alone":
        return np.arange(x.shape[0])
    if kind == "together":
        return np.zeros(x.shape[0], dtype=np.int64)
    return _kmeans_start(x, rng)


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
    split_merge: float = DEFAULT_SPLIT_MERGE,
    split_merge_scans: int = DEFAULT_SPLIT_MERGE_SCANS,
    split_attempt: float = DEFAULT_SPLIT_ATTEMPT,
    starts: Sequence[str] = START_KINDS,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    tempered_sweeps: int | None = None,
) -> CRPResult:
    """Sample the CRP mixture over individuals' 0/1 answer vectors (see the module docstring for the moves).

    ``responses``: (N individuals, Q questions) array of 0/1. Each sweep re-seats every individual once
    (Gibbs), then makes ``split_merge`` split-merge proposals per chain (a fraction: one every 1/rate
    sweeps), each with ``split_merge_scans`` intermediate restricted Gibbs scans, a split being attempted
    with probability ``split_attempt`` when the two people drawn share a table (``split_merge=0``: Gibbs
    moves only, as the published sampler). Each chain carries a replica per power in ``temperatures``
    (first 1.0, the posterior) through the first ``tempered_sweeps`` sweeps, with a replica-exchange step
    after every sweep; the default is every sweep for at most 60 people, the burn-in for at most 1,000, none
    above. ``temperatures=(1.0,)`` or ``tempered_sweeps=0`` turns replicas off. Chain ``c`` starts from
    ``starts[c % len(starts)]`` (``"alone"``, ``"together"``, ``"kmeans"``); its replica at rung r draws from
    ``numpy.random.default_rng([*seed, c])`` (r = 0) or ``([*seed, c, r])``, so a chain's draws do not depend
    on how many chains run beside it. Post-burn-in sweeps are those with index > ``burn_in``.
    ``keep_partitions`` stores every sampled partition (memory chains × sweeps × N integers); nothing else
    grows faster than people x questions.
    """
    x = _as_responses(responses)
    return _run(x, [_seed_entropy(seed)], sweeps=sweeps, burn_in=burn_in, chains=chains, alpha=alpha,
                concentration=concentration, keep_partitions=keep_partitions, split_merge=split_merge,
                split_merge_scans=split_merge_scans, split_attempt=split_attempt, starts=starts,
                temperatures=temperatures, tempered_sweeps=tempered_sweeps)[0]


def run_crp_many(
    populations: np.ndarray | Sequence[np.ndarray],
    *,
    seeds: Sequence[int | Sequence[int]],
    sweeps: int = 500,
    burn_in: int = 100,
    chains: int = 3,
    alpha: float = DEFAULT_ALPHA,
    concentration: float = 1.0,
    keep_partitions: bool = False,
    split_merge: float = DEFAULT_SPLIT_MERGE,
    split_merge_scans: int = DEFAULT_SPLIT_MERGE_SCANS,
    split_attempt: float = DEFAULT_SPLIT_ATTEMPT,
    starts: Sequence[str] = START_KINDS,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    tempered_sweeps: int | None = None,
) -> list[CRPResult]:
    """:func:`run_crp` on several populations of the same shape at once, one result each.

    ``populations``: (P, N, Q) 0/1 answers (or a sequence of P equal-shaped (N, Q) arrays); ``seeds``: one
    seed per population. Population p's chains draw exactly the random numbers ``run_crp(populations[p],
    seed=seeds[p])`` would draw, so each result samples the same posterior with the same moves; only the
    rounding of a log posterior may differ in the last bits (measured: identical traces). The point is speed:
    every replica of every population is re-seated in one compiled pass over the people, and the per-sweep
    bookkeeping in Python is paid once (20 shuffled populations, 1 chain each, 500 sweeps: 1.6-3.5x faster
    than 20 calls of :func:`run_crp` at 10-100 people; ``benchmarks/crp_null.py``). Used for the homogeneous
    null (:func:`monoculture.metrics.p_multiple_concepts_null`).
    """
    if len(populations) == 0:
        raise ValueError("populations must hold at least one population")
    stacked = np.stack([_as_responses(population) for population in populations])
    if len(seeds) != stacked.shape[0]:
        raise ValueError(f"got {len(seeds)} seeds for {stacked.shape[0]} populations")
    return _run(stacked, [_seed_entropy(seed) for seed in seeds], sweeps=sweeps, burn_in=burn_in, chains=chains,
                alpha=alpha, concentration=concentration, keep_partitions=keep_partitions, split_merge=split_merge,
                split_merge_scans=split_merge_scans, split_attempt=split_attempt, starts=starts,
                temperatures=temperatures, tempered_sweeps=tempered_sweeps)


def _run(
    x: np.ndarray,
    entropies: list[list[int]],
    *,
    sweeps: int,
    burn_in: int,
    chains: int,
    alpha: float,
    concentration: float,
    keep_partitions: bool,
    split_merge: float,
    split_merge_scans: int,
    split_attempt: float,
    starts: Sequence[str],
    temperatures: Sequence[float],
    tempered_sweeps: int | None,
) -> list[CRPResult]:
    """The sampler on one population (``x`` (N, Q)) or several ((P, N, Q), ``entropies[p]`` seeding population
    p). Chain g = p · chains + c is population p's chain c; replica ``rung · total chains + g`` its replica at
    rung ``rung``, drawing from ``default_rng([*entropies[p], c])`` (rung 0) or ``([*entropies[p], c, rung])``.
    """
    if sweeps < 1 or chains < 1 or burn_in < 0:
        raise ValueError("sweeps and chains must be at least 1 and burn_in non-negative")
    if burn_in + 1 >= sweeps:
        raise ValueError(f"burn_in {burn_in} leaves no post-burn-in sweeps out of {sweeps}")
    if not (math.isfinite(alpha) and alpha > 0 and math.isfinite(concentration) and concentration > 0):
        raise ValueError("alpha and concentration must be positive and finite")
    if not (math.isfinite(split_merge) and split_merge >= 0) or split_merge_scans < 0:
        raise ValueError("split_merge and split_merge_scans must be non-negative")
    if not 0.0 < split_attempt <= 1.0:
        raise ValueError(f"split_attempt must lie in (0, 1], got {split_attempt}")
    starts = tuple(starts)
    if not starts or any(start not in START_KINDS for start in starts):
        raise ValueError(f"starts must name some of {', '.join(START_KINDS)}, got {starts!r}")
    ladder = tuple(float(value) for value in temperatures)
    if not ladder or ladder[0] != 1.0 or any(not 0.0 < value < 1.0 for value in ladder[1:]):
        raise ValueError(f"temperatures must be 1.0 followed by powers in (0, 1), got {ladder!r}")

    shared = x.ndim == 2
    n_populations = 1 if shared else x.shape[0]
    n_people, n_questions = x.shape[-2:]
    tempering = default_tempered_sweeps(n_people, sweeps, burn_in) if tempered_sweeps is None else tempered_sweeps
    if tempering < 0:
        raise ValueError("tempered_sweeps must be non-negative")
    if tempering == 0:
        ladder = (1.0,)
    rungs = len(ladder)
    per_population = chains
    chains = n_populations * per_population  # from here on: every population's chains, population by population
    population_of_chain = np.repeat(np.arange(n_populations), per_population)
    replicas = chains * rungs  # replica r * chains + c: chain c's replica that starts at rung r

    def answers(chain: int) -> np.ndarray:
        return x if shared else x[population_of_chain[chain]]

    sampler = _Sampler(x, replicas, float(alpha), float(concentration), beta=np.repeat(np.array(ladder), chains),
                       population=np.tile(population_of_chain, rungs))
    generators = []
    for index in range(replicas):
        chain, rung = index % chains, index // chains
        entropy, own = entropies[population_of_chain[chain]], chain % per_population
        generators.append(np.random.default_rng([*entropy, own] if rung == 0 else [*entropy, own, rung]))
    chain_starts = tuple(starts[chain % per_population % len(starts)] for chain in range(chains))
    for index, generator in enumerate(generators):
        sampler.place(index, _start_labels(chain_starts[index % chains], answers(index % chains), generator))
    rate = float(split_merge) if n_people >= 2 else 0.0
    holder = [[rung * chains + chain for rung in range(rungs)] for chain in range(chains)]  # replica per rung

    tables_trace = np.zeros((chains, sweeps), dtype=np.int64)
    p_multiple_trace = np.zeros((chains, sweeps))
    log_posterior_trace = np.zeros((chains, sweeps))
    richness_trace = np.zeros((chains, sweeps))
    partitions = np.zeros((chains, sweeps, n_people), dtype=np.int64) if keep_partitions else None
    proposed = np.zeros(chains, dtype=np.int64)
    accepted = np.zeros(chains, dtype=np.int64)
    swaps_proposed = np.zeros(chains, dtype=np.int64)
    swaps_accepted = np.zeros(chains, dtype=np.int64)
    map_value = np.full(n_populations, -np.inf)
    map_partition = np.zeros((n_populations, n_people), dtype=np.int64)
    population_chains = [np.arange(p * per_population, (p + 1) * per_population) for p in range(n_populations)]

    for sweep in range(sweeps):
        if rungs > 1 and sweep == tempering:
            # The tempered replicas have done their work: carry on with each chain's replica at power 1 only.
            cold = [holder[chain][0] for chain in range(chains)]
            labels = [sampler.labels(replica) for replica in cold]
            generators = [generators[replica] for replica in cold]
            rungs, holder = 1, [[chain] for chain in range(chains)]
            sampler = _Sampler(x, chains, float(alpha), float(concentration), beta=np.ones(chains),
                               population=population_of_chain)
            for chain in range(chains):
                sampler.place(chain, labels[chain])
        sampler.gibbs_sweep(np.stack([generator.random(n_people) for generator in generators], axis=1))
        moves = math.floor((sweep + 1) * rate + 1e-9) - math.floor(sweep * rate + 1e-9)
        for chain in range(chains):
            cold = holder[chain][0]
            for _ in range(moves):
                accepted[chain] += sampler.split_merge(cold, generators[cold], split_merge_scans, split_attempt)
            proposed[chain] += moves
        tables, p_multiple, richness, log_post = sampler.record()
        for chain in range(chains):
            rng = generators[holder[chain][0]]
            for rung in range(rungs - 1):
                low, high = holder[chain][rung], holder[chain][rung + 1]
                log_swap = (ladder[rung] - ladder[rung + 1]) * (log_post[high] - log_post[low])
                swaps_proposed[chain] += 1
                if log_swap >= 0 or rng.random() < math.exp(log_swap):
                    holder[chain][rung], holder[chain][rung + 1] = high, low
                    sampler.swap(low, high)
                    swaps_accepted[chain] += 1
        cold = [holder[chain][0] for chain in range(chains)]
        tables_trace[:, sweep] = tables[cold]
        p_multiple_trace[:, sweep] = p_multiple[cold]
        richness_trace[:, sweep] = richness[cold]
        log_posterior_trace[:, sweep] = log_post[cold]
        if partitions is not None:
            for chain in range(chains):
                partitions[chain, sweep] = sampler.labels(cold[chain])
        if sweep > burn_in:
            # Each population's best chain now (the first of equals), all populations at once: a loop over 40
            # populations took 0.07 ms a sweep, a sixth of their compiled Gibbs sweep.
            by_population = log_post[cold].reshape(n_populations, per_population)
            best = by_population.argmax(axis=1)
            best_value = by_population[np.arange(n_populations), best]
            for population in np.flatnonzero(best_value > map_value).tolist():
                map_value[population] = float(best_value[population])
                map_partition[population] = sampler.labels(cold[population * per_population + best[population]])

    return [
        CRPResult(
            n_individuals=n_people,
            n_questions=n_questions,
            alpha=float(alpha),
            concentration=float(concentration),
            burn_in=burn_in,
            tables_trace=tables_trace[members],
            p_multiple_concepts_trace=p_multiple_trace[members],
            log_posterior_trace=log_posterior_trace[members],
            richness_trace=richness_trace[members],
            map_partition=map_partition[population],
            map_log_posterior=float(map_value[population]),
            partitions=None if partitions is None else partitions[members],
            starts=chain_starts[: per_population],
            split_merge_proposed=proposed[members],
            split_merge_accepted=accepted[members],
            temperatures=ladder,
            tempered_sweeps=min(tempering, sweeps) if len(ladder) > 1 else 0,
            swaps_proposed=swaps_proposed[members],
            swaps_accepted=swaps_accepted[members],
        )
        for population, members in enumerate(population_chains)
    ]


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
