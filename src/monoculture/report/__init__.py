"""Reports: the HTML report and the terminal result tables, rendered from a Summary, and the outputs of a run.

Imports are lazy so that ``monoculture --help`` does not pay for jinja2, rich or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._frontier import frontier_figure
    from ._html import render_html
    from ._outputs import write_outputs
    from ._table import result_tables

__all__ = ["frontier_figure", "render_html", "result_tables", "write_outputs"]


def __getattr__(name: str) -> Any:
    if name == "frontier_figure":
        from ._frontier import frontier_figure

        return frontier_figure
    if name == "render_html":
        from ._html import render_html

        return render_html
    if name == "result_tables":
        from ._table import result_tables

        return result_tables
    if name == "write_outputs":
        from ._outputs import write_outputs

        return write_outputs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
