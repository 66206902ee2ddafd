"""The OpenAI-compatible backend: any server speaking the OpenAI HTTP API, or the hosted API itself.

Specs: ``openai:MODEL@http://host:port/v1`` for a server (llama.cpp's ``llama-server``, vLLM, ...) and
``openai:MODEL`` for the hosted API at https://api.openai.com/v1. Base models go to ``/completions``, chat
models to ``/chat/completions``.

What differs between servers is found out once, when the backend is built, with cheap GET requests:

* **llama.cpp** answers ``GET /props`` with its sampling defaults, slot count and build: the defaults are
  recorded as they are, grammars are sent as ``grammar`` (GBNF), ``top_k``/``min_p`` as extra fields, and
  the exact mode asks for the top log-probabilities at every step (``n_probs``, as the embedded backend does).
* **vLLM** answers ``GET /version``: grammars go as ``structured_outputs.grammar`` from 0.10.2 on (the
  ``guided_grammar`` field it replaced, removed in 0.12, for older versions); ``top_k = 0`` ("no top-k") is sent
  as vLLM's ``-1``. Its defaults may come from each model's generation config and cannot be read over HTTP,
  so the convention below is recorded and marked as assumed.
* **any other server** that lists ``/models``: the same assumed convention; no grammar is sent, because an
  unknown server may ignore it silently and the constrained mode would then be a lie.
* **the hosted OpenAI API** (recognised by its host, not probed): temperature and top_p default to 1 as its
  reference documents; it has no top_k/min_p (recorded as 0, no truncation) and no grammars.

Every decoding parameter is sent explicitly with every request, so an assumed default never changes what a
sample was drawn with; it only decides what ``temperature = "default"`` means.

The API key is read from an environment variable (``OPENAI_API_KEY`` unless the model says ``api_key_env``)
into the HTTP client's headers and nowhere else: never into :class:`ModelInfo`, messages or logs.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any
from urllib.parse import urlsplit

from monoculture.backends._base import (
    Backend,
    Generation,
    GenerationRequest,
    ModelInfo,
    ModelKind,
    TransientBackendError,
)
from monoculture.errors import BackendError, ModelUnavailableError

HOSTED_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# Requests in flight when the study file does not say ``parallel``; llama.cpp servers say their slot count.
DEFAULT_PARALLEL = 8
# "Pure" sampling: what a server whose defaults cannot be read is assumed to do (PROTOCOL section 6).
ASSUMED_DEFAULTS: dict[str, float | int] = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
# The hosted API's documented defaults (temperature 1, top_p 1); it has no top-k or min-p truncation.
HOSTED_DEFAULTS: dict[str, float | int] = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
# Longest Retry-After honoured by waiting inside a request; beyond it the wrapper's backoff takes over.
MAX_RETRY_AFTER_S = 30.0


_PROBE_TIMEOUT_S = 10.0


def hosted_kind(model: str) -> ModelKind:
    """The hosted API's completion-only models are the ``*-002`` base models and ``gpt-3.5-turbo-instruct``."""
    return "base" if model in ("davinci-002", "babbage-002") or model.startswith("gpt-3.5-turbo-instruct") else "chat"


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _server_message(response: Any) -> str:
    """The server's own explanation of an error reply (OpenAI style ``{"error": {"message": ...}}``)."""
    try:
        payload = response.json()
    except ValueError:
        return _one_line(response.text) or response.reason_phrase
    error = payload
    if isinstance(payload, dict):  # vLLM's validation errors come FastAPI-style, as "detail"
        error = payload.get("error") or payload.get("detail") or payload.get("message") or payload
    if isinstance(error, dict):
        error = error.get("message") or error
    return _one_line(error)


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


class OpenAIBackend(Backend):
    """A model behind an OpenAI-compatible HTTP API."""

    def __init__(self, spec: str, model: str, base_url: str, kind: ModelKind, *,
                 api_key_env: str = DEFAULT_KEY_ENV, parallel: int | None = None,
                 read_timeout_s: float = 300.0, connect_timeout_s: float = 10.0) -> None:
        try:
            import httpx
        except ImportError as error:  # pragma: no cover - a core dependency
            raise ModelUnavailableError("the OpenAI-compatible backend needs httpx: pip install httpx") from error
        self._httpx = httpx
        self.model = model
        self.base_url = base_url.rstrip("/")
        self._spec = spec
        self._api_key_env = api_key_env
        self._timeout = httpx.Timeout(connect=connect_timeout_s, read=read_timeout_s, write=30.0, pool=None)
        self._client: Any = None
        self._vllm_version: tuple[int, ...] = ()
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.hosted = urlsplit(self.base_url).hostname == "api.openai.com"
        if self.hosted:
            if not os.environ.get(api_key_env):
                raise BackendError(f"{spec} needs an API key: set the environment variable {api_key_env}")
            self.flavour, defaults, slots = "openai", dict(HOSTED_DEFAULTS), None
            runtime = "OpenAI API (api.openai.com); defaults documented: temperature 1, top_p 1, no top_k/min_p"
        else:
            self.flavour, defaults, slots, runtime = self._probe()
        self.info = ModelInfo(spec=spec, kind=kind, backend="openai", runtime=runtime, default_decoding=defaults,
                              max_concurrency=parallel or slots or DEFAULT_PARALLEL)

    # -- the key lives only in the clients' headers ------------------------------------------------

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self._api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _key_refused(self, status: int) -> BackendError:
        if os.environ.get(self._api_key_env):
            fix = f"the key in {self._api_key_env} was refused: set {self._api_key_env} to the server's API key"
        else:
            fix = f"no API key was sent: set the environment variable {self._api_key_env}"
        return BackendError(f"{self.base_url} answered HTTP {status} for {self._spec}: {fix}")

    # -- what kind of server is this? ------------------------------------------------------------------

    def _probe(self) -> tuple[str, dict[str, float | int], int | None, str]:
        """(flavour, default decoding, slots, runtime description) from at most three GET requests."""
        httpx = self._httpx
        root = self.base_url.removesuffix("/v1")
        assumed = ("defaults assumed: temperature 1.0, top_k 0, top_p 1.0, min_p 0.0 "
                   "(every parameter is sent explicitly)")
        with httpx.Client(headers=self._headers(), timeout=_PROBE_TIMEOUT_S) as client:

            def get(url: str) -> Any:
                try:
                    response = client.get(url)
                except httpx.TransportError as error:
                    raise BackendError(f"cannot reach {self.base_url} for {self._spec} ({type(error).__name__}): "
                                       "start the server or correct the URL") from None
                if response.status_code in (401, 403):
                    raise self._key_refused(response.status_code)
                return response

            def json_of(response: Any) -> dict | None:
                if response.status_code != 200:
                    return None
                try:
                    payload = response.json()
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
                    marker = "defaults from /props"
                except (KeyError, TypeError, ValueError):
                    defaults, marker = dict(ASSUMED_DEFAULTS), assumed
                slots = props.get("total_slots")
                slots = slots if isinstance(slots, int) and slots > 0 else None
                build = props.get("build_info", "unknown build")
                return ("llama.cpp", defaults, slots,
                        f"llama.cpp server {build}, {slots or '?'} slots, at {self.base_url}; {marker}")
            version = json_of(get(f"{root}/version"))
            if version and isinstance(version.get("version"), str):
                self._vllm_version = _release(version["version"])
                return ("vllm", dict(ASSUMED_DEFAULTS), None, f"vLLM {version['version']} at {self.base_url}; {assumed}")
            models = get(f"{self.base_url}/models")
            if models.status_code != 200:
                raise BackendError(f"{self.base_url} does not look like an OpenAI-compatible API for {self._spec} "
                                   f"(GET /models answered HTTP {models.status_code}): check the URL, usually "
                                   "ending in /v1")
            return ("openai-compatible", dict(ASSUMED_DEFAULTS), None,
                    f"OpenAI-compatible server at {self.base_url}; {assumed}")

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
        if self._client is None or self._client_loop is not loop:
            httpx = self._httpx
            slack = self.info.max_concurrency * 2 + 2
            self._client = httpx.AsyncClient(headers=self._headers(), timeout=self._timeout,
                                             limits=httpx.Limits(max_connections=slack,
                                                                 max_keepalive_connections=slack))
            self._client_loop = loop
        return self._client

    async def _post(self, body: dict, chat: bool) -> dict:
        """POST one request; timeouts, lost connections, 429 and 5xx are transient, other refusals are not."""
        httpx = self._httpx
        url = f"{self.base_url}/chat/completions" if chat else f"{self.base_url}/completions"
        try:
            response = await self._async_client().post(url, json=body)
        except httpx.TimeoutException as error:
            raise TransientBackendError(f"{type(error).__name__} after waiting on {url}") from error
        except httpx.TransportError as error:
            raise TransientBackendError(f"{type(error).__name__} on {url}: {_one_line(str(error), 120)}") from error
        status = response.status_code
        if status in (401, 403):
            raise self._key_refused(status)
        if status in (408, 429) or status >= 500:
            wait = _retry_after(response)
            if wait is not None:
                await asyncio.sleep(min(wait, MAX_RETRY_AFTER_S))
            raise TransientBackendError(f"HTTP {status} from {url}: {_server_message(response)}")
        if status != 200:
            raise BackendError(f"{self.base_url} refused a request for {self._spec} (HTTP {status}): "
                               f"{_server_message(response)}")
        try:
            payload = response.json()
            payload["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise BackendError(f"{url} sent a reply without choices for {self._spec} "
                               f"({type(error).__name__}): is it an OpenAI-compatible API?") from None
        return payload

    async def generate(self, request: GenerationRequest) -> Generation:
        """Send one request and return the first choice's text."""
        chat = request.messages is not None
        payload = await self._post(self._body(request), chat)
        choice = payload["choices"][0]
        text = (choice.get("message") or {}).get("content") if chat else choice.get("text")
        usage = payload.get("usage") or {}
        return Generation(text=text or "", finish_reason=choice.get("finish_reason"),
                          prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"))

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> dict[str, float]:
        """Exact mode on llama.cpp servers: the greedy path through the answer grammar with its top alternatives.

        Other servers keep the contract's default (no exact mode): vLLM spells log-probabilities differently
        and the hosted API has no grammars.
        """
        if self.flavour != "llama.cpp":
            return await super().answer_distribution(request, choices)
        from monoculture.backends._distribution import distribution_from_paths, greedy_path_body, path_steps

        chat = request.messages is not None

        async def path(grammar: str, max_tokens: int) -> list:
            body = greedy_path_body(self._body(request), grammar, max_tokens, chat=chat)
            return path_steps(await self._post(body, chat))

        try:
            return await distribution_from_paths(path, request.grammar, choices, request.decoding.temperature,
                                                 request.decoding.max_tokens)
        except (KeyError, TypeError, ValueError) as error:
            raise BackendError(f"{self.base_url} sent no usable log-probabilities for {self._spec} "
                               f"({_one_line(str(error), 120)}): use mode = \"constrained\"") from None

    async def aclose(self) -> None:
        """Close the connections."""
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.aclose()
            except RuntimeError:  # its event loop is gone already; the sockets went with it
                pass
