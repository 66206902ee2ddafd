"""The colour task: the HEX code of the colour an individual associates with a word, asked twice.

Murthy, Ullman & Hu (2025) after Murthy, Griffiths & Hawkins (2022); docs/methods.md, section 3.
"""

from monoculture.tasks.colour._human import colour_words, human_colour_answers, human_colour_block, human_swatches
from monoculture.tasks.colour._result import ColourResult, DeltaEMeans, WordStats
from monoculture.tasks.colour._spec import ColourSpec
from monoculture.tasks.colour._task import COLOUR_PROMPT, ColourTask, choose_words, parse_hex

__all__ = [
    "COLOUR_PROMPT",
    "ColourResult",
    "ColourSpec",
    "ColourTask",
    "DeltaEMeans",
    "WordStats",
    "choose_words",
    "colour_words",
    "human_colour_answers",
    "human_colour_block",
    "human_swatches",
    "parse_hex",
]
