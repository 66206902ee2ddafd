"""``monoculture baseline colour``: the human colour reference, computed from the human data."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("colour")(colour)


def colour(
    as_json: Annotated[bool, typer.Option("--json", help="Print the full ColourBlock as JSON.")] = False,
) -> None:
    """The human word-colour reference (ΔE76 and CIEDE2000, D65): internal vs population ΔE."""
    from monoculture.reference import human_colour_block  # lazy: pulls in numpy and colour-science

    block = human_colour_block()
    if as_json:
        import json

        typer.echo(json.dumps(block, indent=2))
        return
    _print_table(block)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _interval(values: list[float] | None) -> str:
    return "" if not values else f"[{values[0]:.2f}, {values[1]:.2f}]"


_MEASURES = ("internal_delta_e", "population_delta_e", "distance_from_diagonal")


def _print_table(block: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Human colour reference (Murthy, Griffiths & Hawkins 2022, Exp. 1)")
    for header in ("", "words", "internal ΔE", "population ΔE", "distance from diagonal"):
        table.add_column(header, justify="left" if not header else "right")
    table.add_row("all (ΔE76)", str(block["n_words"]),
                  *(_number(block[k]) for k in _MEASURES))
    for word_type, group in block["by_word_type"].items():
        table.add_row(f"{word_type} (ΔE76)", str(group["n_words"]),
                      *(_number(group[k]) for k in _MEASURES))
    ciede = block["ciede2000"]
    table.add_row("all (CIEDE2000)", str(block["n_words"]),
                  *(_number(ciede[k]) for k in _MEASURES))
    console = Console()
    console.print(table)
    per_word = block["n_per_word"]
    intervals = ", ".join(f"{label} {_interval(block[f'{key}_ci'])}" for label, key in (
        ("internal", "internal_delta_e"), ("population", "population_delta_e"), ("distance", "distance_from_diagonal")))
    console.print(f"95% bootstrap intervals over words (ΔE76): {intervals}")
    console.print(f"{block['n_individuals']} people, {block['n_samples']} answers, "
                  f"{per_word['min']}-{per_word['max']} people per word")
