"""The colour task's settings: the study file's ``[colour]`` table."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from monoculture.tasks._contract import TaskSpec, two_replicates, word_list


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
        return word_list(value, most=199)

    @field_validator("replicates")
    @classmethod
    def _two_replicates(cls, value: int) -> int:
        return two_replicates(value)
