"""Human reference data: where it lives, how to fetch and verify it, and the values computed from it."""

from monoculture.reference._colour import colour_words, human_colour_answers, human_colour_block, human_swatches
from monoculture.reference._concepts import (
    CRPInput,
    HumanConceptChains,
    human_concept_block,
    human_concept_chains,
    read_crp_input,
)
from monoculture.reference._fetch import GITHUB_RAW, fetch, verify
from monoculture.reference._locate import data_file, data_root
from monoculture.reference._manifest import ManifestEntry, manifest

__all__ = [
    "CRPInput",
    "HumanConceptChains",
    "human_concept_block",
    "human_concept_chains",
    "read_crp_input",
    "GITHUB_RAW",
    "ManifestEntry",
    "colour_words",
    "data_file",
    "data_root",
    "fetch",
    "human_colour_answers",
    "human_colour_block",
    "human_swatches",
    "manifest",
    "verify",
]
