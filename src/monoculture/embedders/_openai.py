"""The ``openai:`` embedder: any server's ``POST /v1/embeddings`` in the OpenAI format, or the hosted API.

Specs: ``openai:MODEL@http://host:port/v1`` for a server (llama.cpp's ``llama-server --embeddings``, vLLM, ...)
and ``openai:MODEL`` for the hosted API at https://api.openai.com/v1 (e.g. ``openai:text-embedding-3-small``).
The request is ``{"model": MODEL, "input": [texts...]}``; the reply's ``data`` holds one
``{"index": i, "embedding": [floats]}`` per text, in any order (the ``index`` says whose it is).

The API key is read from an environment variable (``OPENAI_API_KEY`` unless another is named) into the HTTP
client's headers only; a server that echoes it in an error has it replaced by ``[redacted]``. Whatever a server
sends is checked: a reply that is not JSON, or has the wrong number of vectors, indices, lengths or non-numbers,
is a one-line error. Vectors are scaled to unit length here, since not every server normalises them.

Nothing is retried: :class:`~monoculture.embedders.CachedEmbedder` stores every batch as it arrives, so running
the summary again after a failure asks only for the vectors still missing.

The identity is the spec: a server cannot prove which weights it runs, so a model changed behind the same name
and URL would reuse the old model's cached vectors. Give a changed model a new name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from monoculture.embedders._base import Embedder
from monoculture.errors import BackendError

HOSTED_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# Texts per request: the hosted API takes up to 2,048 inputs, llama.cpp as many as fit its batch of tokens.
BATCH_SIZE = 64
TIMEOUT_S = 120.0
REDACTED = "[redacted]"
_PROBE_TEXT = "dimensions"


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class OpenAIEmbedder(Embedder):
    """Vectors from an OpenAI-compatible ``/embeddings`` endpoint, normalised to unit length."""

    def __init__(self, spec: str, model: str, url: str = HOSTED_URL, *, api_key_env: str = DEFAULT_KEY_ENV,
                 batch_size: int = BATCH_SIZE, timeout_s: float = TIMEOUT_S) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.spec = spec
        self.model = model
        self.url = url.rstrip("/")
        self.batch_size = batch_size
        self._key = os.environ.get(api_key_env, "").strip() or None
        self._key_env = api_key_env
        self._timeout_s = timeout_s
        self._client: Any = None
        self._dimensions: int | None = None

    @property
    def identity(self) -> str:
        return self.spec

    @property
    def dimensions(self) -> int:
        # Only the server knows; one short request tells, unless a call to embed() already did.
        if self._dimensions is None:
            self.embed([_PROBE_TEXT])
        assert self._dimensions is not None
        return self._dimensions

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
            self._client = httpx.Client(headers=headers, timeout=self._timeout_s)
        return self._client

    def close(self) -> None:
        """Close the HTTP connections; a later call opens new ones."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("embed() takes a sequence of strings")
        batches = [self._request(texts[start:start + self.batch_size])
                   for start in range(0, len(texts), self.batch_size)]
        if not batches:
            return np.empty((0, self._dimensions or 0), dtype=np.float32)
        return np.concatenate(batches)

    def _redact(self, text: str) -> str:
        return text.replace(self._key, REDACTED) if self._key else text

    def _fail(self, problem: str, fix: str) -> BackendError:
        return BackendError(self._redact(_one_line(f"{self.url}/embeddings {problem} for {self.spec}: {fix}", 500)))

    def _request(self, texts: list[str]) -> np.ndarray:
        import httpx

        endpoint = f"{self.url}/embeddings"
        try:
            response = self._http().post(endpoint, json={"model": self.model, "input": texts})
        except httpx.TimeoutException:
            raise self._fail(f"did not answer within {self._timeout_s:g} s",
                             "check that the server is running and not overloaded") from None
        except httpx.HTTPError as error:
            raise self._fail(f"is unreachable ({type(error).__name__}: {error})",
                             "start the server, or check the URL in the embedder spec") from None
        if response.status_code in (401, 403):
            raise self._fail(f"refused the API key (HTTP {response.status_code})",
                             f"put a valid key in {self._key_env}")
        if response.status_code != 200:
            raise self._fail(f"answered HTTP {response.status_code} ({self._server_message(response)})",
                             "check that the server serves embeddings (llama.cpp: llama-server --embeddings) "
                             "and knows the model")
        try:
            payload = response.json()
        except ValueError:
            raise self._fail(f"did not answer with JSON ({_one_line(response.text, 60)!r})",
                             "point the spec at an OpenAI-compatible API, a URL ending in /v1") from None
        return self._vectors(payload, len(texts))

    def _server_message(self, response: Any) -> str:
        try:
            payload = response.json()
        except ValueError:
            return _one_line(response.text, 120) or response.reason_phrase
        error = payload.get("error", payload) if isinstance(payload, dict) else payload
        if isinstance(error, dict):
            error = error.get("message", error)
        return _one_line(str(error), 120)

    def _vectors(self, payload: Any, n: int) -> np.ndarray:
        """The reply's vectors in the order of the texts, scaled to unit length, or a one-line error."""
        fix = "the server does not answer like an OpenAI-compatible /embeddings endpoint"
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise self._fail("answered JSON without a 'data' list", fix)
        if len(data) != n:
            raise self._fail(f"sent {len(data)} vectors for {n} texts", fix)
        rows: dict[int, list[float]] = {}
        for position, entry in enumerate(data):
            index = entry.get("index", position) if isinstance(entry, dict) else None
            vector = entry.get("embedding") if isinstance(entry, dict) else None
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n or index in rows:
                raise self._fail(f"sent a vector with a missing, repeated or impossible index ({index!r:.20})", fix)
            if (not isinstance(vector, list) or not vector
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector)):
                raise self._fail("sent an embedding that is not a list of numbers (base64?)", fix)
            rows[index] = vector
        lengths = sorted({len(vector) for vector in rows.values()})
        if len(lengths) != 1:
            raise self._fail(f"sent vectors of different lengths ({', '.join(map(str, lengths))})", fix)
        if self._dimensions is not None and lengths[0] != self._dimensions:
            raise self._fail(f"sent vectors of {lengths[0]} dimensions after {self._dimensions}",
                             "the server changed models: restart it with the model the spec names")
        matrix = np.array([rows[index] for index in range(n)], dtype=np.float64)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if not np.all(np.isfinite(matrix)) or np.any(norms == 0):
            raise self._fail("sent a vector of zeros, infinities or NaN", fix)
        self._dimensions = matrix.shape[1]
        return (matrix / norms).astype(np.float32)
