"""``monoculture simulate``: the price of diversity. Every aligned twin of a study, swept over β (and rounds).

The study's closed-set tasks are run in exact mode on each twin's base and on the twin at every β, into one
folder (the base's exact distributions are computed once and reused by every twin: see ``Model``'s memo). Per
twin, condition and task the frontier row holds:

* ``mean_reward``: E_π[r] over the distinct prompts, the reward of the twin's first round (how acceptable its
  answers are to the rater), beside ``reference_reward``, E_π_ref[r] of the base;
* ``kl``: KL(π ‖ π_ref) in nats, the mean over the distinct prompts (the price the β-regularised objective pays);
* for loops, ``collapsed_share`` (prompts whose largest answer reached 0.99), ``mean_rounds_to_collapse`` and
  ``mean_survivors`` (answers still holding probability after the last round);
* the task's diversity measures (``Task.frontier_measures``: population disagreement, entropy, P(multiple
  concepts), ...) and the distance to the people, from the run's own summary;

and per task the people's values of the same measures. β = ∞ is the base itself (KL 0).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monoculture.errors import StudyFileError
from monoculture.study import Study, parse_study


@dataclass(frozen=True)
class Simulation:
    """A finished simulation: the run's summary, the frontier rows and the people's measures per task."""

    summary: Any
    rows: list[dict]
    people: dict[str, dict[str, float | None]]
    dropped_tasks: dict[str, str]

    def as_json(self) -> dict:
        """frontier.json."""
        return {"rows": self.rows, "people": self.people, "dropped_tasks": self.dropped_tasks}


def _closed(task) -> bool:
    """Whether every prompt of the task has a closed answer set (a twin can answer it)."""
    from monoculture.population import Condition, Individual

    population = task.population()
    target = population.targets[0] if population.targets else None
    individual = Individual("", Condition("none", None), 0, "", target)
    return all(task.answer_set(prompt) is not None for prompt in task.prompts(individual))


def simulation_study(study: Study, betas: list[float], rounds: list[int] | None = None, *,
                     temperatures: list[float] | None = None, min_ps: list[float] | None = None
                     ) -> tuple[Study, dict[str, str]]:
    """The study a simulation runs: each twin's base and the twin at every β (and rounds, and the mitigations:
    sampling temperatures and min-p), closed-set tasks in exact mode. Returns it and the tasks left out, each
    with why."""
    twins = [entry for entry in study.models if entry.spec.startswith("aligned:")]
    if not twins:
        raise StudyFileError("the study has no aligned twin to simulate: add one such as "
                             "{ spec = \"aligned:embedded:gemma-3-270m\", reward = \"consensus\", beta = 1.0 }")
    if not betas or any(not (math.isfinite(beta) and beta > 0) for beta in betas):
        raise StudyFileError(f"--beta takes numbers above 0, got {betas}")
    kept, dropped = {}, {}
    for task in study.tasks():
        if _closed(task):
            kept[task.name] = task.spec.model_dump(mode="json") | {"mode": "exact"}
            kept[task.name].pop("compare_with", None)
        else:
            dropped[task.name] = "some of its prompts have no closed answer set"
    if not kept:
        raise StudyFileError("no task of the study has closed answer sets (concepts, colour_terms, or questions that "
                             "all have answers): a twin has nothing to answer")
    models: list[dict] = []
    seen: set[str] = set()

    def add(entry: dict) -> None:
        spec = parse_study({"models": [entry], "conditions": [{"context": "none"}], **kept}).models[0].spec
        if spec not in seen:
            seen.add(spec)
            models.append(entry)

    for twin in twins:
        base = twin.spec.removeprefix("aligned:").partition(" [")[0]
        common = {key: value for key, value in twin.model_dump(mode="json").items()
                  if key in ("kind", "context_placement", "deterministic") and value is not None}
        add({"spec": base, **common})
        for beta in betas:
            for count in rounds or [twin.rounds or 1]:
                for temperature in temperatures or [twin.sampling_temperature or 1.0]:
                    for min_p in min_ps or [twin.sampling_min_p or 0.0]:
                        entry = {key: value for key, value in twin.model_dump(mode="json").items()
                                 if value is not None and key not in ("spec", "tasks", "parallel")}
                        add({**entry, "spec": "aligned:" + base, "beta": float(beta), "rounds": int(count),
                             "sampling_temperature": float(temperature), "sampling_min_p": float(min_p),
                             "tasks": list(kept)})
    data = study.model_dump(mode="json")
    data.update({name: None for name in study.task_specs()})
    data.update({"models": models, "name": f"{study.name} (simulated)", **kept})
    return parse_study(data, source="simulation"), dropped


def _prompt_records(store, spec: str) -> dict[tuple[str, str], list[tuple[dict, dict, dict]]]:
    """Per (condition, task), each distinct prompt's (policy, reference, reward) from the twin's exact samples."""
    found: dict[tuple[str, str], dict[tuple, tuple[dict, dict, dict]]] = defaultdict(dict)
    for sample in store.samples(model=spec, mode="exact"):
        if sample.alignment is None:
            continue
        record = json.loads(sample.alignment)
        key = (sample.prompt, sample.item, sample.replicate)
        found[(sample.condition, sample.task)][key] = (json.loads(sample.raw_output), record)
    return {cell: list(prompts.values()) for cell, prompts in found.items()}


def _prices(prompts: list[tuple[dict, dict]]) -> dict[str, float | None]:
    from monoculture import alignment

    rewards, references, kls, collapses, survivors = [], [], [], [], []
    for policy, record in prompts:
        reference, reward = record["reference"], record["reward"]
        if "survivors" in record:
            collapses.append(record["rounds_to_collapse"])
            survivors.append(len(record["survivors"]))
        choices = sorted(policy)
        p = [policy[c] for c in choices]
        q = [reference.get(c, 0.0) for c in choices]
        kls.append(alignment.kl_divergence(p, q))
        known = [c for c in choices if reward.get(c) is not None]
        if known:
            rewards.append(sum(policy[c] * reward[c] for c in known) / max(sum(policy[c] for c in known), 1e-300))
            references.append(sum(reference.get(c, 0.0) * reward[c] for c in known)
                              / max(sum(reference.get(c, 0.0) for c in known), 1e-300))

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    collapsed = [rounds for rounds in collapses if rounds is not None]
    return {"mean_reward": mean(rewards), "reference_reward": mean(references), "kl": mean(kls),
            "n_prompts": len(prompts),
            # Loops: the share of prompts whose largest answer reached 99%, after how many rounds on average, and
            # how many answers survived (held any probability) at the end.
            "collapsed_share": len(collapsed) / len(collapses) if collapses else None,
            "mean_rounds_to_collapse": mean([float(rounds) for rounds in collapsed]),
            "mean_survivors": mean([float(count) for count in survivors])}


def frontier_rows(study: Study, store, summary) -> list[dict]:
    """The frontier: one row per model (bases at β = ∞), condition and task."""
    from monoculture.backends import parse_twin
    from monoculture.tasks import task_type

    rows = []
    for entry in study.models:
        twin = parse_twin(entry.spec.removeprefix("aligned:")) if entry.spec.startswith("aligned:") else None
        prices = _prompt_records(store, entry.spec) if twin else {}
        for label, cell in summary.models.get(entry.spec, {}).items():
            for name, population in cell.tasks.items():
                row: dict[str, Any] = {
                    "model": entry.spec, "base": twin.base if twin else entry.spec,
                    "reward": twin.reward if twin else None, "beta": twin.beta if twin else None,
                    "rounds": twin.rounds if twin else 0,
                    "sampling_temperature": twin.sampling_temperature if twin else None,
                    "sampling_min_p": twin.sampling_min_p if twin else None, "condition": label, "task": name}
                if twin:
                    row.update(_prices(prices.get((label, name), [])))
                else:
                    row.update({"mean_reward": None, "reference_reward": None, "kl": 0.0, "n_prompts": None,
                                "collapsed_share": None, "mean_rounds_to_collapse": None, "mean_survivors": None})
                row["measures"] = task_type(name).frontier_measures(population.result)
                rows.append(row)
    # A base's reward under each twin's rater is its twins' reference reward: fill it in for the β = ∞ rows.
    for row in rows:
        if row["reward"] is None:
            same = [other["reference_reward"] for other in rows if other["base"] == row["base"]
                    and other["reward"] is not None and other["condition"] == row["condition"]
                    and other["task"] == row["task"] and other["reference_reward"] is not None]
            row["reference_reward"] = row["mean_reward"] = same[0] if same else None
    return rows


def simulate(study: Study, betas: list[float], out: str | Path, *, rounds: list[int] | None = None,
             temperatures: list[float] | None = None, min_ps: list[float] | None = None, observer=None) -> Simulation:
    """Run the simulation study into ``out`` and write frontier.json, frontier.csv and frontier.svg there."""
    from monoculture._run._runner import run_study
    from monoculture.store import Store
    from monoculture.tasks import task_type

    derived, dropped = simulation_study(study, betas, rounds, temperatures=temperatures, min_ps=min_ps)
    result = run_study(derived, out, observer=observer)
    with Store(Path(out) / "samples.sqlite") as store:
        rows = frontier_rows(derived, store, result.summary)
    people = {name: task_type(name).frontier_measures(human) for name, human in result.summary.human.items()}
    simulation = Simulation(result.summary, rows, people, dropped)
    write_frontier(simulation, Path(out))
    return simulation


def write_frontier(simulation: Simulation, out: Path) -> None:
    """frontier.json, frontier.csv (one row per model, condition and task) and frontier.svg."""
    import csv
    import io

    from monoculture.files import write_atomically
    from monoculture.report import frontier_figure

    measures = sorted({name for row in simulation.rows for name in row["measures"]})
    columns = ["model", "base", "reward", "beta", "rounds", "sampling_temperature", "sampling_min_p", "condition",
               "task", "mean_reward", "reference_reward", "kl", "n_prompts", "collapsed_share",
               "mean_rounds_to_collapse", "mean_survivors", *measures]
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in simulation.rows:
        writer.writerow({**row, **row["measures"]})
    for name, text in (("frontier.json", json.dumps(simulation.as_json(), indent=2)),
                       ("frontier.csv", table.getvalue()),
                       ("frontier.svg", frontier_figure(simulation.rows, simulation.people))):
        write_atomically(out / name, text.encode("utf-8"))
