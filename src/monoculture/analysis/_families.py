"""Families and stages: each later stage of a model family against its base, on the same items (README,
"Families"; docs/methods.md, section 12).

Per family, condition and task with per-item measures (``Task.item_measures``): every measure's paired difference
later − base over the items both have, with a bootstrap interval over items and a sign-flip permutation p-value, and
each stage's share of the people's diversity (the headline measure's mean over the people's on the same items).
The sentence the report opens with says it in words.
"""

from __future__ import annotations

from collections.abc import Mapping

from monoculture.analysis._models import Cell, FamilyComparison
from monoculture.study import Study
from monoculture.tasks import Task, TaskResult


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
                     observations: list[dict] | None = None) -> list[FamilyComparison]:
    """Every family's later stages against its base, per condition and task; ``observations`` (if given) receives
    each paired item's two values, in the long form the mixed model across families takes."""
    from monoculture.metrics import paired_difference
    from monoculture.tasks import task_type

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
                base_share = _share(task, population.result, human.get(name), headline, study.seed)
                stages, sentences = [], []
                for later in members[1:]:
                    other = models.get(later.spec, {}).get(label)
                    if other is None or name not in other.tasks:
                        continue
                    later_items = task.item_measures(other.tasks[name].result)
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
                        differences.append({"measure": measure, **paired_difference(
                            [base_items[i][measure] for i in items], [later_items[i][measure] for i in items],
                            seed=study.seed)})
                    share = _share(task, other.tasks[name].result, human.get(name), headline, study.seed)
                    stages.append({"stage": later.stage, "model": later.spec, "share_of_people": share["share"],
                                   "share_of_people_ci": share["ci"], "differences": differences})
                    first = differences[0]
                    change = ""
                    if first["mean"] is not None:
                        interval = f" [{first['ci'][0]:+.3f}, {first['ci'][1]:+.3f}]" if first["ci"] else ""
                        change = (f"; {headline.replace('_', ' ')} {first['mean']:+.3f}{interval} over "
                                  f"{first['n_items']} items, sign-flip p = {first['p_value']:.3g}")
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
