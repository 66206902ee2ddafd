"""The colour-terms task's settings: the study file's ``[colour_terms]`` table."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from monoculture.tasks._contract import TaskSpec, two_replicates, word_list


class ColourTermsSpec(TaskSpec):
    """The colour-terms task's size and elicitation mode."""

    NOT_IN_SAMPLE: ClassVar[frozenset[str]] = frozenset({"individuals", "words"})

    individuals: int = Field(default=20, ge=2, le=100_000)
    # "all": the 199 words of the colour study and the essay's words; a number: a seeded sample of the 199;
    # a list: any words (those outside the 199 have no people's answers and are marked so).
    words: int | list[str] | Literal["all"] = "all"
    # Internal and population disagreement compare each individual's replicate 1 with its replicate 2.
    replicates: int = 2
    # exact: each prompt's distribution over the 11 basic terms, individuals drawn from it
    mode: Literal["free", "constrained", "exact"] = "free"
    # One colour word, or a short sentence around it ("The colour is white."): 16 tokens hold both.
    max_tokens: int = Field(default=16, ge=2, le=512)

    @field_validator("words", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        return word_list(value, most=199, any_word=True)

    @field_validator("replicates")
    @classmethod
    def _two_replicates(cls, value: int) -> int:
        return two_replicates(value)
