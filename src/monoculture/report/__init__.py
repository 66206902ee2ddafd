"""Reports: the HTML report and the terminal result tables, both rendered from ``summary.json`` alone.

Imports are lazy so that ``monoculture --help`` does not pay for jinja2, rich or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._html import render_html
    from ._summary import json_safe, summarize, write_outputs
    from ._table import result_table

__all__ = ["json_safe", "render_html", "result_table", "summarize", "write_outputs"]


def __getattr__(name: str) -> Any:
    if name == "render_html":
        from ._html import render_html

        return render_html
    if name == "result_table":
        from ._table import result_table

        return result_table
    if name in ("summarize", "write_outputs", "json_safe"):
        from . import _summary

        return getattr(_summary, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
