"""How a categorical result is shown: the measures table beside the people and a homogeneous population, and
per item the answer distributions side by side as bars. Every answer is untrusted text: the template escapes
it, and only ``#RRGGBB`` colours reach CSS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from monoculture.display import (
    add_identity_columns,
    cut,
    escaped,
    format_ci,
    format_number,
    format_percent,
    render_template,
    valid_hex,
    with_interval,
)
from monoculture.tasks._categorical._result import CategoricalResult, ItemStats
from monoculture.tasks._contract import ResultRow

if TYPE_CHECKING:
    from rich.table import Table

# Items whose distributions the report draws, and answers per bar before the rest are pooled as "other".
BAR_ITEMS = 12
BAR_ANSWERS = 8
# Categories without a colour of their own (a user's answers) cycle through matplotlib's tab10.
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")
_OTHER = "#d9d9d9"
ColourOf = Callable[[str], "str | None"]


def _row(name: str, kind: str, result: CategoricalResult, *, human: bool = False) -> dict[str, Any]:
    return {
        "name": name, "kind": kind, "mode": cut(result.mode), "human": human,
        "internal": format_number(result.internal_disagreement),
        "internal_ci": format_ci(result.internal_disagreement_ci),
        "population": format_number(result.population_disagreement),
        "population_ci": format_ci(result.population_disagreement_ci),
        "distance": format_number(result.distance_from_diagonal),
        "distance_ci": format_ci(result.distance_from_diagonal_ci),
        "null": format_number(result.null.null_mean) if result.null else "",
        "null_ci": format_ci(result.null.null_ci) if result.null else "",
        "null_p": f"p = {result.null.p_value:.3f}" if result.null else "",
        "homogeneous": bool(result.null and result.null.indistinguishable),
        "entropy": format_number(result.entropy_bits), "entropy_corrected": format_number(result.entropy_corrected_bits),
        "gini_simpson": format_number(result.gini_simpson), "hill_q1": format_number(result.hill_q1),
        "tv": format_number(result.total_variation_to_human), "js": format_number(result.js_distance_to_human),
        "valid": format_percent(result.valid_fraction), "n_individuals": format_number(result.n_individuals),
        "n_items": format_number(result.n_items), "empty": not human and result.n_valid == 0,
    }


def _yardstick(results: Sequence[CategoricalResult]) -> dict[str, str] | None:
    """The homogeneous population's values, as the first result with them gives them."""
    values = next((result.homogeneous for result in results if result.homogeneous), None)
    if not values:
        return None
    return {key: format_number(value) for key, value in values.items()}


def _segments(stats: ItemStats | None, colour_of: ColourOf, palette: dict[str, str]) -> list[dict[str, Any]]:
    """One bar: the most frequent answers as shares (in their colour), the rest pooled as "other"."""
    if stats is None or not stats.distribution:
        return []
    total = sum(stats.distribution.values())
    if total <= 0:
        return []
    ranked = sorted(stats.distribution.items(), key=lambda pair: (-pair[1], pair[0]))
    shown, rest = ranked[:BAR_ANSWERS], ranked[BAR_ANSWERS:]
    segments = []
    for answer, count in shown:
        colour = valid_hex(colour_of(answer)) or palette.setdefault(answer, _PALETTE[len(palette) % len(_PALETTE)])
        segments.append({"label": cut(answer, 40), "share": count / total, "width": f"{100 * count / total:.2f}%",
                         "colour": colour, "text": f"{cut(answer, 40)} {100 * count / total:.0f}%"})
    if rest:
        share = sum(count for _, count in rest) / total
        segments.append({"label": f"{len(rest)} other answers", "share": share, "width": f"{100 * share:.2f}%",
                         "colour": _OTHER, "text": f"other {100 * share:.0f}%"})
    return segments


def _bars(rows: Sequence[ResultRow], human: CategoricalResult | None, colour_of: ColourOf,
          no_human: Sequence[str]) -> list[dict[str, Any]]:
    """Per item (the first :data:`BAR_ITEMS` of the first population), a bar per population and the people's."""
    sources = [(row.name, {s.item: s for s in row.result.items}) for row in rows]
    human_items = {s.item: s for s in human.items} if human is not None else {}
    order = list(dict.fromkeys(item for _, items in sources for item in items)) or list(human_items)
    palette: dict[str, str] = {}
    groups = []
    for item in order[:BAR_ITEMS]:
        bars = [{"label": name, "segments": _segments(items.get(item), colour_of, palette), "human": False}
                for name, items in sources]
        if item in human_items:
            bars.append({"label": "people", "segments": _segments(human_items[item], colour_of, palette),
                         "human": True})
        groups.append({"item": cut(item, 80), "bars": bars, "no_human": item in no_human})
    return groups


def categorical_section(rows: Sequence[ResultRow], human: CategoricalResult | None, *, item_label: str,
                        colour_of: ColourOf = lambda answer: None, no_human: Sequence[str] = (),
                        extra_html: str = "", bar_rows: Sequence[ResultRow] | None = None) -> str:
    """The report section of a categorical task: the measures table and the answer-distribution bars.

    ``colour_of`` gives an answer's own colour (colour terms are drawn in their colour); ``no_human`` names the
    items without people's answers; ``extra_html`` (already escaped HTML) follows the bars; ``bar_rows`` (default
    ``rows``) are the populations drawn as bars.
    """
    table = [_row(row.name, cut(row.kind), row.result) for row in rows]
    if human is not None:
        table.append(_row("people", "", human, human=True))
    yardstick = _yardstick([row.result for row in rows] + ([human] if human is not None else []))
    return render_template(__package__, "section.html.j2", rows=table, yardstick=yardstick, item_label=item_label,
                           bars=_bars(rows if bar_rows is None else bar_rows, human, colour_of, no_human),
                           extra_html=extra_html)


def categorical_table(rows: Sequence[ResultRow], human: CategoricalResult | None, title: str) -> Table:
    """Per model × condition the disagreement and diversity numbers, the people and a homogeneous population last."""
    from rich.table import Table

    if not rows and human is not None:
        return _people_table(human, title)
    table = Table(title=escaped(f"{title} (disagreement: share of answer pairs that differ)"), title_justify="left")
    add_identity_columns(table)
    table.add_column("mode")
    # The terminal keeps the headline numbers; the report and summary.json hold every measure.
    for heading in ("internal", "population", "distance", "homogeneous\nnull", "entropy\n(bits)", "TV to\npeople",
                    "valid"):
        table.add_column(heading, justify="right")

    def cells(result: CategoricalResult) -> list[str]:
        null = ""
        if result.null is not None:
            null = with_interval(result.null.null_mean, result.null.null_ci) + (
                "\n≈ homogeneous" if result.null.indistinguishable else f"\np = {result.null.p_value:.3f}")
        return [with_interval(result.internal_disagreement, result.internal_disagreement_ci),
                with_interval(result.population_disagreement, result.population_disagreement_ci),
                with_interval(result.distance_from_diagonal, result.distance_from_diagonal_ci), null,
                format_number(result.entropy_bits), format_number(result.total_variation_to_human),
                format_percent(result.valid_fraction)]

    for row in rows:
        table.add_row(escaped(row.model), escaped(row.condition), escaped(row.result.mode), *cells(row.result),
                      style=None if row.result.n_valid else "red")
    if human is not None:
        table.add_section()
        table.add_row("people", "", "", *cells(human), style="dim italic")
    yardstick = _yardstick([row.result for row in rows] + ([human] if human is not None else []))
    if yardstick:
        keys = ("internal_disagreement", "population_disagreement", "distance_from_diagonal")
        table.add_row("homogeneous population", "", "", *(yardstick.get(key, "") for key in keys), "",
                      yardstick.get("entropy_bits", ""), "", "", style="dim")
    return table


def _people_table(human: CategoricalResult, title: str) -> Table:
    """The people's reference alone: each measure beside a homogeneous population's, then the items' top answers."""
    from rich.table import Table

    table = Table(title=escaped(title), title_justify="left", caption=escaped(
        f"{human.n_individuals} people, {human.n_valid} answers, {human.n_items} items; 95% bootstrap intervals "
        "over items"))
    for heading in ("measure", "people", "homogeneous population"):
        table.add_column(heading, justify="left" if heading == "measure" else "right")
    for key, label in (("internal_disagreement", "internal disagreement"),
                       ("population_disagreement", "population disagreement"),
                       ("distance_from_diagonal", "distance from the diagonal"), ("entropy_bits", "entropy (bits)"),
                       ("entropy_corrected_bits", "entropy, Chao-Shen (bits)"), ("gini_simpson", "Gini-Simpson"),
                       ("hill_q0", "Hill q=0"), ("hill_q1", "Hill q=1"), ("hill_q2", "Hill q=2")):
        bounds = getattr(human, f"{key}_ci", None)
        table.add_row(label, with_interval(getattr(human, key), bounds, 3),
                      format_number(human.homogeneous.get(key), 3))
    table.add_section()
    for stats in human.items[:BAR_ITEMS]:
        total = sum(stats.distribution.values()) or 1
        top = ", ".join(f"{escaped(cut(answer, 30))} {count / total:.3f}"
                        for answer, count in list(stats.distribution.items())[:3])
        table.add_row(escaped(cut(stats.item, 40)), top, "")
    return table
