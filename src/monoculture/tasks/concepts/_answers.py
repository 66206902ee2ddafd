"""Concept answers to numbers: response vectors, order consistency and the CRP per target, pooled."""

from __future__ import annotations

import math
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


# Seed streams of a target's null and bootstrap beside its chains' (seed, target, chain[, rung]): a chain
# number no run reaches (at most 32 chains), so no two streams coincide.
NULL_STREAM = 1 << 20
BOOTSTRAP_STREAM = NULL_STREAM + 1
_EMPTY: dict[str, Any] = {
    "p_multiple_concepts": None, "p_multiple_concepts_ci": None, "tables": None, "richness": None,
    "p_multiple_concepts_unbiased": None, "p_multiple_concepts_unbiased_ci": None,
    "p_multiple_concepts_bootstrap_ci": None, "p_multiple_concepts_unbiased_bootstrap_ci": None, "null": None,
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class _Draws:
    """One target's draws: posterior (post-burn-in, all chains), null (one per permutation), bootstrap."""

    n: int
    p_multiple: np.ndarray
    tables: np.ndarray
    richness: np.ndarray
    unbiased: np.ndarray
    null: np.ndarray | None
    bootstrap: np.ndarray | None  # the unbiased statistic, resampled over individuals
    converged: bool


def _interval(draws: np.ndarray) -> list[float]:
    import numpy as np

    return [float(value) for value in np.percentile(draws, [2.5, 97.5])]


def _finite(value: float) -> float | None:
    """An R-hat that is not a finite number (constant halves at different values) is written as null."""
    return float(value) if math.isfinite(value) else None


def summarize_concepts(
    answers: Iterable[ConceptAnswer],
    *,
    sweeps: int = 500,
    burn_in: int = 100,
    chains: int = 3,
    alpha: float = 0.16,
    seed: int = 0,
    null_permutations: int | None = None,
    bootstrap_resamples: int | None = None,
) -> dict[str, Any]:
    """The numbers of a ConceptResult (``docs/summary-schema.md``) without ``mode`` and ``mode_comparison``.

    Per target: the CRP posterior (``run_crp``, seeded with ``(seed, index of the target in TARGETS)``)
    on its complete individuals, in order of first appearance, with its convergence check (``converged``,
    split-R-hat); its homogeneous null (``p_multiple_concepts_null``: ``null_permutations`` shuffled copies,
    default 20, 0 = none); and, from 5 complete individuals on, intervals over individuals
    (``bootstrap_p_multiple_concepts``: ``bootstrap_resamples`` resamples, default 2,000, 0 = none).
    Targets with fewer than two complete individuals get ``None`` values and are left out of the means.
    Category and overall values are means over targets (as the paper averages over concepts); their
    intervals are percentiles of the per-draw mean over targets, and their null is the mean over targets of
    each permutation (targets are independent, so aligned draws form joint draws). A pooled interval over
    individuals needs one for every target in it.
    """
    import numpy as np

    from monoculture.metrics import (
        BOOTSTRAP_RESAMPLES,
        CONCEPT_NULL_BURN_IN,
        CONCEPT_NULL_PERMUTATIONS,
        CONCEPT_NULL_SWEEPS,
        CONCEPT_NULL_MARGIN,
        MIN_BOOTSTRAP_INDIVIDUALS,
        bootstrap_p_multiple_concepts,
        null_summary,
        p_multiple_concepts_null,
        run_crp,
    )

    permutations = CONCEPT_NULL_PERMUTATIONS if null_permutations is None else null_permutations
    resamples = BOOTSTRAP_RESAMPLES if bootstrap_resamples is None else bootstrap_resamples
    # The null's chains are short (methods.md, section 4.5); never longer than the estimate's own.
    null_sweeps = min(sweeps, CONCEPT_NULL_SWEEPS)
    null_burn_in = min(burn_in, CONCEPT_NULL_BURN_IN, null_sweeps - 2)
    checked = _checked(answers)
    vectors = response_vectors(checked)
    individuals: dict[str, str] = {}
    for answer in checked:
        individuals.setdefault(answer.individual, answer.target)

    def summary(observed: float, null: np.ndarray) -> dict[str, Any]:
        return null_summary(observed, null, margin=CONCEPT_NULL_MARGIN)

    by_target: dict[str, dict[str, Any]] = {}
    draws: dict[str, _Draws] = {}
    for index, target in enumerate(TARGETS):
        members = [individual for individual, own in individuals.items() if own == target]
        if not members:
            continue
        complete = [vectors[individual] for individual in members if individual in vectors]
        entry: dict[str, Any] = {**_EMPTY, "n_individuals": len(members), "n_complete": len(complete),
                                 "converged": None, "r_hat": None, "convergence_problems": []}
        n = len(complete)
        if n >= 2:
            x = np.stack(complete)
            bootstrapped = resamples > 0 and n >= MIN_BOOTSTRAP_INDIVIDUALS
            result = run_crp(x, sweeps=sweeps, burn_in=burn_in, chains=chains, alpha=alpha, seed=(seed, index),
                             keep_partitions=bootstrapped)
            post = result.post_burn_in
            # 1 - Σ(n_t/N)² is capped at 1 - 1/N and biased low at small N; N/(N - 1) times it is unbiased for
            # the population's 1 - Σπ_t² (the Gini-Simpson correction), per posterior draw.
            unbiased = result.p_multiple_concepts_trace[:, post].ravel() * n / (n - 1)
            null = None
            if permutations > 0:
                null = p_multiple_concepts_null(x, permutations=permutations, sweeps=null_sweeps,
                                                burn_in=null_burn_in, alpha=alpha, seed=(seed, index, NULL_STREAM))
            bootstrap = None
            if bootstrapped:
                assert result.partitions is not None
                bootstrap = bootstrap_p_multiple_concepts(result.partitions[:, post].reshape(-1, n),
                                                          resamples=resamples, seed=(seed, index, BOOTSTRAP_STREAM))
            draws[target] = _Draws(
                n=n, p_multiple=result.p_multiple_concepts_trace[:, post].ravel(),
                tables=result.tables_trace[:, post].ravel().astype(float),
                richness=result.richness_trace[:, post].ravel(),
                unbiased=unbiased, null=null, bootstrap=bootstrap, converged=result.converged,
            )
            entry.update(
                p_multiple_concepts=result.p_multiple_concepts,
                p_multiple_concepts_ci=list(result.p_multiple_concepts_ci),
                tables=result.tables,
                richness=result.richness,
                p_multiple_concepts_unbiased=float(unbiased.mean()),
                p_multiple_concepts_unbiased_ci=_interval(unbiased),
                p_multiple_concepts_bootstrap_ci=None if bootstrap is None else _interval(bootstrap * (n - 1) / n),
                p_multiple_concepts_unbiased_bootstrap_ci=None if bootstrap is None else _interval(bootstrap),
                null=None if null is None else summary(result.p_multiple_concepts, null),
                converged=result.converged,
                r_hat={"p_multiple_concepts": _finite(result.r_hat_p_multiple_concepts),
                       "tables": _finite(result.r_hat_tables)},
                convergence_problems=list(result.convergence_problems),
            )
        by_target[target] = {"category": category_of(target), **entry}

    def pooled(targets: list[str]) -> dict[str, Any]:
        entries = [by_target[target] for target in targets]
        estimated = [draws[target] for target in targets if target in draws]
        block: dict[str, Any] = {
            **_EMPTY,
            "n_individuals": sum(entry["n_individuals"] for entry in entries),
            "n_complete": sum(entry["n_complete"] for entry in entries),
            "n_unconverged_targets": sum(not target.converged for target in estimated),
        }
        if not estimated:
            return block
        p_draws = np.mean([target.p_multiple for target in estimated], axis=0)
        unbiased_draws = np.mean([target.unbiased for target in estimated], axis=0)
        block.update(
            p_multiple_concepts=float(p_draws.mean()),
            p_multiple_concepts_ci=_interval(p_draws),
            tables=float(np.mean([target.tables for target in estimated], axis=0).mean()),
            richness=float(np.mean([target.richness for target in estimated], axis=0).mean()),
            p_multiple_concepts_unbiased=float(unbiased_draws.mean()),
            p_multiple_concepts_unbiased_ci=_interval(unbiased_draws),
        )
        if all(target.null is not None for target in estimated):
            block["null"] = summary(block["p_multiple_concepts"],
                                    np.mean([target.null for target in estimated], axis=0))
        if all(target.bootstrap is not None for target in estimated):
            # Targets are resampled independently (a stratified bootstrap); the plug-in of a target is
            # (N - 1)/N times its unbiased value.
            block["p_multiple_concepts_unbiased_bootstrap_ci"] = _interval(
                np.mean([target.bootstrap for target in estimated], axis=0))
            block["p_multiple_concepts_bootstrap_ci"] = _interval(
                np.mean([target.bootstrap * (target.n - 1) / target.n for target in estimated], axis=0))
        return block

    overall = pooled(list(by_target))
    n_answers = len(checked)
    n_valid = sum(answer.choice is not None for answer in checked)
    by_category = {
        category: pooled([target for target in by_target if target in members])
        for category, members in CATEGORIES.items()
        if any(target in members for target in by_target)
    }
    for target, entry in by_target.items():
        entry["n_unconverged_targets"] = int(target in draws and not draws[target].converged)
    return {
        **{key: overall[key] for key in (*_EMPTY, "n_unconverged_targets")},
        "valid_fraction": n_valid / n_answers if n_answers else None,
        "n_individuals": len(individuals),
        "n_complete": len(vectors),
        "order_consistency": order_consistency(checked),
        "by_category": by_category,
        "by_target": by_target,
    }
