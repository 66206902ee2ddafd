"""A GGUF model's vocabulary as the text llama.cpp's grammar matcher sees for each token.

The step-by-step constrained sampler (``_stepwise``) needs to know, before asking the model, which tokens an
answer grammar allows next, so it needs every token's text. The GGUF file holds the tokens
(``tokenizer.ggml.tokens``) and their types (``tokenizer.ggml.token_type``) in its header. The gguf package reads
them too, but parses every field of the file into numpy views first: 9.6 s for Gemma's 262,144 tokens here, against
0.3 s for the two arrays read directly (the format: github.com/ggml-org/ggml, docs/gguf.md).

A token's text follows llama.cpp's ``token_to_piece`` for the two tokenizer families the embedded models use:
SentencePiece (``llama``: ``▁`` is a space, ``<0xNN>`` a single byte) and byte-level BPE (``gpt2``: each character
stands for one byte). Control tokens have no text here (the grammar never allows them inside an answer), nor do
single bytes above 0x7F, which are pieces of a character: a language of ASCII answers never allows them.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

# Token types of llama.cpp's vocabularies (llama_token_type).
_CONTROL, _BYTE = 3, 6
# GGUF value types and the byte size of the fixed-size ones.
_STRING, _ARRAY = 8, 9
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_WANTED = ("tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type")


@dataclass(frozen=True, eq=False)  # compared and hashed as the one object read per file (262,144 texts)
class Vocabulary:
    """Each token's text (None: a token that never spells part of an answer), by token id."""

    tokenizer: str
    texts: tuple[str | None, ...]

    @cached_property
    def tokens_by_text(self) -> dict[str, tuple[int, ...]]:
        """The tokens that spell each text (a byte token and a normal one may spell the same character)."""
        grouped: dict[str, list[int]] = {}
        for token, text in enumerate(self.texts):
            if text:
                grouped.setdefault(text, []).append(token)
        return {text: tuple(tokens) for text, tokens in grouped.items()}

    def spelling_any_prefix(self, texts: Iterable[str]) -> dict[int, str]:
        """The tokens whose text begins one of ``texts`` (what a grammar accepting exactly them allows first)."""
        found: dict[int, str] = {}
        for text in texts:
            for end in range(1, len(text) + 1):
                for token in self.tokens_by_text.get(text[:end], ()):
                    found[token] = text[:end]
        return found


class _Reader:
    def __init__(self, data: mmap.mmap) -> None:
        self.data, self.at = data, 0

    def unpack(self, fmt: str):  # noqa: ANN201 - one struct value
        (value,) = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> bytes:
        size = self.unpack("Q")
        value = self.data[self.at:self.at + size]
        self.at += size
        return value

    def skip(self, kind: int, count: int = 1) -> None:
        if kind in _FIXED:
            self.at += _FIXED[kind] * count
            return
        for _ in range(count):
            if kind == _STRING:
                size = self.unpack("Q")  # read before the position moves on
                self.at += size
            elif kind == _ARRAY:
                inner, size = self.unpack("I"), self.unpack("Q")
                self.skip(inner, size)
            else:
                raise ValueError(f"unknown GGUF value type {kind}")


def _header_fields(path: Path) -> dict[str, object]:
    """The tokenizer fields of a GGUF file's header (strings as bytes, arrays as lists)."""
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        reader = _Reader(data)
        if data[:4] != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        reader.at = 4
        version = reader.unpack("I")
        if version < 2:
            raise ValueError(f"{path}: GGUF version {version} is too old (2 or later)")
        reader.unpack("Q")  # tensors
        fields: dict[str, object] = {}
        for _ in range(reader.unpack("Q")):
            key = reader.string().decode("utf-8", "replace")
            kind = reader.unpack("I")
            if key not in _WANTED:
                reader.skip(kind)
            elif kind == _STRING:
                fields[key] = reader.string()
            elif kind == _ARRAY:
                inner, size = reader.unpack("I"), reader.unpack("Q")
                if inner == _STRING:
                    fields[key] = [reader.string() for _ in range(size)]
                else:
                    fmt = {4: "I", 5: "i"}.get(inner)
                    if fmt is None:
                        raise ValueError(f"{path}: {key} has GGUF type {inner}, not integers")
                    fields[key] = list(struct.unpack_from(f"<{size}{fmt}", data, reader.at))
                    reader.at += 4 * size
            else:
                reader.skip(kind)
            if len(fields) == len(_WANTED):
                break
        return fields


@lru_cache(maxsize=1)
def _byte_of_character() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: the byte each of its 256 printable characters stands for."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    characters = list(printable)
    shifted = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            characters.append(256 + shifted)
            shifted += 1
    return {chr(character): byte for byte, character in zip(printable, characters)}


def _text(token: bytes, kind: int, tokenizer: str) -> str | None:
    if kind == _CONTROL:
        return None
    piece = token.decode("utf-8", "replace")
    if tokenizer == "llama":
        if kind == _BYTE:
            value = int(piece[3:5], 16)  # "<0xNN>"
            return chr(value) if value < 0x80 else None
        return piece.replace("\u2581", " ")
    if tokenizer == "gpt2":
        table = _byte_of_character()
        try:
            return bytes(table[character] for character in piece).decode("utf-8")
        except (KeyError, UnicodeDecodeError):  # a piece of a character: never part of an ASCII answer
            return None
    raise ValueError(f"tokenizer {tokenizer!r}")


@lru_cache(maxsize=4)
def read_vocabulary(path: Path) -> Vocabulary:
    """The vocabulary of a GGUF model file (see the module's text); ValueError for a tokenizer it cannot read."""
    fields = _header_fields(Path(path))
    missing = [key for key in _WANTED if key not in fields]
    if missing:
        raise ValueError(f"{path} has no {', '.join(missing)}")
    tokenizer = bytes(fields["tokenizer.ggml.model"]).decode()  # type: ignore[arg-type]
    if tokenizer not in ("llama", "gpt2"):
        raise ValueError(f"{path}: tokenizer {tokenizer!r} (only SentencePiece 'llama' and byte-level 'gpt2' are read)")
    tokens, kinds = fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.token_type"]
    return Vocabulary(tokenizer, tuple(_text(token, kind, tokenizer) for token, kind in zip(tokens, kinds)))  # type: ignore[call-overload]
