"""The human colour data (Murthy, Griffiths & Hawkins 2022, Experiment 1) and its reference numbers.

475 people each picked one of 88 Munsell chips for 40 words, twice (blocks 1 and 2). Block 1 and 2 become
replicates 1 and 2, and each participant is one individual. Every reference number is computed from the data
here, never typed in, and on the words a study asks: the human row of a 20-word study is the humans on those
20 words (distance 16.93 on the demo's words, against 15.88 on all 199).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from monoculture.errors import DataError
from monoculture.metrics import ColourAnswer, srgb_to_hex, summarize_colour, swatches
from monoculture.reference import data_file

COLOUR_ANSWERS_FILE = "murthy2022-color-ref/exp1/color_preprocessed.csv"
COLOUR_WORDS_FILE = "murthy2022-color-ref/stimuli/derived_word_list_199.csv"
_REPLICATE = {"block1_target_trial": 1, "block2_target_trial": 2}
_FIX = "run `monoculture data fetch` to restore it"


def _read_rows(path: Path, relative_path: str, columns: Iterable[str]) -> list[dict[str, str]]:
    """All rows of a CSV data file, or a one-line DataError if it lacks a needed column."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = sorted(set(columns) - set(reader.fieldnames or ()))
            if missing:
                raise DataError(f"{relative_path} lacks column(s) {', '.join(missing)}: {_FIX}")
            return list(reader)
    except UnicodeDecodeError as error:
        raise DataError(f"{relative_path} is not UTF-8 text (byte {error.start}): {_FIX}") from None
    except csv.Error as error:
        raise DataError(f"{relative_path} is not a readable CSV file ({error}): {_FIX}") from None


def _answer(row: dict[str, str], line: int) -> ColourAnswer:
    try:
        replicate = _REPLICATE[row["condition"]]
        hex_code = srgb_to_hex(int(row["response_r"]), int(row["response_g"]), int(row["response_b"]))
    except (KeyError, ValueError, TypeError):
        raise DataError(f"{COLOUR_ANSWERS_FILE} line {line} is malformed (condition or response_r/g/b): "
                        f"{_FIX}") from None
    return ColourAnswer(individual=row["participantID"], word=row["word"], replicate=replicate, hex=hex_code)


def _modified(relative_path: str) -> tuple[str, int]:
    path = data_file(relative_path)
    return str(path), path.stat().st_mtime_ns


def human_colour_answers() -> list[ColourAnswer]:
    """Every human answer: individual = participantID, replicate 1/2 = block 1/2, hex from the chip's sRGB."""
    return list(_cached_answers(*_modified(COLOUR_ANSWERS_FILE)))


@lru_cache(maxsize=2)
def _cached_answers(path: str, _modification_time: int) -> tuple[ColourAnswer, ...]:
    # The path and modification time are only the cache key: a changed file is read again.
    rows = _read_rows(Path(path), COLOUR_ANSWERS_FILE,
                      ("participantID", "word", "condition", "response_r", "response_g", "response_b"))
    return tuple(_answer(row, line) for line, row in enumerate(rows, start=2))  # line 1 is the header


def colour_words() -> list[tuple[str, str]]:
    """The 199 colour-task words as ``(word, word_type)``, 100 abstract and 99 concrete, sorted by type and word."""
    rows = _read_rows(data_file(COLOUR_WORDS_FILE), COLOUR_WORDS_FILE, ("word", "word_type"))
    bad = [row["word"] for row in rows if row["word_type"] not in ("abstract", "concrete")]
    if bad:
        raise DataError(f"{COLOUR_WORDS_FILE} has an unknown word_type for {bad[0]!r}: {_FIX}")
    return [(row["word"], row["word_type"]) for row in rows]


def human_colour_block(words: Sequence[str] | None = None, *, n_bootstrap: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The humans' colour numbers (:func:`summarize_colour`) on ``words`` (default: all 199).

    ΔE76 (D65) over the 199 words: internal 29.24, population 51.70, distance from the diagonal 15.88
    (Murthy, Ullman & Hu 2025). Cached per data file and word set, since it takes about a second.
    """
    import copy

    chosen = None if words is None else tuple(sorted(set(words)))
    return copy.deepcopy(_cached_block(_modified(COLOUR_ANSWERS_FILE), _modified(COLOUR_WORDS_FILE), chosen,
                                       n_bootstrap, seed))


@lru_cache(maxsize=8)
def _cached_block(answers_file: tuple[str, int], words_file: tuple[str, int], words: tuple[str, ...] | None,
                  n_bootstrap: int, seed: int) -> dict[str, Any]:
    answers = human_colour_answers()
    if words is not None:
        wanted = set(words)
        answers = [answer for answer in answers if answer.word in wanted]
    return summarize_colour(answers, dict(colour_words()), n_bootstrap=n_bootstrap, seed=seed)


def human_swatches(words: Iterable[str], limit: int = 24) -> dict[str, list[str]]:
    """Up to ``limit`` block-1 human answers (``#rrggbb``) per word, participants in id order, for display."""
    return swatches(human_colour_answers(), words, limit=limit)


def human_answers_by_word() -> dict[str, list[str]]:
    """Every human answer (both blocks) per word, in file order: what ``fake:human`` draws from."""
    return _cached_by_word(*_modified(COLOUR_ANSWERS_FILE))


@lru_cache(maxsize=2)
def _cached_by_word(path: str, modification_time: int) -> dict[str, list[str]]:
    by_word: dict[str, list[str]] = {}
    for answer in _cached_answers(path, modification_time):
        if answer.hex is not None:
            by_word.setdefault(answer.word, []).append(answer.hex)
    return by_word
