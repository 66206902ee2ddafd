"""The human colour data (Murthy, Griffiths & Hawkins 2022, Experiment 1) and its reference ColourBlock.

475 people each picked one of 88 Munsell chips for 40 words, twice (blocks 1 and 2). Block 1 and 2 become
replicates 1 and 2, and each participant is one individual. Every reference number is computed from
the data here, never typed in.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from monoculture.errors import DataError
from monoculture.metrics._colour import ColourAnswer, summarize_colour, swatches
from monoculture.metrics._colour_space import srgb_to_hex
from monoculture.reference._locate import data_file

__all__ = ["COLOUR_ANSWERS_FILE", "COLOUR_WORDS_FILE", "colour_words", "human_colour_answers",
           "human_colour_block", "human_swatches"]

COLOUR_ANSWERS_FILE = "murthy2022-color-ref/exp1/color_preprocessed.csv"
COLOUR_WORDS_FILE = "murthy2022-color-ref/stimuli/derived_word_list_199.csv"
_REPLICATE = {"block1_target_trial": 1, "block2_target_trial": 2}
_FIX = "run `monoculture data fetch` to restore it"


def _read_rows(path: Path, relative_path: str, columns: Iterable[str]) -> list[dict[str, str]]:
    """All rows of a CSV data file, or a one-line DataError if it lacks a needed column."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = sorted(set(columns) - set(reader.fieldnames or ()))
        if missing:
            raise DataError(f"{relative_path} lacks column(s) {', '.join(missing)}: {_FIX}")
        return list(reader)


def _answer(row: dict[str, str], line: int) -> ColourAnswer:
    try:
        replicate = _REPLICATE[row["condition"]]
        hex_code = srgb_to_hex(int(row["response_r"]), int(row["response_g"]), int(row["response_b"]))
    except (KeyError, ValueError, TypeError):
        raise DataError(f"{COLOUR_ANSWERS_FILE} line {line} is malformed (condition or response_r/g/b): "
                        f"{_FIX}") from None
    return ColourAnswer(individual=row["participantID"], word=row["word"], replicate=replicate, hex=hex_code)


def human_colour_answers() -> list[ColourAnswer]:
    """Every human answer: individual = participantID, replicate 1/2 = block 1/2, hex from the chip's sRGB."""
    rows = _read_rows(data_file(COLOUR_ANSWERS_FILE), COLOUR_ANSWERS_FILE,
                      ("participantID", "word", "condition", "response_r", "response_g", "response_b"))
    return [_answer(row, line) for line, row in enumerate(rows, start=2)]  # line 1 is the header


def colour_words() -> list[tuple[str, str]]:
    """The 199 colour-task words as ``(word, word_type)``, 100 abstract and 99 concrete, sorted by type and word."""
    rows = _read_rows(data_file(COLOUR_WORDS_FILE), COLOUR_WORDS_FILE, ("word", "word_type"))
    bad = [row["word"] for row in rows if row["word_type"] not in ("abstract", "concrete")]
    if bad:
        raise DataError(f"{COLOUR_WORDS_FILE} has an unknown word_type for {bad[0]!r}: {_FIX}")
    return [(row["word"], row["word_type"]) for row in rows]


def human_colour_block(*, n_bootstrap: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The human ColourBlock (no ``mode``, ``swatches`` or ``invalid_examples``), via :func:`summarize_colour`.

    ΔE76 (D65) over 199 words: internal 29.24, population 51.70, distance from the diagonal 15.88
    (PROTOCOL §3; Murthy, Ullman & Hu 2025). Cached per data folder, since it takes about a second.
    """
    import copy

    answers_path = data_file(COLOUR_ANSWERS_FILE)
    words_path = data_file(COLOUR_WORDS_FILE)
    return copy.deepcopy(_cached_block(str(answers_path), str(words_path), n_bootstrap, seed,
                                       answers_path.stat().st_mtime_ns, words_path.stat().st_mtime_ns))


@lru_cache(maxsize=4)
def _cached_block(answers_path: str, words_path: str, n_bootstrap: int, seed: int,
                  *_modification_times: int) -> dict[str, Any]:
    # The paths and modification times are only the cache key: a changed file gives a fresh block.
    return summarize_colour(human_colour_answers(), dict(colour_words()), n_bootstrap=n_bootstrap, seed=seed)


def human_swatches(words: Iterable[str], limit: int = 24) -> dict[str, list[str]]:
    """Up to ``limit`` block-1 human answers (``#rrggbb``) per word, participants in id order, for display."""
    return swatches(human_colour_answers(), words, limit=limit)
