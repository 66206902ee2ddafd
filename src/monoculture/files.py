"""File helpers shared by the data manifest, the model backends and the outputs."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

_PART = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[^.]+\.part$")


def sha256_of(path: Path) -> str:
    """The file's sha256, read in blocks (model weights are hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file through a temporary file and a rename: a reader, or a run killed mid-write, sees the old
    file or the new one, never half of one (two runs may finish into one folder at the same time)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's process id is in the name, so a later run can tell a killed writer's leftover from a live one's.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        # mkstemp makes the file private (0600); a report or data file gets the permissions open() would give.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def process_alive(pid: int) -> bool:
    """Whether a process of this machine with this id is running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_parts(folder: Path, started: float | None = None) -> list[Path]:
    """Delete the temporary files of :func:`write_atomically` that a killed writer left in ``folder``.

    A file goes only if its writer's process is gone, or (a name without a process id, from an earlier
    version) if it is older than ``started``, the start of the run that finds it. Returns what was deleted.
    """
    started = time.time() if started is None else started
    removed = []
    for path in Path(folder).glob(".*.part"):
        match = _PART.match(path.name)
        if match is None or not path.is_file():
            continue
        pid = match.group("pid")
        stale = not process_alive(int(pid)) if pid else path.stat().st_mtime < started
        if stale:
            try:
                path.unlink()
            except FileNotFoundError:  # another run removed it first
                continue
            removed.append(path)
    return removed
