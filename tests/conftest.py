"""Shared fixtures: tests read the human data from $MONOCULTURE_DATA (CI points it at ../shared/data)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The suite runs in two or more processes (pyproject's addopts), so two model tests often share the cores: threads
# that wait for their partners sleep at once instead of spinning through the other test's time slices
# (docs/methods.md, section 6.1). Set before any test loads llama.cpp or torch; a test that needs the default
# starts a subprocess without it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The human data ($MONOCULTURE_DATA, as CI sets it, or what `monoculture data fetch` wrote), intact."""
    from monoculture.reference import data_root as root, verify

    problems = verify()
    if problems:
        pytest.fail(f"the human data under {root()} is incomplete ({problems[0]}, ...): "
                    "run `monoculture data fetch` or set MONOCULTURE_DATA")
    return root()


@pytest.fixture(scope="module")
def llama_server():
    """llama.cpp's OpenAI-compatible server (SmolLM2-135M-Instruct, key ``TEST_KEY``), one per test module."""
    from openai_server import TEST_KEY, LlamaServer

    running = LlamaServer(TEST_KEY).start()
    yield running
    running.kill()


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The real command in a subprocess, as a user types it."""
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def count_samples(store: Path) -> int:
    """Samples in a store that another process is writing (0 before it exists)."""
    import sqlite3

    try:
        with sqlite3.connect(store, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory):
    """vLLM serving SmolLM2-135M-Instruct on loopback (``tests/vllm_server.py``), once per test session: it takes
    26-75 s to start. Installed by ``scripts/setup.sh dev``; a missing install fails the tests that need it."""
    from vllm_server import VllmServer

    server = VllmServer(tmp_path_factory.mktemp("vllm") / "server.log")
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    print(f"\nvLLM started in {server.started_in_s:.0f} s")
    yield server
    server.stop()
