"""The concept task's items: forced-choice similarity judgments about one target, clustered into latent concepts.

Source: Martí et al. (2023) and Murthy, Ullman & Hu (2025); docs/methods.md, section 4. Each individual gets one
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
from collections.abc import Sequence

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


def with_article(name: str) -> str:
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
    shown_target = with_article(target)
    if prompt_version == "published":
        shown_target = f"a {shown_target}"
    first, second = with_article(choice1), with_article(choice2)
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


PATTERNS: dict[str, re.Pattern[str]] = {name: _name_pattern(name) for name in TARGETS}
