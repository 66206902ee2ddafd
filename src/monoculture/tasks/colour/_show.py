"""How the colour result is shown: the report section (table, per-word scatter, distance plot, swatches) and
the terminal table. Every value is untrusted text: the template escapes it, and only ``#RRGGBB`` reaches CSS."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monoculture.display import (
    HUMAN_COLOUR,
    add_identity_columns,
    cut,
    escaped,
    figure_style,
    format_ci,
    format_number,
    format_percent,
    plot_label,
    render_template,
    to_svg,
    valid_hex,
    with_interval,
)
from monoculture.tasks._contract import ResultRow
from monoculture.tasks.colour._result import ColourResult

if TYPE_CHECKING:
    from rich.table import Table


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


def _has_valid_answers(result: ColourResult) -> bool:
    return result.n_valid > 0


def _points(result: ColourResult | None) -> list[tuple[float, float]]:
    if result is None:
        return []
    return [(w.internal_delta_e, w.population_delta_e) for w in result.words
            if w.internal_delta_e is not None and w.population_delta_e is not None]


def _row(name: str, kind: str, result: ColourResult, human: bool = False) -> dict[str, Any]:
    return {
        "name": name, "kind": kind, "mode": cut(result.mode),
        "internal": format_number(result.internal_delta_e), "internal_ci": format_ci(result.internal_delta_e_ci),
        "population": format_number(result.population_delta_e),
        "population_ci": format_ci(result.population_delta_e_ci),
        "distance": format_number(result.distance_from_diagonal),
        "distance_ci": format_ci(result.distance_from_diagonal_ci),
        "null": format_number(result.null.null_mean) if result.null else "",
        "null_ci": format_ci(result.null.null_ci) if result.null else "",
        "null_p": f"p = {result.null.p_value:.3f}" if result.null else "",
        "homogeneous": bool(result.null and result.null.indistinguishable),
        "valid": format_percent(result.valid_fraction), "n_individuals": format_number(result.n_individuals),
        "n_words": format_number(result.n_words), "empty": not human and not _has_valid_answers(result),
        "human": human,
    }


def _swatch_row(label: str, values: list[str] | None) -> dict[str, Any]:
    values = values or []
    colours = [hex_ for hex_ in (valid_hex(v) for v in values) if hex_]
    return {"label": label, "colours": colours, "skipped": len(values) - len(colours)}


def _swatches(rows: Sequence[ResultRow], human: ColourResult | None) -> list[dict[str, Any]]:
    sources = [(row.name, row.result.swatches) for row in rows]
    if human is not None:
        sources.append(("humans", human.swatches))
    words = dict.fromkeys(word for _, swatches in sources for word in swatches)
    return [{"word": cut(word, 60), "rows": [_swatch_row(name, swatches.get(word)) for name, swatches in sources]}
            for word in words]


def report_section(rows: Sequence[ResultRow], human: ColourResult | None) -> str:
    """The colour section of the report."""
    panels, notes = [], []
    for row in rows:
        points = _points(row.result)
        note = None
        if not _has_valid_answers(row.result):
            note = "no valid answers"
        elif not points:
            note = "no word with two valid answers"
        if note:
            notes.append({"name": row.name, "note": note})
        panels.append(ScatterPanel(row.model, row.condition, points, note))
    human_points = _points(human)
    distance_rows = [DistanceRow(row.name, row.result.distance_from_diagonal, row.result.distance_from_diagonal_ci)
                     for row in rows]
    human_distance = None if human is None else DistanceRow("humans", human.distance_from_diagonal,
                                                            human.distance_from_diagonal_ci)
    has_points = any(panel.points for panel in panels)
    table = [_row(row.name, cut(row.kind), row.result) for row in rows]
    if human is not None:
        table.append(_row("humans", "", human, human=True))
    return render_template(__package__, "section.html.j2", rows=table, notes=notes,
                           scatter=colour_scatter(panels, human_points) if has_points or human_points else None,
                           distance=colour_distance(distance_rows, human_distance),
                           swatches=_swatches(rows, human))


def terminal_table(rows: Sequence[ResultRow], human: ColourResult | None, title: str) -> Table:
    """Per model × condition (or, with no rows, per word type) the ΔE numbers, the humans last."""
    from rich.table import Table

    if not rows and human is not None:
        return _human_table(human, title)
    table = Table(title=escaped(f"{title} — colour, ΔE76 (distance = |population − internal| / √2)"),
                  title_justify="left")
    add_identity_columns(table)
    table.add_column("mode")
    for heading in ("internal", "population", "distance", "homogeneous\nnull"):
        table.add_column(heading, justify="right", no_wrap=True)
    for heading in ("valid", "people", "words"):
        table.add_column(heading, justify="right")

    def cells(result: ColourResult) -> list[str]:
        return [with_interval(result.internal_delta_e, result.internal_delta_e_ci, 1),
                with_interval(result.population_delta_e, result.population_delta_e_ci, 1),
                with_interval(result.distance_from_diagonal, result.distance_from_diagonal_ci),
                _null_cell(result), format_percent(result.valid_fraction), format_number(result.n_individuals),
                format_number(result.n_words)]

    for row in rows:
        table.add_row(escaped(row.model), escaped(row.condition), escaped(row.result.mode), *cells(row.result),
                      style=None if _has_valid_answers(row.result) else "red")
    if human is not None:
        table.add_section()
        table.add_row("humans", "", "", *cells(human), style="dim italic")
    return table


def _null_cell(result: ColourResult) -> str:
    """The null's mean and interval, and "≈ homogeneous" when the distance is within it."""
    if result.null is None:
        return ""
    cell = with_interval(result.null.null_mean, result.null.null_ci)
    return cell + ("\n≈ homogeneous" if result.null.indistinguishable else f"\np = {result.null.p_value:.3f}")


def _human_table(human: ColourResult, title: str) -> Table:
    from rich.table import Table

    table = Table(title=escaped(title), caption=escaped(
        f"{human.n_individuals} people, {human.n_samples} answers, {human.n_per_word.min}-{human.n_per_word.max} "
        f"people per word; 95% bootstrap intervals over words (ΔE76)"))
    for heading in ("", "words", "internal ΔE", "population ΔE", "distance from diagonal"):
        table.add_column(heading, justify="left" if not heading else "right")
    table.add_row("all (ΔE76)", str(human.n_words), with_interval(human.internal_delta_e, human.internal_delta_e_ci),
                  with_interval(human.population_delta_e, human.population_delta_e_ci),
                  with_interval(human.distance_from_diagonal, human.distance_from_diagonal_ci))
    for word_type, group in human.by_word_type.items():
        table.add_row(f"{escaped(word_type)} (ΔE76)", format_number(group.n_words),
                      *(format_number(v) for v in (group.internal_delta_e, group.population_delta_e,
                                                   group.distance_from_diagonal)))
    ciede = human.ciede2000
    table.add_row("all (CIEDE2000)", str(human.n_words),
                  *(format_number(v) for v in (ciede.internal_delta_e, ciede.population_delta_e,
                                               ciede.distance_from_diagonal)))
    return table


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
    with figure_style("colour-scatter") as plt:
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
            ax.set_title(f"{plot_label(panel.model, 40)}\n{plot_label(panel.condition, 40)}", fontsize=7.5)
            if index % columns == 0:
                ax.set_ylabel("population ΔE")
            if index // columns == rows - 1 or index + columns >= len(shown):
                ax.set_xlabel("internal ΔE")
                ax.xaxis.set_tick_params(labelbottom=True)
        fig.tight_layout()
        return to_svg(fig, "internal versus population colour variability per word", "colour-scatter")


def colour_distance(rows: Sequence[DistanceRow], human: DistanceRow | None) -> str | None:
    """Distance from the diagonal per model × condition, with intervals, beside the human value.

    Rows are horizontal so long model specs stay readable; the human value is the top row and a
    dashed reference line. Rows without a value are labelled "n/a". ``None`` when nothing has a value.
    """
    all_rows = ([human] if human else []) + list(rows)
    if not any(row.value is not None for row in all_rows):
        return None
    with figure_style("colour-distance") as plt:
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
        ax.set_yticks(positions, [plot_label(row.label) for row in all_rows])
        ax.set_ylim(-0.7, len(all_rows) - 0.3)
        ax.set_xlim(left=0)
        ax.set_xlabel("distance from the diagonal, |population − internal| / √2 (ΔE)")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        fig.tight_layout()
        return to_svg(fig, "distance from the diagonal per model and condition beside the humans", "colour-distance")


