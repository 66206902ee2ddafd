"""Figures as inline SVG: matplotlib (Agg) with no external reference, safe to embed in the report.

The SVG is stripped of its XML prolog, metadata, comments and namespace URLs, so the report contains no
external reference at all. Text (model specs, condition labels, words) is escaped by matplotlib's SVG writer;
with ``svg.fonttype = "path"`` it survives only as escaped comments, which are removed too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HUMAN_COLOUR = "#7f7f7f"
LABEL_CHARS = 48


def plot_label(text: str, limit: int = LABEL_CHARS) -> str:
    """A plot label: control characters removed and long user text cut, so layout cannot be hijacked."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def figure_style(figure: str) -> Iterator[Any]:
    """Agg, no mathtext (a "$" in a model spec must print as "$") and a per-figure SVG id salt.

    Several SVGs share one HTML document, so element ids (markers, clip paths) must not collide
    across figures; each figure kind appears once per report, so its name is a distinct salt that
    also keeps the report byte-identical when rendered again from the same summary.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rc = {
        "text.parse_math": False,
        "svg.hashsalt": f"monoculture-{figure}",
        "svg.fonttype": "path",
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with plt.rc_context(rc):
        yield plt


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def to_svg(fig: Figure, alt: str, prefix: str) -> str:
    """The figure as an inline ``<svg>`` with no prolog, metadata, comments or namespace URLs.

    The HTML parser puts inline ``<svg>`` in the SVG namespace and maps ``xlink:href`` by itself,
    so the ``xmlns`` declarations (URLs, though never fetched) can go. Ids get the figure's prefix
    because glyph definitions ("DejaVuSans-31") would otherwise repeat across figures in one page.
    """
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = _METADATA.sub("", _COMMENT.sub("", _PROLOG.sub("", buffer.getvalue())))
    svg = svg.replace(' id="', f' id="{prefix}-').replace('href="#', f'href="#{prefix}-')
    svg = svg.replace("url(#", f"url(#{prefix}-")
    head, sep, rest = svg.partition(">")
    head = _XMLNS.sub("", head)
    alt = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    head += f' role="img" aria-label="{alt}" class="plot"'
    return head + sep + rest
