"""How the concept result is shown: the report section (tables, mode comparison, P(multiple concepts) per
target) and the terminal table. Model specs, labels and targets are untrusted text: the template escapes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from monoculture.display import (
    HUMAN_COLOUR,
    MISSING,
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
    with_interval,
)
from monoculture.tasks._contract import ResultRow
from monoculture.tasks.concepts._items import TARGETS
from monoculture.tasks.concepts._result import ConceptResult, ModeComparison

if TYPE_CHECKING:
    from rich.table import Table

UNCONVERGED_COLOUR = "#cc2222"


@dataclass(frozen=True)
class TargetSeries:
    """P(multiple concepts) per target for one model × condition, or for the humans."""

    label: str
    values: dict[str, tuple[float, tuple[float, float] | None]] = field(default_factory=dict)
    human: bool = False
    unconverged: frozenset[str] = frozenset()  # targets whose chains disagree: ringed in red


def _has_valid_answers(result: ConceptResult) -> bool:
    return result.valid_fraction is None or result.valid_fraction > 0


def _unconverged(result: ConceptResult) -> list[str]:
    """The targets whose CRP chains disagree, in protocol order."""
    return [target for target, entry in result.by_target.items() if entry.converged is False]


def _estimated_targets(result: ConceptResult) -> int:
    return sum(entry.p_multiple_concepts is not None for entry in result.by_target.values())


def _chains_cell(result: ConceptResult) -> str:
    """"all agree", "⚠ k of n targets", or a dash when nothing was sampled here (the humans' published chains)."""
    if result.n_unconverged_targets is None or not _estimated_targets(result):
        return MISSING
    if not result.n_unconverged_targets:
        return "all agree"
    return f"⚠ {result.n_unconverged_targets} of {_estimated_targets(result)} targets disagree"


def _row(name: str, kind: str, result: ConceptResult, human: bool = False) -> dict[str, Any]:
    valid = result.valid_fraction
    null = result.null
    return {
        "name": name, "kind": kind, "mode": cut(result.mode),
        "p_multiple": format_number(result.p_multiple_concepts, 3),
        "p_multiple_ci": format_ci(result.p_multiple_concepts_ci, 3),
        "p_multiple_bootstrap_ci": format_ci(result.p_multiple_concepts_bootstrap_ci, 3) or MISSING,
        "unbiased": format_number(result.p_multiple_concepts_unbiased, 3),
        "unbiased_bootstrap_ci": format_ci(result.p_multiple_concepts_unbiased_bootstrap_ci, 3),
        "null": format_number(null.null_mean, 3) if null else MISSING,
        "null_ci": format_ci(null.null_ci, 3) if null else "",
        "null_p": f"p = {null.p_value:.3f}" if null else "",
        "homogeneous": bool(null and null.indistinguishable),
        "chains": _chains_cell(result), "unconverged": bool(result.n_unconverged_targets),
        "tables": format_number(result.tables, 1), "richness": format_number(result.richness, 1),
        "valid": format_percent(valid), "invalid": format_percent(None if valid is None else 1 - valid),
        "order_consistency": format_percent(result.order_consistency),
        "n_complete": format_number(result.n_complete), "n_individuals": format_number(result.n_individuals),
        "empty": not human and not _has_valid_answers(result), "human": human,
    }


def _convergence_notes(rows: Sequence[ResultRow]) -> list[dict[str, Any]]:
    """Per model × condition with disagreeing chains: each such target and why."""
    notes = []
    for row in rows:
        targets = [{"target": target, "problems": "; ".join(row.result.by_target[target].convergence_problems)}
                   for target in _unconverged(row.result)]
        if targets:
            notes.append({"name": row.name, "targets": targets})
    return notes


def _target_order(results: Sequence[ConceptResult]) -> list[tuple[str, str]]:
    """(category, target) pairs grouped by category, in protocol order."""
    found = {target: entry.category for result in results for target, entry in result.by_target.items()}
    rank = {target: index for index, target in enumerate(TARGETS)}
    categories = list(dict.fromkeys(found.values()))
    return [(category, target) for category in categories
            for target in sorted((t for t, c in found.items() if c == category), key=lambda t: (rank.get(t, 99), t))]


def _series(name: str, result: ConceptResult, human: bool = False) -> TargetSeries:
    # The interval over individuals where there is one (5 or more complete individuals), else the posterior's.
    values = {target: (entry.p_multiple_concepts,
                       entry.p_multiple_concepts_bootstrap_ci or entry.p_multiple_concepts_ci)
              for target, entry in result.by_target.items() if entry.p_multiple_concepts is not None}
    return TargetSeries(name, values, human, unconverged=frozenset(_unconverged(result)))


def _category_table(named: list[tuple[str, ConceptResult, bool]]) -> dict[str, Any]:
    categories = list(dict.fromkeys(category for _, result, _ in named for category in result.by_category))
    rows = []
    for name, result, human in named:
        cells = []
        for category in categories:
            entry = result.by_category.get(category)
            cells.append({"p": format_number(entry.p_multiple_concepts if entry else None, 3),
                          "tables": format_number(entry.tables if entry else None, 1),
                          "n": format_number(entry.n_complete if entry else None)})
        rows.append({"name": name, "cells": cells, "human": human})
    return {"categories": [cut(c, 60) for c in categories], "rows": rows}


def _mode_row(name: str, comparison: ModeComparison) -> dict[str, Any]:
    return {"name": name, "modes": " vs ".join(comparison.modes),
            "tv": format_number(comparison.total_variation, 3),
            "noise": format_number(comparison.total_variation_expected_from_noise, 3),
            "n_items": format_number(comparison.n_items),
            "calls": ", ".join(f"{mode} {format_number(comparison.model_calls.get(mode))}" for mode in comparison.modes)}


def report_section(rows: Sequence[ResultRow], human: ConceptResult | None) -> str:
    """The concept section of the report."""
    named = [(row.name, row.result, False) for row in rows] + ([("humans", human, True)] if human else [])
    series = [_series(name, result, is_human) for name, result, is_human in named]
    table = [_row(row.name, cut(row.kind), row.result) for row in rows]
    if human is not None:
        table.append(_row("humans", "", human, human=True))
    return render_template(
        __package__, "section.html.j2", rows=table,
        notes=[{"name": row.name, "note": "no valid answers"} for row in rows if not _has_valid_answers(row.result)],
        convergence=_convergence_notes(rows),
        permutations=", ".join(sorted({str(row.result.null.permutations) for row in rows if row.result.null})),
        plot=concept_targets(_target_order([result for _, result, _ in named]), series),
        categories=_category_table(named),
        modes=[_mode_row(row.name, row.result.mode_comparison) for row in rows if row.result.mode_comparison])


def terminal_table(rows: Sequence[ResultRow], human: ConceptResult | None, title: str) -> Table:
    """P(multiple concepts) per model × condition, the humans last; with no rows, the humans per target."""
    from rich.table import Table

    if not rows and human is not None:
        return _human_table(human, title)
    table = Table(title=escaped(f"{title} — concepts"), title_justify="left", caption=escaped(
        "P(multiple) with its posterior interval; over individuals: a bootstrap of the individuals (5 or more "
        "per target); homogeneous null: the same answers shuffled across individuals per question"))
    add_identity_columns(table)
    table.add_column("mode")
    table.add_column("P(multiple)\nposterior", justify="right", no_wrap=True)
    for heading in ("over\nindividuals", "homogeneous\nnull"):
        table.add_column(heading, justify="right", no_wrap=True)
    for heading in ("tables", "valid", "same both orders", "complete", "chains"):
        table.add_column(heading, justify="right")

    def cells(result: ConceptResult) -> list[str]:
        return [with_interval(result.p_multiple_concepts, result.p_multiple_concepts_ci, 3),
                escaped(format_ci(result.p_multiple_concepts_bootstrap_ci, 3) or MISSING), _null_cell(result),
                format_number(result.tables, 1), format_percent(result.valid_fraction),
                format_percent(result.order_consistency),
                f"{format_number(result.n_complete)}/{format_number(result.n_individuals)}", _chains_text(result)]

    for row in rows:
        table.add_row(escaped(row.model), escaped(row.condition), escaped(row.result.mode), *cells(row.result),
                      style=None if _has_valid_answers(row.result) else "red")
    if human is not None:
        table.add_section()
        table.add_row("humans", "", "", *cells(human), style="dim italic")
    return table


def _null_cell(result: ConceptResult) -> str:
    """The null's mean and interval, and "≈ homogeneous" when P(multiple) is within it."""
    if result.null is None:
        return MISSING
    cell = with_interval(result.null.null_mean, result.null.null_ci, 3)
    return cell + ("\n≈ homogeneous" if result.null.indistinguishable else f"\np = {result.null.p_value:.3f}")


def _chains_text(result: ConceptResult) -> str:
    """The chains cell, with the disagreeing targets named (red) in the terminal."""
    cell = _chains_cell(result)
    if not result.n_unconverged_targets:
        return cell
    return f"[red]{escaped(cell)}\n{escaped(', '.join(_unconverged(result)))}[/red]"


def _human_table(human: ConceptResult, title: str) -> Table:
    from rich.table import Table

    table = Table(title=escaped(f"{title}: P(multiple concepts), mean of sweeps 101-499, 3 chains; "
                                "sw. 499 = the paper's single sweep; rich. = Chao1"))
    for heading in ("target", "n", "P(mult.)", "posterior 95%", "sw. 499", "tables", "rich."):
        table.add_column(heading, justify="left" if heading == "target" else "right")

    def add(label: str, entry: Any, bold: bool = False) -> None:
        table.add_row(escaped(label), str(entry.n_individuals), format_number(entry.p_multiple_concepts, 3),
                      escaped(format_ci(entry.p_multiple_concepts_ci)),
                      format_number(entry.p_multiple_concepts_sweep499, 3), format_number(entry.tables, 1),
                      format_number(entry.richness, 1), style="bold" if bold else None)

    for category, entry in human.by_category.items():
        add(category, entry, bold=True)
        for target, target_entry in human.by_target.items():
            if target_entry.category == category:
                add(f"  {target}", target_entry)
    add("all", human, bold=True)
    return table


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
    with figure_style("concept-targets") as plt:
        fig, ax = plt.subplots(figsize=(max(7.5, 0.45 * x + 2.5), 3.6))
        model_index = 0
        any_ringed = False
        for index, s in enumerate(series):
            offset = -width / 2 + step * (index + 0.5)
            colour = HUMAN_COLOUR if s.human else f"C{model_index % 10}"
            marker = "s" if s.human else "o"
            if not s.human:
                model_index += 1
            xs, ys, low, high, ringed = [], [], [], [], []
            for target, (value, ci) in s.values.items():
                if target not in positions:
                    continue
                xs.append(positions[target] + offset)
                ys.append(value)
                low.append(max(value - ci[0], 0.0) if ci else 0.0)
                high.append(max(ci[1] - value, 0.0) if ci else 0.0)
                if target in s.unconverged:
                    ringed.append((xs[-1], value))
            if not xs:
                ax.plot([], [], marker=marker, linestyle="", color=colour, label=plot_label(s.label) + " (no data)")
                continue
            ax.errorbar(xs, ys, yerr=[low, high], fmt=marker, color=colour, ecolor=colour, markersize=4,
                        elinewidth=0.7, capsize=0, alpha=0.9, label=plot_label(s.label))
            if ringed:
                any_ringed = True
                ax.plot([x for x, _ in ringed], [y for _, y in ringed], marker="o", markersize=10, linestyle="",
                        markerfacecolor="none", markeredgecolor=UNCONVERGED_COLOUR, markeredgewidth=1.2)
        for category, start, end in groups:
            ax.text((start + end) / 2, 1.07, plot_label(category), ha="center", va="bottom", fontsize=8,
                    fontweight="bold")
            if start > 0:
                ax.axvline(start - 1.0, color="#dddddd", linewidth=0.8)
        ax.set_xticks(list(positions.values()), [plot_label(t) for t in positions], rotation=40, ha="right")
        ax.set_ylim(-0.03, 1.15)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_ylabel("P(multiple concepts)")
        ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
        if any_ringed:
            ax.plot([], [], marker="o", markersize=10, linestyle="", markerfacecolor="none",
                    markeredgecolor=UNCONVERGED_COLOUR, markeredgewidth=1.2, label="chains disagree")
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        return to_svg(fig, "probability of multiple concepts per target", "concept-targets")
