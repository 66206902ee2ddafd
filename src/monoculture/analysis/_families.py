"""Families and stages: each later stage of a model family against its base, on the same items (README,
"Families"; docs/methods.md, section 12).

Per family, condition and task with per-item measures (``Task.item_measures``): every measure's paired difference
later − base over the items both have, with a bootstrap interval over items, a grouped-jackknife interval over
individuals (items held fixed: each population summarised again without each of up to 20 groups of its individuals)
and a sign-flip permutation p-value, and each stage's share of the people's diversity (the headline measure's mean
over the people's on the same items). The sentence the report opens with says it in words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from monoculture.analysis._models import Cell, FamilyComparison
from monoculture.store import SampleRecord
from monoculture.study import Study
from monoculture.tasks import Task, TaskResult

# The jackknife's groups of individuals: one individual per group up to this many, then interleaved groups (the
# summaries it costs grow with the groups, its accuracy hardly beyond 20).
JACKKNIFE_GROUPS = 20

ItemMeasures = dict[str, dict[str, float | None]]
# (model spec, condition label, task name) -> the population's samples per mode, and the task that summarises them
SamplesOf = Callable[[str, str, str], tuple[Task, Mapping[str, Sequence[SampleRecord]]] | None]


def leave_out_item_measures(task: Task, samples: Mapping[str, Sequence[SampleRecord]]) -> list[ItemMeasures]:
    """The task's item measures recomputed without each group of individuals (empty with fewer than 3)."""
    individuals = sorted({s.individual for drawn in samples.values() for s in drawn})
    if len(individuals) < 3:
        return []
    n_groups = min(len(individuals), JACKKNIFE_GROUPS)
    measures = []
    for k in range(n_groups):
        left_out = set(individuals[k::n_groups])
        kept = {mode: [s for s in drawn if s.individual not in left_out] for mode, drawn in samples.items()}
        measures.append(task.item_measures(task.summarize(kept)))
    return measures


def _leave_out_means(leave_outs: list[ItemMeasures], items: list[str], measure: str) -> list[float] | None:
    """Per left-out group the measure's mean over the items (None if any item has no value without a group)."""
    means = []
    for measures in leave_outs:
        values = [measures.get(item, {}).get(measure) for item in items]
        if any(v is None for v in values):
            return None
        means.append(sum(values) / len(values))
    return means or None


def _shared(a: Mapping[str, Mapping[str, float | None]], b: Mapping[str, Mapping[str, float | None]], measure: str
            ) -> list[str]:
    return [item for item in a if item in b and a[item].get(measure) is not None and b[item].get(measure) is not None]


def _share(task: type[Task], result: TaskResult, human: TaskResult | None, measure: str, seed: int) -> dict:
    from monoculture.metrics import share_of_people

    if human is None:
        return {"share": None, "ci": None, "n_items": 0}
    own, people = task.item_measures(result), task.item_measures(human)
    items = _shared(own, people, measure)
    return share_of_people([own[i][measure] for i in items], [people[i][measure] for i in items], seed=seed)


def _percent(share: dict) -> str:
    if share["share"] is None:
        return "no share of the people's (they have no value on these items)"
    interval = f" [{share['ci'][0]:.0%}, {share['ci'][1]:.0%}]" if share["ci"] else ""
    return f"{share['share']:.0%}{interval}"


def compare_families(study: Study, models: Mapping[str, Mapping[str, Cell]], human: Mapping[str, TaskResult],
                     observations: list[dict] | None = None, samples_of: SamplesOf | None = None
                     ) -> list[FamilyComparison]:
    """Every family's later stages against its base, per condition and task; ``observations`` (if given) receives
    each paired item's two values, in the long form the mixed model across families takes; ``samples_of`` (if
    given) the populations' samples, for the intervals over individuals."""
    from monoculture.metrics import jackknife_interval, normal_interval, paired_difference
    from monoculture.tasks import task_type

    def leave_outs(spec: str, label: str, name: str) -> list[ItemMeasures]:
        if task_type(name).item_variances(models[spec][label].tasks[name].result) is not None:
            return []  # the task knows its variances: no summary again
        found = samples_of(spec, label, name) if samples_of is not None else None
        return leave_out_item_measures(*found) if found is not None else []

    def individuals_interval(mean: float | None, items: list[str], measure: str, base_spec: str, later_spec: str,
                             label: str, name: str, base_outs: list[ItemMeasures], later_outs: list[ItemMeasures]
                             ) -> tuple[float, float] | None:
        if mean is None or not items:
            return None
        task = task_type(name)
        known = [task.item_variances(models[spec][label].tasks[name].result) for spec in (base_spec, later_spec)]
        if known[0] is not None and known[1] is not None:
            variances = [v.get(item, {}).get(measure) for v in known for item in items]
            if any(v is None for v in variances):
                return None
            return normal_interval(mean, sum(variances) / len(items) ** 2)  # independent items: the mean's variance
        base_means = _leave_out_means(base_outs, items, measure)
        later_means = _leave_out_means(later_outs, items, measure)
        return jackknife_interval(mean, base_means, later_means) if base_means and later_means else None

    comparisons = []
    for family, members in study.families().items():
        base = members[0]
        for label, cell in models.get(base.spec, {}).items():
            for name, population in cell.tasks.items():
                task = task_type(name)
                base_items = task.item_measures(population.result)
                measures = list(next(iter(base_items.values()), {}))
                if not measures:
                    continue
                headline = measures[0]
                base_leave_outs: list[ItemMeasures] | None = None  # computed once a later stage needs them
                base_share = _share(task, population.result, human.get(name), headline, study.seed)
                stages, sentences = [], []
                for later in members[1:]:
                    other = models.get(later.spec, {}).get(label)
                    if other is None or name not in other.tasks:
                        continue
                    later_items = task.item_measures(other.tasks[name].result)
                    if base_leave_outs is None:
                        base_leave_outs = leave_outs(base.spec, label, name)
                    later_leave_outs = leave_outs(later.spec, label, name)
                    differences = []
                    for measure in measures:
                        items = _shared(base_items, later_items, measure)
                        if observations is not None and measure == headline:
                            comparison = f"{base.stage} -> {later.stage}"
                            for item in items:
                                for flag, values in ((0, base_items), (1, later_items)):
                                    observations.append({"task": name, "condition": label, "measure": measure,
                                                         "comparison": comparison, "family": family, "item": item,
                                                         "later": flag, "value": values[item][measure]})
                        difference = paired_difference(
                            [base_items[i][measure] for i in items], [later_items[i][measure] for i in items],
                            seed=study.seed)
                        difference["ci_individuals"] = individuals_interval(
                            difference["mean"], items, measure, base.spec, later.spec, label, name,
                            base_leave_outs, later_leave_outs)
                        differences.append({"measure": measure, **difference})
                    share = _share(task, other.tasks[name].result, human.get(name), headline, study.seed)
                    stages.append({"stage": later.stage, "model": later.spec, "share_of_people": share["share"],
                                   "share_of_people_ci": share["ci"], "differences": differences})
                    first = differences[0]
                    change = ""
                    if first["mean"] is not None:
                        interval = f" [{first['ci'][0]:+.3f}, {first['ci'][1]:+.3f}]" if first["ci"] else ""
                        over_individuals = (f" ([{first['ci_individuals'][0]:+.3f}, {first['ci_individuals'][1]:+.3f}]"
                                            " over individuals)" if first["ci_individuals"] else "")
                        change = (f"; {headline.replace('_', ' ')} {first['mean']:+.3f}{interval} over "
                                  f"{first['n_items']} items{over_individuals}, sign-flip p = {first['p_value']:.3g}")
                    sentences.append(f"{family} {later.stage} keeps {_percent(share)} of the people's {name} "
                                     f"diversity ({headline.replace('_', ' ')}, {label}); its {base.stage} kept "
                                     f"{_percent(base_share)}{change}.")
                if stages:
                    comparisons.append(FamilyComparison.model_validate({
                        "family": family, "condition": label, "task": name, "measure": headline,
                        "base_stage": base.stage, "base_model": base.spec,
                        "base_share_of_people": base_share["share"], "base_share_of_people_ci": base_share["ci"],
                        "stages": stages, "sentences": sentences}))
    return comparisons
