"""``monoculture replicate murthy2025 --out DIR``: a paper's published answers, its recipe beside monoculture's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

REPLICATIONS = ("murthy2025",)


def _names(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def register(app: typer.Typer) -> None:
    """Add ``replicate``."""

    @app.command()
    def replicate(
        name: Annotated[str, typer.Argument(help="The published result: murthy2025 (Murthy, Ullman & Hu 2025, the "
                                                 "concept task of ten 7B models).", metavar="NAME")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for samples.sqlite, summary.json, report.html, "
                                                              "replication.json and replication.html.")],
        models: Annotated[Optional[str], typer.Option(help="Only these published models, comma-separated (default: "
                                                           "all ten).")] = None,
        targets: Annotated[Optional[str], typer.Option(help="Only these concepts, comma-separated, e.g. "
                                                            "\"robin,Joe Biden\" (default: all 20; with fewer, cells "
                                                            "are not compared with the paper's).")] = None,
        seed: Annotated[int, typer.Option(help="Seed of both samplers.")] = 0,
        workers: Annotated[Optional[int], typer.Option(min=1, help="Processes for the samplers and the summary "
                                                                   "(default: the cores).")] = None,
        fixed_n: Annotated[int, typer.Option("--fixed-n", min=2, help="Complete subjects per concept of the "
                                                                      "fixed-N recipe.")] = 25,
    ) -> None:
        """Import a paper's published model answers and replicate its result with its recipe and monoculture's."""
        from rich.console import Console
        from rich.markup import escape

        from monoculture.errors import StudyFileError
        from monoculture.replicate import replicate_murthy2025

        if name not in REPLICATIONS:
            raise StudyFileError(f"unknown replication {name!r}: choose {', '.join(REPLICATIONS)}")
        console = Console()
        replication = replicate_murthy2025(out, models=_names(models), targets=_names(targets), seed=seed,
                                           workers=workers, fixed_n=fixed_n,
                                           progress=lambda line: console.print(escape(line)))
        console.print(f"[bold]{escape(replication.pooled_sentence)}[/bold]")
        for family in replication.families:
            console.print(f"- {escape(family.sentence)}")
        if replication.cells_compared:
            console.print(f"The paper's recipe agrees with its published values within the run-to-run spread "
                          f"({replication.run_to_run_spread:.4f}) on {replication.cells_within_spread} of "
                          f"{replication.cells_compared} cells.")
        console.print(f"Open {escape(str(out / 'replication.html'))} (and report.html beside it).")
