"""A real OpenAI-compatible server for the tests: llama.cpp's HTTP server inside xllamacpp, on loopback.

Run as ``python tests/openai_server.py MODEL.gguf PORT API_KEY``; it serves ``http://127.0.0.1:PORT/v1`` until
killed. A separate process, so that a test can kill it mid-run and start it again on the same port.
"""

from __future__ import annotations

import signal
import sys
import threading


def main(model: str, port: int, api_key: str) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_parallel = 4
    params.n_ctx = 4096
    params.warmup = False
    params.verbosity = -1
    params.endpoint_props = True  # GET /props: the server's sampling defaults and build
    params.api_keys = [api_key]
    server = xllamacpp.Server(params)  # noqa: F841 - serves while referenced
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("serving", flush=True)
    stop.wait()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
