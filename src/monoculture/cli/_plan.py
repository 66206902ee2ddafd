"""``monoculture plan STUDY.toml [--out DIR]``: what a run will draw, and how long it should take."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def format_duration(seconds: float | None) -> str:
    """Minutes and seconds, or why there is no estimate."""
    if seconds is None:
        return "unknown until each model's probe times it"
    minutes, rest = divmod(round(seconds), 60)
    return f"about {minutes} min {rest:02d} s"


def register(app: typer.Typer) -> None:
    """Add ``plan``."""

    @app.command()
    def plan(
        study_file: Annotated[Path, typer.Argument(help="The study file (TOML).", metavar="STUDY.toml")],
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="A folder already run into: its stored "
                                                    "samples count as done.")] = None,
    ) -> None:
        """Samples, model calls and the estimated time of a run, per model, condition, task and mode."""
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        import monoculture
        from monoculture.display import format_number

        preview = monoculture.plan(monoculture.load_study(study_file), out)
        table = Table(title="What the run will draw", title_justify="left")
        for heading in ("model", "condition", "task", "mode", "samples", "stored", "model calls", "time"):
            table.add_column(heading, justify="right" if heading in ("samples", "stored", "model calls", "time")
                             else "left", overflow="fold")
        for row in preview.rows:
            time = "—" if row.seconds is None else f"{row.seconds:.0f} s"
            table.add_row(escape(row.model), escape(row.condition), escape(row.task), escape(row.mode),
                          format_number(row.samples), format_number(row.stored), format_number(row.model_calls), time)
        console = Console()
        console.print(table)
        console.print(f"{preview.samples:,} samples planned, {preview.to_draw:,} to draw; "
                      f"{format_duration(preview.seconds)} (rates measured on 2 cores; loading included)")
