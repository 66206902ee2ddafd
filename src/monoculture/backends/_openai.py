"""The OpenAI-compatible backend: any server speaking the OpenAI HTTP API, or the hosted API itself.

Specs: ``openai:MODEL@http://host:port/v1`` for a server (llama.cpp's ``llama-server``, vLLM, ...) and
``openai:MODEL`` for the hosted API at https://api.openai.com/v1. Base models go to ``/completions``, chat
models to ``/chat/completions``.

What differs between servers is found out once, when the backend is built, with cheap GET requests:

* **llama.cpp** answers ``GET /props`` with its sampling defaults, slot count and build: the defaults are
  recorded as they are, grammars are sent as ``grammar`` (GBNF), ``top_k``/``min_p`` as extra fields, and
  exact mode asks for the top log-probabilities at every undecided step (``n_probs``, as the embedded backend
  does), with the chat template from ``/apply-template``.
* **vLLM** answers ``GET /version`` (at its root; its API must then answer ``GET /models``, or the URL lacks its
  ``/v1``): grammars go as ``structured_outputs.grammar`` from 0.10.2 on (the ``guided_grammar`` field it replaced,
  removed in 0.12, for older versions), and the run checks once that they are honoured (``_run/_probe``);
  ``top_k = 0`` ("no top-k") is sent as vLLM's ``-1``. Exact mode reads the prompt's tokens from ``/tokenize``, each
  step's allowed tokens and their log-probabilities from one-token completions, and token texts from
  ``/detokenize`` (``vllm_next_tokens``). A sampled text's probability is asked for (``logprobs``) where vLLM's
  are those of the distribution it drew from: with ``--logprobs-mode processed_logprobs`` always, by default
  (``raw_logprobs``) only at temperature 1 without truncation; one request at the first sample tells which.
  Its defaults may come from each model's generation config and cannot be read over HTTP, so the convention
  below is recorded and marked as assumed.
* **any other server** that lists ``/models``: the same assumed convention; no grammar is sent, because an
  unknown server may ignore it silently and the constrained mode would then be a lie.
* **the hosted OpenAI API** (recognised by its host, not probed): temperature and top_p default to 1 as its
  reference documents; it has no top_k/min_p (recorded as 0, no truncation) and no grammars.

Every decoding parameter is sent explicitly with every request, so an assumed default never changes what a
sample was drawn with; it only decides what ``temperature = "default"`` means.

A model served by several servers (the study file's ``endpoints``, :func:`openai_servers`) is one backend per
server behind :class:`~monoculture.backends.endpoints.PooledBackend`; every server that answers when the model
loads must be the same server (flavour, build, defaults), and the recorded runtime names every endpoint. A server
that cannot be reached, or does not reply in time, raises :class:`~monoculture.backends.endpoints.EndpointDown`,
so that the request goes to another server at once. A server that refused or dropped the connection (or answers 503
while it loads) is :class:`~monoculture.backends._model.ServerDown` as well: with no other server to take the
request, the wrapper waits for it to come back (``MONOCULTURE_SERVER_WAIT``).

The API key is read from an environment variable (``OPENAI_API_KEY`` unless the model says ``api_key_env``)
into the HTTP client's headers and nowhere else: never into :class:`ModelInfo`, messages or logs. A server may
echo it back (in an error message, in generated text, in its build string): every text that comes from a
server has the key (raw, URL-encoded or base64) replaced by ``[redacted]`` before it is shown or stored.

Whatever a server sends is untrusted. A reply is read up to :data:`MAX_REPLY_BYTES` and must be complete
within the request timeout of its first byte (an endless or trickling body is an error, not a hang); bytes
that are not UTF-8 are decoded with replacement characters; a reply that is not JSON, has no ``choices``,
or carries more text than ``max_tokens`` could produce is a one-line error. ``MONOCULTURE_REQUEST_TIMEOUT``
(seconds, default 300) bounds how long a request may wait for its reply.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import json
import math
import os
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from monoculture.backends._base import (
    Backend,
    Decoding,
    Generation,
    GenerationRequest,
    ModelInfo,
    ModelKind,
    TransientBackendError,
    seconds_setting,
)
from monoculture.backends._distribution import (
    VLLM_REFUSED,
    AnswerDistribution,
    answer_spellings,
    explore,
    has_prefix_answers,
    llama_next_tokens,
    llama_samplers,
    sampled_logprob,
    vllm_next_tokens,
    vllm_sampled_logprob,
    with_sampled_probabilities,
)
from monoculture.backends._model import ServerDown
from monoculture.backends.endpoints import EndpointDown, PooledBackend
from monoculture.errors import BackendError, ModelUnavailableError

HOSTED_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# Requests in flight when the study file does not say ``parallel``; llama.cpp servers say their slot count.
DEFAULT_PARALLEL = 8
# "Pure" sampling: what a server whose defaults cannot be read is assumed to do (docs/methods.md, section 6).
ASSUMED_DEFAULTS: dict[str, float | int] = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
# The hosted API's documented defaults (temperature 1, top_p 1); it has no top-k or min-p truncation.
HOSTED_DEFAULTS: dict[str, float | int] = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
# Longest Retry-After honoured by waiting inside a request; beyond it the wrapper's backoff takes over.
MAX_RETRY_AFTER_S = 30.0


_PROBE_TIMEOUT_S = 10.0
# Seconds a request may wait for its reply to start, and then for the reply to be complete.
DEFAULT_TIMEOUT_S = 300.0
TIMEOUT_ENV = "MONOCULTURE_REQUEST_TIMEOUT"
# The largest reply read: a generation is a few hundred bytes; an exact-mode step with its 2,000 listed
# tokens about 200 kB. Beyond this a server is sending something else (an endless body, ignored max_tokens).
MAX_REPLY_BYTES = 4 * 1024 * 1024
# No tokenizer has tokens this long: more characters than this per requested token means max_tokens was ignored.
MAX_CHARS_PER_TOKEN = 256
MIN_TEXT_BOUND = 16_384
# Shorter "keys" are placeholders (vLLM's EMPTY, "none"): redacting them would garble ordinary text.
MIN_SECRET_CHARS = 8
# A server claiming more slots than this is not believed (requests in flight are sized from it).
MAX_SLOTS = 256
REDACTED = "[redacted]"
# Requests in flight per httpx client: httpcore's pool looks through every connection and waiting request whenever
# one starts or ends (encode/httpx#3215), so one client with 64 in flight needs 2.4x the CPU per request of clients
# with 8 each (benchmarks/client_overhead.py); a model's requests are dealt out in turn to enough clients.
IN_FLIGHT_PER_CLIENT = 8


def hosted_kind(model: str) -> ModelKind:
    """The hosted API's completion-only models are the ``*-002`` base models and ``gpt-3.5-turbo-instruct``."""
    return "base" if model in ("davinci-002", "babbage-002") or model.startswith("gpt-3.5-turbo-instruct") else "chat"


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def request_timeout() -> float:
    """The request timeout in seconds: ``MONOCULTURE_REQUEST_TIMEOUT`` if set, else 300."""
    return seconds_setting(TIMEOUT_ENV, DEFAULT_TIMEOUT_S, zero_allowed=False)


@functools.lru_cache(maxsize=8)
def _secret_forms(key: str) -> tuple[str, ...]:
    """The spellings of a key a server might echo: raw, URL-encoded, and base64 at any byte alignment.

    Base64 of a longer text that contains the key (``Bearer <key>``, a whole header) contains, whatever
    precedes it, the characters whose six bits fall entirely inside the key's bytes.
    """
    raw = key.encode()
    forms = {key, quote(key, safe="")}
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * pad + raw + b"\0\0").decode()
            forms.add(encoded[-(-8 * pad // 6): 8 * (pad + len(raw)) // 6])
    return tuple(sorted((form for form in forms if len(form) >= MIN_SECRET_CHARS), key=len, reverse=True))


def _payload(body: bytes) -> Any:
    """A reply's JSON; bytes that are not UTF-8 become replacement characters instead of failing the reply."""
    return json.loads(body.decode("utf-8", errors="replace"))


def _server_message(body: bytes, reason: str) -> str:
    """The server's own explanation of an error reply (OpenAI style ``{"error": {"message": ...}}``)."""
    try:
        payload = _payload(body)
    except ValueError:
        return _one_line(body.decode("utf-8", errors="replace")) or reason
    error = payload
    if isinstance(payload, dict):  # vLLM's validation errors come FastAPI-style, as "detail"
        error = payload.get("error") or payload.get("detail") or payload.get("message") or payload
    if isinstance(error, dict):
        error = error.get("message") or error
    return _one_line(error)


def _short_text(value: Any, limit: int = 40) -> str | None:
    """A short server-given label (a finish reason): text or nothing."""
    return _one_line(value, limit) if isinstance(value, str) else None


def _logprob(value: float | None) -> float | None:
    """A log-probability as a server reported it, if it is one (finite, at most 0 up to rounding)."""
    if value is None or not math.isfinite(value) or value > 1e-6:
        return None
    return min(value, 0.0)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _label(value: Any, limit: int = 80) -> str:
    """A server's build or version string as a plain label: identifier characters only, so that neither a
    terminal, rich markup nor HTML can read anything into it."""
    return _one_line(re.sub(r"[^A-Za-z0-9 .,_+:/()-]", "", str(value)), limit) or "?"


class _SlowReply(TransientBackendError):
    """A reply whose bytes were still arriving when the time limit ran out: the server is up, only slow."""


class _Reply:
    """A reply's bytes, refused beyond :data:`MAX_REPLY_BYTES` or once they have been arriving for longer than
    the timeout (a read timeout alone never fires on a server that trickles a byte at a time)."""

    def __init__(self, response: Any, url: str, spec: str, timeout_s: float) -> None:
        self.url, self.spec, self.timeout_s = url, spec, timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.parts: list[bytes] = []
        self.size = 0
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
            raise self._too_large()

    def _too_large(self) -> BackendError:
        return BackendError(f"{self.url} sent a reply larger than {MAX_REPLY_BYTES // 2**20} MiB for {self.spec}: "
                            "the server ignores max_tokens or does not answer like an OpenAI-compatible API")

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_REPLY_BYTES:
            raise self._too_large()
        if time.monotonic() > self.deadline:
            raise _SlowReply(f"the reply from {self.url} was still arriving after {self.timeout_s:g} s")
        self.parts.append(chunk)

    def body(self) -> bytes:
        return b"".join(self.parts)

    @classmethod
    def read(cls, response: Any, url: str, spec: str, timeout_s: float) -> bytes:
        reply = cls(response, url, spec, timeout_s)
        chunks: Iterator[bytes] = response.iter_bytes()
        for chunk in chunks:
            reply.add(chunk)
        return reply.body()

    @classmethod
    async def aread(cls, response: Any, url: str, spec: str, timeout_s: float) -> bytes:
        reply = cls(response, url, spec, timeout_s)
        chunks: AsyncIterator[bytes] = response.aiter_bytes()
        async for chunk in chunks:
            reply.add(chunk)
        return reply.body()


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from model servers; the wrapper's backoff handles it


def _release(version: str) -> tuple[int, ...]:
    """``"0.10.2rc1+cu128"`` -> ``(0, 10, 2)``: the leading numbers of each dotted part."""
    return tuple(int(match.group()) for part in version.split(".")[:3] if (match := re.match(r"\d+", part)))


def _rounded(value: Any) -> float:
    # llama.cpp reports float32 values (0.949999988...): round to what it documents.
    return round(float(value), 6)


class _Gone(EndpointDown, ServerDown):
    """The server refused, reset or dropped the connection: another endpoint takes the request at once, and with
    none left the wrapper waits for the server to come back (``MONOCULTURE_SERVER_WAIT``)."""


class _Unreachable(BackendError):
    """A server that did not answer the probe at all (refused, reset, silent): several endpoints carry on without it."""


def _runtime(flavour: str, server: str, slots: str, urls: str, defaults_note: str) -> str:
    """The runtime recorded for a model: what serves it, where, and where its defaults came from."""
    if flavour == "llama.cpp":
        return f"{server}, {slots} slots, at {urls}; {defaults_note}"
    return f"{server} at {urls}; {defaults_note}"


class OpenAIBackend(Backend):
    """A model behind an OpenAI-compatible HTTP API."""

    def __init__(self, spec: str, model: str, base_url: str, kind: ModelKind, *,
                 api_key_env: str = DEFAULT_KEY_ENV, parallel: int | None = None,
                 read_timeout_s: float | None = None, connect_timeout_s: float = 10.0) -> None:
        try:
            import httpx
        except ImportError as error:  # pragma: no cover - a core dependency
            raise ModelUnavailableError("the OpenAI-compatible backend needs httpx: pip install httpx") from error
        self._httpx = httpx
        self.model = model
        self.base_url = base_url.rstrip("/")
        self._spec = spec
        self._api_key_env = api_key_env
        self._timeout_s = read_timeout_s if read_timeout_s is not None else request_timeout()
        self._timeout = httpx.Timeout(connect=connect_timeout_s, read=self._timeout_s, write=30.0, pool=None)
        self._clients: list[Any] = []
        self._turn = itertools.count()
        self._vllm_version: tuple[int, ...] = ()
        # vLLM: what its log-probabilities are ("processed", "raw" or None: neither), found out at the first sample
        self._vllm_logprobs: str | None = None
        self._vllm_logprobs_known = False
        # vLLM: each token's text as it reads after other text, from its detokenizer (exact mode)
        self._token_texts: dict[int, str] = {}
        self._text_anchor: tuple[int, str] | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.hosted = urlsplit(self.base_url).hostname == "api.openai.com"
        if self.hosted:
            if not os.environ.get(api_key_env):
                raise BackendError(f"{spec} needs an API key: set the environment variable {api_key_env}")
            self.flavour, defaults, self.slots = "openai", dict(HOSTED_DEFAULTS), None
            self.server = "OpenAI API"
            self.defaults_note = "defaults documented: temperature 1, top_p 1, no top_k/min_p"
            runtime = f"{self.server} (api.openai.com); {self.defaults_note}"
        else:
            # server: what answers, without where (several endpoints of one model must agree on it)
            self.flavour, defaults, self.slots, self.server, self.defaults_note = self._probe()
            runtime = _runtime(self.flavour, self.server, str(self.slots or "?"), self.base_url, self.defaults_note)
        self.info = ModelInfo(spec=spec, kind=kind, backend="openai", runtime=runtime, default_decoding=defaults,
                              max_concurrency=parallel or self.slots or DEFAULT_PARALLEL)
        # vLLM's grammar field is chosen by the version it reports: the run checks that it is honoured (_run/_probe).
        self.grammar_field_by_version = self.flavour == "vllm"

    # -- the key lives only in the clients' headers ------------------------------------------------

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self._api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _redact(self, text: str) -> str:
        """Server text with the key taken out, whatever the server did with it."""
        key = os.environ.get(self._api_key_env) or ""
        if len(key) < MIN_SECRET_CHARS:
            return text
        for form in _secret_forms(key):
            text = text.replace(form, REDACTED)
        return text

    def _key_refused(self, status: int) -> BackendError:
        if os.environ.get(self._api_key_env):
            fix = f"the key in {self._api_key_env} was refused: set {self._api_key_env} to the server's API key"
        else:
            fix = f"no API key was sent: set the environment variable {self._api_key_env}"
        return BackendError(f"{self.base_url} answered HTTP {status} for {self._spec}: {fix}")

    # -- what kind of server is this? ------------------------------------------------------------------

    def _probe(self) -> tuple[str, dict[str, float | int], int | None, str, str]:
        """(flavour, default decoding, slots, server, where the defaults came from) from at most three GETs."""
        httpx = self._httpx
        root = self.base_url.removesuffix("/v1")
        assumed = ("defaults assumed: temperature 1.0, top_k 0, top_p 1.0, min_p 0.0 "
                   "(every parameter is sent explicitly)")
        timeout_s = min(_PROBE_TIMEOUT_S, self._timeout_s)
        with httpx.Client(headers=self._headers(), timeout=timeout_s) as client:

            def get(url: str) -> tuple[int, bytes]:
                try:
                    with client.stream("GET", url) as response:
                        if response.status_code in (401, 403):
                            raise self._key_refused(response.status_code)
                        return response.status_code, _Reply.read(response, url, self._spec, timeout_s)
                except (httpx.TimeoutException, _SlowReply) as error:
                    # Reached but silent or slow (or a limit too short to connect in): not "start the server".
                    raise _Unreachable(f"no answer from {url} for {self._spec} within {timeout_s:g} s "
                                       f"({type(error).__name__}): the server is stalled or slow; {TIMEOUT_ENV} "
                                       "sets the limit") from None
                except (httpx.TransportError, httpx.DecodingError, TransientBackendError) as error:
                    raise _Unreachable(f"cannot reach {self.base_url} for {self._spec} ({type(error).__name__}): "
                                       "start the server or correct the URL") from None

            def json_of(reply: tuple[int, bytes]) -> dict | None:
                status, content = reply
                if status != 200:
                    return None
                try:
                    payload = _payload(content)
                except ValueError:
                    return None
                return payload if isinstance(payload, dict) else None

            props = json_of(get(f"{root}/props"))
            if props and isinstance(props.get("default_generation_settings"), dict):
                settings = props["default_generation_settings"]
                params = settings.get("params", settings)  # older builds put the values one level up
                try:
                    defaults: dict[str, float | int] = {
                        "temperature": _rounded(params["temperature"]), "top_k": int(params["top_k"]),
                        "top_p": _rounded(params["top_p"]), "min_p": _rounded(params["min_p"])}
                    if not all(math.isfinite(value) and value >= 0 for value in defaults.values()):
                        raise ValueError("a default that is not a finite number")
                    marker = "defaults from /props"
                except (KeyError, TypeError, ValueError, OverflowError):
                    defaults, marker = dict(ASSUMED_DEFAULTS), assumed
                slots = props.get("total_slots")
                slots = min(slots, MAX_SLOTS) if isinstance(slots, int) and slots > 0 else None
                build = _label(self._redact(str(props.get("build_info", "unknown build"))))
                return "llama.cpp", defaults, slots, f"llama.cpp server {build}", marker
            version = json_of(get(f"{root}/version"))

            def require_models() -> None:
                status, _ = get(f"{self.base_url}/models")
                if status >= 500:  # llama.cpp answers 503 while it loads the model
                    raise _Unreachable(f"{self.base_url} answered HTTP {status} for {self._spec} (GET /models): the "
                                       "server is still loading or failing; wait for it, or see its log")
                if status != 200:
                    raise BackendError(f"{self.base_url} does not look like an OpenAI-compatible API for {self._spec} "
                                       f"(GET /models answered HTTP {status}): check the URL, usually ending in /v1")

            if version and isinstance(version.get("version"), str):
                # vLLM answers /version at its root whatever the URL's path: its API is under /v1 only.
                require_models()
                self._vllm_version = _release(version["version"])
                label = _label(self._redact(version["version"]), 40)
                return "vllm", dict(ASSUMED_DEFAULTS), None, f"vLLM {label}", assumed
            require_models()
            return "openai-compatible", dict(ASSUMED_DEFAULTS), None, "OpenAI-compatible server", assumed

    # -- requests ------------------------------------------------------------------------------------

    def _body(self, request: GenerationRequest) -> dict:
        decoding = request.decoding
        body: dict[str, Any] = {"model": self.model, "temperature": decoding.temperature, "top_p": decoding.top_p,
                                "seed": request.seed}
        if self.hosted:
            if decoding.top_k != 0 or decoding.min_p != 0.0:
                raise BackendError(f"the OpenAI API has no top_k or min_p ({self._spec}): remove them from the "
                                   "study's [decoding] table")
        else:
            # Extra body fields that llama.cpp and vLLM accept; vLLM spells "no top-k" as -1.
            body["top_k"] = -1 if self.flavour == "vllm" and decoding.top_k == 0 else decoding.top_k
            body["min_p"] = decoding.min_p
        if self.flavour == "llama.cpp":
            body["samplers"] = llama_samplers(decoding)
        elif decoding.order == "truncation_first" and decoding.truncates:
            # vLLM and the hosted API apply temperature before truncation and cannot be told otherwise.
            raise BackendError(f"{self._spec} applies temperature before top-k/top-p/min-p and cannot truncate "
                               'first: set order = "temperature_first" or turn truncation off in [decoding]')
        if self.hosted and request.messages is not None:
            body["max_completion_tokens"] = decoding.max_tokens  # the hosted API's current name
        else:
            body["max_tokens"] = decoding.max_tokens
        if request.grammar is not None:
            if self.flavour == "llama.cpp":
                body["grammar"] = request.grammar
            elif self.flavour == "vllm" and self._vllm_version >= (0, 10, 2):
                body["structured_outputs"] = {"grammar": request.grammar}
            elif self.flavour == "vllm":
                body["guided_grammar"] = request.grammar
            elif self.hosted:
                raise BackendError(f'the OpenAI API ({self._spec}) does not offer grammar-constrained decoding: '
                                   'use mode = "free"')
            else:
                raise BackendError(f"{self.base_url} is neither a llama.cpp nor a vLLM server, so {self._spec} "
                                   'cannot be sent a grammar it is sure to honour: use mode = "free"')
        if request.messages is not None:
            body["messages"] = [{"role": role, "content": content} for role, content in request.messages]
        else:
            body["prompt"] = request.prompt
        return body

    def _async_client(self) -> Any:
        # A client belongs to one event loop; the runner starts one loop per model, tests may start several.
        loop = asyncio.get_running_loop()
        if not self._clients or self._client_loop is not loop:
            httpx = self._httpx
            # Each client may hold every request in flight (dealing in turn does not balance requests of unequal
            # length exactly): none ever waits for a connection.
            slack = self.info.max_concurrency * 2 + 2
            self._clients = [httpx.AsyncClient(headers=self._headers(), timeout=self._timeout,
                                               limits=httpx.Limits(max_connections=slack,
                                                                   max_keepalive_connections=slack))
                             for _ in range(max(1, math.ceil(self.info.max_concurrency / IN_FLIGHT_PER_CLIENT)))]
            self._client_loop = loop
        return self._clients[next(self._turn) % len(self._clients)]

    def _shown(self, text: str, limit: int = 300) -> str:
        """Server text fit for an error message: no key, no control characters (terminal escapes), one line."""
        printable = "".join(char if char.isprintable() else " " for char in self._redact(text))
        return _one_line(printable, limit)

    async def _post(self, body: dict, chat: bool) -> dict:
        """POST one generation request: a reply without ``choices`` is an error."""
        url = f"{self.base_url}/chat/completions" if chat else f"{self.base_url}/completions"
        payload = await self._post_json(url, body)
        choices = payload.get("choices") if isinstance(payload, dict) else None
        if not (isinstance(choices, list) and choices and isinstance(choices[0], dict)):
            raise BackendError(f"{url} sent a reply without choices for {self._spec}: "
                               "is it an OpenAI-compatible API?")
        return payload

    async def _post_json(self, url: str, body: dict) -> Any:
        """POST one request; timeouts, lost connections, 429 and 5xx are transient, other refusals are not.

        A server that cannot be reached or does not answer in time raises :class:`EndpointDown` (transient too):
        a model with several endpoints sends the request to another at once.
        """
        httpx = self._httpx
        try:
            async with self._async_client().stream("POST", url, json=body) as response:
                status = response.status_code
                if status in (401, 403):
                    raise self._key_refused(status)
                content = await _Reply.aread(response, url, self._spec, self._timeout_s)
        except httpx.ReadTimeout as error:
            raise EndpointDown(f"ReadTimeout: no reply from {url} within {self._timeout_s:g} s "
                               f"({TIMEOUT_ENV})") from error
        except httpx.ConnectTimeout as error:  # nothing at that address answers: a machine that is down
            raise _Gone(f"ConnectTimeout on {url}") from error
        except httpx.TimeoutException as error:
            raise EndpointDown(f"{type(error).__name__} after waiting on {url}") from error
        except (httpx.NetworkError, httpx.RemoteProtocolError) as error:  # refused, reset, dropped: the server is gone
            raise _Gone(f"{type(error).__name__} on {url}: {self._shown(str(error), 120)}") from error
        except httpx.TransportError as error:
            raise EndpointDown(f"{type(error).__name__} on {url}: {self._shown(str(error), 120)}") from error
        except httpx.DecodingError as error:
            raise BackendError(f"{url} sent a reply that cannot be decoded for {self._spec} "
                               f"({self._shown(str(error), 120)})") from None
        if status in (408, 429) or status >= 500:
            wait = _retry_after(response)
            if wait is not None:
                await asyncio.sleep(min(wait, MAX_RETRY_AFTER_S))
            message = self._shown(_server_message(content, response.reason_phrase))
            # 503: the server is there but not serving (llama.cpp while it loads its model): waited for.
            raise (ServerDown if status == 503 else TransientBackendError)(f"HTTP {status} from {url}: {message}")
        if status != 200:
            hint = ""
            if status == 404 and not urlsplit(self.base_url).path.rstrip("/").endswith("/v1"):
                hint = " (check the URL, usually ending in /v1)"
            raise BackendError(f"{self.base_url} refused a request for {self._spec} (HTTP {status}): "
                               f"{self._shown(_server_message(content, response.reason_phrase))}{hint}")
        try:
            payload = _payload(content)
        except ValueError:
            raise BackendError(f"{url} sent a reply that is not JSON for {self._spec} (it began "
                               f"{self._shown(content[:60].decode('utf-8', errors='replace'), 80)!r}): "
                               "is it an OpenAI-compatible API?") from None
        return payload

    async def generate(self, request: GenerationRequest) -> Generation:
        """Send one request and return the first choice's text, with any echo of the key taken out.

        No content (``null``) is empty text, which the task records as an invalid answer; content that is not
        text, or more text than ``max_tokens`` could produce, is an error. Where the server reports the
        probability of each sampled token under the distribution it was drawn from (llama.cpp; vLLM started with
        ``--logprobs-mode processed_logprobs``), their sum is the generation's ``logprob``.
        """
        chat = request.messages is not None
        url = f"{self.base_url}/chat/completions" if chat else f"{self.base_url}/completions"
        body = self._body(request)
        if self.flavour == "llama.cpp":  # the probability of each sampled token, for the repeats alarm
            body = with_sampled_probabilities(body, chat=chat)
        elif self.flavour == "vllm" and await self._vllm_sampled_logprobs(request.decoding):
            body.update({"logprobs": True, "top_logprobs": 0} if chat else {"logprobs": 0})
        payload = await self._post(body, chat)
        choice = payload["choices"][0]
        if chat:
            message = choice.get("message")
            if not isinstance(message, dict):
                raise BackendError(f"{url} sent a choice without a message for {self._spec}: "
                                   "is it an OpenAI-compatible API?")
            text = message.get("content")
        else:
            text = choice.get("text")
        text = "" if text is None else text
        if not isinstance(text, str):
            raise BackendError(f"{url} sent {type(text).__name__} content instead of text for {self._spec}: "
                               "is it an OpenAI-compatible API?")
        max_tokens = request.decoding.max_tokens
        if len(text) > max(MIN_TEXT_BOUND, MAX_CHARS_PER_TOKEN * max_tokens):
            raise BackendError(f"{url} sent {len(text):,} characters for at most {max_tokens} tokens "
                               f"({self._spec}): the server ignores max_tokens")
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        finish_reason = _short_text(choice.get("finish_reason"))
        logprob = None
        if self.flavour == "llama.cpp":
            logprob = _logprob(sampled_logprob(payload))
        elif "logprobs" in body:
            logprob = _logprob(vllm_sampled_logprob(payload, chat=chat))
        return Generation(text=self._redact(text), finish_reason=finish_reason and self._redact(finish_reason),
                          prompt_tokens=_count(usage.get("prompt_tokens")),
                          completion_tokens=_count(usage.get("completion_tokens")), logprob=logprob)

    async def _vllm_sampled_logprobs(self, decoding: Decoding) -> bool:
        """Whether this vLLM's log-probabilities of sampled tokens are those of the distribution they were drawn from.

        vLLM reports them before temperature and truncation by default (``--logprobs-mode raw_logprobs``), after
        them with ``processed_logprobs``; the mode cannot be read over HTTP, so one request tells: a draw at
        top_k 1 has probability 1 after truncation and less before it. Raw log-probabilities are the drawn-from
        ones only at temperature 1 without truncation (a grammar's mask is applied before either is computed).
        """
        if not self._vllm_logprobs_known:
            self._vllm_logprobs = await self._vllm_logprobs_mode()
            self._vllm_logprobs_known = True
        if self._vllm_logprobs == "processed":
            return decoding.temperature > 0
        return self._vllm_logprobs == "raw" and decoding.temperature == 1.0 and not decoding.truncates

    async def _vllm_logprobs_mode(self) -> str | None:
        body = {"model": self.model, "prompt": "The", "max_tokens": 1, "temperature": 1.0, "top_k": 1, "seed": 0,
                "logprobs": 2}
        try:
            listed = (await self._post(body, chat=False))["choices"][0]["logprobs"]["top_logprobs"][0]
            values = sorted((float(value) for value in listed.values()), reverse=True)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return None
        if len(values) < 2 or not all(math.isfinite(value) for value in values):
            return None
        if abs(values[0]) < 1e-6 and values[1] <= VLLM_REFUSED + 1:  # top_k 1 left one token: after truncation
            return "processed"
        if values[0] < 0 and values[1] > VLLM_REFUSED + 1 and sum(map(math.exp, values)) <= 1 + 1e-4:
            return "raw"
        return None  # logits (--logprobs-mode raw_logits or processed_logits), not log-probabilities

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """Exact mode on llama.cpp and vLLM servers: the constrained-sampling distribution from token
        log-probabilities (``backends/_distribution``).

        Other servers keep the contract's default (no exact mode): the hosted API has no grammars, and an unknown
        server's log-probabilities cannot be told apart from sampled ones.
        """
        if self.flavour not in ("llama.cpp", "vllm"):
            return await super().answer_distribution(request, choices)
        if has_prefix_answers(choices):
            raise BackendError(f"{self._spec} has no exact mode for answers that begin other answers "
                               f"({', '.join(choices)}): use mode = \"constrained\"")
        try:
            async def complete(body: dict) -> dict:
                return await self._post(body, chat=False)

            body = {"model": self.model, "seed": request.seed, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
            if self.flavour == "vllm":
                body["top_k"] = -1
                next_tokens = vllm_next_tokens(complete, self._texts_of, await self._prompt_ids(request), body)
            else:
                next_tokens = llama_next_tokens(complete, await self._llama_prompt_text(request), body,
                                                answer_spellings(choices))
            distribution = await explore(next_tokens, choices, request.decoding.temperature)
            if not all(isinstance(p, float) and math.isfinite(p) and p >= 0
                       for p in distribution.probabilities.values()):
                raise ValueError("probabilities that are not finite numbers")
            return distribution
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError) as error:
            raise BackendError(f"{self.base_url} sent no usable log-probabilities for {self._spec} "
                               f"({self._shown(str(error), 160)}): use mode = \"constrained\"") from None

    async def _llama_prompt_text(self, request: GenerationRequest) -> str:
        """The text a llama.cpp server continues: the prompt, or the messages through its own chat template."""
        if request.messages is None:
            return request.prompt or ""
        messages = [{"role": role, "content": content} for role, content in request.messages]
        rendered = await self._post_json(f"{self.base_url.removesuffix('/v1')}/apply-template", {"messages": messages})
        prompt_text = rendered["prompt"]
        if not isinstance(prompt_text, str):
            raise TypeError("the chat template came back as something other than text")
        return prompt_text

    async def _prompt_ids(self, request: GenerationRequest) -> list[int]:
        """The tokens a vLLM server continues, from its ``/tokenize``: the prompt with the special tokens its
        completions add, or the messages through its chat template with the assistant's turn opened (as its chat
        completions render them)."""
        if request.messages is None:
            body: dict[str, Any] = {"model": self.model, "prompt": request.prompt or ""}
        else:
            body = {"model": self.model, "add_generation_prompt": True,
                    "messages": [{"role": role, "content": content} for role, content in request.messages]}
        tokens = (await self._post_json(f"{self.base_url.removesuffix('/v1')}/tokenize", body))["tokens"]
        if not (isinstance(tokens, list) and tokens and all(_count(token) is not None for token in tokens)):
            raise ValueError("/tokenize sent no token ids")
        return tokens

    async def _detokenize(self, tokens: list[int]) -> str:
        text = (await self._post_json(f"{self.base_url.removesuffix('/v1')}/detokenize",
                                      {"model": self.model, "tokens": tokens}))["prompt"]
        if not isinstance(text, str):
            raise TypeError("/detokenize sent something other than text")
        return text

    async def _texts_of(self, tokens: Sequence[int]) -> dict[int, str]:
        """Each token's text as it reads after other text, kept for the server's life (one vocabulary).

        A token is decoded after an anchor token and the anchor's text cut off: decoded alone, SentencePiece
        tokenizers drop the leading space of the first token. A token that does not decode to whole characters
        after the anchor gets U+FFFD, which no answer contains.
        """
        if self._text_anchor is None:
            body = {"model": self.model, "prompt": "a", "add_special_tokens": False}
            anchor = (await self._post_json(f"{self.base_url.removesuffix('/v1')}/tokenize", body))["tokens"]
            if not (isinstance(anchor, list) and anchor and _count(anchor[-1]) is not None):
                raise ValueError("/tokenize sent no token ids")
            self._text_anchor = (anchor[-1], await self._detokenize([anchor[-1]]))
        anchor_token, anchor_text = self._text_anchor
        unknown = [token for token in dict.fromkeys(tokens) if token not in self._token_texts]
        decoded = await asyncio.gather(*(self._detokenize([anchor_token, token]) for token in unknown))
        for token, text in zip(unknown, decoded):
            piece = text[len(anchor_text):] if text.startswith(anchor_text) else ""
            self._token_texts[token] = piece if piece and "\ufffd" not in piece else "\ufffd"
        return {token: self._token_texts[token] for token in tokens}

    async def aclose(self) -> None:
        """Close the connections."""
        clients, self._clients = self._clients, []
        for client in clients:
            try:
                await client.aclose()
            except RuntimeError:  # its event loop is gone already; the sockets went with it
                pass


def openai_servers(spec: str, model: str, endpoints: list[str], kind: ModelKind, *,
                   api_key_env: str = DEFAULT_KEY_ENV, parallel: int | None = None) -> Backend:
    """``model`` served at every URL of ``endpoints``: one :class:`OpenAIBackend` each, behind a
    :class:`~monoculture.backends.endpoints.PooledBackend` (one URL: that URL's backend alone).

    Every endpoint is probed now. One that cannot be reached starts out of rotation and is probed again when it is
    next tried; every endpoint that answers must be the same server (flavour, build and defaults), because the
    samples of one model must come from one model version. ``parallel`` is per endpoint.
    """
    urls = [url.rstrip("/") for url in endpoints]

    def backend_at(url: str) -> OpenAIBackend:
        return OpenAIBackend(spec, model, url, kind, api_key_env=api_key_env, parallel=parallel)

    if len(urls) == 1:
        return backend_at(urls[0])
    members: dict[str, Backend | None] = {}
    unreachable: _Unreachable | None = None
    for url in urls:
        try:
            members[url] = backend_at(url)
        except _Unreachable as error:
            members[url], unreachable = None, unreachable or error
    answered = [member for member in members.values() if isinstance(member, OpenAIBackend)]
    if not answered:
        assert unreachable is not None
        raise BackendError(f"{unreachable} (none of the {len(urls)} endpoints of {spec} answered)")
    reference = answered[0]
    for member in answered[1:]:
        _require_same_server(spec, reference, member)

    def connect(url: str) -> Backend:
        try:
            member = backend_at(url)
        except _Unreachable as error:
            raise EndpointDown(str(error)) from None
        _require_same_server(spec, reference, member)
        return member

    slots = max(member.info.max_concurrency for member in answered)  # an endpoint not yet seen: like the others
    info = ModelInfo(spec=spec, kind=kind, backend="openai", runtime=_pooled_runtime(reference, urls),
                     default_decoding=dict(reference.info.default_decoding),
                     max_concurrency=sum(member.info.max_concurrency if member is not None else slots
                                         for member in members.values()))
    return PooledBackend(info, members, connect)


def _pooled_runtime(reference: OpenAIBackend, urls: list[str]) -> str:
    """The runtime of a model on several endpoints: the server they all run, at every endpoint (whether it answered
    when the model loaded or not, so that the record does not depend on it), without slot counts for that reason."""
    return f"{reference.server} at {', '.join(urls)}; {reference.defaults_note}"


def _require_same_server(spec: str, reference: OpenAIBackend, member: OpenAIBackend) -> None:
    """Refuse an endpoint that runs another server, build or default decoding than the model's first endpoint."""
    if (member.flavour, member.server, member.info.default_decoding) != (
            reference.flavour, reference.server, reference.info.default_decoding):
        def shown(backend: OpenAIBackend) -> str:
            defaults = ", ".join(f"{name} {value}" for name, value in backend.info.default_decoding.items())
            return f"{backend.base_url} runs {backend.server} ({defaults})"

        raise BackendError(f"the endpoints of {spec} disagree: {shown(member)}, {shown(reference)}; serve the same "
                           "model with the same server build and defaults at every endpoint (one model version)")
