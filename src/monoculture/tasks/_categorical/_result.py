"""The typed result of a task whose answers are categories (colour terms, a user's closed or normalised questions).

Its keys are :func:`monoculture.metrics.summarize_categorical`'s; docs/summary-schema.md lists them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from monoculture.tasks._contract import TaskResult

Interval = tuple[float, float] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemStats(_Frozen):
    """One item (a word, a question): disagreement over its complete individuals, distribution over all its
    valid answers (both replicates), and distances to the people's distribution where there is one."""

    item: str
    n_individuals: int
    n_answers: int
    internal_disagreement: float | None
    population_disagreement: float | None
    distance_from_diagonal: float | None
    signed_difference: float | None
    entropy_bits: float | None
    entropy_corrected_bits: float | None
    gini_simpson: float | None
    hill_q0: float | None
    hill_q1: float | None
    hill_q2: float | None
    total_variation_to_human: float | None
    js_distance_to_human: float | None
    # answer -> count (or, for the people given as shares, their weight), most frequent first
    distribution: dict[str, float]
    modal_answer: str | None
    modal_share: float | None


class CategoricalNull(_Frozen):
    """The mean distance from the diagonal with replicate-2 answers shuffled across individuals within each item:
    what a population with the same answer shares but no individual consistency scores."""

    observed: float
    null_mean: float
    null_sd: float
    null_ci: Interval
    excess: float
    p_value: float
    indistinguishable: bool
    permutations: int
    n_items: int


class CategoricalResult(TaskResult):
    """Internal and population disagreement (share of answer pairs that differ) and the answer distributions'
    diversity, means over items with bootstrap intervals over items, beside a homogeneous population's values."""

    population_pairs: str = "upper"
    internal_disagreement: float | None = None
    internal_disagreement_ci: Interval = None
    population_disagreement: float | None = None
    population_disagreement_ci: Interval = None
    distance_from_diagonal: float | None = None
    distance_from_diagonal_ci: Interval = None
    signed_difference: float | None = None
    signed_difference_ci: Interval = None
    entropy_bits: float | None = None
    entropy_corrected_bits: float | None = None
    gini_simpson: float | None = None
    hill_q0: float | None = None
    hill_q1: float | None = None
    hill_q2: float | None = None
    total_variation_to_human: float | None = None
    js_distance_to_human: float | None = None
    n_items_with_human: int = 0
    # What a homogeneous population of the same size scores on each measure (the yardstick beside each figure).
    homogeneous: dict[str, float] = {}
    null: CategoricalNull | None = None
    n_samples: int = 0
    n_valid: int = 0
    valid_fraction: float | None = None
    n_individuals: int = 0
    n_items: int = 0
    n_items_excluded: int = 0
    items: list[ItemStats] = []


def categorical_frontier(result: CategoricalResult | None) -> dict[str, float | None]:
    """A categorical result's frontier measures: Gini-Simpson first (the chance two answers differ, which the
    people's counts give too), then population and internal disagreement, entropy and the distance to the people."""
    if result is None:
        return {}
    return {"gini_simpson": result.gini_simpson, "population_disagreement": result.population_disagreement,
            "internal_disagreement": result.internal_disagreement, "entropy_bits": result.entropy_bits,
            "total_variation_to_human": result.total_variation_to_human}


def categorical_item_measures(result: CategoricalResult | None) -> dict[str, dict[str, float | None]]:
    """Per item: Gini-Simpson first (the people's counts give it too), then disagreement and entropy."""
    if result is None:
        return {}
    return {item.item: {"gini_simpson": item.gini_simpson, "population_disagreement": item.population_disagreement,
                        "internal_disagreement": item.internal_disagreement, "entropy_bits": item.entropy_bits}
            for item in result.items}
