"""``monoculture export FOLDER`` and ``monoculture report FOLDER``: what a run wrote, from its store alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``report``."""

    @app.command()
    def export(
        folder: Annotated[Path, typer.Argument(help="A folder a run wrote (its --out).")],
        out: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
        format: Annotated[Literal["csv", "parquet"], typer.Option("--format", help="csv, or parquet (needs "  # noqa: A002
                                                                   "the parquet extra).")] = "csv",
    ) -> None:
        """Write every stored sample as one row (key, prompt as sent, raw output, answer, seed, decoding, timing)."""
        import monoculture

        rows = monoculture.open_results(folder).export(out, format)
        typer.echo(f"wrote {rows} samples to {out}")

    @app.command()
    def report(folder: Annotated[Path, typer.Argument(help="A folder a run wrote (its --out).")]) -> None:
        """Rebuild summary.json and report.html from the folder's samples.sqlite alone."""
        from rich.console import Console

        import monoculture
        from monoculture.cli._run import show_summary

        console = Console()
        summary = monoculture.open_results(folder).rebuild()
        show_summary(summary, folder, console)
        console.print(f"wrote {folder}/summary.json and {folder}/report.html from {summary.n_samples_stored} samples")
