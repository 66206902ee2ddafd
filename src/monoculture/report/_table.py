"""Result tables for the terminal: one per task, each rendered by its task from the summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monoculture.analysis import Summary
from monoculture.tasks import ResultRow, task_type

if TYPE_CHECKING:
    from rich.table import Table


def result_tables(summary: Summary) -> list[Table]:
    """One rich table per task of the summary, each ending with the humans' row.

    Print them with ``Console().print(*result_tables(summary))``; user text in them is escaped.
    """
    title = str(summary.study.get("name") or "study")
    names = list(dict.fromkeys([*(n for cell in summary.cells() for n in cell.tasks), *summary.human]))
    tables = []
    for name in names:
        rows = [ResultRow(f"{cell.model} · {cell.condition}", cell.model, cell.condition, cell.kind,
                          cell.tasks[name].result) for cell in summary.cells() if name in cell.tasks]
        tables.append(task_type(name).terminal_table(rows, summary.human.get(name), title))
    return tables
