"""The public API behind ``import monoculture``: load a study, run it, open what a run wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monoculture.errors import MonocultureError

if TYPE_CHECKING:
    import pandas

    from monoculture._run import PlanPreview, RunObserver, Simulation
    from monoculture.analysis import Summary
    from monoculture.study import Study

STORE_NAME = "samples.sqlite"
# Decoding parameters become columns of their own in samples(): one column per parameter, prefixed.
DECODING_PREFIX = "decoding_"


def run(study: Study | str | Path, out: str | Path, *, observer: RunObserver | None = None) -> Summary:
    """Run (or continue) a study into the folder ``out``; returns the summary it wrote beside the samples.

    ``study`` is a :class:`Study` or the path of a study file. Samples already stored are not drawn again;
    every new sample is stored the moment it arrives.
    """
    from monoculture._run import run_study
    from monoculture.study import Study, load_study

    return run_study(study if isinstance(study, Study) else load_study(study), out, observer=observer).summary


def simulate(study: Study | str | Path, betas: list[float], out: str | Path, *, rounds: list[int] | None = None,
             temperatures: list[float] | None = None, min_ps: list[float] | None = None,
             observer: RunObserver | None = None) -> Simulation:
    """The price of diversity: every aligned twin of a study at each β (and number of rounds, sampling temperature
    and min-p: what decoding mitigations buy), its closed-set tasks in exact mode, run into ``out``; writes
    frontier.json, frontier.csv and frontier.svg beside the usual outputs.
    """
    from monoculture._run import simulate as simulate_study
    from monoculture.study import Study, load_study

    return simulate_study(study if isinstance(study, Study) else load_study(study), betas, out, rounds=rounds,
                          temperatures=temperatures, min_ps=min_ps, observer=observer)


def plan(study: Study | str | Path, out: str | Path | None = None) -> PlanPreview:
    """What running ``study`` (into ``out``, if given: its stored samples count as done) will draw: samples and
    model calls per model, condition, task and mode, and the estimated time. Nothing is loaded or written."""
    from monoculture._run import preview
    from monoculture.study import Study, load_study

    return preview(study if isinstance(study, Study) else load_study(study), out)


def open_results(folder: str | Path) -> Results:
    """The results in a folder that a run wrote (its ``samples.sqlite``)."""
    folder = Path(folder)
    if not (folder / STORE_NAME).is_file():
        raise MonocultureError(f"{folder} holds no {STORE_NAME}: name the folder a run wrote (its --out)")
    return Results(folder)


@dataclass(frozen=True)
class Results:
    """A run's folder: its summary and its samples, both read from the store."""

    folder: Path

    @property
    def store_path(self) -> Path:
        """The folder's ``samples.sqlite``."""
        return self.folder / STORE_NAME

    def _store(self) -> Any:
        from monoculture.store import Store

        return Store(self.store_path)

    def summary(self) -> Summary:
        """The summary of the folder's latest study, recomputed from its samples."""
        from monoculture.analysis import summarize

        with self._store() as store:
            return summarize(store)

    def samples(self) -> pandas.DataFrame:
        """Every stored sample, one row each: its whole key, condition, context, prompt as sent, raw output,
        parsed answer, validity and reason, seed, decoding (one ``decoding_*`` column per parameter), mode,
        timing, model version. Samples of other settings are included: filter on ``settings`` to separate them."""
        import pandas

        from monoculture.store import SampleRecord

        rows = []
        with self._store() as store:
            for record in store.samples():
                row = {name: getattr(record, name) for name in SampleRecord.__dataclass_fields__ if name != "decoding"}
                row.update({DECODING_PREFIX + key: value for key, value in record.decoding.items()})
                rows.append(row)
        columns = [name for name in SampleRecord.__dataclass_fields__ if name != "decoding"]
        frame = pandas.DataFrame(rows, columns=columns + sorted({k for r in rows for k in r} - set(columns)))
        return frame

    def rebuild(self) -> Summary:
        """Write ``summary.json`` and ``report.html`` again from the store alone; returns the summary."""
        from monoculture.report import write_outputs

        with self._store() as store:
            return write_outputs(store, self.folder)

    def export(self, path: str | Path, format: str = "csv") -> int:  # noqa: A002 - the CLI's word
        """Write :meth:`samples` to ``path`` as ``csv`` or ``parquet``; returns the number of rows."""
        frame = self.samples()
        path = Path(path)
        if format == "csv":
            frame.to_csv(path, index=False)
        elif format == "parquet":
            try:
                import pyarrow  # noqa: F401 - pandas writes parquet through it
            except ImportError:
                raise MonocultureError("parquet export needs pyarrow: pip install 'monoculture[parquet]'") from None
            frame.to_parquet(path, index=False)
        else:
            raise MonocultureError(f"unknown export format {format!r}: use csv or parquet")
        return len(frame)
