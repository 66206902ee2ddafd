"""The store to a :class:`Summary`: every number recomputed from the stored samples alone.

The latest run's study and plan say which samples belong to the summary: per population its settings and
its planned count, per task its population size and items. Samples drawn under other settings, or beyond the
study's size, stay in the store and out of every estimate (``n_samples_not_in_study`` counts them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from monoculture.analysis._checks import (
    accounting,
    data_alarms,
    mixed_version_alarm,
    population_alarms,
    probe_alarms,
    repeats_check,
)
from monoculture.analysis._agreement import model_agreement, people_agreement
from monoculture.analysis._families import compare_families
from monoculture.analysis._mixed import fit_mixed_models
from monoculture.analysis._models import Alarm, Cell, Environment, ModelRecord, Probe, Summary, TaskPopulation
from monoculture.errors import MonocultureError
from monoculture.store import SampleRecord, Store
from monoculture.study import Study, parse_study
from monoculture.tasks import Task


def _population_samples(store: Store, population: dict, individuals: int, items: frozenset[str]) -> list[SampleRecord]:
    where = {name: population[name] for name in ("model", "condition", "task", "mode", "settings")}
    return [s for s in store.samples(**where) if s.individual < individuals and s.item in items]


def _task_population(task: Task, populations: list[dict], samples: dict[str, list[SampleRecord]]) -> TaskPopulation:
    versions = Counter(s.model_version for mode_samples in samples.values() for s in mode_samples)
    return TaskPopulation(
        result=task.summarize(samples), settings=populations[0]["settings"],
        accounting={p["mode"]: accounting(samples[p["mode"]], p["planned"]) for p in populations},
        repeats={p["mode"]: repeats_check(samples[p["mode"]]) for p in populations},
        model_versions=sorted(v for v in versions if v is not None))


@dataclass(frozen=True)
class _Computed:
    """One task population's result and what the cell and the alarms need of its samples (small, so a worker
    process can hand it back)."""

    population: TaskPopulation
    n_samples: int
    run_ids: frozenset[int | None]
    first: SampleRecord | None  # the first sample of a sampled mode: the cell's decoding (exact mode has its own)
    exact_first: SampleRecord | None
    versions: Counter


def _compute(store: Store, task: Task, populations: list[dict], size: dict) -> _Computed:
    items = frozenset(size["items"])
    samples = {p["mode"]: _population_samples(store, p, size["individuals"], items) for p in populations}
    return _Computed(
        population=_task_population(task, populations, samples),
        n_samples=sum(map(len, samples.values())),
        run_ids=frozenset(s.run_id for mode_samples in samples.values() for s in mode_samples),
        first=next((s for mode, drawn in samples.items() if mode != "exact" for s in drawn), None),
        exact_first=next(iter(samples.get("exact", [])), None),
        versions=Counter(s.model_version for mode_samples in samples.values() for s in mode_samples))


def _compute_in_worker(path: str, task: Task, populations: list[dict], size: dict) -> _Computed:
    from monoculture.embedders import embeddings_cached_in

    with Store(path) as store, embeddings_cached_in(store):
        return _compute(store, task, populations, size)


def summarize(store: Store, *, workers: int = 1) -> Summary:
    """The summary of the store's latest study, recomputed from its samples (open answers' embeddings are
    cached in the same store). ``workers`` above 1 summarises the populations in that many processes (each
    reads its samples from the store itself): for stores of millions of samples, such as a replication's."""
    from monoculture.embedders import embeddings_cached_in

    with embeddings_cached_in(store):
        return _summarize(store, workers)


def _computed_populations(store: Store, jobs: list[tuple[Task, list[dict], dict]], workers: int) -> list[_Computed]:
    if workers <= 1 or len(jobs) <= 1:
        return [_compute(store, *job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: the summary may run in a process that has model threads running (the end of a run), which fork copies
    # into a child without them
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_compute_in_worker, [str(store.path)] * len(jobs), *zip(*jobs)))


def _summarize(store: Store, workers: int = 1) -> Summary:
    from monoculture import __version__

    runs = store.runs()
    if not runs:
        raise MonocultureError(f"{store.path} holds no run: run a study into its folder first")
    latest = runs[-1]
    if latest["plan"] is None:
        raise MonocultureError(f"{store.path} was written by monoculture before 0.2, which did not record its plan: "
                               "run the study again (into a new folder to keep the two apart)")
    study: Study = parse_study(latest["study"], source="stored study")
    tasks = {task.name: task for task in study.tasks()}
    sizes = latest["plan"]["tasks"]
    versions = {number: ModelRecord(version=number, spec=v["spec"], **{k: x for k, x in v["info"].items() if k != "spec"})
                for number, v in store.model_versions().items()}
    by_cell: dict[tuple[str, str, str], list[dict]] = {}
    for population in latest["plan"]["populations"]:
        by_cell.setdefault((population["model"], population["condition"], population["task"]), []).append(population)

    models: dict[str, dict[str, Cell]] = {}
    # Per run, the models it drew in deterministic mode (runs before the setting recorded none).
    deterministic_runs = {run["id"]: (run["plan"] or {}).get("deterministic", {}) for run in runs}
    deterministic: dict[str, bool] = {}
    alarms: list[Alarm] = []
    used_versions: set[int] = set()
    n_used = 0
    jobs: dict[tuple[str, str, str], tuple[Task, list[dict], dict]] = {}
    for entry in study.models:
        for condition_entry in study.conditions:
            label = condition_entry.condition().label
            for name, task in tasks.items():
                populations = sorted(by_cell.get((entry.spec, label, name), []),
                                     key=lambda p: task.modes.index(p["mode"]) if p["mode"] in task.modes else 99)
                if populations:
                    jobs[(entry.spec, label, name)] = (task, populations, sizes[name])
    computed = dict(zip(jobs, _computed_populations(store, list(jobs.values()), workers)))
    for entry in study.models:
        run_ids: set[int | None] = set()  # the runs that drew the model's samples in this summary
        cells: dict[str, Cell] = {}
        for condition_entry in study.conditions:
            label = condition_entry.condition().label
            task_populations: dict[str, TaskPopulation] = {}
            first: SampleRecord | None = None
            exact_first: SampleRecord | None = None
            for name in tasks:
                done = computed.get((entry.spec, label, name))
                if done is None:
                    continue
                n_used += done.n_samples
                run_ids.update(done.run_ids)
                # The cell's decoding is the sampled modes' (exact mode computes without truncation).
                first = first or done.first
                exact_first = exact_first or done.exact_first
                population = done.population
                task_populations[name] = population
                used_versions.update(population.model_versions)
                for mode, counts in population.accounting.items():
                    alarms += population_alarms(entry.spec, label, name, counts, population.repeats[mode])
                alarms += mixed_version_alarm(entry.spec, label, name, done.versions)
            first = first or exact_first
            version = versions.get(first.model_version) if first and first.model_version is not None else None
            decoding = {k: v for k, v in first.decoding.items() if k != "max_tokens"} if first else {}
            cells[label] = Cell(model=entry.spec, condition=label, kind=version.kind if version else entry.kind,
                                context=condition_entry.context, temperature=decoding.get("temperature"),
                                decoding=decoding, tasks=task_populations)
        models[entry.spec] = cells
        deterministic[entry.spec] = bool(run_ids) and all(
            deterministic_runs.get(run_id, {}).get(entry.spec, False) for run_id in run_ids)

    probes = {spec: Probe.model_validate(probe) for spec, probe in store.probes().items() if spec in models}
    for spec, probe in probes.items():
        alarms += probe_alarms(spec, probe)
    environment = Environment.model_validate(latest["environment"])
    alarms += data_alarms(environment)
    used = [versions[number] for number in sorted(used_versions) if number in versions]
    n_stored = store.count()
    human = {name: human for name, task in tasks.items() if (human := task.human()) is not None}
    observations: list[dict] = []

    def samples_of(spec: str, label: str, name: str) -> tuple[Task, dict[str, list[SampleRecord]]] | None:
        # Read again only for the families' populations (keeping every population's samples would hold the whole
        # store in memory).
        populations = by_cell.get((spec, label, name))
        if not populations:
            return None
        size = sizes[name]
        items = frozenset(size["items"])
        return tasks[name], {p["mode"]: _population_samples(store, p, size["individuals"], items) for p in populations}

    families = compare_families(study, models, human, observations, samples_of)
    mixed_models, families_note = fit_mixed_models(observations)
    return Summary(
        monoculture_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        study=latest["study"],
        environment=environment,
        n_samples_planned=sum(p["planned"] for p in latest["plan"]["populations"]),
        n_samples_stored=n_used,
        n_samples_not_in_study=n_stored - n_used,
        seed_collisions=latest["plan"].get("seed_collisions", {}),
        deterministic=deterministic,
        alarms=alarms,
        probes=probes,
        model_info={record.spec: record for record in used},  # later versions overwrite earlier ones
        model_versions=used,
        models=models,
        human=human,
        families=families,
        mixed_models=mixed_models,
        families_note=families_note,
        agreement=model_agreement(models),
        people_agreement=people_agreement(human),
    )
