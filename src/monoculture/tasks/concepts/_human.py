"""The human concept reference and the published CRP file formats.

Human reference: Martí et al. (2023)'s CRP chains on the human similarity judgments
(``marti2023-latent-diversity-crp/ChainResults.csv``: 20 concepts x 3 chains x iterations 1-499, 101-111
people each). The raw human answers are not available, so the reference is computed from the chains:
P(multiple concepts) at sweep 499, mean of 3 chains, is 0.559 for animals and 0.783 for politicians; the
post-burn-in means (iterations 101-499) are 0.568 and 0.780 (docs/methods.md, section 4).

Published model inputs: ``*-forCRP.csv`` (Concept, ID, Question, ChoiceNumber) of Murthy, Ullman & Hu (2025).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from monoculture.errors import DataError
from monoculture.reference import data_file
from monoculture.tasks.concepts._items import CATEGORIES, TARGETS, category_of

__all__ = [
    "CHAIN_RESULTS",
    "CRPInput",
    "HumanConceptChains",
    "human_concept_block",
    "human_concept_chains",
    "read_crp_input",
]

CHAIN_RESULTS = "marti2023-latent-diversity-crp/ChainResults.csv"
_CHAIN_COLUMNS = ("Concept", "Iteration", "S_Chao1", "NumberOfPeople", "Tables", "Chain", "ProbabilityOfSameTable")
_INPUT_COLUMNS = ("Concept", "ID", "Question", "ChoiceNumber")
# The human files name politicians by surname; the task uses full names.
_HUMAN_NAMES = {name.split()[-1]: name for name in CATEGORIES["politicians"]} | {
    name: name for name in CATEGORIES["animals"]
}
BURN_IN = 100


@dataclass(frozen=True, eq=False)
class HumanConceptChains:
    """One human concept's published chains; arrays have shape ``(chains, iterations)``.

    ``iterations`` are the published sweep numbers (1-499); post-burn-in means iteration > 100.
    """

    target: str
    n_individuals: int
    iterations: np.ndarray
    p_multiple_concepts: np.ndarray
    tables: np.ndarray
    richness: np.ndarray

    @property
    def category(self) -> str:
        """``animals`` or ``politicians``."""
        return category_of(self.target)

    def at_sweep(self, sweep: int = 499) -> dict[str, float]:
        """P(multiple concepts), tables and richness at one sweep, each the mean over chains."""
        matches = np.flatnonzero(self.iterations == sweep)
        if matches.size == 0:
            raise ValueError(f"sweep {sweep} is not in the human chains")
        column = int(matches[0])
        return {
            "p_multiple_concepts": float(self.p_multiple_concepts[:, column].mean()),
            "tables": float(self.tables[:, column].mean()),
            "richness": float(self.richness[:, column].mean()),
        }

    def post_burn_in(self) -> dict[str, np.ndarray]:
        """The post-burn-in draws (iteration > 100, all chains), flattened."""
        keep = self.iterations > BURN_IN
        return {
            "p_multiple_concepts": self.p_multiple_concepts[:, keep].ravel(),
            "tables": self.tables[:, keep].ravel().astype(float),
            "richness": self.richness[:, keep].ravel(),
        }


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [column for column in columns if column not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"malformed {path.name}: missing column(s) {', '.join(missing)}")
        try:
            for line, row in enumerate(reader, start=2):
                yield line, row
        except (csv.Error, UnicodeDecodeError) as error:
            raise DataError(f"malformed {path.name}: {error}") from None


def human_concept_chains() -> dict[str, HumanConceptChains]:
    """The human chains per target (task names, e.g. ``Joe Biden`` for the file's ``Biden``)."""
    path = data_file(CHAIN_RESULTS)
    records: dict[str, dict[tuple[int, int], tuple[float, int, float]]] = {}
    people: dict[str, set[int]] = {}
    for line, row in _rows(path, _CHAIN_COLUMNS):
        name = row["Concept"]
        if name not in _HUMAN_NAMES:
            raise DataError(f"malformed {path.name} line {line}: unknown concept {name!r}")
        target = _HUMAN_NAMES[name]
        try:
            chain, iteration = int(row["Chain"]), int(row["Iteration"])
            values = (1.0 - float(row["ProbabilityOfSameTable"]), int(row["Tables"]), float(row["S_Chao1"]))
            people.setdefault(target, set()).add(int(row["NumberOfPeople"]))
        except (TypeError, ValueError):
            raise DataError(f"malformed {path.name} line {line}: a number column does not hold a number") from None
        if not 0.0 <= values[0] <= 1.0:
            raise DataError(f"malformed {path.name} line {line}: ProbabilityOfSameTable outside [0, 1]")
        records.setdefault(target, {})[(chain, iteration)] = values
    if set(records) != set(TARGETS):
        absent = sorted(set(TARGETS) - set(records))
        raise DataError(f"malformed {path.name}: no chains for {', '.join(absent)}")
    chains: dict[str, HumanConceptChains] = {}
    for target in TARGETS:
        cells = records[target]
        chain_ids = sorted({chain for chain, _ in cells})
        iterations = sorted({iteration for _, iteration in cells})
        if len(cells) != len(chain_ids) * len(iterations) or len(people[target]) != 1:
            raise DataError(f"malformed {path.name}: the chains of {target} are incomplete or inconsistent")
        grid = np.array([[cells[(chain, iteration)] for iteration in iterations] for chain in chain_ids])
        chains[target] = HumanConceptChains(
            target=target,
            n_individuals=people[target].pop(),
            iterations=np.array(iterations),
            p_multiple_concepts=grid[:, :, 0],
            tables=grid[:, :, 1].astype(np.int64),
            richness=grid[:, :, 2],
        )
    return chains


def human_concept_block(targets: Sequence[str] | None = None) -> dict[str, Any]:
    """The humans' concept numbers on ``targets`` (default: all 20), computed from the published chains.

    ``p_multiple_concepts``, ``tables`` and ``richness`` (S_Chao1) are post-burn-in posterior means, as for
    models; ``p_multiple_concepts_sweep499`` and ``tables_sweep499`` are the paper's single-sweep values
    (mean of 3 chains). Category and overall values are means over targets, intervals percentiles of the
    per-draw mean over targets. ``n_individuals`` and ``n_complete`` are NumberOfPeople (every clustered
    person answered all 36 pairs). Keys about answers (valid fraction, order consistency) are ``None``:
    the raw human answers are not available.
    """
    chains = human_concept_chains()

    def block(targets: list[str]) -> dict[str, Any]:
        draws = [chains[target].post_burn_in() for target in targets]
        pooled = {key: np.mean([draw[key] for draw in draws], axis=0) for key in draws[0]}
        single = [chains[target].at_sweep(499) for target in targets]
        low, high = np.percentile(pooled["p_multiple_concepts"], [2.5, 97.5])
        people = sum(chains[target].n_individuals for target in targets)
        # N/(N - 1) per target, as for models: the chains' NumberOfPeople is each target's N.
        unbiased = np.mean([chains[t].post_burn_in()["p_multiple_concepts"] * chains[t].n_individuals
                            / (chains[t].n_individuals - 1) for t in targets], axis=0)
        return {
            "p_multiple_concepts": float(pooled["p_multiple_concepts"].mean()),
            "p_multiple_concepts_ci": [float(low), float(high)],
            "p_multiple_concepts_unbiased": float(unbiased.mean()),
            "p_multiple_concepts_unbiased_ci": [float(v) for v in np.percentile(unbiased, [2.5, 97.5])],
            "p_multiple_concepts_sweep499": float(np.mean([value["p_multiple_concepts"] for value in single])),
            "tables": float(pooled["tables"].mean()),
            "tables_sweep499": float(np.mean([value["tables"] for value in single])),
            "richness": float(pooled["richness"].mean()),
            "n_individuals": people,
            "n_complete": people,
        }

    chosen = [target for target in TARGETS if targets is None or target in targets]
    overall = block(chosen)
    return overall | {
        "valid_fraction": None,
        "order_consistency": None,
        "by_category": {category: block([t for t in chosen if t in members])
                        for category, members in CATEGORIES.items() if any(t in members for t in chosen)},
        "by_target": {target: {"category": category_of(target), **block([target])} for target in chosen},
    }


@dataclass(frozen=True, eq=False)
class CRPInput:
    """One concept of a published ``*-forCRP.csv``: its complete individuals' 0/1 answers.

    ``responses[i, q]`` is individual ``ids[i]``'s ChoiceNumber for ``questions[q]`` (1 = choice2);
    individuals and questions are in order of first appearance, as the published sampler read them.
    """

    concept: str
    ids: tuple[str, ...]
    questions: tuple[str, ...]
    responses: np.ndarray
    n_incomplete: int
    # The others' valid answers (person -> question -> ChoiceNumber): they are in the file, out of the sampler.
    incomplete: dict[str, dict[str, int]] = field(default_factory=dict)


def read_crp_input(path: str | Path) -> dict[str, CRPInput]:
    """Read a published ``*-forCRP.csv`` (Concept, ID, Question, ChoiceNumber) per concept, in file order.

    Only individuals who answered every question of their concept are kept (the published sampler's
    rule). A malformed file raises a one-line :class:`DataError`.
    """
    path = Path(path)
    answers: dict[str, dict[str, dict[str, int]]] = {}
    for line, row in _rows(path, _INPUT_COLUMNS):
        concept, person, question, choice = (row[column] for column in _INPUT_COLUMNS)
        if not concept or not person or not question or choice not in ("0", "1"):
            raise DataError(f"malformed {path.name} line {line}: expected a Concept, ID, Question and 0/1 ChoiceNumber")
        given = answers.setdefault(concept, {}).setdefault(person, {})
        if question in given:
            raise DataError(f"malformed {path.name} line {line}: {person} answered {question!r} twice")
        given[question] = int(choice)
    if not answers:
        raise DataError(f"malformed {path.name}: no answers")
    inputs: dict[str, CRPInput] = {}
    for concept, people in answers.items():
        questions = list(dict.fromkeys(question for given in people.values() for question in given))
        complete = [person for person, given in people.items() if len(given) == len(questions)]
        responses = np.array([[people[person][question] for question in questions] for person in complete],
                             dtype=np.int8).reshape(len(complete), len(questions))
        inputs[concept] = CRPInput(concept, tuple(complete), tuple(questions), responses,
                                   n_incomplete=len(people) - len(complete),
                                   incomplete={person: given for person, given in people.items()
                                               if len(given) != len(questions)})
    return inputs
