"""The concept task's typed result (docs/summary-schema.md, ConceptResult)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from monoculture.tasks._contract import TaskResult

Interval = tuple[float, float] | None


class ConceptNull(BaseModel):
    """P(multiple concepts) of the same individuals with each question's answers shuffled across them (per
    target): what a homogeneous population of the same size and answer shares scores. Pooled: the mean over
    targets of each permutation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    observed: float  # the posterior mean P(multiple concepts) (plug-in) it is compared with
    null_mean: float
    null_sd: float  # spread over permutations
    null_ci: Interval
    excess: float  # observed - null_mean
    p_value: float  # one-sided permutation p-value of the observed value
    indistinguishable: bool  # p >= 0.05: no evidence of more concepts than a homogeneous population shows
    permutations: int


class RHat(BaseModel):
    """Split-R-hat of the CRP chains over the post-burn-in sweeps (null: not a finite number)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p_multiple_concepts: float | None
    tables: float | None


class PooledConcepts(BaseModel):
    """The CRP posterior of one target, or the mean over the targets of a category or of the study."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p_multiple_concepts: float | None  # the paper's plug-in 1 - Σ(n_t/N)², posterior mean
    p_multiple_concepts_ci: Interval  # posterior interval (the sampler's uncertainty, not the individuals')
    tables: float | None
    richness: float | None
    n_individuals: int
    n_complete: int
    # N/(N - 1) times the plug-in: unbiased for the population's 1 - Σπ_t² (compare across sizes with this)
    p_multiple_concepts_unbiased: float | None = None
    p_multiple_concepts_unbiased_ci: Interval = None  # posterior interval
    # Intervals over individuals (a bootstrap of individuals over the posterior partitions); None below 5
    # complete individuals per target, for the humans, and when a pooled target has none.
    p_multiple_concepts_bootstrap_ci: Interval = None
    p_multiple_concepts_unbiased_bootstrap_ci: Interval = None
    null: ConceptNull | None = None  # the homogeneous null; None for the humans (no raw answers)
    n_unconverged_targets: int | None = None  # targets whose CRP chains disagree; None for the humans
    # The humans only: the paper's single sweep 499, mean of the 3 published chains.
    p_multiple_concepts_sweep499: float | None = None
    tables_sweep499: float | None = None


class TargetConcepts(PooledConcepts):
    """One target's numbers, its category and its CRP chains' convergence check."""

    category: str
    converged: bool | None = None  # False: the chains disagree, the values depend on the seed (None: no run)
    r_hat: RHat | None = None
    convergence_problems: list[str] = []


class ModeComparison(BaseModel):
    """How far two elicitation modes' answer distributions are apart on the same prompts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    modes: tuple[str, str]
    model_calls: dict[str, int]
    total_variation: float | None
    total_variation_expected_from_noise: float | None
    n_items: int
    n_samples: int
    # how the noise was simulated: draws from the exact distribution, or a two-sample permutation
    noise: str | None = None
    null_ci: Interval = None  # two sampled modes: the permutation null's 95% interval
    p_value: float | None = None  # two sampled modes: the one-sided permutation p-value


class ConceptResult(TaskResult):
    """P(multiple concepts), tables and richness: posterior means over post-burn-in sweeps and chains,
    averaged over targets (the paper averages over concepts)."""

    p_multiple_concepts: float | None  # the paper's plug-in, posterior mean, averaged over targets
    p_multiple_concepts_ci: Interval  # posterior interval
    p_multiple_concepts_unbiased: float | None  # N/(N - 1) times the plug-in per target: unbiased across sizes
    p_multiple_concepts_unbiased_ci: Interval  # posterior interval
    p_multiple_concepts_bootstrap_ci: Interval = None  # over individuals (see PooledConcepts)
    p_multiple_concepts_unbiased_bootstrap_ci: Interval = None
    null: ConceptNull | None = None
    n_unconverged_targets: int | None = None
    tables: float | None
    richness: float | None
    valid_fraction: float | None
    n_individuals: int
    n_complete: int
    order_consistency: float | None
    by_category: dict[str, PooledConcepts]
    by_target: dict[str, TargetConcepts]
    mode_comparison: ModeComparison | None = None
    p_multiple_concepts_sweep499: float | None = None
    tables_sweep499: float | None = None
