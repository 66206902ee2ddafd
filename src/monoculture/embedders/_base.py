"""The embedder contract: an embedder turns texts into unit vectors, one required method.

Beside :class:`monoculture.backends.Backend`, which makes answers, an embedder reads free-form ones: the
open-answer metrics (:mod:`monoculture.metrics`, ``summarize_open``) compare answers by the cosine similarity
of their vectors. Caching (:class:`monoculture.embedders.CachedEmbedder`) lives once in a wrapper, not in the
embedders.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class Embedder(ABC):
    """Texts to L2-normalised vectors: ``embed(texts)`` is float32 of shape (len(texts), dimensions).

    ``identity`` names everything that decides a text's vector (the model and the exact weights, the
    tokenizer, the pooling), so that vectors cached under one identity are never reused for another model.
    Implementations batch internally and load lazily: constructing an embedder is cheap.
    """

    #: The cosine at which two answers count as the same answer for this embedder's vectors (measured for the
    #: default embedder; None where nobody measured it, and the caller must choose).
    distinct_threshold: float | None = None

    @property
    @abstractmethod
    def identity(self) -> str:
        """A stable name of the model and its exact weights (the cache key's first half)."""

    @property
    @abstractmethod
    def dimensions(self) -> int:
        """The length of every vector."""

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, in the order given: float32, shape (len(texts), dimensions)."""
