"""``monoculture simulate STUDY.toml --beta 10,3,1,0.3,0.1 --out DIR``: the price of diversity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def _numbers(text: str, kind: type, option: str) -> list:
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(f"{option} takes comma-separated numbers, e.g. 10,3,1,0.3") from None
    if not values:
        raise typer.BadParameter(f"{option} takes at least one number")
    return values


def register(app: typer.Typer) -> None:
    """Add ``simulate``."""

    @app.command()
    def simulate(
        study_file: Annotated[Path, typer.Argument(help="A study file with at least one aligned: twin.",
                                                   metavar="STUDY.toml")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the run and frontier.json/csv/svg.")],
        beta: Annotated[str, typer.Option(help="The β values to sweep, comma-separated.")] = "10,3,1,0.3,0.1",
        rounds: Annotated[Optional[str], typer.Option(help="Numbers of rounds to sweep (default: each twin's).")]
        = None,
        sampling_temperature: Annotated[Optional[str], typer.Option(
            help="Temperatures to decode the twin at (a mitigation), comma-separated.")] = None,
        sampling_min_p: Annotated[Optional[str], typer.Option(
            help="min-p values to decode the twin with, comma-separated.")] = None,
    ) -> None:
        """Every aligned twin of the study at each β: reward against diversity, beside the people."""
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        import monoculture
        from monoculture.cli._progress import ProgressObserver
        from monoculture.display import format_number

        betas = _numbers(beta, float, "--beta")
        round_counts = _numbers(rounds, int, "--rounds") if rounds else None
        temperatures = _numbers(sampling_temperature, float, "--sampling-temperature") if sampling_temperature else None
        min_ps = _numbers(sampling_min_p, float, "--sampling-min-p") if sampling_min_p else None
        console = Console()
        with ProgressObserver(console) as observer:
            simulation = monoculture.simulate(monoculture.load_study(study_file), betas, out, rounds=round_counts,
                                              temperatures=temperatures, min_ps=min_ps, observer=observer)
        for task, why in simulation.dropped_tasks.items():
            console.print(f"left out the {escape(task)} task: {escape(why)}")
        table = Table(title="The price of diversity (KL in nats; reward: the rater's, higher is more acceptable)",
                      title_justify="left")
        for heading in ("base · reward", "β", "T", "condition", "task", "mean reward", "KL to base", "diversity"):
            table.add_column(heading, justify="left" if heading in ("base · reward", "condition", "task") else "right",
                             overflow="fold")
        for row in simulation.rows:
            headline = next(iter(row["measures"].items()), (None, None))
            table.add_row(escape(f"{row['base']} · {row['reward'] or 'base'}"),
                          "∞" if row["beta"] is None else format(row["beta"], "g"),
                          "" if row["sampling_temperature"] is None else format(row["sampling_temperature"], "g"),
                          escape(row["condition"]),
                          escape(row["task"]), format_number(row["mean_reward"], 3), format_number(row["kl"], 3),
                          format_number(headline[1], 3))
        for task, measures in simulation.people.items():
            headline = next(iter(measures.items()), (None, None))
            table.add_row("people", "", "", "", escape(task), "", "", format_number(headline[1], 3), style="dim italic")
        console.print(table)
        console.print("diversity: each task's headline measure (gini simpson: the chance two answers differ; "
                      "p multiple concepts for concepts); every measure is in frontier.csv")
        shown = escape(str(out))
        console.print(f"wrote {shown}/frontier.json, {shown}/frontier.csv, {shown}/frontier.svg and the run's "
                      f"{shown}/report.html")
