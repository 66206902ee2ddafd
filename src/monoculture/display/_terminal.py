"""Parts of the terminal tables: user text is escaped for rich, so ``[bold]`` in a spec prints literally."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monoculture.display._format import format_ci, format_number

if TYPE_CHECKING:
    from rich.table import Table


def escaped(text: Any) -> str:
    """Text with rich markup escaped."""
    from rich.markup import escape

    return escape("" if text is None else str(text))


def with_interval(value: Any, bounds: Any, digits: int = 2) -> str:
    """A value with its interval on a second line (to keep columns narrow), escaped: brackets look like markup."""
    shown_interval = format_ci(bounds, digits)
    shown = format_number(value, digits)
    return escaped(f"{shown}\n{shown_interval}" if shown_interval else shown)


def add_identity_columns(table: Table) -> None:
    """The model and condition columns; specs are long and differ only at the end, so they fold."""
    table.add_column("model", overflow="fold", min_width=16)
    table.add_column("condition", overflow="fold", min_width=12)
