"""The errors monoculture raises on purpose.

Two kinds of failure exist:

* a **user's mistake or environment problem** (a malformed study file, an unknown model spec, missing
  weights or data, an unreachable server) raises a :class:`MonocultureError`. Its message is one line
  that names the fix; the CLI prints it without a traceback and exits with the class's ``exit_code``.
* a **bug** raises anything else and keeps its traceback.

::

    MonocultureError            exit 2   generic user error
    ├── StudyFileError          exit 3   study file unreadable, unknown keys, wrong types, impossible values
    ├── ModelSpecError          exit 4   unknown model spec or backend
    ├── ModelUnavailableError   exit 4   weights missing or corrupt, optional backend not installed
    ├── DataError               exit 5   human data missing, corrupt, changed or malformed
    ├── BackendError            exit 6   a model server failed (unreachable, bad key, gave up after retries)
    ├── StoreError              exit 7   the sample store is damaged, foreign, busy with another study or full
    └── OutputError             exit 8   the output folder cannot be written (a file, read-only, disk full)

    Interrupted (a BaseException, like KeyboardInterrupt)
                                exit 130 on Ctrl-C (SIGINT), 143 on SIGTERM: what was stored is kept
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "DataError",
    "ModelSpecError",
    "ModelUnavailableError",
    "MonocultureError",
    "OutputError",
    "StoreError",
    "StudyFileError",
    "Interrupted",
]


class MonocultureError(Exception):
    """A problem the user can fix; the message is one actionable line."""

    exit_code = 2


class StudyFileError(MonocultureError):
    """The study file cannot be read or does not validate."""

    exit_code = 3


class ModelSpecError(MonocultureError):
    """A model spec names no known backend or model."""

    exit_code = 4


class ModelUnavailableError(MonocultureError):
    """A model's weights or its backend's optional dependencies are not installed."""

    exit_code = 4


class DataError(MonocultureError):
    """A human data file is missing, corrupt or malformed."""

    exit_code = 5


class BackendError(MonocultureError):
    """A model backend failed in a way retrying did not fix."""

    exit_code = 6


class StoreError(MonocultureError):
    """The sample store cannot be used: damaged, not a monoculture store, in use by another study, or full."""

    exit_code = 7


class OutputError(MonocultureError):
    """The output folder or one of its files cannot be written."""

    exit_code = 8


class Interrupted(KeyboardInterrupt):  # noqa: N818 - named as the user sees it, like KeyboardInterrupt
    """The run was stopped by a signal (Ctrl-C or SIGTERM); everything stored so far is kept.

    A KeyboardInterrupt, the one kind of exception asyncio's transports let through (they swallow any other
    BaseException raised in a callback), and what ``except Exception`` never catches.
    """

    def __init__(self, signal_name: str, exit_code: int) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.exit_code = exit_code
