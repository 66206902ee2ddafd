"""The task contract: one package per task, registered by name (docs/methods.md, sections 3 and 4).

A task knows everything about one kind of question: its settings (the study file's table of its name), the
population it needs, the prompts of an individual, how to read an answer, how to constrain it, the closed
answer set where there is one, how to turn its samples into a typed result, the human reference on the
study's own items, and how that result is shown in the report and on the terminal. The planner, the runner,
the summary, the report and the CLI loop over a study's tasks and never name one.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from rich.table import Table

    from monoculture.population import Individual
    from monoculture.store import SampleRecord

Simulated = Literal["uniform", "constant", "human"]


class TaskSpec(BaseModel):
    """A task's settings: the study file's table named after the task. Unknown keys are errors.

    Every field changes what one sample is (and so joins the sample's settings hash) unless it is listed in
    ``NOT_IN_SAMPLE``: population sizes, item selections and analysis settings decide which samples are drawn
    or how they are summarised, never what a given sample is. Every task's spec declares ``mode`` (its
    elicitation modes as a Literal) and ``max_tokens`` (the answer length limit), in the order its users read.
    """

    # strict: TOML has real types, so "5" is not a number and true is not a count; NaN is never a setting.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
    NOT_IN_SAMPLE: ClassVar[frozenset[str]] = frozenset()
    if TYPE_CHECKING:  # declared by each task's spec, with its own modes and limits
        mode: str
        max_tokens: int

    @property
    def modes(self) -> tuple[str, ...]:
        """The elicitation modes sampled, the estimate's first."""
        return (self.mode,)

    def sample_settings(self) -> dict[str, Any]:
        """The settings that change what one sample is (the mode is part of the key itself)."""
        left_out = set(self.NOT_IN_SAMPLE) | {"mode", "compare_with"}
        return {name: value for name, value in self.model_dump(mode="json").items() if name not in left_out}


class TaskResult(BaseModel):
    """A task's numbers for one population (or for the humans, with ``mode`` None): typed and frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: str | None = None


@dataclass(frozen=True)
class Prompt:
    """One question an individual is asked.

    ``item`` identifies what is asked (a word, a target and its pair) and, with ``replicate``, makes the
    sample's identity; ``text`` is the task prompt before any context or chat template is applied.
    ``choices`` lists the closed answer set where there is one (for choice-constrained and exact modes).
    """

    item: str
    replicate: int
    text: str
    choices: tuple[str, ...] | None = None
    metadata: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ParsedAnswer:
    """A parsed answer: ``value`` is canonical when ``valid``; ``reason`` says why not otherwise; ``note`` records
    how a valid answer was read when the reading was not literal (stored with the sample and counted)."""

    valid: bool
    value: str | None = None
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class PopulationPlan:
    """The individuals a task needs in each condition: how many, the target of each (if the task gives each
    individual one), and which of the paper's context files their contexts come from."""

    size: int
    context_domain: str
    targets: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ResultRow:
    """One population's result as the report shows it: ``name`` is "model · condition"."""

    name: str
    model: str
    condition: str
    kind: str | None
    result: TaskResult


class Task(ABC):
    """One behavioural task, bound to its settings and the study's seed.

    Subclasses set the class attributes and implement the abstract methods; the rest has defaults that
    suit a task with a closed answer set given as ``Prompt.choices``.
    """

    name: ClassVar[str]
    title: ClassVar[str]  # the report section's heading
    citation: ClassVar[str | None] = None  # where the human reference comes from
    Spec: ClassVar[type[TaskSpec]]
    Result: ClassVar[type[TaskResult]]
    # Whether fake:human can answer it: the task has raw human answers to draw from.
    has_human_answers: ClassVar[bool] = False

    def __init__(self, spec: TaskSpec, seed: int = 0) -> None:
        if not isinstance(spec, self.Spec):
            raise TypeError(f"{self.name} takes a {self.Spec.__name__}, got {type(spec).__name__}")
        self.spec = spec
        self.seed = seed

    @property
    def modes(self) -> tuple[str, ...]:
        """The elicitation modes sampled, the estimate's first."""
        return self.spec.modes

    @property
    def max_tokens(self) -> int:
        """The answer length limit of every request."""
        return self.spec.max_tokens

    # what is asked ---------------------------------------------------------------------------------
    @abstractmethod
    def population(self) -> PopulationPlan:
        """The individuals each condition needs."""

    @abstractmethod
    def prompts(self, individual: Individual) -> list[Prompt]:
        """Every prompt this individual answers, each replicate a separate prompt."""

    @abstractmethod
    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """Read the answer out of untrusted model output; never raises on any text."""

    def grammar(self, prompt: Prompt) -> str | None:
        """A llama.cpp GBNF grammar whose every string is a valid answer (constrained and exact modes)."""
        if prompt.choices is None:
            return None
        options = " | ".join(gbnf_literal(choice) for choice in prompt.choices)
        return f'root ::= " "? ({options})\n'

    def answer_pattern(self, prompt: Prompt) -> str | None:
        """The grammar's language as a regular expression (Python syntax), where no answer begins another: the
        embedded models then sample constrained answers a token at a time, faster on a large vocabulary and with the
        exact probability of each (``backends/_stepwise``). None: the grammar alone is used.

        The default matches the default :meth:`grammar` (an optional space, then one of the choices); a task that
        writes its own grammar writes its own pattern, or none."""
        if prompt.choices is None or type(self).grammar is not Task.grammar:
            return None
        import re

        return " ?(?:" + "|".join(re.escape(choice) for choice in sorted(prompt.choices)) + ")"

    def answer_set(self, prompt: Prompt) -> tuple[str, ...] | None:
        """The closed answer set of a prompt (exact mode asks for its distribution), or None."""
        return prompt.choices

    def simulated_answer(self, prompt: Prompt, population: Simulated, rng: random.Random) -> tuple[str, float] | None:
        """An answer of a simulated population and its probability, for the ``fake:`` models.

        ``uniform``: every answer of the answer space equally likely; ``constant``: one answer for everyone
        (the first of the sorted answer set, so both orders of a pair give the same one); ``human``: drawn
        from the human answers (None where the task has none).
        """
        if prompt.choices is None or population == "human":
            return None
        if population == "constant":
            return sorted(prompt.choices)[0], 1.0
        return rng.choice(prompt.choices), 1.0 / len(prompt.choices)

    def people_answers(self, prompt: Prompt) -> Mapping[str, int] | None:
        """The people's answer counts for this prompt's item, as parsed values (an aligned twin's raters are drawn
        from them), or None where the task has no per-item human answers."""
        return None

    # the numbers -----------------------------------------------------------------------------------
    @abstractmethod
    def summarize(self, samples: Mapping[str, Sequence[SampleRecord]]) -> TaskResult:
        """One population's result from its stored samples, given per mode (the estimate's mode first)."""

    def human(self) -> TaskResult | None:
        """The human reference on the study's own items, or None where the task has no human data."""
        return None

    @classmethod
    def item_measures(cls, result: TaskResult) -> dict[str, dict[str, float | None]]:
        """Per item (word, target, question) the task's measures, for paired comparisons of two models on the same
        items; each item's first measure is the headline diversity, which the people's result has too (empty:
        the task has no per-item measures)."""
        return {}

    @classmethod
    def item_variances(cls, result: TaskResult) -> dict[str, dict[str, float | None]] | None:
        """Per item, each measure's variance over the population's individuals, where the result already knows it
        and items do not share individuals (so their variances add); None: the families' comparison finds the
        spread over individuals by summarising the population again without each group of them (a jackknife)."""
        return None

    @classmethod
    def item_distributions(cls, result: TaskResult) -> dict[str, dict[str, float]]:
        """Per item, the answers given and how often (or with what probability), for the agreement between models
        and with the people (empty: the task's answers are not categories)."""
        return {}

    @classmethod
    def frontier_measures(cls, result: TaskResult) -> dict[str, float | None]:
        """The diversity measures ``monoculture simulate`` puts on its frontier, the headline first (empty: the
        task has none)."""
        return {}

    # how it is shown (from results alone: class methods, no settings needed) -----------------------
    @classmethod
    @abstractmethod
    def report_section(cls, rows: Sequence[ResultRow], human: TaskResult | None) -> str:
        """The task's section of the HTML report (autoescaped HTML; model output is untrusted text)."""

    @classmethod
    @abstractmethod
    def terminal_table(cls, rows: Sequence[ResultRow], human: TaskResult | None, title: str) -> Table:
        """The task's result table for the terminal; with no rows, the detailed human reference."""


def quoted(value: object, limit: int = 60) -> str:
    """A user's value quoted for a one-line message: repr escapes newlines, and long values are cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def require_distinct(values: list[str], what: str) -> None:
    """Raise a ValueError naming the first repeated entry of a list the user wrote."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {quoted(value)} is listed twice")
        seen.add(value)


def word_list(value: object, *, most: int, any_word: bool = False) -> object:
    """A study's words as the colour tasks take them: "all", a number of words from 2 to ``most``, or a list of
    distinct words; a ValueError with one message otherwise (checked by hand before pydantic's union, so a mistake
    gets one message instead of one per union member). ``any_word``: the words need not be the human study's, so
    they are held to at most 60 printable characters here (the others are checked against the study's list)."""
    if isinstance(value, str) and value == "all":
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if not 2 <= value <= most:
            raise ValueError(f"a number of words must be between 2 and {most}, got {value}")
        return value
    if isinstance(value, list):
        if not value:
            raise ValueError("the word list is empty")
        for word in value:
            if not isinstance(word, str) or not word.strip() or (any_word and (len(word) > 60 or not word.isprintable())):
                limit = " of at most 60 printable characters" if any_word else ""
                raise ValueError(f"every word must be a non-empty string{limit}, got {quoted(word)}")
        require_distinct(value, "word")
        return value
    raise ValueError(f"must be \"all\", a number of words or a list of words, got {quoted(value)}")


def two_replicates(value: int) -> int:
    """Replicates of a task whose disagreement compares each individual's replicate 1 with its replicate 2."""
    if value != 2:
        raise ValueError(f"must be 2 (internal variability compares replicate 1 with replicate 2), got {value}")
    return value


def gbnf_literal(text: str) -> str:
    """A string as a GBNF literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def model_calls(samples: Sequence[SampleRecord]) -> int:
    """Requests a population cost: one per sample, but one per distinct prompt in exact mode."""
    import json

    if samples and samples[0].mode == "exact":
        return len({(s.prompt, json.dumps(s.decoding, sort_keys=True)) for s in samples})
    return len(samples)
