"""Jinja templates with autoescaping on: every value from a result is escaped; only SVG figures are marked safe."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    # autoescape=True explicitly: the templates' suffix (.j2) would not switch it on by itself.
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render_template(package: str, name: str, **context: Any) -> str:
    """Render the template file ``name`` shipped in ``package`` with ``context``."""
    source = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return _environment().from_string(source).render(**context)
