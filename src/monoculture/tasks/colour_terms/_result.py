"""The colour-terms task's typed result (docs/summary-schema.md, ColourTermsResult)."""

from __future__ import annotations

from monoculture.tasks._categorical import CategoricalResult
from monoculture.tasks.colour import ColourResult


class ColourTermsResult(CategoricalResult):
    """The categorical measures over the 11 basic terms, and the same ΔE analysis as the hex task over the names'
    survey colours (so free colour words and hex codes can be compared)."""

    names_delta_e: ColourResult | None = None
    # Exact mode: per word the model's probability of each term, averaged over its distinct prompts.
    exact_distributions: dict[str, dict[str, float]] | None = None
    # Up to 24 replicate-1 names per word, with their colours, for the first few words.
    name_swatches: dict[str, list[tuple[str, str]]] = {}
    words_without_people: list[str] = []
