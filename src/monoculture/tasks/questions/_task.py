"""The questions task: a user's own questions, each asked twice of every individual (README, "Your own questions").

Categorical questions (a closed answer set, or a normalised short answer) get the categorical measures and, with
the people's counts, every comparison with them; open questions (a sentence, a poem) get the embedding measures:
distinct answers, the Vendi score and cosine similarity within and between individuals.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from monoculture.tasks._contract import ParsedAnswer, PopulationPlan, Prompt, ResultRow, Simulated, Task
from monoculture.tasks.questions._file import Question
from monoculture.tasks.questions._reading import read_answer, synonym_table
from monoculture.tasks.questions._result import QuestionsResult
from monoculture.tasks.questions._spec import QuestionsSpec

if TYPE_CHECKING:
    from rich.table import Table

    from monoculture.population import Individual
    from monoculture.store import SampleRecord

# Open answers shown per question in the report (escaped there).
EXAMPLES_PER_QUESTION = 6


def question_prompt(question: Question) -> str:
    """The text asked, in the other tasks' ``Question:`` form."""
    return f"Question: {question.question}"


class QuestionsTask(Task):
    """Each individual answers each of the user's questions twice, independently."""

    name: ClassVar[str] = "questions"
    title: ClassVar[str] = "Your questions"
    citation: ClassVar[str | None] = "the people's answer counts given in the questions file"
    Spec = QuestionsSpec
    Result = QuestionsResult
    spec: QuestionsSpec

    @property
    def has_human_answers(self) -> bool:  # type: ignore[override]  # per study: fake:human needs every question's
        """Whether every question has the people's counts (fake:human draws from them)."""
        return all(question.human for question in self.spec.questions)

    @cached_property
    def by_id(self) -> dict[str, Question]:
        """The questions by id."""
        return {question.id: question for question in self.spec.questions}

    @cached_property
    def synonyms(self) -> dict[str, str]:
        """Spelling -> canonical answer (questions with ``normalise = "synonyms"``)."""
        return synonym_table(self.spec.synonyms)

    def population(self) -> PopulationPlan:
        """``individuals`` individuals, contexts from the paper's colour-task rows (personas, random sentences)."""
        return PopulationPlan(size=self.spec.individuals, context_domain="colour")

    def prompts(self, individual: Individual) -> list[Prompt]:
        """One prompt per question and replicate."""
        return [Prompt(item=question.id, replicate=replicate, text=question_prompt(question),
                       choices=tuple(question.answers) if question.answers else None)
                for question in self.spec.questions for replicate in range(1, self.spec.replicates + 1)]

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """See :func:`read_answer`."""
        return read_answer(self.by_id[prompt.item], output, self.synonyms)

    def simulated_answer(self, prompt: Prompt, population: Simulated, rng: random.Random) -> tuple[str, float] | None:
        """Uniform: any answer of the closed set (or of the people's, or a random word); constant: one answer for
        everyone; human: drawn from the people's counts (None without them)."""
        question = self.by_id[prompt.item]
        options = question.answers or (sorted(question.human) if question.human else None)
        if population == "constant":
            return (sorted(options)[0] if options else "the same answer"), 1.0
        if population == "uniform":
            if options:
                return rng.choice(options), 1.0 / len(options)
            return f"answer {rng.randrange(10**9)}", 1e-9
        if not question.human:
            return None
        answers, weights = zip(*question.human.items())
        answer = rng.choices(answers, weights=weights)[0]
        return answer, question.human[answer] / sum(weights)

    def people_answers(self, prompt: Prompt) -> Mapping[str, int] | None:
        """The people's counts the file gives for this question."""
        return self.by_id[prompt.item].human

    # the numbers -----------------------------------------------------------------------------------
    def summarize(self, samples: Mapping[str, Sequence[SampleRecord]]) -> QuestionsResult:
        """The categorical measures over the categorical questions, the embedding measures over the open ones."""
        from monoculture.metrics import CategoricalAnswer, summarize_categorical

        stored = samples.get(self.spec.mode, [])
        kinds = {question.id: question.type for question in self.spec.questions}
        categorical = [s for s in stored if kinds.get(s.item) == "category"]
        open_samples = [s for s in stored if kinds.get(s.item) == "open"]
        categorical_block = None
        if any(question.type == "category" for question in self.spec.questions):
            answers = [CategoricalAnswer(str(s.individual), s.item, s.replicate, s.answer if s.valid else None)
                       for s in categorical]
            categorical_block = {"mode": self.spec.mode, **summarize_categorical(
                answers, human=self._people_counts(), seed=self.seed)}
        open_block = None
        examples: dict[str, list[str]] = {}
        if any(question.type == "open" for question in self.spec.questions):
            open_block = {"mode": self.spec.mode, **self._open_block(open_samples)}
            for s in open_samples:
                if s.valid and s.replicate == 1 and len(examples.setdefault(s.item, [])) < EXAMPLES_PER_QUESTION:
                    examples[s.item].append(s.answer or "")
        return QuestionsResult.model_validate({
            "mode": self.spec.mode, "categorical": categorical_block, "open": open_block, "examples": examples,
            "questions": self._infos()})

    def _open_block(self, samples: Sequence[SampleRecord]) -> dict:
        from monoculture.embedders import summary_embedder
        from monoculture.metrics import DEFAULT_DISTINCT_THRESHOLD, CategoricalAnswer, summarize_open

        answers = [CategoricalAnswer(str(s.individual), s.item, s.replicate, s.answer if s.valid else None)
                   for s in samples]
        texts = sorted({answer.value for answer in answers if answer.value is not None})
        embedder = summary_embedder(self.spec.embedder)
        vectors = dict(zip(texts, embedder.embed(texts))) if texts else {}
        # The threshold was measured for the default embedder; another embedder's scale needs its own.
        threshold = self.spec.similarity_threshold or embedder.distinct_threshold or DEFAULT_DISTINCT_THRESHOLD
        return {"embedder": embedder.identity, **summarize_open(answers, vectors, threshold=threshold, seed=self.seed)}

    def _people_counts(self) -> dict[str, dict[str, int]]:
        return {question.id: dict(question.human) for question in self.spec.questions if question.human}

    def _infos(self) -> list[dict]:
        return [{"id": q.id, "question": q.question, "type": q.type, "normalise": q.normalise,
                 "answers": q.answers, "has_people": q.human is not None} for q in self.spec.questions]

    def human(self) -> QuestionsResult | None:
        """The people's answer distributions from the counts in the file (no replicates, so no disagreement)."""
        from monoculture.tasks.questions._people import people_block

        counts = self._people_counts()
        if not counts:
            return None
        return QuestionsResult.model_validate({"categorical": people_block(counts), "questions": self._infos()})

    @classmethod
    def item_measures(cls, result: QuestionsResult) -> dict[str, dict[str, float | None]]:
        """Per categorical question: Gini-Simpson, disagreement and entropy."""
        from monoculture.tasks._categorical import categorical_item_measures

        return categorical_item_measures(result.categorical)

    @classmethod
    def item_distributions(cls, result: QuestionsResult) -> dict[str, dict[str, float]]:
        """Per categorical question, how often each answer was given."""
        items = result.categorical.items if result.categorical is not None else []
        return {item.item: dict(item.distribution) for item in items}

    @classmethod
    def frontier_measures(cls, result: QuestionsResult) -> dict[str, float | None]:
        """The categorical questions' measures (open questions have no closed set, so no twin)."""
        from monoculture.tasks._categorical import categorical_frontier

        return categorical_frontier(result.categorical)

    # how it is shown -------------------------------------------------------------------------------
    @classmethod
    def report_section(cls, rows: Sequence[ResultRow], human: QuestionsResult | None) -> str:
        """Categorical questions as in the colour-terms section; open questions with their measures and examples."""
        from monoculture.tasks.questions._show import report_section

        return report_section(rows, human)

    @classmethod
    def terminal_table(cls, rows: Sequence[ResultRow], human: QuestionsResult | None, title: str) -> Table:
        """The categorical questions' table (the open questions' measures are in the report and the summary)."""
        from monoculture.tasks.questions._show import terminal_table

        return terminal_table(rows, human, title)

