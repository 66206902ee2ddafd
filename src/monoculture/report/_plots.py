"""The report's figures: matplotlib (Agg) rendered to inline SVG strings.

Each function takes plain numbers (already read from the summary) and returns an ``<svg>`` element ready to
embed, or ``None`` when there is nothing to draw. The SVG is stripped of its XML prolog, metadata, comments
and namespace URLs, so the report contains no external reference at all. Text from the summary (model specs,
condition labels, words) is escaped by matplotlib's SVG writer; with the default ``svg.fonttype = "path"``
it survives only as escaped comments, which are removed too.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DistanceRow", "ScatterPanel", "TargetSeries", "colour_distance", "colour_scatter", "concept_targets"]

HUMAN_COLOUR = "#7f7f7f"
LABEL_CHARS = 48


@dataclass(frozen=True)
class ScatterPanel:
    """One model × condition: (internal ΔE, population ΔE) per word, or a note when there is nothing."""

    model: str
    condition: str
    points: list[tuple[float, float]]
    note: str | None = None


@dataclass(frozen=True)
class DistanceRow:
    """One row of the distance plot: a value with an optional interval (``None`` when unavailable)."""

    label: str
    value: float | None
    ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class TargetSeries:
    """P(multiple concepts) per target for one model × condition, or for the humans."""

    label: str
    values: dict[str, tuple[float, tuple[float, float] | None]] = field(default_factory=dict)
    human: bool = False


def _label(text: str, limit: int = LABEL_CHARS) -> str:
    """A plot label: control characters removed and long user text cut, so layout cannot be hijacked."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def _style(figure: str) -> Iterator[Any]:
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


def _to_svg(fig: Figure, alt: str, prefix: str) -> str:
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


def colour_scatter(panels: Sequence[ScatterPanel], human: Sequence[tuple[float, float]] | None) -> str | None:
    """Small multiples of internal ΔE (x) vs population ΔE (y) per word, with y = x and the humans in grey.

    All panels share the axis limits; a panel with no points shows its note instead of markers.
    Returns ``None`` when no panel and no human has a single point.
    """
    human = list(human or [])
    all_points = [p for panel in panels for p in panel.points] + human
    if not all_points:
        return None
    limit = max(max(x, y) for x, y in all_points)
    limit = 10.0 if limit <= 0 else math.ceil(limit * 1.08 / 10) * 10

    shown = list(panels) if panels else []
    if not shown:
        shown = [ScatterPanel("humans", "", human)]
    columns = min(len(shown), 4)
    rows = math.ceil(len(shown) / columns)
    with _style("colour-scatter") as plt:
        fig, axes = plt.subplots(rows, columns, figsize=(2.7 * columns, 2.7 * rows), squeeze=False,
                                 sharex=True, sharey=True)
        for index, ax in enumerate(axes.flat):
            if index >= len(shown):
                ax.set_visible(False)
                continue
            panel = shown[index]
            ax.plot([0, limit], [0, limit], color="#444444", linewidth=0.8, linestyle="--", zorder=1)
            if human:
                hx, hy = zip(*human)
                ax.scatter(hx, hy, s=9, color=HUMAN_COLOUR, alpha=0.35, linewidths=0, label="humans", zorder=2)
            if panel.points:
                mx, my = zip(*panel.points)
                ax.scatter(mx, my, s=12, color=f"C{index % 10}", alpha=0.85, linewidths=0, label="model", zorder=3)
            else:
                ax.text(0.5, 0.5, panel.note or "no valid answers", transform=ax.transAxes,
                        ha="center", va="center", color="#a33", fontsize=9)
            ax.set_xlim(0, limit)
            ax.set_ylim(0, limit)
            ax.set_aspect("equal")
            # Model and condition on two lines: one line of both overruns a small panel.
            ax.set_title(f"{_label(panel.model, 40)}\n{_label(panel.condition, 40)}", fontsize=7.5)
            if index % columns == 0:
                ax.set_ylabel("population ΔE")
            if index // columns == rows - 1 or index + columns >= len(shown):
                ax.set_xlabel("internal ΔE")
                ax.xaxis.set_tick_params(labelbottom=True)
        fig.tight_layout()
        return _to_svg(fig, "internal versus population colour variability per word", "colour-scatter")


def colour_distance(rows: Sequence[DistanceRow], human: DistanceRow | None) -> str | None:
    """Distance from the diagonal per model × condition, with intervals, beside the human value.

    Rows are horizontal so long model specs stay readable; the human value is the top row and a
    dashed reference line. Rows without a value are labelled "n/a". ``None`` when nothing has a value.
    """
    all_rows = ([human] if human else []) + list(rows)
    if not any(row.value is not None for row in all_rows):
        return None
    with _style("colour-distance") as plt:
        fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.32 * len(all_rows)))
        positions = list(range(len(all_rows)))[::-1]
        for position, row in zip(positions, all_rows):
            colour = HUMAN_COLOUR if row is human else "C0"
            if row.value is None:
                ax.text(0, position, "  n/a", va="center", color="#a33", fontsize=8)
                continue
            error = None
            if row.ci is not None:
                error = [[max(row.value - row.ci[0], 0.0)], [max(row.ci[1] - row.value, 0.0)]]
            ax.errorbar([row.value], [position], xerr=error, fmt="o", color=colour, ecolor=colour,
                        capsize=3, markersize=5, linewidth=1)
        if human and human.value is not None:
            ax.axvline(human.value, color=HUMAN_COLOUR, linestyle="--", linewidth=0.9, zorder=0)
        ax.set_yticks(positions, [_label(row.label) for row in all_rows])
        ax.set_ylim(-0.7, len(all_rows) - 0.3)
        ax.set_xlim(left=0)
        ax.set_xlabel("distance from the diagonal, |population − internal| / √2 (ΔE)")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        fig.tight_layout()
        return _to_svg(fig, "distance from the diagonal per model and condition beside the humans", "colour-distance")


def concept_targets(targets: Sequence[tuple[str, str]], series: Sequence[TargetSeries]) -> str | None:
    """P(multiple concepts) per target, targets grouped by category on x, one marker series each.

    ``targets`` is (category, target) in display order. Series are dodged sideways so their intervals
    do not overlap. ``None`` when no series has a value for any target.
    """
    if not targets or not any(s.values for s in series):
        return None
    # A gap of one slot between categories makes the grouping visible without a legend entry.
    positions: dict[str, float] = {}
    groups: list[tuple[str, float, float]] = []
    x = 0.0
    for category, target in targets:
        if groups and groups[-1][0] != category:
            x += 1.0
        if not groups or groups[-1][0] != category:
            groups.append((category, x, x))
        positions[target] = x
        groups[-1] = (category, groups[-1][1], x)
        x += 1.0
    width = 0.7
    step = width / max(len(series), 1)
    with _style("concept-targets") as plt:
        fig, ax = plt.subplots(figsize=(max(7.5, 0.45 * x + 2.5), 3.6))
        model_index = 0
        for index, s in enumerate(series):
            offset = -width / 2 + step * (index + 0.5)
            colour = HUMAN_COLOUR if s.human else f"C{model_index % 10}"
            marker = "s" if s.human else "o"
            if not s.human:
                model_index += 1
            xs, ys, low, high = [], [], [], []
            for target, (value, ci) in s.values.items():
                if target not in positions:
                    continue
                xs.append(positions[target] + offset)
                ys.append(value)
                low.append(max(value - ci[0], 0.0) if ci else 0.0)
                high.append(max(ci[1] - value, 0.0) if ci else 0.0)
            if not xs:
                ax.plot([], [], marker=marker, linestyle="", color=colour, label=_label(s.label) + " (no data)")
                continue
            ax.errorbar(xs, ys, yerr=[low, high], fmt=marker, color=colour, ecolor=colour, markersize=4,
                        elinewidth=0.7, capsize=0, alpha=0.9, label=_label(s.label))
        for category, start, end in groups:
            ax.text((start + end) / 2, 1.07, _label(category), ha="center", va="bottom", fontsize=8,
                    fontweight="bold")
            if start > 0:
                ax.axvline(start - 1.0, color="#dddddd", linewidth=0.8)
        ax.set_xticks(list(positions.values()), [_label(t) for t in positions], rotation=40, ha="right")
        ax.set_ylim(-0.03, 1.15)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_ylabel("P(multiple concepts)")
        ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        return _to_svg(fig, "probability of multiple concepts per target", "concept-targets")
