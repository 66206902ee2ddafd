"""The self-contained HTML report, rendered from ``summary.json`` alone.

Everything in a summary that is shown as text is untrusted: model output, model specs, condition labels,
words, licences. The template is rendered with autoescaping on, colours reach CSS only after passing
:data:`~monoculture.report._view.HEX_COLOUR`, and the plots are inline SVG with no external reference,
so the report opens offline and cannot run anything.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from . import _plots
from ._view import (
    MISSING,
    Condition,
    conditions,
    format_ci,
    format_number,
    format_percent,
    has_valid_answers,
    number,
    valid_hex,
)

__all__ = ["render_html"]

TEMPLATE = "report.html.j2"
OUTPUT_CHARS = 400

# Fallback grouping of the protocol's targets (PROTOCOL §4) for summaries whose by_target entries
# carry no "category" key; anything unknown is grouped as "other".
PROTOCOL_CATEGORIES = {
    "animals": ["finch", "robin", "chicken", "eagle", "ostrich", "penguin", "salmon", "seal", "dolphin", "whale"],
    "politicians": ["Abraham Lincoln", "Barack Obama", "Bernie Sanders", "Donald Trump", "Elizabeth Warren",
                    "George W. Bush", "Hillary Clinton", "Joe Biden", "Richard Nixon", "Ronald Reagan"],
}

HUMAN_REFERENCES = {
    "colour": "Murthy, Griffiths & Hawkins (2022), “Shades of confusion”, Cognition — experiment 1 "
              "(word–colour associations, Munsell chips, two blocks per person).",
    "concepts": "Martí, Wu, Piantadosi & Kidd (2023), “Latent diversity in human concepts”, Open Mind — "
                "similarity judgments clustered with a Chinese Restaurant Process.",
}


def render_html(summary: dict[str, Any]) -> str:
    """Render a summary (the ``summary.json`` dict) as one self-contained HTML page.

    Sections for tasks absent from the summary are omitted; a model with no valid answers gets a note
    instead of a plot. The page loads nothing from the network: no scripts, fonts or stylesheets, and
    the figures are inline SVG.
    """
    import jinja2

    source = resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="utf-8")
    # autoescape=True explicitly: the template's suffix (.j2) would not switch it on by itself.
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.from_string(source).render(**_context(summary))


def _context(summary: dict[str, Any]) -> dict[str, Any]:
    study = summary.get("study") if isinstance(summary.get("study"), dict) else {}
    cells = conditions(summary)
    human = summary.get("human") if isinstance(summary.get("human"), dict) else {}
    human_colour = human.get("colour") if isinstance(human.get("colour"), dict) else None
    human_concepts = human.get("concepts") if isinstance(human.get("concepts"), dict) else None
    return {
        "title": str(study.get("name") or "monoculture study"),
        "created": str(summary.get("created") or ""),
        "version": str(summary.get("monoculture_version") or ""),
        "models": _model_rows(summary, cells),
        "decoding": _decoding_rows(cells),
        "references": _references(human_colour, human_concepts),
        "environment": _environment(summary),
        "colour": _colour_section(cells, human_colour),
        "concepts": _concept_section(cells, human_concepts),
        "checks": _checks_section(summary, cells),
    }


def _text(value: Any, limit: int = 200) -> str:
    """Any summary value as display text, cut to ``limit`` characters."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _model_rows(summary: dict[str, Any], cells: list[Condition]) -> list[dict[str, str]]:
    info = summary.get("model_info") if isinstance(summary.get("model_info"), dict) else {}
    specs = list(dict.fromkeys([*info, *(cell.model for cell in cells)]))
    rows = []
    for spec in specs:
        entry = info.get(spec) if isinstance(info.get(spec), dict) else {}
        size = number(entry.get("size_bytes"))
        rows.append({
            "spec": _text(spec),
            "kind": _text(entry.get("kind")),
            "backend": _text(entry.get("backend")),
            "file": _text(entry.get("file"), 300),
            "sha256": _text(entry.get("sha256"), 80),
            "size": f"{size / 1e6:.0f} MB" if size is not None else "",
            "licence": _text(entry.get("licence")),
        })
    return rows


def _decoding_rows(cells: list[Condition]) -> list[dict[str, Any]]:
    rows = []
    for cell in cells:
        decoding = cell.data.get("decoding") if isinstance(cell.data.get("decoding"), dict) else {}
        rows.append({
            "model": _text(cell.model),
            "condition": _text(cell.label),
            "kind": _text(cell.data.get("kind")),
            "context": _text(cell.data.get("context")),
            "temperature": format_number(cell.data.get("temperature")),
            "parameters": [(_text(key, 40), _text(value, 60)) for key, value in decoding.items()],
        })
    return rows


def _references(colour: dict[str, Any] | None, concepts: dict[str, Any] | None) -> list[dict[str, str]]:
    rows = []
    if colour:
        rows.append({"task": "colour", "citation": HUMAN_REFERENCES["colour"],
                     "size": f"{format_number(colour.get('n_individuals'))} people, "
                             f"{format_number(colour.get('n_words'))} words"})
    if concepts:
        rows.append({"task": "concepts", "citation": HUMAN_REFERENCES["concepts"],
                     "size": f"{format_number(concepts.get('n_individuals'))} people"})
    return rows


def _environment(summary: dict[str, Any]) -> dict[str, Any]:
    environment = summary.get("environment") if isinstance(summary.get("environment"), dict) else {}
    libraries = environment.get("libraries") if isinstance(environment.get("libraries"), dict) else {}
    checksums = environment.get("data_checksums")
    checksums = checksums if isinstance(checksums, dict) else {}
    return {
        "python": _text(environment.get("python")),
        "libraries": [(_text(k, 60), _text(v, 60)) for k, v in libraries.items()],
        "checksums": [(_text(k, 200), _text(v, 100)) for k, v in checksums.items()],
    }


# ---------------------------------------------------------------- colour


def _colour_row(name: str, kind: str, block: dict[str, Any], human: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "mode": _text(block.get("mode")),
        "internal": format_number(block.get("internal_delta_e")),
        "internal_ci": format_ci(block.get("internal_delta_e_ci")),
        "population": format_number(block.get("population_delta_e")),
        "population_ci": format_ci(block.get("population_delta_e_ci")),
        "distance": format_number(block.get("distance_from_diagonal")),
        "distance_ci": format_ci(block.get("distance_from_diagonal_ci")),
        "valid": format_percent(block.get("valid_fraction")),
        "n_individuals": format_number(block.get("n_individuals")),
        "n_words": format_number(block.get("n_words")),
        "empty": not has_valid_answers(block),
        "human": human,
    }


def _word_points(block: dict[str, Any] | None) -> list[tuple[float, float]]:
    points = []
    for word in (block or {}).get("words") or []:
        if not isinstance(word, dict):
            continue
        x, y = number(word.get("internal_delta_e")), number(word.get("population_delta_e"))
        if x is not None and y is not None:
            points.append((x, y))
    return points


def _interval(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = number(value[0]), number(value[1])
        if low is not None and high is not None:
            return (low, high)
    return None


def _swatch_row(label: str, values: Any) -> dict[str, Any]:
    values = values if isinstance(values, list) else []
    colours = [hex_ for hex_ in (valid_hex(v) for v in values) if hex_]
    return {"label": label, "colours": colours, "skipped": len(values) - len(colours)}


def _swatches(cells: list[tuple[Condition, dict[str, Any]]], human: dict[str, Any] | None) -> list[dict[str, Any]]:
    sources = [(cell.name, block.get("swatches")) for cell, block in cells]
    human_swatches = (human or {}).get("swatches")
    words: list[str] = []
    for _, swatches in sources + [("humans", human_swatches)]:
        if isinstance(swatches, dict):
            words.extend(str(word) for word in swatches)
    groups = []
    for word in dict.fromkeys(words):
        rows = [_swatch_row(name, swatches.get(word)) for name, swatches in sources if isinstance(swatches, dict)]
        if isinstance(human_swatches, dict):
            rows.append(_swatch_row("humans", human_swatches.get(word)))
        groups.append({"word": _text(word, 60), "rows": rows})
    return groups


def _invalid_examples(name: str, block: dict[str, Any]) -> dict[str, Any] | None:
    counts = block.get("accounting") if isinstance(block.get("accounting"), dict) else {}
    examples = []
    for kind, key in (("refusal", "refusal_examples"), ("parse failure", "parse_failure_examples")):
        for e in counts.get(key) or []:
            if isinstance(e, dict):
                examples.append({"kind": kind, "item": _text(e.get("item"), 80), "reason": _text(e.get("reason"), 120),
                                 "output": _text(e.get("output"), OUTPUT_CHARS)})
    if not examples:
        return None
    return {"name": name, "examples": examples}


# ---------------------------------------------------------------- sampling checks


def _alarm_row(alarm: dict[str, Any]) -> dict[str, Any]:
    evidence = alarm.get("evidence") if isinstance(alarm.get("evidence"), dict) else {}
    texts = [_text(t, OUTPUT_CHARS) for t in evidence.get("texts") or []]
    repeats = [{"output": _text(r.get("output"), OUTPUT_CHARS), "count": format_number(r.get("count")),
                "draws": format_number(r.get("draws")), "p": format_number(r.get("model_probability"), 4)}
               for r in evidence.get("most_unlikely_repeats") or [] if isinstance(r, dict)]
    where = " · ".join(_text(alarm.get(k), 120) for k in ("model", "condition", "task") if alarm.get(k))
    return {"kind": _text(alarm.get("kind"), 40), "where": where, "message": _text(alarm.get("message"), 600),
            "texts": texts, "repeats": repeats}


def _accounting_row(name: str, task: str, block: dict[str, Any]) -> dict[str, Any] | None:
    counts = block.get("accounting")
    if not isinstance(counts, dict):
        return None
    repeats = block.get("repeats") if isinstance(block.get("repeats"), dict) else {}
    if repeats.get("checked"):
        repeat_text = (f"{format_number(repeats.get('identical_pairs'))} / "
                       f"{format_number(repeats.get('expected_identical_pairs'), 1)}")
    else:
        repeat_text = f"not checked: {_text(repeats.get('reason'), 80)}" if repeats else MISSING
    return {"name": name, "task": task, "planned": format_number(counts.get("planned")),
            "stored": format_number(counts.get("stored")), "valid": format_percent(counts.get("valid_fraction")),
            "refusals": format_number(counts.get("refusals")), "failures": format_number(counts.get("parse_failures")),
            "repeats": repeat_text, "alarm": bool(counts.get("missing")) or bool(repeats.get("alarm"))}


def _checks_section(summary: dict[str, Any], cells: list[Condition]) -> dict[str, Any]:
    alarms = [_alarm_row(a) for a in summary.get("alarms") or [] if isinstance(a, dict)]
    rows = []
    for cell in cells:
        for task in ("colour", "concepts"):
            block = cell.block(task)
            if block is None:
                continue
            for part in (block, block.get("mode_comparison")):
                if isinstance(part, dict) and (row := _accounting_row(cell.name, task, part)) is not None:
                    rows.append(row)
    probes = summary.get("probes") if isinstance(summary.get("probes"), dict) else {}
    return {"alarms": alarms, "rows": rows, "probed": [_text(spec, 120) for spec in probes],
            "planned": format_number(summary.get("n_samples_planned")),
            "stored": format_number(summary.get("n_samples_stored"))}


def _colour_section(cells: list[Condition], human: dict[str, Any] | None) -> dict[str, Any] | None:
    present = [(cell, block) for cell in cells if (block := cell.block("colour")) is not None]
    if not present and not (human and not cells):
        return None
    rows = [_colour_row(cell.name, _text(cell.data.get("kind")), block) for cell, block in present]
    panels = []
    notes = []
    for cell, block in present:
        points = _word_points(block)
        note = None
        if not has_valid_answers(block):
            note = "no valid answers"
        elif not points:
            note = "no word with two valid answers"
        if note:
            notes.append({"name": cell.name, "note": note})
        panels.append(_plots.ScatterPanel(cell.model, cell.label, points, note))
    human_points = _word_points(human)
    distance_rows = [_plots.DistanceRow(cell.name, number(block.get("distance_from_diagonal")),
                                        _interval(block.get("distance_from_diagonal_ci")))
                     for cell, block in present]
    human_distance = None
    if human:
        human_distance = _plots.DistanceRow("humans", number(human.get("distance_from_diagonal")),
                                            _interval(human.get("distance_from_diagonal_ci")))
    has_points = any(panel.points for panel in panels)
    return {
        "rows": rows,
        "human": _colour_row("humans", "", human, human=True) if human else None,
        "notes": notes,
        "scatter": _plots.colour_scatter(panels, human_points) if has_points or human_points else None,
        "distance": _plots.colour_distance(distance_rows, human_distance),
        "swatches": _swatches(present, human),
        "invalid": [x for cell, block in present if (x := _invalid_examples(cell.name, block))],
    }


# ---------------------------------------------------------------- concepts


def _concept_row(name: str, kind: str, block: dict[str, Any], human: bool = False) -> dict[str, Any]:
    valid = number(block.get("valid_fraction"))
    return {
        "name": name,
        "kind": kind,
        "mode": _text(block.get("mode")),
        "p_multiple": format_number(block.get("p_multiple_concepts"), 3),
        "p_multiple_ci": format_ci(block.get("p_multiple_concepts_ci"), 3),
        "tables": format_number(block.get("tables"), 1),
        "richness": format_number(block.get("richness"), 1),
        "valid": format_percent(valid),
        "invalid": format_percent(None if valid is None else 1 - valid),
        "order_consistency": format_percent(block.get("order_consistency")),
        "n_complete": format_number(block.get("n_complete")),
        "n_individuals": format_number(block.get("n_individuals")),
        "empty": not has_valid_answers(block),
        "human": human,
    }


def _target_category(target: str, entry: dict[str, Any]) -> str:
    if isinstance(entry.get("category"), str):
        return entry["category"]
    for category, targets in PROTOCOL_CATEGORIES.items():
        if target in targets:
            return category
    return "other"


def _target_order(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(category, target) pairs grouped by category, in protocol order where the protocol knows them."""
    found: dict[str, str] = {}
    for block in blocks:
        by_target = block.get("by_target") if isinstance(block.get("by_target"), dict) else {}
        for target, entry in by_target.items():
            if isinstance(entry, dict):
                found.setdefault(str(target), _target_category(str(target), entry))
    known = [t for targets in PROTOCOL_CATEGORIES.values() for t in targets]
    rank = {t: i for i, t in enumerate(known)}
    categories = list(dict.fromkeys(found.values()))
    return [(category, target)
            for category in categories
            for target in sorted((t for t, c in found.items() if c == category),
                                 key=lambda t: (rank.get(t, len(rank)), t))]


def _target_series(name: str, block: dict[str, Any], human: bool = False) -> _plots.TargetSeries:
    values = {}
    by_target = block.get("by_target") if isinstance(block.get("by_target"), dict) else {}
    for target, entry in by_target.items():
        if not isinstance(entry, dict):
            continue
        value = number(entry.get("p_multiple_concepts"))
        if value is not None:
            values[str(target)] = (value, _interval(entry.get("p_multiple_concepts_ci")))
    return _plots.TargetSeries(name, values, human)


def _category_table(named: list[tuple[str, dict[str, Any]]], human: dict[str, Any] | None) -> dict[str, Any]:
    categories: list[str] = []
    for _, block in named:
        if isinstance(block.get("by_category"), dict):
            categories.extend(str(c) for c in block["by_category"])
    categories = list(dict.fromkeys(categories))
    rows = []
    for name, block in named:
        by_category = block.get("by_category") if isinstance(block.get("by_category"), dict) else {}
        cells = []
        for category in categories:
            entry = by_category.get(category) if isinstance(by_category.get(category), dict) else {}
            cells.append({"p": format_number(entry.get("p_multiple_concepts"), 3),
                          "tables": format_number(entry.get("tables"), 1),
                          "n": format_number(entry.get("n_complete"))})
        rows.append({"name": name, "cells": cells, "human": block is human})
    return {"categories": [_text(c, 60) for c in categories], "rows": rows}


def _concept_section(cells: list[Condition], human: dict[str, Any] | None) -> dict[str, Any] | None:
    present = [(cell, block) for cell in cells if (block := cell.block("concepts")) is not None]
    if not present and not (human and not cells):
        return None
    named = [(cell.name, block) for cell, block in present] + ([("humans", human)] if human else [])
    series = [_target_series(cell.name, block) for cell, block in present]
    if human:
        series.append(_target_series("humans", human, human=True))
    targets = _target_order([block for _, block in named])
    return {
        "rows": [_concept_row(cell.name, _text(cell.data.get("kind")), block) for cell, block in present],
        "human": _concept_row("humans", "", human, human=True) if human else None,
        "notes": [{"name": cell.name, "note": "no valid answers"}
                  for cell, block in present if not has_valid_answers(block)],
        "plot": _plots.concept_targets(targets, series),
        "categories": _category_table(named, human),
        "modes": [_mode_row(cell.name, comparison) for cell, block in present
                  if isinstance(comparison := block.get("mode_comparison"), dict)],
        "invalid": [x for cell, block in present if (x := _invalid_examples(cell.name, block))],
    }


def _mode_row(name: str, comparison: dict[str, Any]) -> dict[str, Any]:
    modes = [_text(mode) for mode in comparison.get("modes") or []]
    calls = comparison.get("model_calls") if isinstance(comparison.get("model_calls"), dict) else {}
    return {
        "name": name,
        "modes": " vs ".join(modes),
        "tv": format_number(comparison.get("total_variation"), 3),
        "noise": format_number(comparison.get("total_variation_expected_from_noise"), 3),
        "items": format_number(comparison.get("n_items")),
        "calls": ", ".join(f"{_text(mode)} {format_number(calls.get(mode))}" for mode in modes),
    }
