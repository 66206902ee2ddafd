"""A fake OpenAI-compatible server on loopback that misbehaves on purpose, and a launcher for the real one.

:class:`HostileServer` speaks just enough of the OpenAI HTTP API (``GET /v1/models``, ``POST
/v1/chat/completions`` and ``/v1/completions``) to be taken for an OpenAI-compatible server of unknown make.
What it answers is chosen by :attr:`HostileServer.behaviour`: one name for every request, or a dict from the
colour word in the prompt to a name (``"*"`` for the others). With ``healthy_until=(store, n)`` it answers
properly until the run's store holds ``n`` samples, so that a run has collected samples before the server
turns on it (whatever requests a run makes before sampling); misbehaving replies come ``hostile_delay_s``
late, after the proper ones in flight. ``hold_until`` holds every request until it returns true (at most a
minute): two runs started together then sample at the same time.

Behaviours: ``healthy`` (a hex code that depends on the request's seed), ``empty`` and ``null`` content,
``bad_utf8`` (bytes that are not UTF-8 inside the JSON), ``markup`` (:data:`MARKUP`), ``endless`` (a chunked
body that keeps coming, up to :data:`ENDLESS_BYTES`), ``huge_text`` (a valid reply whose text ignores
max_tokens), ``refuse`` (:data:`REFUSAL`), ``ramble`` (:data:`RAMBLE`), ``bad_json``, ``no_choices``, ``stall`` (reads the request and never answers), ``echo`` (the
request's Authorization header in the content, raw, base64 and URL-encoded) and ``echo_error`` (HTTP 400
with the header in the error message). ``props_echo`` makes it answer ``GET /props`` as llama.cpp does, with
the header in its build string.

"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import quote

from conftest import count_samples


# Each payload on its own would break out of an HTML text node, an attribute, a style element or a link.
MARKUP_PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</style>",
                   '<a href="javascript:alert(1)">x</a>')
MARKUP = "Sure! " + " ".join(MARKUP_PAYLOADS)
# What an aligned chat model says instead of a colour, and an answer that is no refusal but has no code either.
REFUSAL = "As an AI, I don't have personal associations with colors, but many people think of calm blues."
RAMBLE = "Lemons are sour and bright, like a sunny morning in Sicily."
ENDLESS_BYTES = 200 * 2**20
HUGE_TEXT_CHARS = 3 * 2**20
_WORD = re.compile(r"with the word (.+?)\?")


def healthy_answer(seed: int, body: dict | None = None) -> str:
    """What a healthy server says to a request with this seed: a hex code the seed decides (at temperature 0
    the same code for every seed, as greedy decoding ignores the seed)."""
    if body is not None and not body.get("temperature"):
        seed = 0
    return f"I choose #{(seed * 2654435761 + 12345) % 2**24:06x}."


def _echo(headers) -> str:
    """The request's Authorization header as it came, in base64 and URL-encoded."""
    authorization = headers.get("Authorization", "")
    return (f"Authorization: {authorization} (base64 {base64.b64encode(authorization.encode()).decode()}, "
            f"URL-encoded {quote(authorization, safe='')})")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up is no news here
            super().handle_error(request, client_address)


class HostileServer:
    """The fake server, serving from a thread of the test process (``with HostileServer(...) as server``)."""

    def __init__(self, behaviour: str | dict[str, str] = "healthy", *, healthy_until: tuple[Path, int] | None = None,
                 delay_s: float = 0.0, hostile_delay_s: float = 0.3, hold_until: Callable[[], bool] | None = None,
                 props_echo: bool = False) -> None:
        self.behaviour = behaviour
        self.props_echo = props_echo
        self.healthy_until = healthy_until
        self.hold_until = hold_until
        self.delay_s = delay_s
        self.hostile_delay_s = hostile_delay_s
        self.posts: list[dict] = []  # every request body, in arrival order
        self.sent: dict[int, str | None] = {}  # seed -> the content of the last 200 reply to it
        self.endless_bytes_sent = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path == "/props" and fake.props_echo:  # llama.cpp's, with the key in its build string
                    fake._json(self, 200, {"total_slots": 2, "build_info": f"b4242 {_echo(self.headers)}",
                                           "default_generation_settings": {"params": {
                                               "temperature": 0.8, "top_k": 40, "top_p": 0.95, "min_p": 0.05}}})
                elif self.path.rstrip("/").endswith("/models"):
                    fake._json(self, 200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:  # no /props, no /version: neither llama.cpp nor vLLM
                    fake._json(self, 404, {"error": {"message": "File Not Found"}})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake._answer(self, json.loads(body))

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()  # releases stalled requests
        self.server.shutdown()
        self.server.server_close()

    def seeds(self) -> list[int]:
        """The seed of every request received, in arrival order (a seed names one sample)."""
        with self._lock:
            return [body["seed"] for body in self.posts]

    # -- replies ---------------------------------------------------------------------------------------

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client gave up
            pass

    def _json(self, handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        self._send(handler, status, json.dumps(payload).encode())

    def _reply(self, chat: bool, content: str | None) -> dict:
        choice = {"index": 0, "finish_reason": "stop"}
        choice.update({"message": {"role": "assistant", "content": content}} if chat else {"text": content})
        return {"id": "fake-1", "object": "chat.completion" if chat else "text_completion", "model": "fake",
                "choices": [choice], "usage": {"prompt_tokens": 10, "completion_tokens": 5}}

    def _behaviour_for(self, body: dict) -> str:
        if self.healthy_until is not None and count_samples(self.healthy_until[0]) < self.healthy_until[1]:
            return "healthy"
        if isinstance(self.behaviour, str):
            return self.behaviour
        text = json.dumps(body.get("messages") or body.get("prompt"))
        match = _WORD.search(text)
        return self.behaviour.get(match.group(1) if match else "", self.behaviour.get("*", "healthy"))

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        deadline = time.monotonic() + 60
        while self.hold_until is not None and not self.hold_until() and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._lock:
            self.posts.append(body)
        behaviour = self._behaviour_for(body)
        chat = "messages" in body
        seed = body["seed"]
        # Misbehaving a little later than the proper replies in flight lets those arrive (and be stored) first.
        time.sleep(self.delay_s + (self.hostile_delay_s if behaviour != "healthy" else 0.0))
        if behaviour == "stall":
            self._closing.wait()
            return
        if behaviour == "endless":
            return self._endless(handler)
        if behaviour == "bad_utf8":
            text = healthy_answer(seed, body)
            raw = json.dumps(self._reply(chat, "@@")).encode().replace(b"@@", text.encode() + b" \xff\xfe caf\xc3(")
            self._sent(seed, text + " \ufffd\ufffd caf\ufffd(")
            return self._send(handler, 200, raw)
        if behaviour == "bad_json":
            return self._send(handler, 200, b'<html><body>502 Bad Gateway</body></html>{"choices": [')
        if behaviour == "no_choices":
            return self._json(handler, 200, {"id": "fake-1", "object": "chat.completion", "model": "fake"})
        if behaviour == "echo_error":
            return self._json(handler, 400, {"error": {"message": f"malformed header: {_echo(handler.headers)}"}})
        content: str | None = {
            "healthy": healthy_answer(seed, body),
            "empty": "",
            "null": None,
            "markup": MARKUP,
            "huge_text": "#a1b2c3 " + "la " * (HUGE_TEXT_CHARS // 3),
            "echo": f"You sent {_echo(handler.headers)}. No colour.",
            "refuse": REFUSAL,
            "ramble": RAMBLE,
        }[behaviour]
        self._sent(seed, content)
        self._json(handler, 200, self._reply(chat, content))

    def _sent(self, seed: int, content: str | None) -> None:
        with self._lock:
            self.sent[seed] = content

    def _endless(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            chunk = b'{"choices": [{"message": {"content": "' + b"#abcdef " * 8192
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            while self.endless_bytes_sent < ENDLESS_BYTES and not self._closing.is_set():
                handler.wfile.write(frame)
                with self._lock:
                    self.endless_bytes_sent += len(chunk)
        except OSError:  # the client stopped reading: what the test wants
            pass
        handler.close_connection = True
