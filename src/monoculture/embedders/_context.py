"""The embedder a summary uses: loaded once per process, and cached in the store being summarised.

Tasks summarise from samples alone and never see the store; the analysis binds the store for the duration of a
summary (:func:`embeddings_cached_in`), so every open answer is embedded once per store and embedder, however
often the summary is recomputed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING

from monoculture.embedders._base import Embedder
from monoculture.embedders._cache import CachedEmbedder
from monoculture.embedders._registry import embedder

if TYPE_CHECKING:
    from monoculture.store import Store

_STORE: ContextVar[Store | None] = ContextVar("monoculture_embedding_store", default=None)


@contextmanager
def embeddings_cached_in(store: Store) -> Iterator[None]:
    """Within the block, :func:`summary_embedder` keeps its vectors in ``store``."""
    token = _STORE.set(store)
    try:
        yield
    finally:
        _STORE.reset(token)


@lru_cache(maxsize=4)
def _loaded(spec: str) -> Embedder:
    # Loading the ONNX model costs 0.2-0.4 s: once per process, not once per population.
    return embedder(spec)


def summary_embedder(spec: str) -> Embedder:
    """The embedder of a spec, cached in the store bound by :func:`embeddings_cached_in` (if any)."""
    base = _loaded(spec)
    store = _STORE.get()
    return CachedEmbedder(base, store) if store is not None else base
