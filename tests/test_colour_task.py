import pytest

from monoculture.population import Condition, Individual
from monoculture.tasks import render
from monoculture.tasks.colour import COLOUR_PROMPT, ColourSpec, ColourTask, parse_hex


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (" #A1B2C3", "#a1b2c3"),
        ("The colour is #ffcc00.", "#ffcc00"),
        ("first #123456 then #654321", "#123456"),
        ("#abc is short, but #00FF7f is not", "#00ff7f"),
        ("(#0a0B0c)", "#0a0b0c"),
    ],
)
def test_parse_finds_the_first_six_digit_code(output, expected):
    answer = parse_hex(output)
    assert answer.valid and answer.value == expected


@pytest.mark.parametrize("output", ["", "yellow", "FFCC00", "#12345", "#1234567", "#GGGGGG", "# 123456", "0x123456"])
def test_anything_else_is_invalid_with_a_reason(output):
    answer = parse_hex(output)
    assert not answer.valid and answer.value is None and answer.reason


def test_prompts_ask_each_word_twice_with_the_papers_wording(data_root):
    # The task now checks its words against the 199 of the human study ("banana" is not one of them).
    task = ColourTask(ColourSpec(words=["lemon", "wisdom"]), 0)
    individual = Individual("m", Condition("none"), 0, "")
    prompts = task.prompts(individual)
    assert [(p.item, p.replicate) for p in prompts] == [("lemon", 1), ("lemon", 2), ("wisdom", 1), ("wisdom", 2)]
    assert prompts[0].text == (
        "Question: What is the HEX code of the color you most associate with the word lemon? You must respond "
        "with a guess, even if you're unsure. Make sure your response contains a valid 6-digit HEX code."
    )
    assert COLOUR_PROMPT.count("{word}") == 1


def test_base_and_chat_rendering():
    base = render("base", "You are a farmer.", "Question: Q?")
    assert base.prompt == "You are a farmer. Question: Q?\nAnswer:" and base.messages is None
    assert render("base", "", "Question: Q?").prompt == "Question: Q?\nAnswer:"
    chat = render("chat", "You are a farmer.", "Question: Q?")
    assert chat.messages == (("user", "You are a farmer. Question: Q?"),) and chat.prompt is None
    system = render("chat", "You are a farmer.", "Question: Q?", context_placement="system")
    assert system.messages == (("system", "You are a farmer."), ("user", "Question: Q?"))
    assert render("chat", "", "Q").messages == (("user", "Q"),)
