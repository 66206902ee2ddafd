"""``monoculture crp FILE.csv``: the CRP concept clustering of a published ``*-forCRP.csv`` file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add ``crp``."""

    @app.command()
    def crp(
        file: Annotated[Path, typer.Argument(help="A *-forCRP.csv file (Concept, ID, Question, ChoiceNumber).",
                                             metavar="FILE.csv")],
        sweeps: Annotated[int, typer.Option(min=2, help="Gibbs sweeps per chain.")] = 500,
        burn_in: Annotated[int, typer.Option(min=0, help="Sweeps discarded (those with index <= burn-in).")] = 100,
        chains: Annotated[int, typer.Option(min=1, help="Independent chains per concept.")] = 3,
        alpha: Annotated[float, typer.Option(help="Beta(alpha, alpha) prior per question and table.")] = 0.16,
        max_people: Annotated[Optional[int], typer.Option(min=1, help="Cluster only the first N complete "
                                                          "individuals of each concept (the paper: 100).")] = None,
        seed: Annotated[int, typer.Option(min=0, help="Seed; concept k's chains use (seed, k, chain).")] = 0,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    ) -> None:
        """Cluster each concept's complete individuals with the CRP; print P(multiple concepts), tables, richness."""
        from monoculture.errors import MonocultureError

        if alpha <= 0:
            raise MonocultureError(f"--alpha must be positive, got {alpha}")
        if burn_in + 1 >= sweeps:
            raise MonocultureError(f"--burn-in {burn_in} leaves no sweeps to average: use --burn-in below "
                                   f"{sweeps - 1} or more --sweeps")
        from monoculture.metrics import run_crp
        from monoculture.tasks.concepts import read_crp_input

        rows = []
        for index, (concept, data) in enumerate(read_crp_input(file).items()):
            responses = data.responses if max_people is None else data.responses[:max_people]
            row: dict[str, object] = {"concept": concept, "n_individuals": int(responses.shape[0]),
                                      "p_multiple_concepts": None, "tables": None, "richness": None}
            if responses.shape[0] > 0:
                result = run_crp(responses, sweeps=sweeps, burn_in=burn_in, chains=chains, alpha=alpha,
                                 seed=(seed, index))
                row.update(p_multiple_concepts=result.p_multiple_concepts, tables=result.tables,
                           richness=result.richness)
            rows.append(row)

        if json_output:
            typer.echo(json.dumps(rows, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"CRP concepts in {file.name} ({chains} chains x {sweeps} sweeps, burn-in {burn_in})")
        for heading in ("concept", "individuals", "P(multiple concepts)", "tables", "richness"):
            table.add_column(heading, justify="left" if heading == "concept" else "right")
        for row in rows:
            numbers = [row["p_multiple_concepts"], row["tables"], row["richness"]]
            table.add_row(str(row["concept"]), str(row["n_individuals"]),
                          *("-" if value is None else f"{value:.3f}" for value in numbers))
        Console().print(table)
