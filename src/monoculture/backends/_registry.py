"""Model specs to backends: ``embedded:NAME``, ``gguf:/path/to/model.gguf``, ``openai:MODEL[@URL]``, ``hf:/path``,
``fake:uniform|constant|human``, ``aligned:BASE [settings]`` (an aligned twin of any of them), ``published:MODEL``
(answers a paper published, imported by ``monoculture replicate``: never sampled) and plugins.

Built-in backends register through the same path as third-party ones: a plugin package exposes a factory
under the entry-point group ``monoculture.backends`` whose name is the spec's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from monoculture.backends._base import Backend, ModelKind
from monoculture.errors import ModelSpecError


@dataclass(frozen=True)
class ModelOptions:
    """Per-model settings from the study file."""

    kind: ModelKind | None = None  # None: the backend decides (embedded models know theirs)
    parallel: int | None = None
    # embedded:/gguf: models: llama.cpp's CPU threads (None: the backend's default, see _embedded.default_threads)
    threads: int | None = None
    api_key_env: str | None = None  # servers with keys: the environment variable holding it (never the key)
    # Same request, same output in every run: a backend that cannot promise it is refused (see NOT_DETERMINISTIC).
    deterministic: bool = False
    # The study's seed: an aligned twin draws its raters with it.
    seed: int = 0
    # The run's finished exact distributions (see Model): an aligned twin reuses its base's.
    memo: dict | None = field(default=None, compare=False, repr=False)
    # openai: models served by several servers (the entry's endpoints; backends/endpoints.py spreads requests)
    endpoints: tuple[str, ...] | None = None


BackendFactory = Callable[[str, str, ModelOptions], Backend]
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(prefix: str, factory: BackendFactory) -> None:
    """Make ``prefix:...`` specs load through ``factory(spec, rest, options)``."""
    _FACTORIES[prefix] = factory


def _embedded(spec: str, name: str, options: ModelOptions) -> Backend:
    from monoculture.backends._embedded import EMBEDDED_MODELS, EmbeddedBackend

    model = EMBEDDED_MODELS[name]
    return EmbeddedBackend(spec, model.locate(), options.kind or model.kind, licence=model.licence,
                           parallel=options.parallel, threads=options.threads, deterministic=options.deterministic)


def _gguf(spec: str, path: str, options: ModelOptions) -> Backend:
    from monoculture.backends._embedded import EmbeddedBackend

    return EmbeddedBackend(spec, Path(path).expanduser(), options.kind or guess_kind(path),
                           parallel=options.parallel, threads=options.threads, deterministic=options.deterministic)


def _openai(spec: str, rest: str, options: ModelOptions) -> Backend:
    from monoculture.backends._openai import DEFAULT_KEY_ENV, HOSTED_URL, OpenAIBackend, hosted_kind

    if options.endpoints:
        from monoculture.backends.endpoints import load_with_endpoints

        return load_with_endpoints(spec, options.endpoints, options)
    model, _, url = rest.partition("@")
    # The hosted API's names (gpt-4o, o3) say nothing of "chat", yet nearly all of them are chat models.
    kind = options.kind or (guess_kind(model) if url else hosted_kind(model))
    return OpenAIBackend(spec, model, url or HOSTED_URL, kind,
                         api_key_env=options.api_key_env or DEFAULT_KEY_ENV, parallel=options.parallel)


def _hf(spec: str, path: str, options: ModelOptions) -> Backend:
    from monoculture.backends._hf import DEFAULT_BATCH, HFBackend

    # kind None: the checkpoint decides (a chat template makes it a chat model).
    return HFBackend(spec, Path(path), options.kind, batch_size=options.parallel or DEFAULT_BATCH)


def _fake(spec: str, population: str, options: ModelOptions) -> Backend:
    from monoculture.backends._fake import FakeBackend

    return FakeBackend(spec, population, options.kind, deterministic=options.deterministic)


def _aligned(spec: str, rest: str, options: ModelOptions) -> Backend:
    from monoculture.backends._aligned import AlignedBackend
    from monoculture.backends._twin_settings import parse_twin

    settings = parse_twin(rest)
    base = load_backend(settings.base, options)
    judge = None
    if settings.reward.startswith("judge:"):
        judge_spec = settings.reward.removeprefix("judge:")
        # Self-preference: the base judging its own answers is the base itself, loaded once.
        judge = base if judge_spec == settings.base else load_backend(
            judge_spec, ModelOptions(deterministic=options.deterministic, seed=options.seed, memo=options.memo))
    return AlignedBackend(spec, settings, base, judge, seed=options.seed, memo=options.memo)


def guess_kind(name: str) -> ModelKind:
    """Chat if the name says instruct, chat or -it; base otherwise. Study files can say ``kind`` instead."""
    lowered = Path(name).name.lower()
    return "chat" if any(tag in lowered for tag in ("instruct", "chat", "-it", "_it")) else "base"


# Built-in backends that cannot promise the same output for the same request in every run, and why: a study
# asking it of them is refused before any model loads. (A plugin says so once loaded: ModelInfo.deterministic.)
NOT_DETERMINISTIC: dict[str, str] = {
    "openai": "a server batches requests from all its clients and reuses cached prompts, and both change its logits",
    "hf": "it decodes requests in batches, and a batch's size and padding can change its float32 logits",
}


def check_deterministic(spec: str) -> None:
    """Raise a one-line error if the backend of ``spec`` is known to be unable to run deterministically."""
    prefix, rest = split_spec(spec)
    if prefix == "aligned":  # a twin is as deterministic as the models it asks
        from monoculture.backends._twin_settings import parse_twin

        settings = parse_twin(rest)
        check_deterministic(settings.base)
        if settings.reward.startswith("judge:"):
            check_deterministic(settings.reward.removeprefix("judge:"))
        return
    reason = NOT_DETERMINISTIC.get(prefix)
    if reason is not None:
        raise ModelSpecError(f"{spec} cannot run deterministically ({reason}): set deterministic = false for this "
                             "model in the study file, or run the model's GGUF file as gguf:/path/to/model.gguf")


def _published(spec: str, rest: str, options: ModelOptions) -> Backend:
    raise ModelSpecError(f"{spec} holds answers a paper published, imported by `monoculture replicate`: it cannot "
                         "be sampled; summarise or report its folder instead")


register_backend("embedded", _embedded)
register_backend("gguf", _gguf)
register_backend("openai", _openai)
register_backend("hf", _hf)
register_backend("fake", _fake)
register_backend("aligned", _aligned)
register_backend("published", _published)


def _plugins() -> dict[str, BackendFactory]:
    from importlib.metadata import entry_points

    return {entry.name: entry.load for entry in entry_points(group="monoculture.backends")}  # type: ignore[misc]


def split_spec(spec: str) -> tuple[str, str]:
    """Check a spec without loading anything; returns (prefix, rest) or raises a one-line error."""
    prefix, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ModelSpecError(f"model spec {spec!r} has no backend prefix: write e.g. embedded:gemma-3-270m "
                             "or gguf:/path/to/model.gguf (`monoculture models` lists them)")
    if prefix not in _FACTORIES and prefix not in _plugins():
        known = ", ".join(sorted({*_FACTORIES, *_plugins()}))
        raise ModelSpecError(f"unknown backend {prefix!r} in model spec {spec!r}: known backends are {known}")
    if prefix == "embedded":
        from monoculture.backends._embedded import EMBEDDED_MODELS

        if rest not in EMBEDDED_MODELS:
            raise ModelSpecError(f"unknown embedded model {rest!r}: choose one of {', '.join(EMBEDDED_MODELS)}")
    if prefix == "gguf" and not rest.endswith(".gguf"):
        raise ModelSpecError(f"gguf spec {spec!r} must name a .gguf file")
    if prefix == "openai":
        _check_openai(spec, rest)
    if prefix == "fake":
        from monoculture.backends._fake import POPULATIONS

        if rest not in POPULATIONS:
            raise ModelSpecError(f"unknown fake model {rest!r}: choose one of "
                                 f"{', '.join('fake:' + p for p in POPULATIONS)}")
    if prefix == "aligned":
        from monoculture.backends._twin_settings import parse_twin

        parse_twin(rest)
    if prefix == "hf" and not rest.strip():
        raise ModelSpecError(f"hf spec {spec!r} must name a local checkpoint folder or .gguf file: hf:/path/to/model")
    return prefix, rest


def _check_openai(spec: str, rest: str) -> None:
    from monoculture.urls import url_problem, without_credentials

    model, at, url = rest.partition("@")
    form = "write openai:MODEL for the OpenAI API or openai:MODEL@http://host:port/v1 for a server"
    if not model or model != model.strip() or any(char.isspace() for char in model):
        raise ModelSpecError(f"openai spec {spec!r} needs a model name (without spaces) before any @: {form}")
    problem = url_problem(url) if at else None
    if problem == "credentials":
        raise ModelSpecError(f"model spec openai:{model}@{without_credentials(url)} carries credentials in its URL: "
                             "remove them and put the API key in OPENAI_API_KEY, or in the variable a model's "
                             "api_key_env names")
    if problem is not None:
        raise ModelSpecError(f"openai spec {spec!r} needs a URL starting with http:// or https:// after @: {form}")


def load_backend(spec: str, options: ModelOptions | None = None) -> Backend:
    """Load the model a spec names (once per run: loading is the expensive part)."""
    prefix, rest = split_spec(spec)
    factory = _FACTORIES.get(prefix)
    if factory is None:
        factory = _plugins()[prefix]()  # type: ignore[operator]
    return factory(spec, rest, options or ModelOptions())
