"""How the questions result is shown: the categorical questions as bars beside the people's, the open questions'
measures beside a homogeneous population's, and example answers (model output: every one escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from monoculture.display import cut, escaped, format_number, format_percent, render_template
from monoculture.tasks._categorical import categorical_section, categorical_table
from monoculture.tasks._contract import ResultRow
from monoculture.tasks.questions._result import OpenResult, QuestionsResult

if TYPE_CHECKING:
    from rich.table import Table

_OPEN_MEASURES = ("internal_similarity", "population_similarity", "distinct_first", "vendi_q1", "vendi_q2",
                  "exact_duplicate_share")


def _open_row(name: str, kind: str, result: OpenResult) -> dict[str, Any]:
    return {"name": name, "kind": kind, "mode": cut(result.mode),
            **{key: format_number(getattr(result, key)) for key in _OPEN_MEASURES},
            "valid": format_percent(result.valid_fraction), "n_individuals": format_number(result.n_individuals),
            "n_items": format_number(result.n_items), "embedder": cut(result.embedder, 80),
            "threshold": format_number(result.threshold, 3)}


def _open_part(rows: Sequence[ResultRow]) -> str:
    opened = [(row, row.result.open) for row in rows if row.result.open is not None]
    if not opened:
        return ""
    yardstick = {key: format_number(value) for key, value in opened[0][1].homogeneous.items()}
    asked = {question.id: question.question for row, _ in opened for question in row.result.questions}
    per_question = []
    for item in dict.fromkeys(s.item for _, result in opened for s in result.items):
        lines = []
        for row, result in opened:
            stats = next((s for s in result.items if s.item == item), None)
            examples = [cut(text, 300) for text in row.result.examples.get(item, [])]
            lines.append({"name": row.name, "examples": examples,
                          "internal": format_number(stats.internal_similarity if stats else None),
                          "population": format_number(stats.population_similarity if stats else None),
                          "distinct": format_number(stats.distinct_first if stats else None),
                          "vendi": format_number(stats.vendi_q1 if stats else None),
                          "n": format_number(stats.n_individuals if stats else None)})
        per_question.append({"item": cut(item, 80), "question": cut(asked.get(item, ""), 300), "lines": lines})
    return render_template(__package__, "open.html.j2", rows=[_open_row(row.name, cut(row.kind), result)
                                                              for row, result in opened],
                           yardstick=yardstick, questions=per_question)


def report_section(rows: Sequence[ResultRow], human: QuestionsResult | None) -> str:
    """The questions section of the report."""
    categorical_rows = [ResultRow(row.name, row.model, row.condition, row.kind, row.result.categorical)
                        for row in rows if row.result.categorical is not None]
    people = human.categorical if human is not None else None
    parts = []
    if categorical_rows or people is not None:
        no_people = [q.id for q in (rows[0].result.questions if rows else []) if q.type == "category" and not q.has_people]
        parts.append("<h3>Categorical questions</h3>\n" + categorical_section(
            categorical_rows, people, item_label="question", no_human=no_people))
    parts.append(_open_part(rows))
    return "\n".join(part for part in parts if part)


def terminal_table(rows: Sequence[ResultRow], human: QuestionsResult | None, title: str) -> Table:
    """The categorical questions' measures; then, where there are open questions, their measures."""
    from rich.table import Table

    categorical_rows = [ResultRow(row.name, row.model, row.condition, row.kind, row.result.categorical)
                        for row in rows if row.result.categorical is not None]
    opened = [(row, row.result.open) for row in rows if row.result.open is not None]
    categorical = None
    if categorical_rows or (human is not None and human.categorical is not None) or not opened:
        categorical = categorical_table(categorical_rows, human.categorical if human else None, f"{title} — questions")
    if not opened:
        return categorical
    table = Table(title=escaped(f"{title} — open questions (cosine similarity of answer embeddings)"),
                  title_justify="left")
    for heading in ("model", "condition", "internal\nsimilarity", "population\nsimilarity", "distinct in k",
                    "Vendi q=1", "Vendi q=2", "valid", "questions"):
        table.add_column(heading, justify="left" if heading in ("model", "condition") else "right")
    for row, result in opened:
        table.add_row(escaped(row.model), escaped(row.condition),
                      *(format_number(getattr(result, key)) for key in _OPEN_MEASURES[:5]),
                      format_percent(result.valid_fraction), format_number(result.n_items))
    homogeneous = opened[0][1].homogeneous
    table.add_row("homogeneous population", "", *(format_number(homogeneous.get(key)) for key in _OPEN_MEASURES[:5]),
                  "", "", style="dim")
    if categorical is None:
        return table
    both = Table.grid()  # one renderable: the categorical questions' table above the open questions'
    both.add_row(categorical)
    both.add_row(table)
    return both
