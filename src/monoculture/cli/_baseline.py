"""``monoculture baseline TASK``: a task's human reference on all its items, computed from the human data."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``baseline``."""

    @app.command()
    def baseline(
        task: Annotated[str, typer.Argument(help="A task with human data: colour, concepts (or a plugin's).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """The human reference values of a task on all its items, computed from the human data."""
        from monoculture.errors import MonocultureError
        from monoculture.tasks import task_type

        kind = task_type(task)
        human = kind(kind.Spec(), seed=0).human()  # the default settings: every item of the task
        if human is None:
            raise MonocultureError(f"the {task} task has no human reference")
        if as_json:
            typer.echo(human.model_dump_json(indent=2))
            return
        from rich.console import Console

        Console().print(kind.terminal_table([], human, f"Human {task} reference ({kind.citation})"))
