"""The questions task's settings: the study file's ``[questions]`` table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from monoculture.tasks._contract import TaskSpec, quoted, two_replicates
from monoculture.tasks.questions._file import BUILT_IN, Question, built_in_path, check_questions, read_questions


class QuestionsSpec(TaskSpec):
    """A user's questions (``file`` or inline ``items``), the population size and the elicitation mode.

    ``file`` is read when the study is loaded (relative to the study file's folder) and its questions become
    ``items``, so the stored study holds the questions asked even if the file later changes or goes.
    """

    # The questions themselves are in the sample's settings: edit one and its samples are drawn again.
    NOT_IN_SAMPLE: ClassVar[frozenset[str]] = frozenset({"individuals", "file", "embedder", "similarity_threshold"})

    file: str | None = None
    items: list[Question] | None = None
    individuals: int = Field(default=20, ge=2, le=100_000)
    replicates: int = 2
    # constrained and exact need every question to have a closed answer set
    mode: Literal["free", "constrained", "exact"] = "free"
    # canonical answer -> the spellings read as it, for questions with normalise = "synonyms"
    synonyms: dict[str, list[str]] = {}
    # open questions: how answers become vectors ("default": the offline model shipped on PyPI; "openai:MODEL@URL")
    embedder: str = "default"
    # open questions: two answers at or above this cosine similarity are the same answer (None: the embedder's own)
    similarity_threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    # Room for a sentence or a haiku; categorical answers stop far earlier.
    max_tokens: int = Field(default=64, ge=2, le=1024)

    @model_validator(mode="before")
    @classmethod
    def _read_file(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("items") is not None:  # inline, or a stored study (which holds both)
            return data
        file = data.get("file")
        if file is None:
            raise ValueError("give the questions as file = \"questions.csv\" (CSV or JSONL) or as items = [...]")
        if not isinstance(file, str):
            raise ValueError(f"file must be a path, got {quoted(file)}")
        if file.startswith("builtin:"):
            path = built_in_path(file.removeprefix("builtin:"))
        else:
            base = (info.context or {}).get("study_dir")
            path = Path(file).expanduser()
            if not path.is_absolute() and base is not None:
                path = Path(base) / path
        return {**data, "items": [question.model_dump() for question in read_questions(path)]}

    @field_validator("items")
    @classmethod
    def _distinct(cls, items: list[Question] | None) -> list[Question] | None:
        if items is not None:
            check_questions(items)
        return items

    @field_validator("replicates")
    @classmethod
    def _two_replicates(cls, value: int) -> int:
        return two_replicates(value)

    @model_validator(mode="after")
    def _closed_sets(self) -> QuestionsSpec:
        if self.mode != "free":
            without = [question.id for question in self.questions if question.answers is None]
            if without:
                raise ValueError(f"mode {self.mode!r} needs a closed answer set for every question; "
                                 f"{quoted(without[0])} has none (give it answers, or use mode = \"free\")")
        if self.synonyms:
            for canonical, spellings in self.synonyms.items():
                if not spellings:
                    raise ValueError(f"synonyms.{canonical}: list at least one spelling")
        return self

    @property
    def questions(self) -> list[Question]:
        """The questions, in file order."""
        return list(self.items or [])


__all__ = ["BUILT_IN", "QuestionsSpec"]
