"""Refusals are told apart from answers the parser cannot read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture.tasks import looks_like_refusal

REFUSALS = [
    "I'm sorry, but as an AI language model, I don't have personal preferences or the ability to perceive colors.",
    "As an AI, I do not have personal associations with words.",
    "I cannot provide a HEX code for an abstract concept like wisdom.",
    "I can't choose between Donald Trump and Joe Biden.",
    "I'm unable to answer that question.",
    "Sorry, I can't help with that request.",
    "I don't have the ability to see colours, but #ffffff is often linked with purity.",  # invalid only if no code
    "I am just an AI assistant and do not form associations.",
    "It is not appropriate for me to choose between political figures.",
    "I must decline to guess.",
]
ANSWERS_WITHOUT_A_CODE = [
    "FF0A",
    "0xEBDEF",
    "The color of a lemon is bright yellow.",
    "I think of a deep ocean blue.",
    "Wisdom feels like a warm golden brown to me.",
    "a robin",
    "Sorry state of affairs, but red.",
    "I can picture it: crimson.",
    "The penguin, because both are birds.",
]


@pytest.mark.parametrize("text", REFUSALS)
def test_refusals_are_recognised(text):
    assert looks_like_refusal(text)
    assert looks_like_refusal(text.upper())


@pytest.mark.parametrize("text", ANSWERS_WITHOUT_A_CODE)
def test_answers_that_are_no_refusal_are_not_called_one(text):
    assert not looks_like_refusal(text)


@settings(max_examples=200, derandomize=True, database=None)
@given(st.text(max_size=2000))
def test_any_text_is_classified_without_error(text):
    assert looks_like_refusal(text) in (True, False)
