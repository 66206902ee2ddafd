"""Where the human data lives: ``$MONOCULTURE_DATA`` or the user data folder."""

from __future__ import annotations

import os
from pathlib import Path

from monoculture.errors import DataError

ENV_VAR = "MONOCULTURE_DATA"


def data_root() -> Path:
    """The folder that holds the human data: ``$MONOCULTURE_DATA`` if set, else the user data folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # lazy: only needed when the variable is unset

    return Path(platformdirs.user_data_dir("monoculture")) / "data"


def data_file(relative_path: str) -> Path:
    """The path of one data file, or a one-line :class:`DataError` saying how to get it."""
    path = data_root() / relative_path
    if not path.is_file():
        raise DataError(
            f"missing data file {relative_path} under {data_root()}: run `monoculture data fetch` "
            f"or set {ENV_VAR} to a folder that has it"
        )
    return path
