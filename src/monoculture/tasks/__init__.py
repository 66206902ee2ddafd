"""Behavioural tasks: what individuals are asked and how their answers are read."""

from monoculture.tasks._base import ParsedAnswer, Prompt, Task
from monoculture.tasks._colour import COLOUR_PROMPT, ColourTask, parse_hex
from monoculture.tasks._concepts import (
    ANIMALS,
    CATEGORIES,
    POLITICIANS,
    PROMPT_VERSIONS,
    TARGETS,
    ConceptAnswer,
    ConceptTask,
    assign_targets,
    category_of,
    concept_prompt,
    order_consistency,
    pair_items,
    response_vectors,
    summarize_concepts,
)
from monoculture.tasks._render import CONTEXT_PLACEMENTS, RenderedPrompt, render

__all__ = [
    "ANIMALS",
    "CATEGORIES",
    "COLOUR_PROMPT",
    "CONTEXT_PLACEMENTS",
    "POLITICIANS",
    "PROMPT_VERSIONS",
    "TARGETS",
    "ColourTask",
    "ConceptAnswer",
    "ConceptTask",
    "ParsedAnswer",
    "Prompt",
    "RenderedPrompt",
    "Task",
    "assign_targets",
    "category_of",
    "concept_prompt",
    "order_consistency",
    "pair_items",
    "parse_hex",
    "render",
    "response_vectors",
    "summarize_concepts",
]
