"""Embedders: free-form answers to unit vectors, for the open-answer metrics.

The contract is :class:`Embedder` (one required method, ``embed``); :func:`embedder` builds one from a spec
(``minilm``, alias ``default``: all-MiniLM-L6-v2 offline; ``openai:MODEL[@URL]``: a server's /v1/embeddings);
:class:`CachedEmbedder` wraps any of them with a cache in the sample store.
"""

from monoculture.embedders._base import Embedder
from monoculture.embedders._cache import CachedEmbedder, text_sha256
from monoculture.embedders._context import embeddings_cached_in, summary_embedder
from monoculture.embedders._minilm import MiniLMEmbedder
from monoculture.embedders._openai import OpenAIEmbedder
from monoculture.embedders._registry import DEFAULT_EMBEDDER, EmbedderOptions, embedder, register_embedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "CachedEmbedder",
    "Embedder",
    "EmbedderOptions",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "embedder",
    "embeddings_cached_in",
    "register_embedder",
    "summary_embedder",
    "text_sha256",
]
