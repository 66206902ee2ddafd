"""What a study samples: every population's individuals and every prompt they answer.

The plan is a pure function of the study spec (and the data folder's contexts and word list), so a
resumed run, a summary and a test all see the same sample identities.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from monoculture._identity import SampleKey
from monoculture.errors import StudyFileError
from monoculture.population import Condition, Individual, contexts_for
from monoculture.study import Study
from monoculture.tasks import TARGETS, ColourTask, ConceptTask, Prompt, Task, assign_targets


@dataclass(frozen=True)
class PlannedSample:
    """One sample to draw: who answers what."""

    key: SampleKey
    individual: Individual
    prompt: Prompt
    task: Task


def choose_words(spec_words: int | list[str] | str, seed: int) -> tuple[str, ...]:
    """The study's words: all 199, a seeded half-abstract half-concrete sample, or a given list."""
    from monoculture.reference import colour_words

    typed = colour_words()
    if spec_words == "all":
        return tuple(word for word, _ in typed)
    if isinstance(spec_words, list):
        known = {word for word, _ in typed}
        unknown = [word for word in spec_words if word not in known]
        if unknown:
            raise StudyFileError(f"colour.words: {', '.join(map(repr, unknown[:5]))} not among the 199 words "
                                 "of the human study (see `monoculture baseline colour --json`)")
        return tuple(spec_words)
    rng = random.Random(f"words:{seed}")
    abstract = sorted(word for word, kind in typed if kind == "abstract")
    concrete = sorted(word for word, kind in typed if kind == "concrete")
    half = int(spec_words) // 2
    chosen = rng.sample(abstract, half) + rng.sample(concrete, int(spec_words) - half)
    return tuple(sorted(chosen))


def colour_task(study: Study) -> ColourTask | None:
    """The study's colour task, if it has one."""
    if study.colour is None:
        return None
    return ColourTask(words=choose_words(study.colour.words, study.seed), replicates=study.colour.replicates,
                      max_tokens=study.colour.max_tokens)


def concept_task(study: Study) -> ConceptTask | None:
    """The study's concept task, if it has one."""
    if study.concepts is None:
        return None
    return ConceptTask(prompt_version=study.concepts.prompt_version)


def concept_targets(study: Study) -> list[str]:
    """One target per individual of the concept population: a seeded, balanced assignment."""
    spec = study.concepts
    targets = TARGETS if spec.targets == "all" else tuple(spec.targets)
    return assign_targets(spec.individuals_per_target * len(targets), targets, seed=study.seed)


def _population(task: Task, model: str, condition: Condition, study: Study, *, with_contexts: bool) -> list[Individual]:
    if task.name == "colour":
        count, domain, targets = study.colour.individuals, "colour", None
    else:
        targets = concept_targets(study)
        count, domain = len(targets), "concepts"
    if with_contexts:
        contexts = contexts_for(condition.context, count, domain=domain, source=study.contexts, seed=study.seed)
    else:
        contexts = [""] * count
    return [Individual(model, condition, index, contexts[index], targets[index] if targets else None)
            for index in range(count)]


def plan(study: Study, model: str, *, with_contexts: bool = True) -> list[PlannedSample]:
    """Every sample the study draws from one model, in an order that interleaves items across individuals."""
    samples: list[PlannedSample] = []
    for task in filter(None, (colour_task(study), concept_task(study))):
        modes = (study.colour.mode,) if task.name == "colour" else study.concepts.modes
        for entry in study.conditions:
            condition = entry.condition()
            for individual in _population(task, model, condition, study, with_contexts=with_contexts):
                for mode in modes:
                    for prompt in task.prompts(individual):
                        key = SampleKey(model, condition.label, task.name, individual.index, prompt.item,
                                        prompt.replicate, mode)
                        samples.append(PlannedSample(key, individual, prompt, task))
    return samples
