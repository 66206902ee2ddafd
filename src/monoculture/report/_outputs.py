"""A folder's outputs: ``summary.json`` and ``report.html``, both recomputed from its store."""

from __future__ import annotations

from pathlib import Path

from monoculture.analysis import Summary, summarize
from monoculture.files import write_atomically
from monoculture.report._html import render_html
from monoculture.store import Store


def write_outputs(store: Store, out_dir: str | Path) -> Summary:
    """Write ``summary.json`` and ``report.html`` next to the store (atomically); returns the summary."""
    out = Path(out_dir)
    summary = summarize(store)
    write_atomically(out / "summary.json", summary.to_json().encode("utf-8"))
    write_atomically(out / "report.html", render_html(summary).encode("utf-8"))
    return summary
