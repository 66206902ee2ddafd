"""How the colour-terms result is shown: the categorical section with each term drawn in its colour, swatches of
the names written, and the ΔE analysis of the names' colours (the hex task's section, reused)."""

from __future__ import annotations

from collections.abc import Sequence

from monoculture.display import cut, valid_hex
from monoculture.tasks._categorical import categorical_section
from monoculture.tasks._contract import ResultRow
from monoculture.tasks.colour import ColourTask
from monoculture.tasks.colour_terms._result import ColourTermsResult


def _term_colour(answer: str) -> str | None:
    from monoculture.metrics import colour_names

    name = colour_names().get(answer)
    return name.hex if name is not None else None


def _name_swatches(rows: Sequence[ResultRow]) -> str:
    """Swatches of the colour names each population wrote (escaped here: the names are model output)."""
    parts = []
    words = dict.fromkeys(word for row in rows for word in row.result.name_swatches)
    for word in words:
        parts.append(f'<div class="swatch-word">{escaped_html(word)}</div>')
        for row in rows:
            names = row.result.name_swatches.get(word, [])
            spans = "".join(f'<span class="swatch" style="background:{colour}" title="{escaped_html(name)}"></span>'
                            for name, hex_code in names if (colour := valid_hex(hex_code)))
            parts.append(f'<div class="swatch-row"><span class="swatch-label">{escaped_html(row.name)}</span>'
                         f'<span class="swatches">{spans or "no names"}</span></div>')
    return "\n".join(parts)


def escaped_html(text: object) -> str:
    """Text for HTML: markup characters escaped (the template's autoescape does not reach built strings)."""
    from markupsafe import escape

    return str(escape(cut(text, 120)))


def _own_ids(html: str) -> str:
    """The hex task's figures with ids of their own, so a report with both tasks has no id twice."""
    return html.replace(' id="colour-', ' id="terms-colour-').replace("#colour-", "#terms-colour-")


def _exact_bars(row: ResultRow) -> ResultRow:
    """In exact mode the bars show the model's own probabilities (averaged over prompts), not the few draws."""
    exact = row.result.exact_distributions
    if not exact:
        return row
    items = [item.model_copy(update={"distribution": exact[item.item]}) if item.item in exact else item
             for item in row.result.items]
    return ResultRow(row.name + " (probabilities)", row.model, row.condition, row.kind,
                     row.result.model_copy(update={"items": items}))


def report_section(rows: Sequence[ResultRow], human: ColourTermsResult | None) -> str:
    """The colour-terms section of the report."""
    no_human = sorted({word for row in rows for word in row.result.words_without_people}
                      | set(human.words_without_people if human else ()))
    extra = ""
    swatches = _name_swatches(rows)
    if swatches:
        extra += "<h3>The colour names written (first answers)</h3>\n" + swatches
    delta_rows = [ResultRow(row.name, row.model, row.condition, row.kind, row.result.names_delta_e)
                  for row in rows if row.result.names_delta_e is not None]
    if delta_rows or (human is not None and human.names_delta_e is not None):
        extra += ("<h3>Through the names' colours: ΔE, as in the hex task</h3>\n<p class=\"meta\">Each name at its "
                  "survey colour (the people at their chips' colours), so free colour words and hex codes compare."
                  "</p>\n" + _own_ids(ColourTask.report_section(delta_rows, human.names_delta_e if human else None)))
    return categorical_section(rows, human, item_label="word", colour_of=_term_colour, no_human=no_human,
                               extra_html=extra, bar_rows=[_exact_bars(row) for row in rows])

