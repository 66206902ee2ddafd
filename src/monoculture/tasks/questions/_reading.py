"""How an answer to a user's question is read: normalisers into categories, and closed answer sets.

Untrusted model output in, a category (or None) out; nothing here raises on any text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from monoculture.tasks._contract import ParsedAnswer
from monoculture.tasks.questions._file import Question

# Stripped from both ends of a "lower" answer: quotes, brackets, markdown emphasis and sentence punctuation.
_EDGES = " \t\"'`*_.,;:!?()[]{}«»“”‘’"
_SPACES = re.compile(r"\s+")
MAX_CATEGORY_CHARS = 200  # a longer "category" is a sentence: kept (it is what was said), cut at this length
MAX_OPEN_CHARS = 4000


def first_line(text: str) -> str:
    """The first non-empty line (a model often adds an explanation on the next lines)."""
    return next((line for line in text.splitlines() if line.strip()), "")


def normalised(text: str, normaliser: str, synonyms: Mapping[str, str]) -> str | None:
    """A text as a category under a normaliser; None when nothing is left."""
    if normaliser == "colour":
        from monoculture.metrics import read_colour_name

        name = read_colour_name(text)
        return name.term if name is not None else None
    line = first_line(text)
    if normaliser == "exact":
        value = line.strip()
    else:
        value = _SPACES.sub(" ", line.strip(_EDGES).lower()).strip(_EDGES)
        if normaliser == "synonyms":
            value = synonyms.get(value, value)
    return value[:MAX_CATEGORY_CHARS] or None


def synonym_table(synonyms: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Spelling -> canonical answer, spellings read as ``lower`` would read them."""
    table: dict[str, str] = {}
    for canonical, spellings in synonyms.items():
        for spelling in (canonical, *spellings):
            key = normalised(spelling, "lower", {})
            if key is not None:
                table[key] = canonical
    return table


def read_answer(question: Question, output: str, synonyms: Mapping[str, str]) -> ParsedAnswer:
    """The category an output gives: with a closed set, the one answer it names; otherwise its normalised text;
    for an open question, the text itself."""
    if not isinstance(output, str) or not output.strip():
        return ParsedAnswer(valid=False, reason="empty answer")
    if question.type == "open":
        return ParsedAnswer(valid=True, value=output.strip()[:MAX_OPEN_CHARS])
    value = normalised(output, question.normalise, synonyms)
    if question.answers is None:
        if value is None:
            reason = "names no colour" if question.normalise == "colour" else "nothing left after normalising"
            return ParsedAnswer(valid=False, reason=reason)
        return ParsedAnswer(valid=True, value=value)
    keys = {answer: normalised(answer, question.normalise, synonyms) for answer in question.answers}
    equal = [answer for answer, key in keys.items() if key is not None and key == value]
    if len(equal) == 1:
        return ParsedAnswer(valid=True, value=equal[0])
    # A sentence around the answer ("I would say blue."): the one answer named at word boundaries.
    text = normalised(output, "lower", {}) or ""
    named = [answer for answer, key in keys.items()
             if key and re.search(rf"(?<!\w){re.escape(key.lower())}(?!\w)", text)]
    if len(named) == 1:
        return ParsedAnswer(valid=True, value=named[0], note="read from a longer answer")
    if named:
        return ParsedAnswer(valid=False, reason="names more than one of the answers")
    return ParsedAnswer(valid=False, reason="names none of the answers")
