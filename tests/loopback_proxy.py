"""A loopback HTTP proxy for the server tests: it can refuse, delay, or pretend to be another server.

Tests of the openai: backend put it in front of a real server (llama.cpp's, vLLM's) where they need a slow or
refusing server, or one that reports another make or version.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Proxy:
    """A loopback HTTP proxy that can refuse the first completions, delay replies, or pretend to be another server.

    ``refusals``: (status, Retry-After) answered to the first POSTs instead of forwarding them; ``delays``:
    seconds to wait before forwarding each POST in turn (then ``delay_s`` for the rest); ``fake``: GET paths
    answered with a fixed (status, JSON) instead of forwarding. Every POST body it saw is kept in ``bodies``.
    """

    def __init__(self, upstream_port: int, *, refusals=(), delays=(), delay_s: float = 0.0, fake=None) -> None:
        self.upstream_port = upstream_port
        self.refusals, self.delays, self.delay_s = list(refusals), list(delays), delay_s
        self.fake = fake or {}
        self.bodies: list[dict] = []
        self.refused = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                proxy._handle(self, b"")

            def do_POST(self) -> None:
                proxy._handle(self, self.rfile.read(int(self.headers.get("Content-Length", 0))))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict) -> None:
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client gave up waiting (a read timeout): nothing to deliver
            pass

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        if handler.command == "GET" and handler.path in self.fake:
            status, payload = self.fake[handler.path]
            return self._reply(handler, status, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        delay = 0.0
        if handler.command == "POST":
            with self._lock:
                self.bodies.append(json.loads(body))
                if self.refusals:
                    status, retry_after = self.refusals.pop(0)
                    self.refused += 1
                    error = json.dumps({"error": {"message": f"test refusal {status}"}}).encode()
                    headers = {"Content-Type": "application/json"}
                    if retry_after is not None:
                        headers["Retry-After"] = str(retry_after)
                    return self._reply(handler, status, error, headers)
                delay = self.delays.pop(0) if self.delays else self.delay_s
        time.sleep(delay)
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        headers = {name: value for name, value in handler.headers.items() if name.lower() != "host"}
        upstream.request(handler.command, handler.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        content = response.read()
        if handler.command == "POST":
            with self._lock:
                self.forwarded += 1
        self._reply(handler, response.status, content,
                    {"Content-Type": response.getheader("Content-Type", "application/json")})
