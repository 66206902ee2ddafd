"""The ``monoculture`` command: a thin layer over the public API, one module per command."""

from __future__ import annotations

import sys

import typer

from monoculture.errors import MonocultureError

# typer vendors click: every usage error (bad option, missing argument) derives from ClickException,
# which typer re-exports only as a base of BadParameter.
_USAGE_ERROR = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException")

app = typer.Typer(
    name="monoculture",
    help="Measure how alignment homogenizes language models against human populations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="The human data: fetch it from its public sources and verify it.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _register_commands() -> None:
    # Each module adds its own commands; heavy imports stay inside the command functions so that
    # `monoculture --help` is fast.
    from monoculture.cli import _baseline, _crp, _data, _export, _models, _run

    _run.register(app)
    _export.register(app)
    _crp.register(app)
    _models.register(app)
    _data.register(data_app)
    _baseline.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and a distinct exit code, bugs keep their traceback."""
    try:
        app(args=argv, standalone_mode=False)
    except MonocultureError as error:
        print(f"monoculture: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("monoculture: interrupted; every sample collected so far is stored, run again to continue",
              file=sys.stderr)
        sys.exit(130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.exit(1)
    except _USAGE_ERROR as error:  # a bad option or a missing argument: click's own message and exit code
        error.show()
        sys.exit(error.exit_code)
