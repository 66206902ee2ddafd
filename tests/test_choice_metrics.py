"""Forced-choice metrics on populations whose answer is known."""

import numpy as np

from monoculture.metrics import agreement, response_matrix


def test_response_matrix_keeps_complete_individuals_in_question_order():
    coded = {"a": {"q2": 1, "q1": 0}, "b": {"q1": 1}, "c": {"x": 1}}
    questions = {"a": ["q1", "q2"], "b": ["q1", "q2"], "c": ["x"]}
    vectors = response_matrix(coded, questions)
    assert list(vectors) == ["a", "c"]
    assert vectors["a"].tolist() == [0, 1] and vectors["a"].dtype == np.int8 and vectors["c"].tolist() == [1]


def test_agreement_of_identical_opposite_and_no_pairs():
    assert agreement([("x", "x")] * 5) == 1.0
    assert agreement([("x", "y")] * 5) == 0.0
    assert agreement([("x", "x"), ("x", "y"), ("y", "y"), ("y", "x")]) == 0.5
    assert agreement([]) is None
