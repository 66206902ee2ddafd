"""Behavioural tasks: what individuals are asked and how their answers are read."""

from monoculture.tasks._base import ParsedAnswer, Prompt, Task
from monoculture.tasks._colour import COLOUR_PROMPT, ColourTask, parse_hex
from monoculture.tasks._render import CONTEXT_PLACEMENTS, RenderedPrompt, render

__all__ = [
    "COLOUR_PROMPT",
    "CONTEXT_PLACEMENTS",
    "ColourTask",
    "ParsedAnswer",
    "Prompt",
    "RenderedPrompt",
    "Task",
    "parse_hex",
    "render",
]
