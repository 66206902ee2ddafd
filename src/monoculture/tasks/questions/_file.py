"""A user's questions: one CSV or JSONL file, or the study's inline ``items`` (README, "Your own questions").

Columns (CSV header / JSONL keys); only ``id`` and ``question`` are required:

- ``id``: unique, printable, at most 60 characters; it names the question in the store and the report.
- ``question``: the text asked (a base model gets it as ``Question: ...`` followed by ``Answer:``).
- ``answers``: a closed answer set (CSV: ``|``-separated; JSONL: a list). With it, constrained and exact modes
  work, and an answer is valid only when it names exactly one of them.
- ``human``: the people's answer counts (CSV: ``white=12|blue=7``; JSONL: an object). With them, every comparison
  with the people appears.
- ``normalise``: how an answer is read into a category: ``lower`` (the default: first line, lower-case,
  surrounding spaces and punctuation stripped), ``exact`` (first line, stripped), ``synonyms`` (``lower``, then the
  study's ``synonyms`` table), ``colour`` (the colour-name reader, into the 11 basic colour terms).
- ``type``: ``category`` (the default) or ``open``: a free-form answer (a sentence, a poem) measured through text
  embeddings instead of categories. An open question takes no ``answers`` and no ``human`` counts.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monoculture.tasks._contract import quoted, require_distinct

Normaliser = Literal["lower", "exact", "synonyms", "colour"]
MAX_QUESTIONS = 10_000
# Built-in question sets shipped with the package, named as ``file = "builtin:NAME"``.
BUILT_IN = {"open": "open_prompts.jsonl"}


class Question(BaseModel):
    """One question of a user's file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: str = Field(min_length=1, max_length=60)
    question: str = Field(min_length=1, max_length=4000)
    answers: list[str] | None = None
    human: dict[str, int] | None = None
    normalise: Normaliser = "lower"
    type: Literal["category", "open"] = "category"

    @field_validator("id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable() or value != value.strip():
            raise ValueError(f"an id must be printable text without surrounding spaces, got {quoted(value)}")
        return value

    @field_validator("answers")
    @classmethod
    def _answers(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if len(value) < 2:
            raise ValueError("a closed answer set needs at least 2 answers")
        for answer in value:
            if not answer.strip() or len(answer) > 200:
                raise ValueError(f"every answer must be 1 to 200 characters, got {quoted(answer)}")
        require_distinct(list(value), "answer")
        return value

    @field_validator("human")
    @classmethod
    def _counts(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is None:
            return None
        if not value or any(count < 0 for count in value.values()) or sum(value.values()) == 0:
            raise ValueError("human counts must be non-negative whole numbers with at least one above 0")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type == "open" and (self.answers is not None or self.human is not None):
            raise ValueError(f"question {self.id!r} is open: it takes no answers and no human counts")
        if self.answers is not None and self.human is not None:
            outside = [answer for answer in self.human if answer not in self.answers]
            if outside:
                raise ValueError(f"question {self.id!r}: human answer {quoted(outside[0])} is not among its answers")
        return self


def _csv_row(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row in the JSONL shape: ``answers`` split on ``|``, ``human`` read from ``answer=count|...``."""
    item: dict[str, Any] = {key: value for key, value in row.items() if value not in (None, "")}
    if "answers" in item:
        item["answers"] = [part.strip() for part in item["answers"].split("|")]
    if "human" in item:
        counts: dict[str, int] = {}
        for part in item["human"].split("|"):
            answer, equals, count = part.rpartition("=")
            if not equals or not answer.strip() or not count.strip().isdigit():
                raise ValueError(f"human counts are written answer=count|answer=count, got {quoted(part)}")
            counts[answer.strip()] = counts.get(answer.strip(), 0) + int(count)
        item["human"] = counts
    return item


def _rows(text: str, suffix: str) -> list[tuple[int, dict[str, Any]]]:
    """(line, row) pairs of a JSONL or CSV text."""
    if suffix == ".jsonl":
        rows = []
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError as error:
                raise ValueError(f"line {line} is not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"line {line} is not a JSON object")
            rows.append((line, row))
        return rows
    reader = csv.DictReader(io.StringIO(text))
    missing = {"id", "question"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"the header lacks {', '.join(sorted(missing))} (columns: id, question, answers, human, "
                         "normalise, type)")
    out = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise ValueError(f"line {line} has more fields than the header")
        try:
            out.append((line, _csv_row(row)))
        except ValueError as error:
            raise ValueError(f"line {line}: {error}") from None
    return out


def read_questions(path: Path) -> list[Question]:
    """The questions of a CSV (``.csv``) or JSONL (``.jsonl``) file; a ValueError names the line of a problem."""
    if path.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{quoted(str(path), 200)} is neither .csv nor .jsonl")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"questions file {quoted(str(path), 200)} does not exist") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{quoted(str(path), 200)} is not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ValueError(f"cannot read {quoted(str(path), 200)}: {error.strerror or error}") from None
    questions = []
    for line, row in _rows(text, path.suffix):
        try:
            questions.append(Question.model_validate(row))
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in problem["loc"])
            message = problem["msg"].removeprefix("Value error, ")
            raise ValueError(f"{path.name} line {line}: {where + ': ' if where else ''}{message}") from None
    check_questions(questions)
    return questions


def check_questions(questions: list[Question]) -> None:
    """At least one question, at most :data:`MAX_QUESTIONS`, distinct ids."""
    if not questions:
        raise ValueError("there are no questions")
    if len(questions) > MAX_QUESTIONS:
        raise ValueError(f"{len(questions)} questions is more than {MAX_QUESTIONS}")
    require_distinct([question.id for question in questions], "question id")


def built_in_path(name: str) -> Path:
    """The file of a built-in question set."""
    from importlib.resources import files

    if name not in BUILT_IN:
        raise ValueError(f"unknown built-in question set {name!r}: the built-in sets are {', '.join(BUILT_IN)}")
    return Path(str(files(__package__).joinpath(BUILT_IN[name])))
