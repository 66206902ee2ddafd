"""``monoculture run STUDY.toml --out DIR`` and ``monoculture demo --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

_OUT = typer.Option("--out", "-o", help="Folder for samples.sqlite, summary.json and report.html.")


def _execute(study, out: Path) -> None:
    from rich.console import Console

    from monoculture._runner import run_study
    from monoculture.cli._progress import ProgressObserver
    from monoculture.report import result_table

    console = Console(stderr=False)
    with ProgressObserver(console) as observer:
        result = run_study(study, out, observer=observer)
    console.print(*result_table(result.summary))
    from rich.markup import escape

    for alarm in result.summary["alarms"]:  # model specs and labels are the user's text: escape rich markup
        where = " · ".join(str(alarm[key]) for key in ("model", "condition", "task") if alarm.get(key))
        console.print(f"[bold red]alarm[/] ({alarm['kind']}, {escape(where)}): {escape(alarm['message'])}")
    if result.summary["alarms"]:
        console.print(f"the evidence for each alarm is in {out}/report.html (Sampling checks)")
    console.print(f"drew {result.drawn} new samples ({result.planned} planned); wrote {out}/samples.sqlite, "
                  f"{out}/summary.json and {out}/report.html")


def _words(value: Optional[str]) -> int | str | None:
    if value is None or value == "all":
        return value
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter("--words takes a number or \"all\"") from None


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``demo``."""

    @app.command()
    def run(
        study_file: Annotated[Path, typer.Argument(help="The study file (TOML).", metavar="STUDY.toml")],
        out: Annotated[Path, _OUT],
        individuals: Annotated[Optional[int], typer.Option(help="Override the colour population size.")] = None,
        words: Annotated[Optional[str], typer.Option(help="Override the number of colour words (or \"all\").")] = None,
    ) -> None:
        """Run a study file, or continue it where it stopped."""
        from monoculture.study import load_study

        _execute(load_study(study_file).with_size(individuals, _words(words)), out)

    @app.command()
    def demo(
        out: Annotated[Path, _OUT] = Path("demo-out"),
        individuals: Annotated[Optional[int], typer.Option(help="Colour population size (the paper: 150).")] = None,
        words: Annotated[Optional[str], typer.Option(help="Number of colour words, or \"all\" (the paper: 199).")] = None,
    ) -> None:
        """Run the built-in demo study on the two embedded models."""
        from monoculture.study import demo_study

        _execute(demo_study().with_size(individuals, _words(words)), out)
