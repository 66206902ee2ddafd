"""The colour-terms task: the colour word an individual associates with a word, asked twice (docs/methods.md, §3b).

The essay's question ("what colour represents cleanliness?") put to a population. An answer is read by the
colour-name reader (:func:`monoculture.metrics.read_colour_name`: survey and CSS names, modifiers, sentences)
into a known colour name; the name gives one of the 11 basic colour terms (PROTOCOL "Basic colour terms", the
rule that names the people's chips too) and its survey colour in CIELAB. The stored answer is the name, so
both readings are derived from the store: the terms for disagreement and distributions, the colours for the
same ΔE analysis as the hex task.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from monoculture.tasks._categorical import categorical_frontier, categorical_item_measures, categorical_table
from monoculture.tasks._contract import ParsedAnswer, PopulationPlan, Prompt, ResultRow, Simulated, Task
from monoculture.tasks.colour_terms._result import ColourTermsResult
from monoculture.tasks.colour_terms._spec import ColourTermsSpec

if TYPE_CHECKING:
    from rich.table import Table

    from monoculture.population import Individual
    from monoculture.store import SampleRecord

COLOUR_TERMS_PROMPT = ("Question: Which colour do you associate with the word {word}? Answer with one colour word.")
# The essay's words; not among the colour study's 199, so they have no people's answers.
ESSAY_WORDS = ("cleanliness", "purity", "danger", "calm", "envy")
# Names shown as swatches per word, for the first few words.
SWATCH_WORDS = 6
SWATCHES_PER_WORD = 24


def choose_words(spec_words: int | list[str] | str, seed: int) -> tuple[str, ...]:
    """All 199 words and the essay's, a seeded sample of the 199 (as the hex task draws it), or a given list."""
    from monoculture.tasks.colour import choose_words as choose_colour_words, colour_words

    if spec_words == "all":
        return tuple(word for word, _ in colour_words()) + ESSAY_WORDS
    if isinstance(spec_words, list):
        return tuple(spec_words)
    return choose_colour_words(spec_words, seed)


def term_choices() -> tuple[str, ...]:
    """The closed answer set of constrained and exact modes: each basic term lower-case and capitalised (chat
    models start a reply with a capital), both read as the term."""
    from monoculture.metrics import BASIC_TERMS

    return tuple(BASIC_TERMS) + tuple(term.capitalize() for term in BASIC_TERMS)


class ColourTermsTask(Task):
    """Each individual names a colour word for every word, twice independently."""

    name: ClassVar[str] = "colour_terms"
    title: ClassVar[str] = "Colour terms: which colour goes with a word"
    citation: ClassVar[str] = ("Murthy, Griffiths & Hawkins (2022), “Shades of confusion”, Cognition — the chips of "
                               "experiment 1 named by the 11 basic colour terms (Berlin & Kay)")
    Spec = ColourTermsSpec
    Result = ColourTermsResult
    has_human_answers: ClassVar[bool] = True
    spec: ColourTermsSpec
    _counts: dict[str, dict[str, int]] | None = None

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The study's words."""
        return choose_words(self.spec.words, self.seed)

    @cached_property
    def words_with_people(self) -> tuple[str, ...]:
        """The study's words that are among the colour study's 199 (the others have no people's answers)."""
        from monoculture.tasks.colour import colour_words

        known = {word for word, _ in colour_words()}
        return tuple(word for word in self.words if word in known)

    def population(self) -> PopulationPlan:
        """``individuals`` individuals, contexts from the paper's colour-task rows."""
        return PopulationPlan(size=self.spec.individuals, context_domain="colour")

    def prompts(self, individual: Individual) -> list[Prompt]:
        """One prompt per word and replicate; the replicates differ only by their seeds."""
        # The closed set exists in every mode (constrained and exact answer from it, an aligned twin too); free mode
        # reads any colour name the model writes.
        choices = term_choices()
        return [Prompt(item=word, replicate=replicate, text=COLOUR_TERMS_PROMPT.format(word=word), choices=choices)
                for word in self.words for replicate in range(1, self.spec.replicates + 1)]

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """The colour name the output writes (see :func:`monoculture.metrics.read_colour_name`); none: invalid."""
        from monoculture.metrics import read_colour_name

        name = read_colour_name(output) if isinstance(output, str) else None
        if name is None:
            return ParsedAnswer(valid=False, reason="names no colour")
        return ParsedAnswer(valid=True, value=name.name)

    def simulated_answer(self, prompt: Prompt, population: Simulated, rng: random.Random) -> tuple[str, float] | None:
        """Uniform: any of the 11 terms; constant: grey for everyone; human: a person's named chip for the word."""
        from monoculture.metrics import BASIC_TERMS

        if population == "constant":
            return "grey", 1.0
        if population == "uniform":
            return rng.choice(BASIC_TERMS), 1.0 / len(BASIC_TERMS)
        answers = _people_terms().get(prompt.item)
        if not answers:
            return None
        answer = rng.choice(answers)
        return answer, answers.count(answer) / len(answers)

    def people_answers(self, prompt: Prompt) -> Mapping[str, int] | None:
        """The terms the people's chips for this word are named by, with their counts (both blocks)."""
        return self._people_counts().get(prompt.item)

    # the numbers -----------------------------------------------------------------------------------
    def summarize(self, samples: Mapping[str, Sequence[SampleRecord]]) -> ColourTermsResult:
        """Disagreement and distributions of the terms, the ΔE analysis of the names' colours, and in exact mode
        the model's mean distribution over the terms per word."""
        from monoculture.metrics import CategoricalAnswer, ColourAnswer, colour_names, summarize_categorical, summarize_colour

        names = colour_names()
        stored = samples.get(self.spec.mode, [])
        read = [(s, names.get(s.answer) if s.valid and s.answer else None) for s in stored]
        terms = [CategoricalAnswer(str(s.individual), s.item, s.replicate, name.term if name else None)
                 for s, name in read]
        block = summarize_categorical(terms, human=self._people_counts(), seed=self.seed)
        colours = [ColourAnswer(str(s.individual), s.item, s.replicate, name.hex if name else None) for s, name in read]
        delta_e = summarize_colour(colours, self._word_types(), seed=self.seed)
        swatches: dict[str, list[tuple[str, str]]] = {}
        for s, name in read:
            if name is not None and s.replicate == 1 and s.item in self.words[:SWATCH_WORDS]:
                shown = swatches.setdefault(s.item, [])
                if len(shown) < SWATCHES_PER_WORD:
                    shown.append((name.name, name.hex))
        return ColourTermsResult.model_validate({
            "mode": self.spec.mode, **block, "names_delta_e": {"mode": self.spec.mode, **delta_e},
            "name_swatches": swatches, "exact_distributions": self._exact_distributions(stored),
            "words_without_people": [word for word in self.words if word not in self.words_with_people]})

    def _exact_distributions(self, samples: Sequence[SampleRecord]) -> dict[str, dict[str, float]] | None:
        """Exact mode: per word the model's probability of each term, averaged over the distinct prompts."""
        if not samples or samples[0].mode != "exact":
            return None
        from monoculture.metrics import read_colour_name

        distinct = {(s.item, s.prompt, s.raw_output) for s in samples}
        sums: dict[str, dict[str, float]] = {}
        prompts: dict[str, int] = {}
        for item, _, raw_output in distinct:
            try:
                distribution = json.loads(raw_output)
            except ValueError:
                continue
            prompts[item] = prompts.get(item, 0) + 1
            totals = sums.setdefault(item, {})
            for choice, probability in distribution.items():
                name = read_colour_name(choice)
                if name is not None:
                    totals[name.term] = totals.get(name.term, 0.0) + float(probability)
        return {item: {term: value / prompts[item] for term, value in sorted(totals.items(), key=lambda p: -p[1])}
                for item, totals in sums.items()}

    def _word_types(self) -> dict[str, str]:
        from monoculture.tasks.colour import colour_words

        types = dict(colour_words())
        return {word: types.get(word, "essay") for word in self.words}

    def _people_counts(self) -> dict[str, dict[str, int]]:
        if self._counts is None:  # read once per task: a twin asks for every prompt
            from monoculture.tasks.colour_terms._human import human_term_distributions

            self._counts = human_term_distributions(self.words_with_people)
        return self._counts

    def human(self) -> ColourTermsResult | None:
        """The 475 people of Murthy, Griffiths & Hawkins (2022), their chips named by term, on the study's words."""
        from monoculture.metrics import summarize_categorical
        from monoculture.tasks.colour import human_colour_block
        from monoculture.tasks.colour_terms._human import human_term_answers

        words = set(self.words_with_people)
        if not words:
            return None
        answers = [answer for answer in human_term_answers() if answer.item in words]
        block = summarize_categorical(answers, seed=self.seed)
        return ColourTermsResult.model_validate({
            **block, "names_delta_e": human_colour_block(self.words_with_people),
            "words_without_people": [word for word in self.words if word not in words]})

    @classmethod
    def item_measures(cls, result: ColourTermsResult) -> dict[str, dict[str, float | None]]:
        """Per word: Gini-Simpson, disagreement and entropy of the terms."""
        return categorical_item_measures(result)

    @classmethod
    def item_distributions(cls, result: ColourTermsResult) -> dict[str, dict[str, float]]:
        """Per item, how often each answer was given."""
        return {item.item: dict(item.distribution) for item in result.items}

    @classmethod
    def frontier_measures(cls, result: ColourTermsResult) -> dict[str, float | None]:
        """Population disagreement first, then internal, entropy and the distance to the people."""
        return categorical_frontier(result)

    # how it is shown -------------------------------------------------------------------------------
    @classmethod
    def report_section(cls, rows: Sequence[ResultRow], human: ColourTermsResult | None) -> str:
        """The categorical section with bars in the terms' colours, then the names' ΔE analysis."""
        from monoculture.tasks.colour_terms._show import report_section

        return report_section(rows, human)

    @classmethod
    def terminal_table(cls, rows: Sequence[ResultRow], human: ColourTermsResult | None, title: str) -> Table:
        """Disagreement and diversity per model × condition beside the people."""
        return categorical_table(rows, human, f"{title} — colour terms")


def _people_terms() -> dict[str, list[str]]:
    from monoculture.tasks.colour_terms._human import human_term_answers

    by_word: dict[str, list[str]] = {}
    for answer in human_term_answers():
        if answer.value is not None:
            by_word.setdefault(answer.item, []).append(answer.value)
    return by_word
