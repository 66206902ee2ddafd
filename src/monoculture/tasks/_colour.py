"""The word-colour association task (PROTOCOL section 3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monoculture.tasks._base import ParsedAnswer, Prompt

if TYPE_CHECKING:  # individuals are only annotated here; importing them would be circular
    from monoculture.population._individual import Individual

COLOUR_PROMPT = (
    "Question: What is the HEX code of the color you most associate with the word {word}? You must respond "
    "with a guess, even if you're unsure. Make sure your response contains a valid 6-digit HEX code."
)
# A 6-digit code not followed by a seventh hex digit: "#1234567" is not a valid answer.
_HEX = re.compile(r"#([0-9a-fA-F]{6})(?![0-9a-fA-F])")
# Constrained mode: an optional leading space (base prompts end in "Answer:") and exactly one code.
_GRAMMAR = 'root ::= " "? "#" [0-9a-fA-F]{6}\n'


def parse_hex(output: str) -> ParsedAnswer:
    """The first ``#RRGGBB`` in the output, lower-cased; anything else is an invalid answer."""
    match = _HEX.search(output)
    if match is None:
        return ParsedAnswer(valid=False, reason="no #RRGGBB code")
    return ParsedAnswer(valid=True, value="#" + match.group(1).lower())


@dataclass(frozen=True)
class ColourTask:
    """Each individual names a colour for every word, ``replicates`` times independently (paper: twice)."""

    words: tuple[str, ...]
    replicates: int = 2
    max_tokens: int = 24
    name: str = "colour"

    def prompts(self, individual: Individual) -> list[Prompt]:
        """One prompt per word and replicate; the replicates differ only by their seeds."""
        return [
            Prompt(item=word, replicate=replicate, text=COLOUR_PROMPT.format(word=word))
            for word in self.words
            for replicate in range(1, self.replicates + 1)
        ]

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """See :func:`parse_hex`."""
        return parse_hex(output)

    def grammar(self, prompt: Prompt) -> str:
        """GBNF for exactly one hex code."""
        return _GRAMMAR
