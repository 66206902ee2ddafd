"""An example task from outside monoculture: a coin call, registered through the entry point group
``monoculture.tasks`` (``coin = monoculture_example_task:CoinTask``). The test suite installs it as a plugin.

Each individual calls five coin tosses, each twice. The result: the share of "heads", and how often one
individual's two calls differ (internal) against how often two individuals' calls differ (population).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal

from pydantic import Field

from monoculture.tasks import ParsedAnswer, PopulationPlan, Prompt, ResultRow, Task, TaskResult, TaskSpec

CHOICES = ("heads", "tails")


class CoinSpec(TaskSpec):
    """The study file's ``[coin]`` table."""

    NOT_IN_SAMPLE: ClassVar[frozenset[str]] = frozenset({"individuals"})
    individuals: int = Field(default=10, ge=2)
    mode: Literal["free", "constrained", "exact"] = "free"
    max_tokens: int = 4


class CoinResult(TaskResult):
    """Share of heads; internal and population disagreement."""

    share_heads: float | None
    internal_disagreement: float | None
    population_disagreement: float | None


class CoinTask(Task):
    name: ClassVar[str] = "coin"
    title: ClassVar[str] = "Coin calls"
    Spec = CoinSpec
    Result = CoinResult
    spec: CoinSpec

    def population(self) -> PopulationPlan:
        return PopulationPlan(size=self.spec.individuals, context_domain="colour")

    def prompts(self, individual) -> list[Prompt]:
        return [Prompt(item=f"toss-{toss}", replicate=replicate, text="Heads or tails? Answer with one word.",
                       choices=CHOICES) for toss in range(1, 6) for replicate in (1, 2)]

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        said = [choice for choice in CHOICES if choice in output.lower()]
        return ParsedAnswer(True, said[0]) if len(said) == 1 else ParsedAnswer(False, reason="not one call")

    def summarize(self, samples: Mapping[str, Sequence]) -> CoinResult:
        calls = {(s.individual, s.item, s.replicate): s.answer for s in samples.get(self.spec.mode, []) if s.valid}
        if not calls:
            return CoinResult(mode=self.spec.mode, share_heads=None, internal_disagreement=None,
                              population_disagreement=None)
        people = sorted({individual for individual, _, _ in calls})
        items = sorted({item for _, item, _ in calls})
        internal = [calls[(i, t, 1)] != calls[(i, t, 2)] for i in people for t in items
                    if (i, t, 1) in calls and (i, t, 2) in calls]
        population = [calls[(i, t, 1)] != calls[(j, t, 2)] for t in items for i in people for j in people
                      if i < j and (i, t, 1) in calls and (j, t, 2) in calls]
        return CoinResult(mode=self.spec.mode, share_heads=sum(v == "heads" for v in calls.values()) / len(calls),
                          internal_disagreement=sum(internal) / len(internal) if internal else None,
                          population_disagreement=sum(population) / len(population) if population else None)

    @classmethod
    def report_section(cls, rows: Sequence[ResultRow], human) -> str:
        from monoculture.display import format_number, render_template

        return render_template(__package__, "section.html.j2", rows=[
            {"name": row.name, "heads": format_number(row.result.share_heads),
             "internal": format_number(row.result.internal_disagreement),
             "population": format_number(row.result.population_disagreement)} for row in rows])

    @classmethod
    def terminal_table(cls, rows: Sequence[ResultRow], human, title: str):
        from rich.table import Table

        from monoculture.display import escaped, format_number

        table = Table(title=escaped(f"{title} — coin"))
        for heading in ("model · condition", "heads", "internal", "population"):
            table.add_column(heading)
        for row in rows:
            table.add_row(escaped(row.name), format_number(row.result.share_heads),
                          format_number(row.result.internal_disagreement),
                          format_number(row.result.population_disagreement))
        return table
