"""Running a study: load each model once, keep its slots busy, store every sample as it arrives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from monoculture.analysis import Summary

from monoculture._run._plan import PlannedSample, plan, plan_record, population_sizes
from monoculture._run._probe import probe_modes, probe_sampling
from monoculture.backends import (
    DEFAULT_DECODING,
    Asked,
    Backend,
    Decoding,
    GenerationRequest,
    Job,
    Model,
    ModelInfo,
    ModelOptions,
    Outcome,
    check_deterministic,
    default_threads,
    draw_answer,
    load_backend,
    split_spec,
)
from monoculture.errors import DataError, Interrupted, ModelSpecError, MonocultureError, StoreError, StudyFileError
from monoculture.files import remove_stale_parts
from monoculture.population import Condition
from monoculture.store import SampleRecord, Store
from monoculture.study import ModelEntry, Study
from monoculture.tasks import Task, render

# Requests per second measured here (2 idle cores, 8 slots, persona and none prompts, "default" = untruncated sampling
# at temperature 1: the demo, 6 min 53 s in all; benchmarks/demo_breakdown.py); used only to state the expected duration
# up front.
_KNOWN_RATES = {
    # Measured on 2 idle cores, each model on both (the demo, benchmarks/demo_breakdown.py); beside another model on
    # one core each, SHARED_CORES_RATE of these.
    # Gemma free: 0.57 (colour, answers of up to 64 tokens, the paper's six conditions: benchmarks/embedded_speed.py).
    # Constrained colour codes are sampled a token at a time (backends/_stepwise.py; 2.35 with llama.cpp's grammar).
    ("embedded:gemma-3-270m", "free"): 0.57, ("embedded:gemma-3-270m", "constrained"): 8.5,
    ("embedded:gemma-3-270m", "exact"): 6.6,  # distinct prompts per second: a few requests each
    # SmolLM2 free: 2.5 (18 answers of up to 40 tokens: 12 s on 2 idle cores).
    ("embedded:smollm2-135m-instruct", "free"): 2.5, ("embedded:smollm2-135m-instruct", "constrained"): 10.3,
    ("embedded:smollm2-135m-instruct", "exact"): 7.6,
    # Colour terms in exact mode have 22 answers (each term lower-case and capitalised), so more undecided steps
    # per distinct prompt (docs/methods.md, section 10.1).
    ("embedded:gemma-3-270m", "exact", "colour_terms"): 4.2,
    ("embedded:smollm2-135m-instruct", "exact", "colour_terms"): 4.2,
}
# A model's speed on half the machine's llama.cpp threads, against all of them, when two embedded models sample at
# once (sampled_together): on 2 cores the demo took Gemma 268 s beside SmolLM2 against 166 s alone, SmolLM2 240 s
# against 141 (docs/methods.md, section 6.1).
SHARED_CORES_RATE = 0.6
# Loading a model and its sampling probe, per model with samples to draw (embedded models: 2-6 s measured here).
_LOAD_SECONDS = 5.0
# Deterministic mode's rate against the default (benchmarks/deterministic_cost.py: 0.50-0.72 on colour studies).
_DETERMINISTIC_RATE = 0.5
_FAKE_RATE = 2000.0  # fake: models answer instantly; the store's writes set the pace


class RunObserver(Protocol):
    """What a run reports while it goes (the CLI draws a progress bar from it)."""

    def planned(self, total: int, remaining: int, expected_s: float | None) -> None: ...
    def model_started(self, info: ModelInfo, remaining: int) -> None: ...
    def model_timed(self, info: ModelInfo, expected_s: float | None) -> None: ...
    def sample_stored(self, record: SampleRecord) -> None: ...


@dataclass(frozen=True)
class RunResult:
    """Where a run wrote its outputs, how many samples it drew, and the summary it wrote."""

    out_dir: Path
    planned: int
    drawn: int
    summary: Summary


def resolve_decoding(condition: Condition, study: Study, max_tokens: int) -> Decoding:
    """Concrete decoding parameters: the condition's own (temperature, and truncation where it sets it), else the
    study's overrides, else what "default" means on every backend (``DEFAULT_DECODING``: temperature 1, nothing
    truncated)."""
    defaults = DEFAULT_DECODING
    overrides = study.decoding

    def first(*values: float | int | None) -> float | int:
        return next(value for value in values if value is not None)

    return Decoding(
        temperature=condition.temperature if condition.temperature is not None else float(defaults["temperature"]),
        top_k=int(first(condition.top_k, overrides.top_k, defaults["top_k"])),
        top_p=float(first(condition.top_p, overrides.top_p, defaults["top_p"])),
        min_p=float(first(condition.min_p, overrides.min_p, defaults["min_p"])),
        max_tokens=max_tokens,
        order=overrides.order,
    )


def environment() -> dict:
    """Library versions and data checksums, stored with every run so that it can be reproduced."""
    from importlib.metadata import PackageNotFoundError, version

    from monoculture import __version__

    libraries = {}
    for name in ("xllamacpp", "numpy", "scipy", "colour-science", "pydantic", "matplotlib"):
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = None
    from monoculture.reference import data_root, manifest, unverified_allowed, verify

    # The manifest's sha256 of every human data file, and whatever in the data folder does not match it.
    data = {"root": str(data_root()), "sha256": {entry.path: entry.sha256 for entry in manifest()},
            "problems": verify(), "unverified_allowed": unverified_allowed()}
    return {"monoculture": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "libraries": libraries, "data": data}


def _calls(samples: list[PlannedSample]) -> dict[tuple[str, str], int]:
    """Model calls per (mode, task): exact mode asks each distinct prompt once (replicates with the same text
    share it), the others once per sample."""
    exact_prompts = {(s.key.condition, s.key.task, s.individual.context, s.prompt.text)
                     for s in samples if s.key.mode == "exact"}
    counts: dict[tuple[str, str], int] = {}
    for _, task, _, _ in exact_prompts:
        counts[("exact", task)] = counts.get(("exact", task), 0) + 1
    for sample in samples:
        if sample.key.mode != "exact":
            key = (sample.key.mode, sample.key.task)
            counts[key] = counts.get(key, 0) + 1
    return counts


def _expected_seconds(todo: dict[str, list[PlannedSample]],
                      deterministic: frozenset[str] = frozenset()) -> float | None:
    """Seconds the remaining samples should take, from rates measured here per model and mode (``deterministic``:
    the specs that run one request at a time); None when a model's speed is unknown before its probe times it
    (servers, other files, plugins). An aligned twin whose base runs earlier in the same run reuses the base's
    distributions and costs next to nothing; without it, it costs what its base does."""
    seconds = 0.0
    for spec, samples in todo.items():
        if not samples:
            continue
        rated = spec
        if spec.startswith("aligned:"):
            rated = spec.removeprefix("aligned:").partition(" [")[0]
            if todo.get(rated):
                continue
        for (mode, task), count in _calls(samples).items():
            rate = _FAKE_RATE if rated.startswith("fake:") else _KNOWN_RATES.get(
                (rated, mode, task), _KNOWN_RATES.get((rated, mode)))
            if rate is None:
                return None
            if spec in deterministic and not rated.startswith("fake:"):
                rate *= _DETERMINISTIC_RATE
            seconds += count / rate
    return seconds


def estimate_seconds(todo: dict[str, list[PlannedSample]], deterministic: frozenset[str] = frozenset(),
                     together: list[list[str]] | None = None) -> float | None:
    """The whole run's estimate, loading included: what ``run`` and ``plan`` both print. Models sampled at once
    (``together``, :func:`sampled_together`) take as long as the slower of them on its share of the threads."""
    seconds = _expected_seconds(todo, deterministic)
    if seconds is None:
        return None
    for group in together or []:
        if len(group) > 1:
            alone = [_expected_seconds({spec: todo[spec]}, deterministic) or 0.0 for spec in group]
            seconds += max(alone) / SHARED_CORES_RATE - sum(alone)
    return seconds + _LOAD_SECONDS * sum(1 for spec, samples in todo.items() if samples and not spec.startswith("fake:"))


def _estimate_after_probe(probe: dict, model: Model, samples: list[PlannedSample]) -> float | None:
    """The model's remaining time from the probe's own timing of short answers, with every slot busy."""
    latency = probe.get("latency_s")
    if not latency:
        return None
    return latency * sum(_calls(samples).values()) / max(model.concurrency - 2, 1)


def sampled_together(study: Study, entries: list[ModelEntry]) -> list[list[ModelEntry]]:
    """The models in the order they sample, in groups that sample at once: two embedded models one after the other
    in the study, neither with its own ``threads`` nor deterministic, share the cores (each on half of llama.cpp's
    threads) wherever one would get two or more.

    llama.cpp's threads wait for each other after every operation of every layer; a model alone on a core never
    waits. On 2 cores the demo's two models sampled in 269 s side by side on one thread each, against 306 s one after
    the other on two (docs/methods.md, section 6.1). Measured on 2 cores only: with more, each model still gets
    half of what one would.
    """
    def shares(entry: ModelEntry) -> bool:
        return (split_spec(entry.spec)[0] == "embedded" and entry.threads is None
                and not study.is_deterministic(entry) and default_threads() >= 2)

    groups: list[list[ModelEntry]] = []
    for entry in entries:
        if groups and len(groups[-1]) == 1 and shares(groups[-1][0]) and shares(entry):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups


def _ordered_for(samples: list[PlannedSample], others: int) -> list[PlannedSample]:
    """The order in which the run that started while ``others`` runs were unfinished works through its list.

    The first run goes forward, a second one backward, so the two meet once, in the middle, and only the
    requests in flight there are drawn twice (and stored once). Further runs start at spread-out points.
    """
    ordered = samples[::-1] if others % 2 else list(samples)
    start = int(len(ordered) * ((others // 2 * 0.6180339887) % 1.0))
    return ordered[start:] + ordered[:start]


def draw(distribution: dict[str, float], seed: int) -> str:
    """One answer drawn from a distribution with a seeded generator (answers in sorted order, so stable)."""
    return draw_answer(distribution, seed)


class _Sampler:
    """Turns planned samples into jobs and outcomes into stored records, for one model."""

    def __init__(self, study: Study, entry: ModelEntry, model: Model, store: Store, run_id: int, model_version: int,
                 observer: RunObserver | None) -> None:
        self.study, self.entry, self.model, self.store = study, entry, model, store
        self.run_id, self.model_version, self.observer = run_id, model_version, observer
        self._planned: dict = {}
        self.drawn = 0

    def request(self, sample: PlannedSample) -> tuple[GenerationRequest, str]:
        """The request that draws a sample, and its prompt as sent (stored with the sample)."""
        info = self.model.info
        decoding = resolve_decoding(sample.individual.condition, self.study, sample.task.max_tokens)
        rendered = render(info.kind, sample.individual.context, sample.prompt.text,
                          context_placement=self.entry.context_placement)
        mode = sample.key.mode
        if mode == "exact":  # the distribution computed is the untruncated one: store what it was computed with
            decoding = decoding.untruncated()
        grammar = sample.task.grammar(sample.prompt) if mode in ("constrained", "exact") else None
        pattern = sample.task.answer_pattern(sample.prompt) if mode == "constrained" else None
        request = GenerationRequest(decoding=decoding, seed=sample.key.seed(self.study.seed), prompt=rendered.prompt,
                                    messages=rendered.messages, grammar=grammar, answer_pattern=pattern,
                                    asked=Asked(sample.task, sample.prompt))
        return request, rendered.as_sent()

    def job(self, sample: PlannedSample) -> Job:
        request, prompt_as_sent = self.request(sample)
        self._planned[sample.key] = (sample, prompt_as_sent)
        return Job(sample.key, request, sample.task.answer_set(sample.prompt) if sample.key.mode == "exact" else None)

    def store_outcome(self, outcome: Outcome) -> None:
        sample, prompt_as_sent = self._planned.pop(outcome.job.key)
        if outcome.distribution is not None:
            # Exact mode: the stored output is the distribution; the individual's answer is drawn from it
            # with the sample's own seed.
            raw_output = json.dumps(outcome.distribution.as_json())
            parsed = sample.task.parse(sample.prompt, draw(outcome.distribution.probabilities,
                                                           outcome.job.request.seed))
            finish_reason = "distribution"
        else:
            raw_output = outcome.generation.text
            parsed = sample.task.parse(sample.prompt, raw_output)
            finish_reason = outcome.generation.finish_reason
        key = sample.key
        record = SampleRecord(
            model=key.model, condition=key.condition, task=key.task, individual=key.individual, item=key.item,
            replicate=key.replicate, mode=key.mode, settings=key.settings, target=sample.individual.target,
            context=sample.individual.context,
            prompt=prompt_as_sent, raw_output=raw_output, answer=parsed.value, valid=parsed.valid,
            invalid_reason=parsed.reason, seed=outcome.job.request.seed, decoding=outcome.job.request.decoding.as_dict(),
            finish_reason=finish_reason, started_at=outcome.started_at,
            latency_s=outcome.latency_s, run_id=self.run_id,
            logprob=outcome.generation.logprob if outcome.generation is not None else None,
            model_version=self.model_version, parse_note=parsed.note,
            outside_mass=outcome.distribution.outside_mass if outcome.distribution is not None else None,
            alignment=(json.dumps(outcome.distribution.alignment, sort_keys=True)
                       if outcome.distribution is not None and outcome.distribution.alignment else None),
        )
        if self.store.add(record):  # False: another run writing to this store stored it first
            self.drawn += 1
            if self.observer:
                self.observer.sample_stored(record)


async def _run_model(study: Study, entry: ModelEntry, todo: list[PlannedSample], store: Store, run_id: int,
                     observer: RunObserver | None, memo: dict | None = None, *, check_only: bool = False,
                     threads: int | None = None) -> int:
    """Load a model, check every mode it will be asked in (``check_only``: only that), probe it and sample it
    (``threads``: an embedded model's share of the cores when it samples beside another)."""
    deterministic = study.is_deterministic(entry)
    backend = load_backend(entry.spec, ModelOptions(
        kind=entry.kind, parallel=entry.parallel, threads=entry.threads or threads, api_key_env=entry.api_key_env,
        deterministic=deterministic,
        seed=study.seed, memo=memo, endpoints=tuple(entry.endpoints) if entry.endpoints else None))
    model = Model(backend, memo=memo)
    try:
        if deterministic and not backend.info.deterministic:  # a plugin that does not say it honours it
            raise ModelSpecError(f"{entry.spec} cannot run deterministically (its backend does not say it can): set "
                                 "deterministic = false for this model in the study file")
        check_capabilities(backend, todo)
        # A version is the weights, runtime and defaults, shared by runs in either mode: whether a run was
        # deterministic is recorded with its plan instead (plan_record).
        info = {name: value for name, value in asdict(model.info).items() if name != "deterministic"}
        version = store.put_model_version(entry.spec, info, run_id)
        sampler = _Sampler(study, entry, model, store, run_id, version, observer)
        first = {sample.key.mode: sample for sample in reversed(todo)}
        await probe_modes(model, {mode: (sampler.request(sample)[0], sample.task.answer_set(sample.prompt))
                                  for mode, sample in first.items()})
        if check_only:
            return 0
        if observer:
            observer.model_started(model.info, len(todo))
        probe = await probe_sampling(model, sampler.request(todo[0])[0])
        store.put_probe(run_id, entry.spec, probe)
        if observer and _expected_seconds({entry.spec: todo}) is None:  # no measured rate: the probe's timing
            observer.model_timed(model.info, _estimate_after_probe(probe, model, todo))
        # Checked again just before each request: another run writing to the same store may have drawn it.
        jobs = (sampler.job(sample) for sample in todo if not store.has(sample.key))
        await model.run(jobs, sampler.store_outcome)
        return sampler.drawn
    finally:
        await model.aclose()


async def _run_together(study: Study, group: list[ModelEntry], todo: dict[str, list[PlannedSample]], store: Store,
                        run_id: int, observer: RunObserver | None, memo: dict) -> int:
    """Sample a group of :func:`sampled_together` at once, each model on its share of the threads."""
    if len(group) == 1:
        return await _run_model(study, group[0], todo[group[0].spec], store, run_id, observer, memo)
    threads = max(1, default_threads() // len(group))
    drawn = await asyncio.gather(*(_run_model(study, entry, todo[entry.spec], store, run_id, observer, memo,
                                              threads=threads) for entry in group))
    return sum(drawn)


def check_capabilities(backend: Backend, todo: list[PlannedSample]) -> None:
    """Refuse, before the first sample, a mode the task or the backend cannot serve."""
    checked: set[tuple[str, str]] = set()
    for sample in todo:
        task, mode = sample.task, sample.key.mode
        if backend.needs_answer_sets and task.answer_set(sample.prompt) is None:
            raise ModelSpecError(f"{backend.info.spec} answers only closed answer sets, and the {task.name} task's "
                                 f"{sample.prompt.item!r} has none: leave the twin out of this task's study, or give "
                                 "the question answers")
        if (task.name, mode) in checked:
            continue
        checked.add((task.name, mode))
        if mode in ("constrained", "exact") and task.grammar(sample.prompt) is None:
            raise ModelSpecError(f"the {task.name} task has no grammar, so it has no {mode} mode: use mode = \"free\"")
        if mode == "exact" and task.answer_set(sample.prompt) is None:
            raise ModelSpecError(f"the {task.name} task has no closed answer set, so it has no exact mode")
        backend.check_task(task, mode)


# Memory a run needs, measured with benchmarks/pipeline_overhead.py (fake model, 20k and 60k samples): the
# interpreter and its libraries, then per sample of a model's plan and per sample of the population summarised.
BASE_BYTES = 400 * 2**20
PLANNED_SAMPLE_BYTES = 1000
SUMMARISED_SAMPLE_BYTES = 2000


def available_memory() -> int | None:
    """Bytes this process may still use: the smaller of the system's available memory and its own limit."""
    import resource

    limits = []
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:  # not Linux: no figure to check against
        pass
    return min(limits) if limits else None


def check_size(study: Study, tasks: list[Task]) -> None:
    """Refuse, before planning, a study whose plan and summary cannot fit in memory (one line with the size)."""
    sizes = population_sizes(study, tasks)
    per_model, largest = sum(sizes.values()), max(sizes.values(), default=0)
    needed = BASE_BYTES + PLANNED_SAMPLE_BYTES * per_model + SUMMARISED_SAMPLE_BYTES * largest
    available = available_memory()
    if available is not None and needed > available:
        raise StudyFileError(f"the study plans {per_model:,} samples per model (its largest population {largest:,}), "
                             f"which needs about {needed / 2**30:.1f} GB of memory to plan and summarise, and "
                             f"{available / 2**30:.1f} GB are available: split it into studies of fewer individuals, "
                             "words or conditions")


def refuse_other_studies(store: Store, run_id: int, study_json: dict, out: Path) -> None:
    """A folder holds one study at a time: a run of a different study while another is running is refused
    (two studies' runs would each summarise the other's samples under their own tables)."""
    for other in store.live_runs_before(run_id):
        if json.loads(json.dumps(other["study"], sort_keys=True)) != json.loads(json.dumps(study_json, sort_keys=True)):
            store.discard_run(run_id)  # it drew nothing: the folder's latest run stays the other study's
            raise StoreError(f"{out} is in use by a run of another study ({other['study'].get('name')!r}, process "
                             f"{other['pid']} on {other['host']}, started {other['started_at']}): a folder holds "
                             "one study at a time; wait for that run to finish or choose another --out")


def run_study(study: Study, out_dir: str | Path, *, observer: RunObserver | None = None) -> RunResult:
    """Run (or continue) a study into ``out_dir`` and write ``samples.sqlite``, ``summary.json`` and ``report.html``.

    Samples already in the store are not drawn again; every new sample is stored the moment it arrives.
    """
    out = Path(out_dir)
    for entry in study.models:  # before any model loads, not after an hour of another model's sampling
        if study.is_deterministic(entry):
            check_deterministic(entry.spec)
    tasks: list[Task] = study.tasks()  # bound once: the colour task chooses its words once
    check_size(study, tasks)
    plans = {entry.spec: plan(study, entry, tasks=tasks) for entry in study.models}  # checks data before loading
    with Store(out / "samples.sqlite") as store:
        remove_stale_parts(out)  # outputs a killed run left half-written
        todo: dict[str, list[PlannedSample]] = {}
        for spec, samples in plans.items():
            done = store.existing_keys(spec)
            todo[spec] = [sample for sample in samples if sample.key not in done]
        total = sum(len(samples) for samples in plans.values())
        remaining = {spec: len(samples) for spec, samples in todo.items()}
        groups = sampled_together(study, [entry for entry in study.models if todo[entry.spec]])
        if observer:
            deterministic = frozenset(entry.spec for entry in study.models if study.is_deterministic(entry))
            together = [[entry.spec for entry in group] for group in groups]
            observer.planned(total, sum(remaining.values()), estimate_seconds(todo, deterministic, together))
        recorded = environment()
        problems = recorded["data"]["problems"]
        if problems and not recorded["data"]["unverified_allowed"]:
            # Checked before any model loads: the human rows of the summary would rest on these files.
            raise DataError(f"the human data under {recorded['data']['root']} is not intact ({problems[0]}"
                            f"{f' and {len(problems) - 1} more' if len(problems) > 1 else ''}): run `monoculture "
                            "data fetch` to restore it, or set MONOCULTURE_UNVERIFIED_DATA=1 to use your own data")
        study_json = study.model_dump(mode="json")
        run_id = store.start_run(study_json, recorded, plan_record(study, plans))
        # Registered first, checked after: of two runs of different studies started together, the later refuses.
        refuse_other_studies(store, run_id, study_json, out)
        # Another run writing to this store works through the same list: take it in another order (each run
        # skips what the other has stored).
        others = store.unfinished_runs_before(run_id)
        todo = {spec: _ordered_for(samples, others) for spec, samples in todo.items()}
        drawn = 0
        memo: dict = {}  # this run's finished exact distributions, for twins of models drawn before them
        from monoculture.report import write_outputs  # lazy: jinja2 and matplotlib load only when writing

        try:
            # Servers load in a few requests, so every model after the first that is served is checked in every mode
            # before any model samples: a mode one cannot serve is refused before the study's first sample.
            sampled = [entry for entry in study.models if todo[entry.spec]]
            for entry in sampled[1:]:
                if split_spec(entry.spec)[0] == "openai":
                    asyncio.run(_run_model(study, entry, todo[entry.spec], store, run_id, None, memo, check_only=True))
            for group in groups:
                drawn += asyncio.run(_run_together(study, group, todo, store, run_id, observer, memo))
        except (MonocultureError, Interrupted, KeyboardInterrupt):
            # A failing backend or a stop signal: the summary and report still show what was collected, and
            # what is missing (the shortfall alarm), before the error or the interruption goes on up.
            if store.count():
                with contextlib.suppress(MonocultureError):
                    write_outputs(store, out)
            raise
        store.finish_run(run_id)
        summary = write_outputs(store, out)
    return RunResult(out, total, drawn, summary)
