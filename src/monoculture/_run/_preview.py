"""What a run will draw, before it draws it (``monoculture plan``): per model, condition, task and mode the samples,
the model calls (exact mode: one per distinct prompt) and an estimate of the time, from the rates measured on this
machine (``_runner._KNOWN_RATES``) and, for a folder already used, what is stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from monoculture._run._plan import PlannedSample, plan
from monoculture._run._runner import _calls, _expected_seconds, check_size, estimate_seconds, sampled_together
from monoculture.study import Study


@dataclass(frozen=True)
class PlanRow:
    """One population of the plan."""

    model: str
    condition: str
    task: str
    mode: str
    samples: int
    stored: int
    model_calls: int
    seconds: float | None  # None: no rate measured here (a server, another file: its probe times it at the start)


@dataclass(frozen=True)
class PlanPreview:
    """The whole plan: its rows and the estimated time of what is left to draw (None when a model's is unknown)."""

    rows: list[PlanRow]
    seconds: float | None

    @property
    def samples(self) -> int:
        """Samples the study plans."""
        return sum(row.samples for row in self.rows)

    @property
    def to_draw(self) -> int:
        """Samples not stored yet."""
        return sum(row.samples - row.stored for row in self.rows)


def preview(study: Study, out: str | Path | None = None) -> PlanPreview:
    """The plan of ``study``; with ``out``, the samples its store already holds are counted as stored (read only)."""
    tasks = study.tasks()
    check_size(study, tasks)
    stored_keys = _stored_keys(Path(out) / "samples.sqlite") if out is not None else set()
    rows, todo = [], {}
    for entry in study.models:
        samples = plan(study, entry, tasks=tasks, with_contexts=True)
        left = [sample for sample in samples if sample.key not in stored_keys]
        todo[entry.spec] = left
        groups: dict[tuple[str, str, str], list[PlannedSample]] = defaultdict(list)
        for sample in samples:
            groups[(sample.key.condition, sample.key.task, sample.key.mode)].append(sample)
        for (condition, task, mode), members in groups.items():
            remaining = [sample for sample in members if sample.key not in stored_keys]
            seconds = _expected_seconds({entry.spec: remaining}) if remaining else 0.0
            if entry.spec.startswith("aligned:") and todo.get(entry.spec.removeprefix("aligned:").partition(" [")[0]):
                seconds = 0.0  # reuses its base's distributions, drawn earlier in the same run
            rows.append(PlanRow(entry.spec, condition, task, mode, len(members), len(members) - len(remaining),
                                sum(_calls(members).values()), seconds))
    deterministic = frozenset(entry.spec for entry in study.models if study.is_deterministic(entry))
    together = [[entry.spec for entry in group]
                for group in sampled_together(study, [entry for entry in study.models if todo[entry.spec]])]
    return PlanPreview(rows, estimate_seconds(todo, deterministic, together))


def _stored_keys(path: Path) -> set:
    if not path.exists():
        return set()
    from monoculture.store import Store

    with Store(path) as store:
        return store.existing_keys()
