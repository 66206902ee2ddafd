"""The colour task's settings: the study file's ``[colour]`` table."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from monoculture.tasks._contract import TaskSpec, quoted, require_distinct


class ColourSpec(TaskSpec):
    """The colour task's size and elicitation mode."""

    NOT_IN_SAMPLE: ClassVar[frozenset[str]] = frozenset({"individuals", "words"})

    individuals: int = Field(default=150, ge=2, le=100_000)
    words: int | list[str] | Literal["all"] = "all"
    # The colour metrics compare each individual's replicate 1 with its replicate 2 (docs/methods.md, section 3).
    replicates: int = 2
    mode: Literal["free", "constrained"] = "free"
    # Room for a chat model's sentence around the code (the paper allowed 200); 24 cut verbose models off.
    max_tokens: int = Field(default=64, ge=8, le=512)

    @field_validator("words", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        # Checked by hand before the union, so a mistake gets one message instead of one per union member.
        if isinstance(value, str) and value == "all":
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if not 2 <= value <= 199:
                raise ValueError(f"a number of words must be between 2 and 199, got {value}")
            return value
        if isinstance(value, list):
            if not value:
                raise ValueError("the word list is empty")
            for word in value:
                if not isinstance(word, str) or not word.strip():
                    raise ValueError(f"every word must be a non-empty string, got {quoted(word)}")
            require_distinct(value, "word")
            return value
        raise ValueError(f"must be \"all\", a number of words or a list of words, got {quoted(value)}")

    @field_validator("replicates")
    @classmethod
    def _two_replicates(cls, value: int) -> int:
        if value != 2:
            raise ValueError(f"must be 2 (the colour metrics compare replicate 1 with replicate 2), got {value}")
        return value
