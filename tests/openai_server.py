"""A real OpenAI-compatible server for the tests: llama.cpp's HTTP server inside xllamacpp, on loopback.

Run as ``python tests/openai_server.py MODEL.gguf PORT [API_KEY]``; it serves ``http://127.0.0.1:PORT/v1`` until
killed. A separate process, so that a test can kill it mid-run and start it again on the same port. Without
``API_KEY`` on the command line the key is read from the first line of stdin (a secret stays out of ``ps``).
Tests start it with :class:`LlamaServer`.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import threading
import time


# The key the tests' server requires; tests grep every output for it: it must never be stored.
TEST_KEY = "sk-monoculture-test-Zq7Hx2Lw9"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """This server (SmolLM2-135M-Instruct) in a subprocess that a test may kill and start again on its port."""

    def __init__(self, api_key: str, port: int | None = None) -> None:
        self.api_key = api_key
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        from monoculture.backends._embedded import EMBEDDED_MODELS

        model = EMBEDDED_MODELS["smollm2-135m-instruct"].locate()
        self.process = subprocess.Popen([sys.executable, __file__, str(model), str(self.port)],
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.process.stdin.write(self.api_key.encode() + b"\n")  # not on the command line: ps shows that
        self.process.stdin.close()
        deadline = time.monotonic() + 60
        while True:  # /health answers 503 while the model loads, 200 once it serves (no key needed)
            assert self.process.poll() is None, "the llama.cpp server exited while starting"
            assert time.monotonic() < deadline, "the llama.cpp server did not start within 60 s"
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


def main(model: str, port: int, api_key: str) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_parallel = 4
    params.n_ctx = 4096
    params.warmup = False
    # One thread: the tests share two cores with the client and other processes, and llama.cpp's threads wait
    # for each other at every step, so with a core taken a two-thread server slows to seconds per token.
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 1
    params.verbosity = -1
    params.endpoint_props = True  # GET /props: the server's sampling defaults and build
    params.api_keys = [api_key]
    server = xllamacpp.Server(params)  # noqa: F841 - serves while referenced
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("serving", flush=True)
    stop.wait()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else sys.stdin.readline().strip())
