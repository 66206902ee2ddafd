"""The concept task: forced-choice similarity judgments about one target, clustered into latent concepts.

Source: Martí et al. (2023) and Murthy, Ullman & Hu (2025); docs/methods.md, section 4. Each individual gets
one target and answers all 36 unordered pairs of the other 9 items of its category, each in both orders
(72 prompts). Its response vector is its 36 first-order answers (1 = the second choice); the swapped order
checks consistency. Only individuals with all 36 first-order answers valid are clustered.

Parsing rule (documented choice): the lower-cased output is searched, with word boundaries, for each of the
two choices: an animal by its bare name, singular or plural ("eagle", "eagles", "finches"); a politician by
surname ("obama" matches "Barack Obama", "Obama" and "President Obama's"), since the ten surnames are
distinct and models often drop first names. Exactly one choice named = valid; both or neither = invalid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from monoculture.tasks._contract import ParsedAnswer, PopulationPlan, Prompt, ResultRow, Task, model_calls
from monoculture.tasks.concepts._answers import ConceptAnswer, summarize_concepts
from monoculture.tasks.concepts._items import (
    ITEM_SEPARATOR,
    PATTERNS,
    assign_targets,
    category_of,
    concept_prompt,
    item_id,
    pair_items,
    with_article,
)
from monoculture.tasks.concepts._result import ConceptResult
from monoculture.tasks.concepts._spec import ConceptSpec

if TYPE_CHECKING:
    from rich.table import Table

    from monoculture.population import Individual
    from monoculture.store import SampleRecord


def concept_question(item: str, replicate: int, prompt_version: str = "v1") -> Prompt:
    """The prompt of one question: ``item`` is ``target|a|b`` for the pair (a, b) in published order;
    replicate 1 asks (a, b), replicate 2 the swapped (b, a)."""
    target, first, second = item.split(ITEM_SEPARATOR)
    choice1, choice2 = (first, second) if replicate == 1 else (second, first)
    return Prompt(item=item, replicate=replicate, text=concept_prompt(target, choice1, choice2, prompt_version),
                  choices=(with_article(choice1), with_article(choice2)),
                  metadata={"target": target, "category": category_of(target), "choice1": choice1,
                            "choice2": choice2, "prompt_version": prompt_version})


class ConceptTask(Task):
    """The concept task. ``Prompt.choices`` are the strings the prompt asks for ("a robin", "Barack Obama");
    a parsed value is the bare name ("robin"). ``prompt_version`` "published" reproduces the released code's
    doubled article ("a a finch")."""

    name: ClassVar[str] = "concepts"
    title: ClassVar[str] = "Concepts: similarity judgments"
    citation: ClassVar[str] = ("Martí, Wu, Piantadosi & Kidd (2023), “Latent diversity in human concepts”, Open Mind "
                               "— similarity judgments clustered with a Chinese Restaurant Process")
    Spec = ConceptSpec
    Result = ConceptResult
    spec: ConceptSpec

    def population(self) -> PopulationPlan:
        """``individuals_per_target`` individuals per target, each with its target (a seeded, balanced assignment)."""
        targets = self.spec.chosen_targets
        assigned = assign_targets(self.spec.individuals_per_target * len(targets), targets, seed=self.seed)
        return PopulationPlan(size=len(assigned), context_domain="concepts", targets=tuple(assigned))

    def prompts(self, individual: Individual) -> list[Prompt]:
        """The 72 prompts of this individual's target: 36 pairs, each in both orders."""
        if individual.target is None:
            raise ValueError("the concept task needs individuals with a target")
        return [concept_question(item_id(individual.target, first, second), replicate, self.spec.prompt_version)
                for first, second in pair_items(individual.target) for replicate in (1, 2)]

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """The bare name of the one choice the output names; invalid if it names both or neither."""
        choice1, choice2 = prompt.metadata["choice1"], prompt.metadata["choice2"]
        text = output.lower() if isinstance(output, str) else ""
        named = [choice for choice in (choice1, choice2) if PATTERNS[choice].search(text)]
        if len(named) == 1:
            return ParsedAnswer(valid=True, value=named[0])
        if named:
            return ParsedAnswer(valid=False, reason=f"names both choices ({choice1} and {choice2})")
        return ParsedAnswer(valid=False, reason=f"names neither choice ({choice1} or {choice2})")

    def summarize(self, samples: Mapping[str, Sequence[SampleRecord]]) -> ConceptResult:
        """The CRP per target on the estimate's mode; with ``compare_with``, how far the two modes are apart."""
        spec = self.spec
        main = samples.get(spec.mode, [])
        answers = [ConceptAnswer(str(s.individual), s.target or "", s.item, s.replicate, s.answer if s.valid else None)
                   for s in main]
        block = summarize_concepts(answers, sweeps=spec.sweeps, burn_in=spec.burn_in, chains=spec.chains,
                                   seed=self.seed)
        comparison = None
        if spec.compare_with is not None:
            comparison = self._mode_comparison({mode: samples.get(mode, []) for mode in spec.modes})
        return ConceptResult.model_validate({"mode": spec.mode, **block, "mode_comparison": comparison})

    def _answer_distributions(self, samples: Sequence[SampleRecord]) -> dict[str, list[dict[str, float]]]:
        """Per item and order, every individual's answer distribution in bare names."""
        by_item: dict[str, list[dict[str, float]]] = {}
        for s in samples:
            if s.mode == "exact":
                prompt = concept_question(s.item, s.replicate, self.spec.prompt_version)
                distribution: dict[str, float] = {}
                for choice, probability in json.loads(s.raw_output).items():
                    value = self.parse(prompt, choice).value
                    distribution[value] = distribution.get(value, 0.0) + probability
            elif s.valid:
                distribution = {s.answer: 1.0}
            else:
                continue
            by_item.setdefault(f"{s.item}#{s.replicate}", []).append(distribution)
        return by_item

    def _mode_comparison(self, samples: dict[str, Sequence[SampleRecord]]) -> dict:
        from monoculture.metrics import compare_modes, compare_sampled_modes

        def answers(mode: str) -> dict[str, list[str | None]]:
            by_item: dict[str, list[str | None]] = {}
            for s in samples[mode]:
                by_item.setdefault(f"{s.item}#{s.replicate}", []).append(s.answer if s.valid else None)
            return by_item

        calls = {m: model_calls(samples[m]) for m in self.spec.modes}
        if "exact" in self.spec.modes:
            # The exact side is the model's distribution itself; the sampled side differs from it by its noise.
            reference, other = sorted(self.spec.modes, key=lambda mode: mode != "exact")
            comparison = compare_modes(self._answer_distributions(samples[reference]), answers(other), seed=self.seed)
            return {"modes": (reference, other), "model_calls": calls, "noise": "draws from the exact distribution",
                    **comparison}
        # Two sampled modes: neither is the truth; their labels are shuffled within each item for the null.
        first, second = self.spec.modes
        comparison = compare_sampled_modes(answers(first), answers(second), seed=self.seed)
        return {"modes": (first, second), "model_calls": calls, "noise": "two-sample permutation of mode labels",
                **comparison}

    def human(self) -> ConceptResult:
        """Martí et al. (2023)'s people on the study's targets, from their published CRP chains."""
        from monoculture.tasks.concepts._human import human_concept_block

        return ConceptResult.model_validate(human_concept_block(self.spec.chosen_targets))

    @classmethod
    def item_measures(cls, result: ConceptResult) -> dict[str, dict[str, float | None]]:
        """Per target: P(multiple concepts) (the people's published chains give it too), its unbiased form and the
        number of concepts."""
        return {target: {"p_multiple_concepts": stats.p_multiple_concepts,
                         "p_multiple_concepts_unbiased": stats.p_multiple_concepts_unbiased, "tables": stats.tables}
                for target, stats in result.by_target.items()}

    @classmethod
    def item_variances(cls, result: ConceptResult) -> dict[str, dict[str, float | None]]:
        """Per target, from its bootstrap over individuals (each target has its own individuals, so the variances
        of different targets add; recomputing the sampler for a jackknife would cost 20 summaries): the variance
        of a normal with the same 95% interval, None where the target had too few individuals for one."""
        def variance(interval: list[float] | None) -> float | None:
            return None if interval is None else ((interval[1] - interval[0]) / (2 * 1.959964)) ** 2

        return {target: {"p_multiple_concepts": variance(stats.p_multiple_concepts_bootstrap_ci),
                         "p_multiple_concepts_unbiased": variance(stats.p_multiple_concepts_unbiased_bootstrap_ci),
                         "tables": None}
                for target, stats in result.by_target.items()}

    @classmethod
    def frontier_measures(cls, result: ConceptResult) -> dict[str, float | None]:
        """P(multiple concepts) first (the paper's), then its unbiased form and the number of concepts."""
        return {"p_multiple_concepts": result.p_multiple_concepts,
                "p_multiple_concepts_unbiased": result.p_multiple_concepts_unbiased, "tables": result.tables}

    @classmethod
    def report_section(cls, rows: Sequence[ResultRow], human: ConceptResult | None) -> str:
        """Table, per-category table, mode comparison and P(multiple concepts) per target."""
        from monoculture.tasks.concepts._show import report_section

        return report_section(rows, human)

    @classmethod
    def terminal_table(cls, rows: Sequence[ResultRow], human: ConceptResult | None, title: str) -> Table:
        """P(multiple concepts) per model × condition beside the humans (per target when there are no rows)."""
        from monoculture.tasks.concepts._show import terminal_table

        return terminal_table(rows, human, title)
