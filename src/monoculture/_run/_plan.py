"""What a study samples: every population's individuals and every prompt they answer.

The plan is a pure function of the study spec (and the data folder's contexts and word list). A run records
what it planned when it starts (:func:`plan_record`), so the summary reads the plan instead of making it again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from monoculture.population import Condition, Individual, contexts_for
from monoculture.store import SampleKey, settings_hash
from monoculture.study import ModelEntry, Study
from monoculture.tasks import Prompt, Task


@dataclass(frozen=True)
class PlannedSample:
    """One sample to draw: who answers what."""

    key: SampleKey
    individual: Individual
    prompt: Prompt
    task: Task


def sample_settings(study: Study, entry: ModelEntry, condition: Condition, task: Task) -> dict:
    """Everything in the study that changes what a sample of this population is (docs/methods.md, section 9).

    The population size and the items drawn are not here: they change which samples exist, not what one is.
    Nor is ``deterministic``: it changes whether a draw can be repeated bit for bit, not what is asked or how it
    is sampled, so a study continued in the other mode keeps its samples (each run records its mode).
    """
    return {
        "study_seed": study.seed,
        "contexts": study.contexts,
        "decoding": study.decoding.model_dump(mode="json"),
        "kind": entry.kind,
        "context_placement": entry.context_placement,
        "condition": condition.label,
        "task": task.spec.sample_settings(),
    }


def _individuals(task: Task, model: str, condition: Condition, study: Study, *, with_contexts: bool) -> list[Individual]:
    population = task.population()
    if with_contexts:
        contexts = contexts_for(condition.context, population.size, domain=population.context_domain,
                                source=study.contexts, seed=study.seed)
    else:
        contexts = [""] * population.size
    targets = population.targets
    return [Individual(model, condition, index, contexts[index], targets[index] if targets else None)
            for index in range(population.size)]


def plan(study: Study, entry: ModelEntry, *, tasks: list[Task] | None = None,
         with_contexts: bool = True) -> list[PlannedSample]:
    """Every sample the study draws from one model, each individual's prompts together."""
    samples: list[PlannedSample] = []
    for task in tasks if tasks is not None else study.tasks():
        if entry.tasks is not None and task.name not in entry.tasks:
            continue  # the model answers only the tasks its entry names
        for condition_entry in study.conditions:
            condition = condition_entry.condition()
            settings = settings_hash(sample_settings(study, entry, condition, task))
            for individual in _individuals(task, entry.spec, condition, study, with_contexts=with_contexts):
                prompts = task.prompts(individual)
                for mode in task.modes:
                    for prompt in prompts:
                        key = SampleKey(entry.spec, condition.label, task.name, individual.index, prompt.item,
                                        prompt.replicate, mode, settings)
                        samples.append(PlannedSample(key, individual, prompt, task))
    return samples


def plan_record(study: Study, plans: dict[str, list[PlannedSample]]) -> dict:
    """What a run planned, stored with it: per population its settings and sample count, per task its
    population size and items, per model whether it runs deterministically. The summary selects exactly these
    samples from the store."""
    populations: dict[tuple, dict] = {}
    tasks: dict[str, dict] = {}
    for spec, samples in plans.items():
        entry = next(e for e in study.models if e.spec == spec)
        for sample in samples:
            key = sample.key
            population = populations.setdefault(
                (key.model, key.condition, key.task, key.mode),
                {"model": key.model, "condition": key.condition, "task": key.task, "mode": key.mode,
                 "settings": key.settings, "planned": 0,
                 "settings_detail": sample_settings(study, entry, sample.individual.condition, sample.task)})
            population["planned"] += 1
            record = tasks.setdefault(key.task, {"individuals": 0, "items": set()})
            record["individuals"] = max(record["individuals"], key.individual + 1)
            record["items"].add(key.item)
    return {"populations": list(populations.values()),
            "tasks": {name: {"individuals": t["individuals"], "items": sorted(t["items"])} for name, t in tasks.items()},
            "seed_collisions": {spec: seed_collisions(samples, study.seed) for spec, samples in plans.items()},
            # Per model, whether this run draws it in deterministic mode (a run that cannot is refused first).
            "deterministic": {entry.spec: study.is_deterministic(entry) for entry in study.models}}


def seed_collisions(samples: list[PlannedSample], study_seed: int) -> int:
    """Pairs of a model's planned samples that share a seed (their random numbers are then correlated)."""
    counts = Counter(sample.key.seed(study_seed) for sample in samples)
    return sum(n * (n - 1) // 2 for n in counts.values())


def population_sizes(study: Study, tasks: list[Task]) -> dict[str, int]:
    """Samples per (condition, task, mode) population of one model, counted without planning them.

    Individuals of a task differ in what they are asked only by their target, so the prompts of one
    individual per target give every count.
    """
    sizes: dict[str, int] = {}
    for task in tasks:
        population = task.population()
        targets = population.targets or (None,) * population.size
        per_target: dict[str | None, int] = {}
        for index, target in enumerate(targets):
            if target not in per_target:
                probe = Individual("", study.conditions[0].condition(), index, "", target)
                per_target[target] = len(task.prompts(probe))
        samples = sum(per_target[target] for target in targets)
        for entry in study.conditions:
            for mode in task.modes:
                sizes[f"{entry.condition().label}|{task.name}|{mode}"] = samples
    return sizes
