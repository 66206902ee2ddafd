"""The task contract: a task renders prompts for an individual and parses the model's answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # individuals are only annotated here; importing them would be circular
    from monoculture.population._individual import Individual


@dataclass(frozen=True)
class Prompt:
    """One question an individual is asked.

    ``item`` identifies what is asked (a word, a target and its pair) and, with ``replicate``, makes
    the sample's identity; ``text`` is the task prompt before any context or chat template is applied.
    ``choices`` lists the closed answer set where there is one (for choice-constrained and exact modes).
    """

    item: str
    replicate: int
    text: str
    choices: tuple[str, ...] | None = None
    metadata: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ParsedAnswer:
    """A parsed answer: ``value`` is canonical when ``valid``; ``reason`` says why not otherwise."""

    valid: bool
    value: str | None = None
    reason: str | None = None


@runtime_checkable
class Task(Protocol):
    """A behavioural task: what to ask, how to read the answer, how to constrain it."""

    name: str
    max_tokens: int

    def prompts(self, individual: Individual) -> list[Prompt]:
        """Every prompt this individual answers, each replicate a separate prompt."""
        ...

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """Read the answer out of untrusted model output; never raises on any text."""
        ...

    def grammar(self, prompt: Prompt) -> str:
        """A llama.cpp GBNF grammar whose every string is a valid answer (the constrained mode)."""
        ...
