"""The self-contained HTML report, rendered from a :class:`~monoculture.analysis.Summary` alone.

Everything in a summary that is shown as text is untrusted: model output, model specs, condition labels,
words, licences. The template is rendered with autoescaping on, each task renders its own section through the
same escaping templates, and the plots are inline SVG with no external reference, so the report opens
offline and cannot run anything.
"""

from __future__ import annotations

from typing import Any

from monoculture.analysis import Accounting, Alarm, Repeats, Summary
from monoculture.display import MISSING, cut, format_number, format_percent, render_template
from monoculture.report._families import agreement_section, families_section
from monoculture.tasks import ResultRow, task_type

__all__ = ["render_html"]

OUTPUT_CHARS = 400


def render_html(summary: Summary) -> str:
    """Render a summary as one self-contained HTML page: provenance, sampling checks, one section per task."""
    study = summary.study
    return render_template(__package__, "report.html.j2", **{
        "title": cut(study.get("name") or "monoculture study"),
        "created": summary.created,
        "version": summary.monoculture_version,
        "models": [_model_row(record, summary.deterministic.get(record.spec, False))
                   for record in summary.model_versions],
        "decoding": _decoding_rows(summary),
        "references": _references(summary),
        "environment": _environment(summary),
        "checks": _checks_section(summary),
        "sections": _task_sections(summary),
        "families": families_section(summary),
        "agreement": agreement_section(summary),
    })


def _model_row(record: Any, deterministic: bool) -> dict[str, str]:
    return {"spec": cut(record.spec), "version": str(record.version), "kind": cut(record.kind),
            "deterministic": "yes" if deterministic else "no",
            "backend": cut(record.backend), "runtime": cut(record.runtime), "file": cut(record.file, 300),
            "sha256": cut(record.sha256, 80), "licence": cut(record.licence),
            "size": f"{record.size_bytes / 1e6:.0f} MB" if record.size_bytes is not None else ""}


def _decoding_rows(summary: Summary) -> list[dict[str, Any]]:
    return [{"model": cut(cell.model), "condition": cut(cell.condition), "kind": cut(cell.kind),
             "context": cut(cell.context), "temperature": format_number(cell.temperature),
             "parameters": [(cut(key, 40), cut(value, 60)) for key, value in cell.decoding.items()],
             "settings": ", ".join(f"{cut(name)} {population.settings}" for name, population in cell.tasks.items())}
            for cell in summary.cells()]


def _references(summary: Summary) -> list[dict[str, str]]:
    rows = []
    for name, result in summary.human.items():
        people = getattr(result, "n_individuals", None)
        rows.append({"task": cut(name), "citation": cut(task_type(name).citation, 400),
                     "size": f"{format_number(people)} people" if people is not None else ""})
    return rows


def _environment(summary: Summary) -> dict[str, Any]:
    environment = summary.environment
    data = environment.data
    return {
        "python": cut(environment.python), "platform": cut(environment.platform),
        "libraries": [(cut(k, 60), cut(v, 60)) for k, v in environment.libraries.items()],
        "data_root": cut(data.root, 300) if data else "",
        "checksums": [(cut(k, 200), cut(v, 100)) for k, v in data.sha256.items()] if data else [],
        "problems": [cut(p, 300) for p in data.problems] if data else [],
    }


def _alarm_row(alarm: Alarm) -> dict[str, Any]:
    evidence = alarm.evidence
    texts = [cut(t, OUTPUT_CHARS) for t in evidence.get("texts") or []]
    repeats = [{"output": cut(r.get("output"), OUTPUT_CHARS), "count": format_number(r.get("count")),
                "draws": format_number(r.get("draws")), "p": format_number(r.get("model_probability"), 4)}
               for r in evidence.get("most_unlikely_repeats") or [] if isinstance(r, dict)]
    where = " · ".join(cut(part, 120) for part in (alarm.model, alarm.condition, alarm.task) if part)
    return {"kind": alarm.kind, "where": where, "message": cut(alarm.message, 600), "texts": texts, "repeats": repeats}


def _accounting_row(name: str, task: str, mode: str, counts: Accounting, repeats: Repeats) -> dict[str, Any]:
    if repeats.checked:
        repeat_text = f"{format_number(repeats.identical_pairs)} / {format_number(repeats.expected_identical_pairs, 1)}"
    else:
        repeat_text = f"not checked: {cut(repeats.reason, 80)}" if repeats.reason else MISSING
    return {"name": name, "task": f"{task} ({mode})", "planned": format_number(counts.planned),
            "stored": format_number(counts.stored), "valid": format_percent(counts.valid_fraction),
            "refusals": format_number(counts.refusals), "failures": format_number(counts.parse_failures),
            "calls": format_number(counts.model_calls), "repeats": repeat_text,
            "outside": (f"{format_percent(counts.outside_mass_mean)} ({format_percent(counts.outside_mass_max)})"
                        if counts.outside_mass_mean is not None else MISSING),
            "alarm": bool(counts.missing) or repeats.alarm}


def _checks_section(summary: Summary) -> dict[str, Any]:
    rows = [_accounting_row(f"{cell.model} · {cell.condition}", name, mode, counts, population.repeats[mode])
            for cell in summary.cells() for name, population in cell.tasks.items()
            for mode, counts in population.accounting.items()]
    return {"alarms": [_alarm_row(a) for a in summary.alarms], "rows": rows,
            "probed": [cut(spec, 120) for spec in summary.probes],
            "planned": format_number(summary.n_samples_planned), "stored": format_number(summary.n_samples_stored),
            "not_in_study": summary.n_samples_not_in_study,
            "seed_collisions": {cut(spec, 120): n for spec, n in summary.seed_collisions.items() if n}}


def _invalid_examples(name: str, counts: Accounting) -> dict[str, Any] | None:
    examples = [{"kind": kind, "item": cut(e.item, 80), "reason": cut(e.reason, 120), "output": cut(e.output, OUTPUT_CHARS)}
                for kind, group in (("refusal", counts.refusal_examples), ("parse failure", counts.parse_failure_examples))
                for e in group]
    return {"name": name, "examples": examples} if examples else None


def _task_sections(summary: Summary) -> list[dict[str, Any]]:
    names = list(dict.fromkeys([*(n for cell in summary.cells() for n in cell.tasks), *summary.human]))
    sections = []
    for name in names:
        task = task_type(name)
        present = [(cell, cell.tasks[name]) for cell in summary.cells() if name in cell.tasks]
        rows = [ResultRow(f"{cell.model} · {cell.condition}", cell.model, cell.condition, cell.kind, population.result)
                for cell, population in present]
        invalid = [x for cell, population in present for mode, counts in population.accounting.items()
                   if (x := _invalid_examples(f"{cell.model} · {cell.condition} ({mode})", counts))]
        sections.append({"id": cut(name, 60), "title": task.title,
                         "html": task.report_section(rows, summary.human.get(name)), "invalid": invalid})
    return sections
