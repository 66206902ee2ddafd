"""Embedder specs to embedders: ``minilm`` (alias ``default``), ``openai:MODEL[@URL]`` and plugins.

Built-in embedders register through the same path as third-party ones: a plugin package exposes a factory
under the entry-point group ``monoculture.embedders`` whose name is the spec's prefix (the part before the first
``:``, or the whole spec when it has none); the factory is called as ``factory(spec, rest, options)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monoculture.embedders._base import Embedder
from monoculture.errors import ModelSpecError

DEFAULT_EMBEDDER = "minilm"
_ALIASES = {"default": DEFAULT_EMBEDDER}


@dataclass(frozen=True)
class EmbedderOptions:
    """Settings of an embedder that its spec does not carry."""

    # Servers with keys: the environment variable holding the key (never the key). None: OPENAI_API_KEY.
    api_key_env: str | None = None


EmbedderFactory = Callable[[str, str, EmbedderOptions], Embedder]
_FACTORIES: dict[str, EmbedderFactory] = {}


def register_embedder(prefix: str, factory: EmbedderFactory) -> None:
    """Make ``prefix`` and ``prefix:...`` specs load through ``factory(spec, rest, options)``."""
    _FACTORIES[prefix] = factory


def _minilm(spec: str, rest: str, options: EmbedderOptions) -> Embedder:
    from monoculture.embedders._minilm import MiniLMEmbedder

    if rest:
        raise ModelSpecError(f"embedder spec {spec!r}: minilm takes nothing after it; write minilm (or default)")
    return MiniLMEmbedder()


def _openai(spec: str, rest: str, options: EmbedderOptions) -> Embedder:
    from monoculture.embedders._openai import DEFAULT_KEY_ENV, HOSTED_URL, OpenAIEmbedder

    model, _, url = rest.partition("@")
    _check_openai(spec, rest)
    return OpenAIEmbedder(spec, model, url or HOSTED_URL, api_key_env=options.api_key_env or DEFAULT_KEY_ENV)


def _check_openai(spec: str, rest: str) -> None:
    from monoculture.urls import url_problem, without_credentials

    model, at, url = rest.partition("@")
    form = ("write openai:MODEL for the OpenAI API or openai:MODEL@http://host:port/v1 for a server "
            "with an /embeddings endpoint")
    if not model or any(char.isspace() for char in model):
        raise ModelSpecError(f"embedder spec {spec!r} needs a model name (without spaces) before any @: {form}")
    problem = url_problem(url) if at else None
    if problem == "credentials":
        raise ModelSpecError(f"embedder spec openai:{model}@{without_credentials(url)} carries credentials in its "
                             "URL: remove them and put the API key in OPENAI_API_KEY")
    if problem is not None:
        raise ModelSpecError(f"embedder spec {spec!r} needs a URL starting with http:// or https:// after @: {form}")


register_embedder("minilm", _minilm)
register_embedder("openai", _openai)


def _plugins() -> dict[str, Callable[[], EmbedderFactory]]:
    from importlib.metadata import entry_points

    return {entry.name: entry.load for entry in entry_points(group="monoculture.embedders")}


def embedder(spec: str = DEFAULT_EMBEDDER, *, api_key_env: str | None = None) -> Embedder:
    """The embedder a spec names: ``minilm`` or ``default`` (offline, the weights come with monoculture),
    ``openai:MODEL`` (the hosted API) or ``openai:MODEL@http://host:port/v1`` (a server), or a plugin's prefix.

    Nothing loads here: the model loads, or the server is first asked, when the first text is embedded.
    ``api_key_env`` names the environment variable with the key for ``openai:`` (default ``OPENAI_API_KEY``).
    """
    spec = _ALIASES.get(spec.strip(), spec.strip())
    prefix, _, rest = spec.partition(":")
    factory = _FACTORIES.get(prefix)
    if factory is None:
        plugins = _plugins()
        if prefix not in plugins:
            known = ", ".join(sorted({*_FACTORIES, *_ALIASES, *plugins}))
            raise ModelSpecError(f"unknown embedder {spec!r}: choose one of {known} "
                                 "(openai as openai:MODEL or openai:MODEL@http://host:port/v1)")
        factory = plugins[prefix]()
    return factory(spec, rest, EmbedderOptions(api_key_env=api_key_env))
