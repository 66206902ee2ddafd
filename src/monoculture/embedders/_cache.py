"""Embeddings cached in the sample store, keyed by (embedder identity, sha256 of the text).

An answer is embedded once per embedder, however many individuals gave it and however often the summary is
recomputed (principle 11: the summary is derived from the store, so it is recomputed often). The identity
names the exact weights, so vectors of another model, or of another version of the same model, are never
reused. Vectors are stored as they arrive, a chunk at a time: a failure half-way (a server going away) keeps
what was embedded, and the next attempt embeds only the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from monoculture.embedders._base import Embedder
from monoculture.errors import MonocultureError

if TYPE_CHECKING:
    from monoculture.store import Store

# Texts embedded and stored together: a batch for every embedder, and little lost when one fails.
CHUNK = 256


def text_sha256(text: str) -> str:
    """The cache key of a text: sha256 of its UTF-8 bytes, as it is (no stripping or case folding)."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


class CachedEmbedder(Embedder):
    """An embedder whose vectors are looked up in, and added to, a :class:`~monoculture.store.Store`."""

    def __init__(self, embedder: Embedder, store: Store) -> None:
        self.embedder = embedder
        self.store = store
        self.distinct_threshold = embedder.distinct_threshold

    @property
    def identity(self) -> str:
        return self.embedder.identity

    @property
    def dimensions(self) -> int:
        return self.embedder.dimensions

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("embed() takes a sequence of strings")
        hashes = [text_sha256(text) for text in texts]
        identity = self.embedder.identity
        found = self.store.embeddings(identity, hashes)
        # Each missing text once, however often it occurs.
        missing = list(dict.fromkeys((digest, text) for digest, text in zip(hashes, texts) if digest not in found))
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            vectors = np.asarray(self.embedder.embed([text for _, text in chunk]), dtype=np.float32)
            if vectors.ndim != 2 or len(vectors) != len(chunk):
                raise TypeError(f"{type(self.embedder).__name__}.embed() returned shape {vectors.shape} "
                                f"for {len(chunk)} texts")
            new = {digest: vector for (digest, _), vector in zip(chunk, vectors)}
            self.store.put_embeddings(identity, new)
            found.update(new)
        if not texts:
            return self.embedder.embed([])
        lengths = {len(found[digest]) for digest in hashes}
        if len(lengths) != 1:
            raise MonocultureError(f"the store holds vectors of {sorted(lengths)} dimensions for embedder "
                                   f"{identity}: its model changed under the same name; give the new model "
                                   "another name (or URL), or summarise into a new --out folder")
        return np.stack([found[digest] for digest in hashes]).astype(np.float32, copy=False)
