"""``monoculture data fetch`` and ``monoculture data verify``: get the human data and check it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("fetch")(fetch)
    app.command("verify")(verify)


def fetch(
    dest: Annotated[Optional[Path], typer.Option("--dest", help="Folder to fill (default: $MONOCULTURE_DATA "
                                                 "or the user data folder).")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="A mirror laid out like "
                                                    "raw.githubusercontent.com: {base-url}/{repo}/{commit}/{path} "
                                                    "(default: GitHub).")] = None,
) -> None:
    """Download the human data from its public GitHub sources at pinned commits and check every sha256."""
    from monoculture.reference import GITHUB_RAW, data_root, fetch as fetch_data

    paths = fetch_data(dest, base_url=base_url or GITHUB_RAW)
    typer.echo(f"{len(paths)} data files present and verified in {dest if dest is not None else data_root()}")


def verify(
    root: Annotated[Optional[Path], typer.Option("--root", help="Folder to check (default: $MONOCULTURE_DATA "
                                                 "or the user data folder).")] = None,
) -> None:
    """Check that every human data file is present and has its recorded sha256."""
    from monoculture.errors import DataError
    from monoculture.reference import data_root, manifest, verify as verify_data

    folder = root if root is not None else data_root()
    problems = verify_data(folder)
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise DataError(f"{len(problems)} of {len(manifest())} data files under {folder} are missing or corrupt: "
                        f"run `monoculture data fetch`")
    typer.echo(f"all {len(manifest())} data files under {folder} are present and intact")
