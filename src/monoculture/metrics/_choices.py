"""Forced-choice answers as numbers: complete 0/1 response vectors and the agreement of repeated answers.

Pure functions over unreduced answers; a task says what its questions are and how an answer is coded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np


def response_matrix(coded: Mapping[str, Mapping[str, int]],
                    questions: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
    """Each individual's coded answers (0 or 1) to its own questions, in question order.

    ``coded[individual][question]`` is a valid answer's code; ``questions[individual]`` lists the questions the
    individual was asked. Only individuals who answered every one of them appear, in the order of ``coded``.
    """
    vectors: dict[str, np.ndarray] = {}
    for individual, answers in coded.items():
        asked = questions[individual]
        if all(question in answers for question in asked):
            vectors[individual] = np.array([answers[question] for question in asked], dtype=np.int8)
    return vectors


def agreement(pairs: Iterable[tuple[str, str]]) -> float | None:
    """The share of answer pairs whose two answers are equal, in [0, 1]; ``None`` for no pair."""
    pairs = list(pairs)
    if not pairs:
        return None
    return sum(first == second for first, second in pairs) / len(pairs)
