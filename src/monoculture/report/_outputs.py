"""A folder's outputs: ``summary.json`` and ``report.html``, both recomputed from its store."""

from __future__ import annotations

from pathlib import Path

from monoculture.analysis import Summary, summarize
from monoculture.errors import OutputError
from monoculture.files import write_atomically
from monoculture.report._html import render_html
from monoculture.store import Store


def write_outputs(store: Store, out_dir: str | Path, *, workers: int = 1) -> Summary:
    """Write ``summary.json`` and ``report.html`` next to the store (atomically); returns the summary
    (``workers``: processes for the populations' summaries, see :func:`monoculture.analysis.summarize`)."""
    out = Path(out_dir)
    summary = summarize(store, workers=workers)
    for name, text in (("summary.json", summary.to_json()), ("report.html", render_html(summary))):
        try:
            write_atomically(out / name, text.encode("utf-8"))
        except OSError as error:
            raise OutputError(f"cannot write {out / name} ({error.strerror or error}): free some space or make the "
                              "folder writable, then run `monoculture report` on it; every sample is kept in its "
                              "samples.sqlite") from error
    return summary
