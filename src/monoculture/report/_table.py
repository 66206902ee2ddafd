"""Result tables for the terminal: the key numbers per model × condition beside the humans."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._view import conditions, format_ci, format_number, format_percent, has_valid_answers

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["result_table"]


def result_table(summary: dict[str, Any]) -> list[Table]:
    """One rich table per task in the summary (colour, then concepts), each ending with a human row.

    Print them with ``Console().print(*result_table(summary))``. Model specs, condition labels and the
    study name are user text and are escaped, so ``[bold]`` in a spec prints literally.
    """
    tables = []
    colour = _colour_table(summary)
    if colour is not None:
        tables.append(colour)
    concepts = _concept_table(summary)
    if concepts is not None:
        tables.append(concepts)
    return tables


def _human_block(summary: dict[str, Any], task: str) -> dict[str, Any] | None:
    human = summary.get("human")
    block = human.get(task) if isinstance(human, dict) else None
    return block if isinstance(block, dict) else None


def _with_ci(block: dict[str, Any], key: str, digits: int = 2) -> str:
    from rich.markup import escape

    interval = format_ci(block.get(f"{key}_ci"), digits)
    value = format_number(block.get(key), digits)
    # The interval goes on its own line to keep columns narrow; its brackets look like markup, so escape.
    return escape(f"{value}\n{interval}" if interval else value)


def _title(summary: dict[str, Any], task: str) -> str:
    from rich.markup import escape

    study = summary.get("study")
    name = study.get("name") if isinstance(study, dict) else None
    return escape(f"{name} — {task}" if name else task)


def _identity_columns(table: Table) -> None:
    # Specs are long and differ only at the end ("...-270m" vs "...-1b"), so they fold rather than truncate.
    table.add_column("model", overflow="fold", min_width=16)
    table.add_column("condition", overflow="fold", min_width=12)


def _colour_table(summary: dict[str, Any]) -> Table | None:
    from rich.markup import escape
    from rich.table import Table

    cells = [(cell, block) for cell in conditions(summary) if (block := cell.block("colour")) is not None]
    human = _human_block(summary, "colour")
    if not cells and human is None:
        return None
    table = Table(title=_title(summary, "colour, ΔE76 (distance = |population − internal| / √2)"), title_justify="left")
    _identity_columns(table)
    table.add_column("mode")
    table.add_column("internal", justify="right", no_wrap=True)
    table.add_column("population", justify="right", no_wrap=True)
    table.add_column("distance", justify="right", no_wrap=True)
    table.add_column("valid", justify="right")
    table.add_column("people", justify="right")
    table.add_column("words", justify="right")
    for cell, block in cells:
        style = None if has_valid_answers(block) else "red"
        table.add_row(escape(cell.model), escape(cell.label), escape(str(block.get("mode") or "")),
                      _with_ci(block, "internal_delta_e", 1), _with_ci(block, "population_delta_e", 1),
                      _with_ci(block, "distance_from_diagonal"), format_percent(block.get("valid_fraction")),
                      format_number(block.get("n_individuals")), format_number(block.get("n_words")),
                      style=style)
    if human is not None:
        table.add_section()
        table.add_row("humans", "", "", _with_ci(human, "internal_delta_e", 1), _with_ci(human, "population_delta_e", 1),
                      _with_ci(human, "distance_from_diagonal"), format_percent(human.get("valid_fraction")),
                      format_number(human.get("n_individuals")), format_number(human.get("n_words")),
                      style="dim italic")
    return table


def _concept_table(summary: dict[str, Any]) -> Table | None:
    from rich.markup import escape
    from rich.table import Table

    cells = [(cell, block) for cell in conditions(summary) if (block := cell.block("concepts")) is not None]
    human = _human_block(summary, "concepts")
    if not cells and human is None:
        return None
    table = Table(title=_title(summary, "concepts"), title_justify="left")
    _identity_columns(table)
    table.add_column("mode")
    table.add_column("P(multiple)", justify="right", no_wrap=True)
    table.add_column("tables", justify="right")
    table.add_column("valid", justify="right")
    table.add_column("same both orders", justify="right")
    table.add_column("complete", justify="right")
    rows = [(escape(cell.model), escape(cell.label), escape(str(block.get("mode") or "")), block,
             None if has_valid_answers(block) else "red") for cell, block in cells]
    if human is not None:
        rows.append(("humans", "", "", human, "dim italic"))
    for model, label, mode, block, style in rows:
        if model == "humans" and block is human:
            table.add_section()
        table.add_row(model, label, mode, _with_ci(block, "p_multiple_concepts", 3),
                      format_number(block.get("tables"), 1), format_percent(block.get("valid_fraction")),
                      format_percent(block.get("order_consistency")),
                      f"{format_number(block.get('n_complete'))}/{format_number(block.get('n_individuals'))}",
                      style=style)
    return table
