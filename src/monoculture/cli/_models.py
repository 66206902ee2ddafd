"""``monoculture models``: the embedded models and the backends this install can use."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``models``."""

    @app.command()
    def models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """List the embedded models (file, size, kind, licence) and the available backends (and which of them
        can run a study with deterministic = true)."""
        import json

        from monoculture.backends.catalogue import backends_available, embedded_catalogue

        entries, backends = embedded_catalogue(), backends_available()
        if as_json:
            print(json.dumps({"embedded": entries, "backends": backends}, indent=2))
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title="embedded models")
        for column in ("spec", "kind", "licence", "size", "file"):
            table.add_column(column)
        for entry in entries:
            size = f"{entry['size_bytes'] / 1e6:.0f} MB" if entry["size_bytes"] else "-"
            table.add_row(entry["spec"], entry["kind"], entry["licence"], size,
                          escape(entry["file"] or (f"unusable: {entry['problem']}" if entry["problem"]
                                                   else f"not installed: {entry['install']}")))
        backends_table = Table(title="backends")
        for column in ("prefix", "available", "deterministic", "spec form / install"):
            backends_table.add_column(column)
        for entry in backends:
            backends_table.add_row(entry["prefix"], "yes" if entry["available"] else "no",
                                   "yes" if entry["deterministic"] else "no",
                                   escape(entry["example"] if entry["available"] else entry["install"]))
        console = Console()
        console.print(table)
        console.print(backends_table)
