"""``monoculture run STUDY.toml --out DIR`` and ``monoculture demo --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

_OUT = typer.Option("--out", "-o", help="Folder for samples.sqlite, summary.json and report.html.")


def show_summary(summary, out: Path, console) -> None:
    """The result tables and the alarms of a summary, on the terminal (user text escaped)."""
    from rich.markup import escape

    from monoculture.report import result_tables

    console.print(*result_tables(summary))
    modes = [f"{escape(spec)} {'deterministic' if summary.deterministic.get(spec) else 'not deterministic'}"
             for spec in summary.models]
    console.print(f"models: {'; '.join(modes)} (deterministic: a rerun stores the same outputs)")
    for alarm in summary.alarms:
        where = " · ".join(part for part in (alarm.model, alarm.condition, alarm.task) if part)
        console.print(f"[bold red]alarm[/] ({alarm.kind}, {escape(where)}): {escape(alarm.message)}")
    if summary.alarms:
        console.print(f"the evidence for each alarm is in {escape(str(out))}/report.html (Sampling checks)")


def _execute(study, out: Path) -> None:
    from rich.console import Console
    from rich.markup import escape

    import monoculture
    from monoculture.cli._progress import ProgressObserver

    console = Console(stderr=False)
    with ProgressObserver(console) as observer:
        summary = monoculture.run(study, out, observer=observer)
    show_summary(summary, out, console)
    shown = escape(str(out))
    console.print(f"drew {observer.drawn} new samples ({summary.n_samples_planned} planned); wrote {shown}/samples.sqlite, "
                  f"{shown}/summary.json and {shown}/report.html")


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
        import monoculture

        _execute(monoculture.load_study(study_file).with_size(individuals, _words(words)), out)

    @app.command()
    def demo(
        out: Annotated[Path, _OUT] = Path("demo-out"),
        individuals: Annotated[Optional[int], typer.Option(help="Colour population size (the paper: 150).")] = None,
        words: Annotated[Optional[str], typer.Option(help="Number of colour words, or \"all\" (the paper: 199).")] = None,
    ) -> None:
        """Run the built-in demo study on the two embedded models."""
        from monoculture.study import demo_study

        _execute(demo_study().with_size(individuals, _words(words)), out)
