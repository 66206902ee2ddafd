"""The word-colour association task (docs/methods.md, section 3)."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from monoculture.errors import StudyFileError
from monoculture.tasks._contract import ParsedAnswer, PopulationPlan, Prompt, ResultRow, Simulated, Task
from monoculture.tasks.colour._result import ColourResult
from monoculture.tasks.colour._spec import ColourSpec

if TYPE_CHECKING:
    from rich.table import Table

    from monoculture.population import Individual
    from monoculture.store import SampleRecord

COLOUR_PROMPT = (
    "Question: What is the HEX code of the color you most associate with the word {word}? You must respond "
    "with a guess, even if you're unsure. Make sure your response contains a valid 6-digit HEX code."
)
# A 6-digit code, or an 8-digit #RRGGBBAA whose alpha is dropped (the paper's parser read its first six digits);
# any other run of hex digits ("#1234567") is not a valid answer.
_HEX = re.compile(r"#([0-9a-fA-F]{6})([0-9a-fA-F]{2})?(?![0-9a-fA-F])")
ALPHA_DROPPED = "#RRGGBBAA: the alpha digits were dropped"
# Constrained mode: an optional leading space (base prompts end in "Answer:") and exactly one code.
_GRAMMAR = 'root ::= " "? "#" [0-9a-fA-F]{6}\n'
# The same language as a regular expression, for step-by-step sampling (no code begins another).
_PATTERN = r" ?#[0-9a-fA-F]{6}"
# Words whose answers the report shows as swatches.
SWATCH_WORDS = 6


def parse_hex(output: str) -> ParsedAnswer:
    """The first ``#RRGGBB`` (or ``#RRGGBBAA``, alpha dropped and noted) in the output, lower-cased; anything else
    is an invalid answer."""
    match = _HEX.search(output)
    if match is None:
        return ParsedAnswer(valid=False, reason="no #RRGGBB code")
    return ParsedAnswer(valid=True, value="#" + match.group(1).lower(),
                        note=ALPHA_DROPPED if match.group(2) else None)


def choose_words(spec_words: int | list[str] | str, seed: int) -> tuple[str, ...]:
    """The study's words: all 199, a seeded half-abstract half-concrete sample, or a given list."""
    from monoculture.tasks.colour._human import colour_words

    typed = colour_words()
    if spec_words == "all":
        return tuple(word for word, _ in typed)
    if isinstance(spec_words, list):
        known = {word for word, _ in typed}
        unknown = [word for word in spec_words if word not in known]
        if unknown:
            raise StudyFileError(f"colour.words: {', '.join(map(repr, unknown[:5]))} not among the 199 words "
                                 "of the human study (see `monoculture baseline colour --json`)")
        return tuple(spec_words)
    rng = random.Random(f"words:{seed}")
    abstract = sorted(word for word, kind in typed if kind == "abstract")
    concrete = sorted(word for word, kind in typed if kind == "concrete")
    half = int(spec_words) // 2
    chosen = rng.sample(abstract, half) + rng.sample(concrete, int(spec_words) - half)
    return tuple(sorted(chosen))


class ColourTask(Task):
    """Each individual names a colour for every word, twice independently (the humans' two blocks)."""

    name: ClassVar[str] = "colour"
    title: ClassVar[str] = "Colour: word–colour associations"
    citation: ClassVar[str] = ("Murthy, Griffiths & Hawkins (2022), “Shades of confusion”, Cognition — experiment 1 "
                               "(word–colour associations, Munsell chips, two blocks per person)")
    Spec = ColourSpec
    Result = ColourResult
    has_human_answers: ClassVar[bool] = True
    spec: ColourSpec

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The study's words (chosen with the study's seed when the spec gives a number)."""
        return choose_words(self.spec.words, self.seed)

    def population(self) -> PopulationPlan:
        """``individuals`` individuals, contexts from the paper's colour-task rows."""
        return PopulationPlan(size=self.spec.individuals, context_domain="colour")

    def prompts(self, individual: Individual) -> list[Prompt]:
        """One prompt per word and replicate; the replicates differ only by their seeds."""
        return [Prompt(item=word, replicate=replicate, text=COLOUR_PROMPT.format(word=word))
                for word in self.words for replicate in range(1, self.spec.replicates + 1)]

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """See :func:`parse_hex`."""
        return parse_hex(output)

    def grammar(self, prompt: Prompt) -> str:
        """GBNF for exactly one hex code."""
        return _GRAMMAR

    def answer_pattern(self, prompt: Prompt) -> str:
        """The grammar's language as a regular expression."""
        return _PATTERN

    def simulated_answer(self, prompt: Prompt, population: Simulated, rng: random.Random) -> tuple[str, float] | None:
        """Uniform: any of the 16.7 million codes; constant: mid grey for everyone; human: a human's chip."""
        if population == "constant":
            return "#808080", 1.0
        if population == "uniform":
            return f"#{rng.randrange(16**6):06x}", 16.0**-6
        answers = _human_answers().get(prompt.item)
        if not answers:
            return None
        answer = rng.choice(answers)
        return answer, answers.count(answer) / len(answers)

    def summarize(self, samples: Mapping[str, Sequence[SampleRecord]]) -> ColourResult:
        """Internal and population ΔE of the estimate's mode, per word and averaged over words."""
        from monoculture.metrics import ColourAnswer, summarize_colour, swatches
        from monoculture.tasks.colour._human import colour_words

        stored = samples.get(self.spec.mode, [])
        answers = [ColourAnswer(str(s.individual), s.item, s.replicate, s.answer if s.valid else None)
                   for s in stored]
        block = summarize_colour(answers, dict(colour_words()), seed=self.seed)
        return ColourResult.model_validate(
            {"mode": self.spec.mode, **block, "swatches": swatches(answers, list(self.words[:SWATCH_WORDS]))})

    def human(self) -> ColourResult:
        """The 475 people of Murthy, Griffiths & Hawkins (2022) on the study's words."""
        from monoculture.tasks.colour._human import human_colour_block, human_swatches

        block = human_colour_block(self.words)
        return ColourResult.model_validate(
            {**block, "swatches": human_swatches(list(self.words[:SWATCH_WORDS]))})

    @classmethod
    def item_measures(cls, result: ColourResult) -> dict[str, dict[str, float | None]]:
        """Per word: population ΔE first (how far apart different individuals' colours are), then internal ΔE and
        the distance from the diagonal."""
        return {w.word: {"population_delta_e": w.population_delta_e, "internal_delta_e": w.internal_delta_e,
                         "distance_from_diagonal": w.distance_from_diagonal} for w in result.words}

    @classmethod
    def report_section(cls, rows: Sequence[ResultRow], human: ColourResult | None) -> str:
        """Table, per-word scatter, distance plot and swatches."""
        from monoculture.tasks.colour._show import report_section

        return report_section(rows, human)

    @classmethod
    def terminal_table(cls, rows: Sequence[ResultRow], human: ColourResult | None, title: str) -> Table:
        """Internal, population and distance per model × condition beside the humans."""
        from monoculture.tasks.colour._show import terminal_table

        return terminal_table(rows, human, title)


def _human_answers() -> dict[str, list[str]]:
    from monoculture.tasks.colour._human import human_answers_by_word

    return human_answers_by_word()

