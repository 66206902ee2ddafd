"""The concept task's typed result (docs/summary-schema.md, ConceptResult)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from monoculture.tasks._contract import TaskResult

Interval = tuple[float, float] | None


class PooledConcepts(BaseModel):
    """The CRP posterior of one target, or the mean over the targets of a category or of the study."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p_multiple_concepts: float | None
    p_multiple_concepts_ci: Interval
    tables: float | None
    richness: float | None
    n_individuals: int
    n_complete: int
    # The humans only: the paper's single sweep 499, mean of the 3 published chains.
    p_multiple_concepts_sweep499: float | None = None
    tables_sweep499: float | None = None


class TargetConcepts(PooledConcepts):
    """One target's numbers and its category."""

    category: str


class ModeComparison(BaseModel):
    """How far two elicitation modes' answer distributions are apart on the same prompts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    modes: tuple[str, str]
    model_calls: dict[str, int]
    total_variation: float | None
    total_variation_expected_from_noise: float | None
    n_items: int
    n_samples: int


class ConceptResult(TaskResult):
    """P(multiple concepts), tables and richness: posterior means over post-burn-in sweeps and chains,
    averaged over targets (the paper averages over concepts)."""

    p_multiple_concepts: float | None
    p_multiple_concepts_ci: Interval
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
