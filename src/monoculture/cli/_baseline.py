"""``monoculture baseline TASK``: a task's human reference on all its items, computed from the human data."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``baseline``."""

    @app.command()
    def baseline(
        task: Annotated[str, typer.Argument(help="A task with human data: colour, colour-terms, concepts (or a "
                                                 "plugin's).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """The human reference values of a task on all its items, computed from the human data."""
        from monoculture.errors import MonocultureError
        from monoculture.tasks import task_type

        from pydantic import ValidationError

        kind = task_type(task.replace("-", "_"))  # colour-terms is the colour_terms task
        try:
            settings = kind.Spec()  # the default settings: every item of the task
        except ValidationError:  # a task whose items are the user's (questions) has no reference of its own
            raise MonocultureError(f"the {task} task has no built-in human reference: its people's answers come "
                                   "with the study") from None
        human = kind(settings, seed=0).human()
        if human is None:
            raise MonocultureError(f"the {task} task has no human reference")
        if as_json:
            typer.echo(human.model_dump_json(indent=2))
            return
        from rich.console import Console

        Console().print(kind.terminal_table([], human, f"Human {task} reference ({kind.citation})"))
