"""Metrics: pure functions over an unreduced population of answers.

Importing this package is cheap: colour-science is imported only when a colour conversion runs.
"""

from monoculture.metrics._choices import agreement, response_matrix
from monoculture.metrics._concept_bootstrap import (
    BOOTSTRAP_RESAMPLES,
    MIN_BOOTSTRAP_INDIVIDUALS,
    bootstrap_p_multiple_concepts,
)
from monoculture.metrics._colour import ColourAnswer, colour_word_stats, summarize_colour, swatches
from monoculture.metrics._colour_names import (
    BASIC_TERMS,
    ColourName,
    colour_names,
    read_colour_name,
    term_of_chip,
    term_of_lab,
)
from monoculture.metrics._crp import (
    CHAIN_SPREAD_TOLERANCE,
    R_HAT_THRESHOLD,
    START_KINDS,
    CRPResult,
    SubsampledCRP,
    log_posterior,
    p_multiple_concepts,
    run_crp,
    run_crp_many,
    split_r_hat,
    subsampled_p_multiple_concepts,
)
from monoculture.metrics._categorical import (
    CategoricalAnswer,
    entropy_corrected,
    entropy_plugin,
    gini_simpson_unbiased,
    hill_numbers,
    jensen_shannon_distance,
    replicate_disagreement,
    summarize_categorical,
    total_variation,
)
from monoculture.metrics._modes import compare_modes, compare_sampled_modes
from monoculture.metrics._open import (
    DEFAULT_DISTINCT_THRESHOLD,
    between_models_cosine,
    distinct_classes,
    distinct_k,
    mean_pairwise_cosine,
    summarize_open,
    vendi_from_embeddings,
    vendi_score,
)
from monoculture.metrics._null import (
    CONCEPT_NULL_BURN_IN,
    CONCEPT_NULL_PERMUTATIONS,
    CONCEPT_NULL_SWEEPS,
    CONCEPT_NULL_MARGIN,
    diagonal_null,
    null_summary,
    p_multiple_concepts_null,
    permutation_p_value,
    shuffled_columns,
)
from monoculture.metrics._paired import jackknife_interval, jackknife_variance, paired_difference, share_of_people
from monoculture.metrics._richness import chao1_from_frequencies, chao1_richness
from monoculture.metrics._colour_space import delta_e_76, delta_e_2000, hex_to_srgb, srgb_to_hex, srgb_to_lab

__all__ = [
    "agreement",
    "response_matrix",
    "CategoricalAnswer",
    "entropy_corrected",
    "entropy_plugin",
    "gini_simpson_unbiased",
    "hill_numbers",
    "jensen_shannon_distance",
    "replicate_disagreement",
    "summarize_categorical",
    "BOOTSTRAP_RESAMPLES",
    "MIN_BOOTSTRAP_INDIVIDUALS",
    "bootstrap_p_multiple_concepts",
    "CRPResult",
    "ColourAnswer",
    "BASIC_TERMS",
    "ColourName",
    "colour_names",
    "read_colour_name",
    "term_of_chip",
    "term_of_lab",
    "SubsampledCRP",
    "chao1_from_frequencies",
    "chao1_richness",
    "jackknife_interval",
    "jackknife_variance",
    "paired_difference",
    "share_of_people",
    "compare_modes",
    "compare_sampled_modes",
    "diagonal_null",
    "null_summary",
    "p_multiple_concepts_null",
    "CONCEPT_NULL_BURN_IN",
    "CONCEPT_NULL_PERMUTATIONS",
    "CONCEPT_NULL_SWEEPS",
    "CONCEPT_NULL_MARGIN",
    "permutation_p_value",
    "shuffled_columns",
    "log_posterior",
    "p_multiple_concepts",
    "run_crp",
    "run_crp_many",
    "split_r_hat",
    "subsampled_p_multiple_concepts",
    "CHAIN_SPREAD_TOLERANCE",
    "R_HAT_THRESHOLD",
    "START_KINDS",
    "colour_word_stats",
    "delta_e_2000",
    "delta_e_76",
    "hex_to_srgb",
    "srgb_to_hex",
    "srgb_to_lab",
    "summarize_colour",
    "swatches",
    "total_variation",
    # open answers (metrics._open)
    "DEFAULT_DISTINCT_THRESHOLD",
    "between_models_cosine",
    "distinct_classes",
    "distinct_k",
    "mean_pairwise_cosine",
    "summarize_open",
    "vendi_from_embeddings",
    "vendi_score",
]
