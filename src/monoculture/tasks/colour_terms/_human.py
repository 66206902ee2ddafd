"""The people's colour terms: the chips of the colour study (Murthy, Griffiths & Hawkins 2022, Experiment 1), named.

Each chip a person picked is named by :func:`monoculture.metrics.term_of_chip` (PROTOCOL.md section 7): neutral
chips by their Munsell value, the others by their nearest survey colour. The answers are the colour task's
(:func:`monoculture.tasks.colour.human_colour_answers`: participant = individual, block 1/2 = replicate 1/2);
a chip is recognised by its sRGB colour in the table of the 88 chips, which gives its Munsell code (all 38,000
answers' colours are chips of that table, with the Munsell code the answers file records).

Over the 199 words this gives a mean internal disagreement of 0.429 and a population disagreement of 0.736.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from monoculture.errors import DataError
from monoculture.metrics import CategoricalAnswer, srgb_to_hex, term_of_chip
from monoculture.reference import data_file
from monoculture.tasks.colour import human_colour_answers

__all__ = ["ANSWERS_FILE", "CHIPS_FILE", "human_term_answers", "human_term_distributions"]

CHIPS_FILE = "murthy2022-color-ref/stimuli/derived_munsell_chips_88.csv"
# The colour task's answers file, read through its public loader; named here only to notice when it changes.
ANSWERS_FILE = "murthy2022-color-ref/exp1/color_preprocessed.csv"
_FIX = "run `monoculture data fetch` to restore it"


def human_term_answers() -> list[CategoricalAnswer]:
    """Every human answer as a basic term: individual = participantID, item = word, replicate 1/2 = block 1/2."""
    return list(_cached_term_answers(_modified(ANSWERS_FILE), _modified(CHIPS_FILE)))


@lru_cache(maxsize=2)
def _cached_term_answers(_answers_file: tuple[str, int], chips_file: tuple[str, int]) -> tuple[CategoricalAnswer, ...]:
    # The files' paths and modification times are only the cache key: a changed file is read again.
    terms = _chip_terms(*chips_file)
    answers = []
    for answer in human_colour_answers():
        term = None if answer.hex is None else terms.get(answer.hex)
        if answer.hex is not None and term is None:
            raise DataError(f"a human answer's colour {answer.hex} is none of the 88 chips in {CHIPS_FILE}: {_FIX}")
        answers.append(CategoricalAnswer(individual=answer.individual, item=answer.word, replicate=answer.replicate,
                                         value=term))
    return tuple(answers)


def human_term_distributions(words: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """Per word (default: all 199), how many human answers (both blocks) name each term, most named first."""
    wanted = None if words is None else set(words)
    counts: dict[str, dict[str, int]] = {}
    for answer in human_term_answers():
        if answer.value is not None and (wanted is None or answer.item in wanted):
            word = counts.setdefault(answer.item, {})
            word[answer.value] = word.get(answer.value, 0) + 1
    # Ties keep the terms' first appearance in the data, so the order never depends on a set's.
    return {word: dict(sorted(terms.items(), key=lambda pair: -pair[1])) for word, terms in counts.items()}


def _modified(relative_path: str) -> tuple[str, int]:
    path = data_file(relative_path)
    return str(path), path.stat().st_mtime_ns


@lru_cache(maxsize=2)
def _chip_terms(path: str, _modification_time: int) -> dict[str, str]:
    """The basic term of each of the 88 chips, keyed by the chip's ``#rrggbb``; the arguments are the cache key."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        chips = [(row["munsell"], srgb_to_hex(int(row["r"]), int(row["g"]), int(row["b"]))) for row in rows]
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError, TypeError):
        raise DataError(f"{CHIPS_FILE} is not a readable table of chips (munsell, r, g, b): {_FIX}") from None
    return {hex_code: term_of_chip(munsell, hex_code) for munsell, hex_code in chips}
