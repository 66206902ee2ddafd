"""A real vLLM server for the tests, started by ``scripts/vllm.sh serve`` as a user would start it.

``scripts/setup.sh dev`` installs vLLM in ``.venv-vllm`` with SmolLM2-135M-Instruct as a checkpoint folder
(``bash scripts/vllm.sh install``); :class:`VllmServer` serves that folder on a free loopback port as the model
``smollm2`` and stops it (its whole process group: vLLM runs its engine in child processes) when done.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from pathlib import Path

from openai_server import free_port

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / os.environ.get("MONOCULTURE_VLLM_VENV", ".venv-vllm")
MODEL_DIR = VENV / "models" / "smollm2-135m-instruct"
# vLLM 0.32 with --enforce-eager listens after 26 s on an idle 2-core machine, 50-75 s with other work running.
START_TIMEOUT_S = 300.0


class VllmServer:
    """vLLM serving SmolLM2-135M-Instruct at ``url`` (``http://127.0.0.1:PORT/v1``), its log in ``log_path``."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.started_in_s: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> VllmServer:
        if not (VENV / "bin" / "python").exists() or not (MODEL_DIR / "model.safetensors").exists():
            raise RuntimeError(f"vLLM is not installed in {VENV}: run `bash scripts/setup.sh dev` "
                               "(or `bash scripts/vllm.sh install`)")
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(["bash", str(REPO / "scripts" / "vllm.sh"), "serve", str(MODEL_DIR),
                                             str(self.port)], cwd=REPO, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        while True:  # vLLM listens only once its engine is up; /health then answers 200
            if self.process.poll() is not None:
                raise RuntimeError(f"vLLM exited while starting (code {self.process.returncode}): "
                                   f"{self._log_tail()}")
            if time.monotonic() - started > START_TIMEOUT_S:
                self.stop()
                raise RuntimeError(f"vLLM did not start within {START_TIMEOUT_S:g} s: {self._log_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    self.started_in_s = time.monotonic() - started
                    return self
            except OSError:
                pass
            time.sleep(0.5)

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server and its engine processes (the process group it started)."""
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()
        try:  # engine processes left behind by a server that died first
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
