"""Shared fixtures: tests read the human data from $MONOCULTURE_DATA (CI points it at ../shared/data)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = os.environ.get("MONOCULTURE_DATA")
    if not root or not Path(root).is_dir():
        pytest.fail("set MONOCULTURE_DATA to the human data folder (CI uses ../shared/data; "
                    "or run `monoculture data fetch` and point it there)")
    return Path(root)


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The real command in a subprocess, as a user types it."""
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
