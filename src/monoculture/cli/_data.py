"""``monoculture data fetch`` and ``monoculture data verify``: get the human data and check it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("fetch")(fetch)
    app.command("verify")(verify)


GROUP_HELP = ("Which data: human (the people's, the default), published-answers (the concept-task answers of the "
              "ten models of Murthy, Ullman & Hu 2025, for `monoculture replicate murthy2025`; 58 files, 131 MB) or "
              "all; repeat the option for several.")


def _groups(given: Optional[list[str]]) -> tuple[str, ...]:
    from monoculture.errors import DataError
    from monoculture.reference import DEFAULT_GROUPS, GROUPS

    if not given:
        return DEFAULT_GROUPS
    if "all" in given:
        return GROUPS
    unknown = [group for group in given if group not in GROUPS]
    if unknown:
        raise DataError(f"unknown data group {unknown[0]!r}: choose {', '.join(GROUPS)} or all")
    return tuple(dict.fromkeys(given))


def fetch(
    dest: Annotated[Optional[Path], typer.Option("--dest", help="Folder to fill (default: $MONOCULTURE_DATA "
                                                 "or the user data folder).")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="A mirror laid out like "
                                                    "raw.githubusercontent.com: {base-url}/{repo}/{commit}/{path} "
                                                    "(default: GitHub).")] = None,
    group: Annotated[Optional[list[str]], typer.Option("--group", help=GROUP_HELP)] = None,
) -> None:
    """Download the human data (and on request the published model answers) from their public GitHub sources at
    pinned commits and check every sha256."""
    from monoculture.reference import GITHUB_RAW, data_root, fetch as fetch_data

    paths = fetch_data(dest, base_url=base_url or GITHUB_RAW, groups=_groups(group))
    typer.echo(f"{len(paths)} data files present and verified in {dest if dest is not None else data_root()}")


def verify(
    root: Annotated[Optional[Path], typer.Option("--root", help="Folder to check (default: $MONOCULTURE_DATA "
                                                 "or the user data folder).")] = None,
    group: Annotated[Optional[list[str]], typer.Option("--group", help=GROUP_HELP)] = None,
) -> None:
    """Check that every data file of the groups is present and has its recorded sha256."""
    from monoculture.errors import DataError
    from monoculture.reference import data_root, manifest, verify as verify_data

    folder = root if root is not None else data_root()
    groups = _groups(group)
    problems = verify_data(folder, groups=groups)
    count = len(manifest(groups))
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        again = "" if groups == ("human",) else "".join(f" --group {g}" for g in groups)
        raise DataError(f"{len(problems)} of {count} data files under {folder} are missing or corrupt: "
                        f"run `monoculture data fetch{again}`")
    typer.echo(f"all {count} data files under {folder} are present and intact")
