"""The concept task: forced-choice similarity judgments about one target, clustered into latent concepts.

Source: Martí et al. (2023) and Murthy, Ullman & Hu (2025); PROTOCOL section 4. Each individual gets one
target and answers all 36 unordered pairs of the other 9 items of its category, each in both orders
(72 prompts). Its response vector is its 36 first-order answers (1 = the second choice); the swapped
order checks consistency. Only individuals with all 36 first-order answers valid are clustered.

Parsing rule (documented choice): the lower-cased output is searched, with word boundaries, for each of
the two choices: an animal by its bare name, singular or plural ("eagle", "eagles", "finches"); a
politician by surname ("obama" matches "Barack Obama", "Obama" and "President Obama's"), since the ten
surnames are distinct and models often drop first names. Exactly one choice named = valid; both or
neither = invalid, with the reason.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monoculture.tasks._base import ParsedAnswer, Prompt

if TYPE_CHECKING:
    import numpy as np

    from monoculture.population._individual import Individual

__all__ = [
    "ANIMALS",
    "CATEGORIES",
    "POLITICIANS",
    "PROMPT_VERSIONS",
    "TARGETS",
    "ConceptAnswer",
    "ConceptTask",
    "assign_targets",
    "category_of",
    "concept_prompt",
    "order_consistency",
    "pair_items",
    "response_vectors",
    "summarize_concepts",
]

# Category orders are those of the released code; pairs follow itertools.combinations over them, which
# is the Question order of the published *-forCRP.csv files.
ANIMALS = ("finch", "robin", "chicken", "eagle", "ostrich", "penguin", "salmon", "seal", "dolphin", "whale")
POLITICIANS = (
    "Abraham Lincoln", "Barack Obama", "Bernie Sanders", "Donald Trump", "Elizabeth Warren",
    "George W. Bush", "Hillary Clinton", "Joe Biden", "Richard Nixon", "Ronald Reagan",
)  # fmt: skip
CATEGORIES: dict[str, tuple[str, ...]] = {"animals": ANIMALS, "politicians": POLITICIANS}
TARGETS = ANIMALS + POLITICIANS
# v1: correct articles. published: the released code put "a " before targets that already carried their
# article ("a a finch", "a an eagle") and before politicians ("a Donald Trump").
PROMPT_VERSIONS = ("v1", "published")
ITEM_SEPARATOR = "|"


def category_of(target: str) -> str:
    """The category ("animals" or "politicians") a target or choice belongs to."""
    for category, members in CATEGORIES.items():
        if target in members:
            return category
    raise ValueError(f"unknown concept {target!r}; expected one of {', '.join(TARGETS)}")


def _with_article(name: str) -> str:
    """Animals take an indefinite article ("a robin", "an eagle"); politicians are named bare."""
    if category_of(name) == "politicians":
        return name
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def pair_items(target: str) -> list[tuple[str, str]]:
    """The 36 unordered pairs of the other items of the target's category, in the published order."""
    others = [name for name in CATEGORIES[category_of(target)] if name != target]
    return list(itertools.combinations(others, 2))


def item_id(target: str, first: str, second: str) -> str:
    """Stable id of one (target, pair) question, e.g. ``robin|eagle|penguin``; the same for both orders."""
    return ITEM_SEPARATOR.join((target, first, second))


def concept_prompt(target: str, choice1: str, choice2: str, prompt_version: str = "v1") -> str:
    """The task prompt (before any context or chat template) asking which choice is more like the target."""
    if prompt_version not in PROMPT_VERSIONS:
        raise ValueError(f"unknown prompt_version {prompt_version!r}; expected one of {PROMPT_VERSIONS}")
    shown_target = _with_article(target)
    if prompt_version == "published":
        shown_target = f"a {shown_target}"
    first, second = _with_article(choice1), _with_article(choice2)
    return (
        f"Question: Which is more similar to {shown_target}, {first} or {second}? "
        f'Respond only with "{first}" or "{second}".'
    )


def assign_targets(n_individuals: int, targets: Sequence[str] = TARGETS, seed: int = 0) -> list[str]:
    """A seeded, balanced assignment of one target to each of ``n_individuals`` individuals.

    Every target gets ``n_individuals // len(targets)`` individuals and a seeded random subset of targets
    one more; the order is a seeded shuffle, so individual ``i`` gets ``result[i]``.
    """
    import numpy as np

    if n_individuals < 0 or not targets:
        raise ValueError("n_individuals must be non-negative and targets non-empty")
    for target in targets:
        category_of(target)
    rng = np.random.default_rng([seed, n_individuals])
    base, extra = divmod(n_individuals, len(targets))
    counts = [base] * len(targets)
    for index in rng.choice(len(targets), size=extra, replace=False):
        counts[int(index)] += 1
    assigned = [target for target, count in zip(targets, counts) for _ in range(count)]
    return [assigned[int(index)] for index in rng.permutation(len(assigned))]


def _name_pattern(name: str) -> re.Pattern[str]:
    if category_of(name) == "politicians":
        return re.compile(rf"\b{re.escape(name.split()[-1].lower())}\b")
    return re.compile(rf"\b{re.escape(name.lower())}(?:e?s)?\b")


_PATTERNS: dict[str, re.Pattern[str]] = {name: _name_pattern(name) for name in TARGETS}


def _gbnf_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class ConceptTask:
    """The concept task (implements :class:`monoculture.tasks.Task`).

    ``prompt_version`` "v1" words the prompt correctly; "published" reproduces the released code's
    doubled article. ``Prompt.item`` is ``target|a|b`` for the pair (a, b) in published order;
    replicate 1 asks (a, b), replicate 2 the swapped (b, a). ``Prompt.choices`` are the strings the
    prompt asks for ("a robin", "Barack Obama"); a parsed value is the bare name ("robin").
    """

    prompt_version: str = "v1"
    name: str = "concepts"
    max_tokens: int = 8

    def __post_init__(self) -> None:
        if self.prompt_version not in PROMPT_VERSIONS:
            raise ValueError(f"unknown prompt_version {self.prompt_version!r}; expected one of {PROMPT_VERSIONS}")

    def prompts(self, individual: Individual) -> list[Prompt]:
        """The 72 prompts of this individual's target: 36 pairs, each in both orders."""
        target = individual.target
        if target is None:
            raise ValueError("the concept task needs individuals with a target; use assign_targets()")
        category = category_of(target)
        prompts: list[Prompt] = []
        for first, second in pair_items(target):
            item = item_id(target, first, second)
            for replicate, (choice1, choice2) in ((1, (first, second)), (2, (second, first))):
                prompts.append(
                    Prompt(
                        item=item,
                        replicate=replicate,
                        text=concept_prompt(target, choice1, choice2, self.prompt_version),
                        choices=(_with_article(choice1), _with_article(choice2)),
                        metadata={
                            "target": target, "category": category, "choice1": choice1,
                            "choice2": choice2, "prompt_version": self.prompt_version,
                        },
                    )
                )  # fmt: skip
        return prompts

    def parse(self, prompt: Prompt, output: str) -> ParsedAnswer:
        """The bare name of the one choice the output names; invalid if it names both or neither."""
        choice1, choice2 = prompt.metadata["choice1"], prompt.metadata["choice2"]
        text = output.lower() if isinstance(output, str) else ""
        named = [choice for choice in (choice1, choice2) if _PATTERNS[choice].search(text)]
        if len(named) == 1:
            return ParsedAnswer(valid=True, value=named[0])
        if named:
            return ParsedAnswer(valid=False, reason=f"names both choices ({choice1} and {choice2})")
        return ParsedAnswer(valid=False, reason=f"names neither choice ({choice1} or {choice2})")

    def grammar(self, prompt: Prompt) -> str:
        """GBNF accepting exactly the two choice strings, optionally after one space."""
        if prompt.choices is None:
            raise ValueError("a concept prompt always has two choices")
        options = " | ".join(_gbnf_literal(choice) for choice in prompt.choices)
        return f'root ::= " "? ({options})\n'


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
    import numpy as np

    first_order: dict[str, dict[str, str]] = {}
    targets: dict[str, str] = {}
    for answer in _checked(answers):
        targets.setdefault(answer.individual, answer.target)
        if targets[answer.individual] != answer.target:
            raise ValueError(f"individual {answer.individual} has more than one target")
        chosen = first_order.setdefault(answer.individual, {})
        if answer.order == 1 and answer.choice is not None:
            chosen[answer.item] = answer.choice
    vectors: dict[str, np.ndarray] = {}
    for individual, chosen in first_order.items():
        target = targets[individual]
        pairs = pair_items(target)
        items = [item_id(target, first, second) for first, second in pairs]
        if all(item in chosen for item in items):
            vectors[individual] = np.array(
                [int(chosen[item] == second) for item, (_, second) in zip(items, pairs)], dtype=np.int8
            )
    return vectors


def order_consistency(answers: Iterable[ConceptAnswer]) -> float | None:
    """Share of (individual, pair) with both orders valid where the same item was chosen both times.

    Range [0, 1]; 1 = never swayed by order, 0 = always picks by position (e.g. always the first listed).
    ``None`` when no pair has both orders valid.
    """
    by_pair: dict[tuple[str, str], dict[int, str]] = {}
    for answer in _checked(answers):
        if answer.choice is not None:
            by_pair.setdefault((answer.individual, answer.item), {})[answer.order] = answer.choice
    both = [orders for orders in by_pair.values() if len(orders) == 2]
    if not both:
        return None
    return sum(orders[1] == orders[2] for orders in both) / len(both)


def summarize_concepts(
    answers: Iterable[ConceptAnswer],
    *,
    sweeps: int = 500,
    burn_in: int = 100,
    chains: int = 3,
    alpha: float = 0.16,
    seed: int = 0,
) -> dict[str, Any]:
    """The ConceptBlock of ``docs/summary-schema.md`` without ``mode`` and ``invalid_examples``.

    Per target: the CRP posterior (``run_crp``, seeded with ``(seed, index of the target in TARGETS)``)
    on its complete individuals, in order of first appearance; targets with fewer than two complete
    individuals get ``None`` values and are left out of the means. Category and overall values are means
    over targets (as the paper averages over concepts); their intervals are percentiles of the
    per-draw mean over targets (targets are independent, so aligned draws form joint posterior draws).
    """
    import numpy as np

    from monoculture.metrics._crp import run_crp

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
            post_draws[target] = (
                result.p_multiple_concepts_trace[:, post].ravel(),
                result.tables_trace[:, post].ravel().astype(float),
                result.richness_trace[:, post].ravel(),
            )
        by_target[target] = {"category": category_of(target), **entry}

    def pooled(targets: list[str]) -> dict[str, Any]:
        entries = [by_target[target] for target in targets]
        block: dict[str, Any] = {
            "p_multiple_concepts": None, "p_multiple_concepts_ci": None, "tables": None, "richness": None,
            "n_individuals": sum(entry["n_individuals"] for entry in entries),
            "n_complete": sum(entry["n_complete"] for entry in entries),
        }  # fmt: skip
        estimated = [target for target in targets if target in post_draws]
        if estimated:
            p_draws, table_draws, richness_draws = (
                np.mean([post_draws[target][k] for target in estimated], axis=0) for k in range(3)
            )
            low, high = np.percentile(p_draws, [2.5, 97.5])
            block.update(
                p_multiple_concepts=float(p_draws.mean()),
                p_multiple_concepts_ci=[float(low), float(high)],
                tables=float(table_draws.mean()),
                richness=float(richness_draws.mean()),
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
        "tables": overall["tables"],
        "richness": overall["richness"],
        "valid_fraction": n_valid / n_answers if n_answers else None,
        "n_individuals": len(individuals),
        "n_complete": len(vectors),
        "order_consistency": order_consistency(checked),
        "by_category": by_category,
        "by_target": by_target,
    }
