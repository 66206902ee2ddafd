"""Do different models converge on the same answers? Between-model agreement against between-person agreement
(README, "Families"; docs/methods.md, section 12).

For every condition and task whose results carry per-item answer distributions (``Task.item_distributions``:
the categorical tasks), and every pair of models in that condition:

* ``answer_agreement``: the chance that an answer drawn from one model and an answer drawn from the other are the
  same, Σ_y p_A(y) p_B(y), averaged over the items both answered;
* ``modal_agreement``: the share of those items on which the two models' most frequent answers are the same;

and the people's own yardstick: the chance that two different people give the same answer, Σ n_y (n_y − 1) /
(n (n − 1)) (one minus unbiased Gini-Simpson), averaged over the same task's items. Two models that agree with each
other far more often than two people do have converged on the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

from monoculture.analysis._models import Cell, ModelAgreement
from monoculture.tasks import TaskResult


def _shares(distribution: Mapping[str, float]) -> dict[str, float]:
    total = sum(distribution.values())
    return {answer: value / total for answer, value in distribution.items()} if total > 0 else {}


def _modal(distribution: Mapping[str, float]) -> str | None:
    return min(distribution, key=lambda answer: (-distribution[answer], answer)) if distribution else None


def model_agreement(models: Mapping[str, Mapping[str, Cell]]) -> list[ModelAgreement]:
    """Every pair of models in every condition and task with per-item answer distributions."""
    from monoculture.tasks import task_type

    rows = []
    conditions = list(dict.fromkeys(label for cells in models.values() for label in cells))
    for label in conditions:
        tasks = list(dict.fromkeys(name for cells in models.values() if label in cells for name in cells[label].tasks))
        for name in tasks:
            kind = task_type(name)
            found = {spec: kind.item_distributions(cells[label].tasks[name].result)
                     for spec, cells in models.items() if label in cells and name in cells[label].tasks}
            found = {spec: items for spec, items in found.items() if items}
            for first, second in combinations(found, 2):
                items = [item for item in found[first] if item in found[second]
                         and sum(found[first][item].values()) > 0 and sum(found[second][item].values()) > 0]
                if not items:
                    continue
                answer, modal = 0.0, 0
                for item in items:
                    a, b = _shares(found[first][item]), _shares(found[second][item])
                    answer += sum(share * b.get(value, 0.0) for value, share in a.items())
                    modal += _modal(a) == _modal(b)
                rows.append(ModelAgreement(condition=label, task=name, model_a=first, model_b=second,
                                           n_items=len(items), answer_agreement=answer / len(items),
                                           modal_agreement=modal / len(items)))
    return rows


def people_agreement(human: Mapping[str, TaskResult]) -> dict[str, float]:
    """Per task, the chance that two different people give the same answer, averaged over its items."""
    from monoculture.tasks import task_type

    agreement = {}
    for name, result in human.items():
        items = task_type(name).item_distributions(result)
        values = []
        for distribution in items.values():
            n = sum(distribution.values())
            if n >= 2:
                values.append(sum(count * (count - 1) for count in distribution.values()) / (n * (n - 1)))
        if values:
            agreement[name] = sum(values) / len(values)
    return agreement
