"""The ``monoculture`` command: a thin layer over the public API, one module per command."""

from __future__ import annotations

import sqlite3
import sys

import typer

from monoculture.errors import Interrupted, MonocultureError, StoreError

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
    from monoculture.cli import _baseline, _crp, _data, _export, _models, _plan, _replicate, _run, _simulate

    _run.register(app)
    _export.register(app)
    _crp.register(app)
    _models.register(app)
    _data.register(data_app)
    _baseline.register(app)
    _simulate.register(app)
    _plan.register(app)
    _replicate.register(app)


_register_commands()


_INTERRUPTED = ("monoculture: interrupted ({signal}): every sample stored so far is kept, and a run wrote the "
                "summary and report of what it has; run the same command again to continue")


# The signals that stopped this process: typer turns the KeyboardInterrupt they raise into the return value 130,
# so which signal it was (and so the exit code) is kept here.
_STOPPED_BY: list[Interrupted] = []


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM raise :class:`Interrupted` where the program is, so a run stops at once, keeps what
    it stored and writes its summary before the command exits 130 (SIGINT) or 143 (SIGTERM)."""
    import signal

    def stop(number: int, _frame: object) -> None:
        stopped = Interrupted(signal.Signals(number).name, 128 + number)
        _STOPPED_BY.append(stopped)
        raise stopped

    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), stop)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and a distinct exit code, bugs keep their traceback."""
    _stop_on_signals()
    try:
        code = app(args=argv, standalone_mode=False)
    except MonocultureError as error:
        print(f"monoculture: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except sqlite3.DatabaseError as error:  # read while iterating a damaged store: the user's problem, not a bug
        print(f"monoculture: error: the sample store cannot be read ({error}): recover it with sqlite3's .recover "
              "into a new file, or run into a new --out folder", file=sys.stderr)
        sys.exit(StoreError.exit_code)
    except (Interrupted, KeyboardInterrupt) as stop:
        name = stop.signal_name if isinstance(stop, Interrupted) else "SIGINT"
        print(_INTERRUPTED.format(signal=name), file=sys.stderr)
        sys.exit(stop.exit_code if isinstance(stop, Interrupted) else 130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.exit(1)
    except _USAGE_ERROR as error:  # a bad option or a missing argument: click's own message and exit code
        error.show()
        sys.exit(error.exit_code)
    if isinstance(code, int) and code:  # typer returns the code of an Exit raised inside a command
        if code == 130:  # typer's word for a KeyboardInterrupt: ours, with the signal that raised it
            stopped = _STOPPED_BY[0] if _STOPPED_BY else Interrupted("SIGINT", 130)
            print(_INTERRUPTED.format(signal=stopped.signal_name), file=sys.stderr)
            sys.exit(stopped.exit_code)
        sys.exit(code)
