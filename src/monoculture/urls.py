"""Server URLs written by users (model specs, embedder specs, endpoints): one check for all of them."""

from __future__ import annotations

from typing import Literal
from urllib.parse import SplitResult, urlsplit

__all__ = ["url_problem", "without_credentials"]


def url_problem(url: str) -> Literal["credentials", "malformed"] | None:
    """Why ``url`` cannot name a server: it carries a user or password (never to be echoed: it would reach the
    terminal, the store and the report), or it is not an http(s) URL with a host (malformed port included);
    None when it can."""
    parts = _parts(url)
    if parts is not None and (parts.username is not None or parts.password is not None):
        return "credentials"
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return "malformed"
    return None


def without_credentials(url: str) -> str:
    """The URL with its user and password replaced by ``***``, for a message about it."""
    parts = _parts(url)
    if parts is None:
        return "***"
    return f"{parts.scheme}://***@{parts.hostname}{f':{parts.port}' if parts.port else ''}"


def _parts(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    return parts
