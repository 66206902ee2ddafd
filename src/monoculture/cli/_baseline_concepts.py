"""``monoculture baseline concepts``: the human concept reference (Martí et al. 2023's CRP chains)."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``concepts`` to the ``baseline`` group."""

    @app.command()
    def concepts(
        json_output: Annotated[bool, typer.Option("--json", help="Print the ConceptBlock as JSON.")] = False,
    ) -> None:
        """P(multiple concepts), tables and richness of the human populations, per category and target."""
        from monoculture.reference._concepts import human_concept_block

        block = human_concept_block()
        if json_output:
            typer.echo(json.dumps(block, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        from monoculture.tasks._concepts import CATEGORIES

        table = Table(title="Human concepts (Martí et al. 2023): P(multiple concepts), mean of sweeps 101-499, "
                            "3 chains; sw. 499 = the paper's single sweep; rich. = Chao1")
        for heading in ("target", "n", "P(mult.)", "95% CI", "sw. 499", "tables", "rich."):
            table.add_column(heading, justify="left" if heading == "target" else "right", no_wrap=True)

        def add(label: str, entry: dict, bold: bool = False) -> None:
            low, high = entry["p_multiple_concepts_ci"]
            table.add_row(label, str(entry["n_individuals"]), f"{entry['p_multiple_concepts']:.3f}",
                          f"{low:.2f}-{high:.2f}", f"{entry['p_multiple_concepts_sweep499']:.3f}",
                          f"{entry['tables']:.1f}", f"{entry['richness']:.1f}", style="bold" if bold else None)

        for category, entry in block["by_category"].items():
            add(category, entry, bold=True)
            for target in CATEGORIES[category]:
                add(f"  {target}", block["by_target"][target])
        add("all", block, bold=True)
        Console().print(table)
