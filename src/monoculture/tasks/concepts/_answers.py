"""Concept answers to numbers: response vectors, order consistency and the CRP per target, pooled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monoculture.tasks.concepts._items import CATEGORIES, ITEM_SEPARATOR, TARGETS, category_of, item_id, pair_items

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class ConceptAnswer:
    """One parsed concept answer: ``order`` 1 asks the pair as listed in ``item``, 2 swapped.

    ``choice`` is the bare name chosen, or ``None`` when the answer was invalid.
    """

    individual: str
    target: str
    item: str
    order: int
    choice: str | None


def _checked(answers: Iterable[ConceptAnswer]) -> list[ConceptAnswer]:
    checked = list(answers)
    seen: set[tuple[str, str, int]] = set()
    for answer in checked:
        target, first, second = answer.item.split(ITEM_SEPARATOR)
        if target != answer.target or answer.order not in (1, 2):
            raise ValueError(f"inconsistent answer {answer}")
        if answer.choice is not None and answer.choice not in (first, second):
            raise ValueError(f"answer {answer} chose neither item of its pair")
        key = (answer.individual, answer.item, answer.order)
        if key in seen:
            raise ValueError(f"duplicate answer for {key}")
        seen.add(key)
    return checked


def response_vectors(answers: Iterable[ConceptAnswer]) -> dict[str, np.ndarray]:
    """Each complete individual's 36 first-order answers (1 = the pair's second item), in pair order.

    Only individuals with all 36 first-order answers valid appear, in order of first appearance.
    """
    from monoculture.metrics import response_matrix

    coded: dict[str, dict[str, int]] = {}
    targets: dict[str, str] = {}
    for answer in _checked(answers):
        targets.setdefault(answer.individual, answer.target)
        if targets[answer.individual] != answer.target:
            raise ValueError(f"individual {answer.individual} has more than one target")
        chosen = coded.setdefault(answer.individual, {})
        if answer.order == 1 and answer.choice is not None:
            chosen[answer.item] = int(answer.choice == answer.item.split(ITEM_SEPARATOR)[2])
    questions = {individual: [item_id(target, first, second) for first, second in pair_items(target)]
                 for individual, target in targets.items()}
    return response_matrix(coded, questions)


def order_consistency(answers: Iterable[ConceptAnswer]) -> float | None:
    """Share of (individual, pair) with both orders valid where the same item was chosen both times.

    Range [0, 1]; 1 = never swayed by order, 0 = always picks by position (e.g. always the first listed).
    ``None`` when no pair has both orders valid.
    """
    from monoculture.metrics import agreement

    by_pair: dict[tuple[str, str], dict[int, str]] = {}
    for answer in _checked(answers):
        if answer.choice is not None:
            by_pair.setdefault((answer.individual, answer.item), {})[answer.order] = answer.choice
    return agreement((orders[1], orders[2]) for orders in by_pair.values() if len(orders) == 2)


def summarize_concepts(
    answers: Iterable[ConceptAnswer],
    *,
    sweeps: int = 500,
    burn_in: int = 100,
    chains: int = 3,
    alpha: float = 0.16,
    seed: int = 0,
) -> dict[str, Any]:
    """The numbers of a ConceptResult (``docs/summary-schema.md``) without ``mode`` and ``mode_comparison``.

    Per target: the CRP posterior (``run_crp``, seeded with ``(seed, index of the target in TARGETS)``)
    on its complete individuals, in order of first appearance; targets with fewer than two complete
    individuals get ``None`` values and are left out of the means. Category and overall values are means
    over targets (as the paper averages over concepts); their intervals are percentiles of the
    per-draw mean over targets (targets are independent, so aligned draws form joint posterior draws).
    """
    import numpy as np

    from monoculture.metrics import run_crp

    checked = _checked(answers)
    vectors = response_vectors(checked)
    individuals: dict[str, str] = {}
    for answer in checked:
        individuals.setdefault(answer.individual, answer.target)

    by_target: dict[str, dict[str, Any]] = {}
    post_draws: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for index, target in enumerate(TARGETS):
        members = [individual for individual, own in individuals.items() if own == target]
        if not members:
            continue
        complete = [vectors[individual] for individual in members if individual in vectors]
        entry: dict[str, Any] = {
            "p_multiple_concepts": None, "p_multiple_concepts_ci": None, "tables": None, "richness": None,
            "p_multiple_concepts_unbiased": None, "p_multiple_concepts_unbiased_ci": None,
            "n_individuals": len(members), "n_complete": len(complete),
        }  # fmt: skip
        if len(complete) >= 2:
            result = run_crp(
                np.stack(complete), sweeps=sweeps, burn_in=burn_in, chains=chains, alpha=alpha, seed=(seed, index)
            )
            entry.update(
                p_multiple_concepts=result.p_multiple_concepts,
                p_multiple_concepts_ci=list(result.p_multiple_concepts_ci),
                tables=result.tables,
                richness=result.richness,
            )
            post = result.post_burn_in
            n = len(complete)
            # 1 - Σ(n_t/N)² is capped at 1 - 1/N and biased low at small N; N/(N - 1) times it is unbiased for
            # the population's 1 - Σπ_t² (the Gini-Simpson correction), per posterior draw.
            unbiased = result.p_multiple_concepts_trace[:, post].ravel() * n / (n - 1)
            entry.update(p_multiple_concepts_unbiased=float(unbiased.mean()),
                         p_multiple_concepts_unbiased_ci=[float(v) for v in np.percentile(unbiased, [2.5, 97.5])])
            post_draws[target] = (
                result.p_multiple_concepts_trace[:, post].ravel(),
                result.tables_trace[:, post].ravel().astype(float),
                result.richness_trace[:, post].ravel(),
                unbiased,
            )
        by_target[target] = {"category": category_of(target), **entry}

    def pooled(targets: list[str]) -> dict[str, Any]:
        entries = [by_target[target] for target in targets]
        block: dict[str, Any] = {
            "p_multiple_concepts": None, "p_multiple_concepts_ci": None, "tables": None, "richness": None,
            "p_multiple_concepts_unbiased": None, "p_multiple_concepts_unbiased_ci": None,
            "n_individuals": sum(entry["n_individuals"] for entry in entries),
            "n_complete": sum(entry["n_complete"] for entry in entries),
        }  # fmt: skip
        estimated = [target for target in targets if target in post_draws]
        if estimated:
            p_draws, table_draws, richness_draws, unbiased_draws = (
                np.mean([post_draws[target][k] for target in estimated], axis=0) for k in range(4)
            )
            low, high = np.percentile(p_draws, [2.5, 97.5])
            block.update(
                p_multiple_concepts=float(p_draws.mean()),
                p_multiple_concepts_ci=[float(low), float(high)],
                tables=float(table_draws.mean()),
                richness=float(richness_draws.mean()),
                p_multiple_concepts_unbiased=float(unbiased_draws.mean()),
                p_multiple_concepts_unbiased_ci=[float(v) for v in np.percentile(unbiased_draws, [2.5, 97.5])],
            )
        return block

    overall = pooled(list(by_target))
    n_answers = len(checked)
    n_valid = sum(answer.choice is not None for answer in checked)
    by_category = {
        category: pooled([target for target in by_target if target in members])
        for category, members in CATEGORIES.items()
        if any(target in members for target in by_target)
    }
    return {
        "p_multiple_concepts": overall["p_multiple_concepts"],
        "p_multiple_concepts_ci": overall["p_multiple_concepts_ci"],
        "p_multiple_concepts_unbiased": overall["p_multiple_concepts_unbiased"],
        "p_multiple_concepts_unbiased_ci": overall["p_multiple_concepts_unbiased_ci"],
        "tables": overall["tables"],
        "richness": overall["richness"],
        "valid_fraction": n_valid / n_answers if n_answers else None,
        "n_individuals": len(individuals),
        "n_complete": len(vectors),
        "order_consistency": order_consistency(checked),
        "by_category": by_category,
        "by_target": by_target,
    }
