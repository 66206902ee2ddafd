"""The colour-terms task: the colour word an individual associates with a word, asked twice, read into the 11
basic colour terms and their survey colours, against the people's chips named by the same rule.

docs/methods.md, section 3b; PROTOCOL "Basic colour terms".
"""

from monoculture.tasks.colour_terms._result import ColourTermsResult
from monoculture.tasks.colour_terms._spec import ColourTermsSpec
from monoculture.tasks.colour_terms._task import (
    COLOUR_TERMS_PROMPT,
    ESSAY_WORDS,
    ColourTermsTask,
    choose_words,
    term_choices,
)

__all__ = [
    "COLOUR_TERMS_PROMPT",
    "ESSAY_WORDS",
    "ColourTermsResult",
    "ColourTermsSpec",
    "ColourTermsTask",
    "choose_words",
    "term_choices",
]
