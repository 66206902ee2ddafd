"""The replication's typed record, written as ``replication.json`` beside the summary (docs/replication-schema.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Interval = tuple[float, float] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplicatedCell(_Frozen):
    """One model × condition × category: both recipes' P(multiple concepts), the paper's own value, the people's."""

    model: str
    family: str
    aligned: bool
    prompt: str  # the paper's: none, identity, random, nonsense
    temperature: str  # the paper's: default, 1.5, 2.0
    condition: str  # monoculture's label of the same condition
    category: Literal["animals", "politicians"]
    # The paper's recipe run here: sweep 499 of one Gibbs chain on the first 25/50/75/100 complete subjects,
    # mean over concepts and the four runs (None: no concept has a complete subject)
    paper_recipe: float | None
    published: float | None  # the compiled ClusteringResults of the paper (None: the paper has no value)
    within_run_to_run_spread: bool | None  # |paper_recipe - published| within the measured spread
    # monoculture's: converged sampler, posterior mean over targets; its unbiased form; interval over individuals
    monoculture: float | None
    monoculture_unbiased: float | None
    monoculture_ci: Interval
    # monoculture's at one population size (Replication.fixed_n): the unbiased estimator's posterior mean on each
    # concept's first fixed_n complete subjects, mean over the concepts that have them (None: none has)
    monoculture_fixed_n: float | None
    concepts_at_fixed_n: int
    homogeneous_null: float | None  # what a homogeneous population of the same size and answer shares scores
    people: float | None  # Martí et al.'s people on the category (post-burn-in mean)
    complete_subjects: int  # subjects with all 36 answers valid, over the category's concepts
    subjects_in_file: int  # subjects with at least one valid answer (those with none are not in the files)
    concepts_with_complete_subjects: int
    valid_fraction: float | None  # of the file (both categories): valid answers among the 36 of its subjects


class RecipeVerdict(_Frozen):
    """One family (or all but llama2, pooled) under one recipe: aligned minus base, paired per condition and
    concept."""

    recipe: Literal["paper", "monoculture", "monoculture_unbiased", "monoculture_fixed_n"]
    difference: float | None  # mean of aligned - base over the pairs
    ci: Interval  # 95% bootstrap over the pairs
    p_value: float | None  # two-sided sign-flip permutation test
    n_pairs: int
    holds: bool | None  # aligned less diverse: the interval lies below 0 and p < 0.05 (None: fewer than 2 pairs)
    # pooled only: the paper's mixed model p ~ aligned + (1 | family) on per model × condition × concept values
    mixed_effect: float | None = None
    mixed_ci: Interval = None
    mixed_p_value: float | None = None


class FamilyVerdict(_Frozen):
    """A base/aligned pair: how it was aligned, and whether the aligned model is less diverse under each recipe."""

    family: str
    base: str
    aligned: str
    method: str  # RLHF, DPO or RLAIF
    recipes: list[RecipeVerdict]
    sentence: str


class Replication(_Frozen):
    """``monoculture replicate murthy2025``: the paper's concept result, with its own recipe and monoculture's."""

    source: str
    files_present: list[str]
    files_missing: list[str]
    run_to_run_spread: float  # the allowed |paper_recipe - published| (benchmarks/replicate_paper.py)
    cells_within_spread: int
    cells_compared: int
    fixed_n: int  # the population size of the recipe monoculture_fixed_n (complete subjects per concept)
    pooled_means: dict[str, dict[str, float | None]]  # recipe -> {"non_aligned", "aligned"} (llama2 included)
    cells: list[ReplicatedCell]
    families: list[FamilyVerdict]
    pooled: list[RecipeVerdict]  # all families but llama2 (the paper's choice: its base has almost no answers)
    pooled_sentence: str
    # monoculture's own family comparison of the imported answers, per condition (summary.json families[].sentences)
    comparison_sentences: list[str]
    seconds: dict[str, float]  # import, paper recipe, fixed N, summary
    notes: list[str]
