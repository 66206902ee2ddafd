"""The colour task's typed result (docs/summary-schema.md, ColourResult)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from monoculture.tasks._contract import TaskResult

Interval = tuple[float, float] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WordStats(_Frozen):
    """One word: its complete individuals and ΔE76 numbers (None with fewer than 2 complete individuals)."""

    word: str
    word_type: str
    n_individuals: int
    internal_delta_e: float | None
    population_delta_e: float | None
    distance_from_diagonal: float | None
    signed_difference: float | None


class DeltaEMeans(_Frozen):
    """Means over words of one group (a word type, or all words under CIEDE2000)."""

    internal_delta_e: float | None
    population_delta_e: float | None
    distance_from_diagonal: float | None
    n_words: int | None = None


class Range(_Frozen):
    """The fewest and most complete individuals of any word."""

    min: int
    max: int


class DiagonalNull(_Frozen):
    """The distance from the diagonal of the same population with its replicate-2 answers shuffled across
    individuals within each word: what a homogeneous population of the same size and answers scores."""

    observed: float
    null_mean: float
    null_sd: float
    null_ci: Interval
    excess: float  # observed - null_mean
    p_value: float  # one-sided permutation p-value of the observed distance
    indistinguishable: bool  # p >= 0.05: no evidence of individuals more consistent than the population
    permutations: int
    n_words: int


class ColourResult(TaskResult):
    """Internal vs population ΔE76 (CIELAB, D65), means over words with bootstrap intervals over words."""

    internal_delta_e: float | None
    internal_delta_e_ci: Interval
    population_delta_e: float | None
    population_delta_e_ci: Interval
    distance_from_diagonal: float | None
    distance_from_diagonal_ci: Interval
    signed_difference: float | None
    signed_difference_ci: Interval
    population_pairs: str
    valid_fraction: float | None
    n_samples: int
    n_valid: int
    n_individuals: int
    n_words: int
    n_words_excluded: int
    n_per_word: Range
    by_word_type: dict[str, DeltaEMeans]
    ciede2000: DeltaEMeans
    null: DiagonalNull | None = None  # None: no word with 2 complete individuals, or too many for the null
    words: list[WordStats]
    # Up to 24 replicate-1 answers per word for the first few words, for the report's swatches.
    swatches: dict[str, list[str]] = {}
