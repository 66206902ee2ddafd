"""Where the human data lives: ``$MONOCULTURE_DATA`` or the user data folder."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from monoculture.errors import DataError
from monoculture.files import sha256_of
from monoculture.reference._manifest import manifest

ENV_VAR = "MONOCULTURE_DATA"
# Set to 1 to use human data that does not match the manifest (a user's own reference data): every run
# records it, and its summary and report carry a "data" alarm naming the files.
UNVERIFIED_VAR = "MONOCULTURE_UNVERIFIED_DATA"


def data_root() -> Path:
    """The folder that holds the human data: ``$MONOCULTURE_DATA`` if set, else the user data folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # lazy: only needed when the variable is unset

    return Path(platformdirs.user_data_dir("monoculture")) / "data"


def unverified_allowed() -> bool:
    """Whether the user allowed human data that does not match the manifest."""
    return os.environ.get(UNVERIFIED_VAR, "") not in ("", "0")


def data_file(relative_path: str) -> Path:
    """The path of one data file, checked against its recorded sha256, or a one-line :class:`DataError`.

    A well-formed but edited file would otherwise be used silently (block 2 set equal to block 1 gives a human
    internal ΔE of 0.00 instead of 29.24). The check hashes each file once per process and again only when its
    size or modification time changes.
    """
    path = data_root() / relative_path
    if not path.is_file():
        raise DataError(
            f"missing data file {relative_path} under {data_root()}: run `monoculture data fetch` "
            f"or set {ENV_VAR} to a folder that has it"
        )
    expected = {entry.path: entry.sha256 for entry in manifest(None)}.get(relative_path)
    if expected is not None and not unverified_allowed():
        if file_sha256(path) != expected:
            raise DataError(f"data file {relative_path} under {data_root()} does not match its recorded sha256 "
                            f"(edited or corrupt): run `monoculture data fetch` to restore it, or set "
                            f"{UNVERIFIED_VAR}=1 to use your own data (runs then say so)")
    return path


def file_sha256(path: Path) -> str:
    """A file's sha256, hashed once per process until its size or modification time changes."""
    status = path.stat()
    return _sha256(str(path), status.st_size, status.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256(path: str, _size: int, _modification_time: int) -> str:
    # The size and modification time are only the cache key: a changed file is hashed again.
    return sha256_of(Path(path))
