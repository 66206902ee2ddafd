"""The concept task: prompts, articles, parsing, grammar, response vectors and the ConceptBlock."""

from __future__ import annotations

import csv
import re
from collections import Counter

import numpy as np
import pytest

from monoculture.reference import data_file

from monoculture.population import Condition, Individual
from monoculture.tasks import Task
from monoculture.tasks.concepts import (
    ANIMALS,
    POLITICIANS,
    TARGETS,
    ConceptAnswer,
    ConceptSpec,
    ConceptTask,
    assign_targets,
    order_consistency,
    pair_items,
    response_vectors,
    summarize_concepts,
)

FOR_CRP_FILE = "murthy2025-onefish-twofish/model-crp-example/openchat-prompt=none-temp=default-forCRP.csv"


def _task(version: str = "v1") -> ConceptTask:
    return ConceptTask(ConceptSpec(prompt_version=version), 0)


def _individual(target: str, index: int = 0) -> Individual:
    return Individual(model="mock", condition=Condition("none"), index=index, context="", target=target)


def _prompt(target: str, choice1: str, choice2: str, version: str = "v1"):
    for prompt in _task(version).prompts(_individual(target)):
        if prompt.metadata["choice1"] == choice1 and prompt.metadata["choice2"] == choice2:
            return prompt
    raise AssertionError("no such prompt")


def test_is_a_task() -> None:
    assert isinstance(_task(), Task)
    assert _task().max_tokens == 32  # room for a chat model's short sentence, still short


def test_seventy_two_prompts_each_pair_in_both_orders() -> None:
    prompts = _task().prompts(_individual("penguin"))
    assert len(prompts) == 72
    assert Counter(prompt.replicate for prompt in prompts) == {1: 36, 2: 36}
    items = Counter(prompt.item for prompt in prompts)
    assert len(items) == 36 and set(items.values()) == {2}
    for prompt in prompts:
        assert "penguin" not in (prompt.metadata["choice1"], prompt.metadata["choice2"])
        target, first, second = prompt.item.split("|")
        assert target == "penguin"
        expected = (first, second) if prompt.replicate == 1 else (second, first)
        assert (prompt.metadata["choice1"], prompt.metadata["choice2"]) == expected


def test_prompt_text_with_articles() -> None:
    prompt = _prompt("finch", "robin", "eagle")
    assert prompt.item == "finch|robin|eagle"
    assert prompt.text == ('Question: Which is more similar to a finch, a robin or an eagle? '
                           'Respond only with "a robin" or "an eagle".')
    assert prompt.choices == ("a robin", "an eagle")
    swapped = _prompt("finch", "eagle", "robin")
    assert swapped.replicate == 2 and swapped.item == "finch|robin|eagle"
    assert swapped.text == ('Question: Which is more similar to a finch, an eagle or a robin? '
                            'Respond only with "an eagle" or "a robin".')
    ostrich = _prompt("ostrich", "salmon", "whale")
    assert ostrich.text.startswith("Question: Which is more similar to an ostrich, a salmon or a whale?")


def test_politicians_have_no_article() -> None:
    prompt = _prompt("Donald Trump", "Abraham Lincoln", "Barack Obama")
    assert prompt.text == ('Question: Which is more similar to Donald Trump, Abraham Lincoln or Barack Obama? '
                           'Respond only with "Abraham Lincoln" or "Barack Obama".')
    assert prompt.choices == ("Abraham Lincoln", "Barack Obama")


def test_published_version_doubles_the_article() -> None:
    # The released code wrote "a {target}" with targets that already carried their article.
    assert _prompt("finch", "robin", "eagle", "published").text.startswith(
        "Question: Which is more similar to a a finch, a robin or an eagle?")
    assert _prompt("eagle", "robin", "finch", "published").text.startswith(
        "Question: Which is more similar to a an eagle, a robin or a finch?")
    assert _prompt("Joe Biden", "Abraham Lincoln", "Barack Obama", "published").text.startswith(
        "Question: Which is more similar to a Joe Biden, Abraham Lincoln or Barack Obama?")
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        ConceptSpec(prompt_version="v2")


def test_pair_order_matches_the_published_question_column() -> None:
    published: dict[str, list[str]] = {}
    with data_file(FOR_CRP_FILE).open(newline="") as handle:
        for row in csv.DictReader(handle):
            questions = published.setdefault(row["Concept"], [])
            if len(questions) < 36:
                questions.append(row["Question"])

    def shown(name: str) -> str:
        return name if name in POLITICIANS else ("an " if name[0] in "aeiou" else "a ") + name

    for target in TARGETS:
        ours = [f"{shown(first)} {shown(second)}" for first, second in pair_items(target)]
        assert ours == published[shown(target)], target


def test_individual_without_target_is_rejected() -> None:
    with pytest.raises(ValueError, match="needs individuals with a target"):
        _task().prompts(_individual(None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("a robin", "robin"),
        ("A ROBIN.", "robin"),
        ('"an eagle"', "eagle"),
        (" Eagle!", "eagle"),
        ("I'd say robins.", "robin"),
        ("The eagle, clearly", "eagle"),
    ],
)
def test_parse_valid_animals(output: str, expected: str) -> None:
    parsed = _task().parse(_prompt("finch", "robin", "eagle"), output)
    assert parsed.valid and parsed.value == expected


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("a robin or an eagle", "both"),
        ("eagle, no wait, robin", "both"),
        ("a penguin", "neither"),
        ("", "neither"),
        ("robinson crusoe", "neither"),  # a name inside another word is not the name
        ("eaglet", "neither"),
        ("robinhood and the sealions", "neither"),
    ],
)
def test_parse_invalid_animals(output: str, reason: str) -> None:
    parsed = _task().parse(_prompt("finch", "robin", "eagle"), output)
    assert not parsed.valid and parsed.value is None
    assert reason in parsed.reason


def test_parse_bald_eagle_word_boundary() -> None:
    # hyphens are word boundaries: "bald-eagle" names the eagle
    parsed = _task().parse(_prompt("finch", "robin", "eagle"), "bald-eagle")
    assert parsed.valid and parsed.value == "eagle"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Barack Obama", "Barack Obama"),
        ("OBAMA", "Barack Obama"),
        ("President Obama's record", "Barack Obama"),
        ("george w. bush", "George W. Bush"),
        ("Bush.", "George W. Bush"),
    ],
)
def test_parse_politicians_by_surname(output: str, expected: str) -> None:
    parsed = _task().parse(_prompt("Donald Trump", "Barack Obama", "George W. Bush"), output)
    assert parsed.valid and parsed.value == expected


@pytest.mark.parametrize("output", ["Obama and Bush", "obamacare", "bushes", "trump", "Barack"])
def test_parse_politicians_invalid(output: str) -> None:
    parsed = _task().parse(_prompt("Donald Trump", "Barack Obama", "George W. Bush"), output)
    assert not parsed.valid


def test_parse_never_raises_on_odd_text() -> None:
    prompt = _prompt("seal", "whale", "dolphin")
    for output in ["\x00\u202e(", "((((", "\\b", "whale" * 1000, "🐋 whale"]:
        _task().parse(prompt, output)


def test_grammar_accepts_exactly_the_choices() -> None:
    prompt = _prompt("finch", "robin", "eagle")
    grammar = _task().grammar(prompt)
    assert grammar.strip() == 'root ::= " "? ("a robin" | "an eagle")'
    politician = _task().grammar(_prompt("Joe Biden", "George W. Bush", "Richard Nixon"))
    assert re.fullmatch(r'root ::= " "\? \("George W\. Bush" \| "Richard Nixon"\)\n', politician)


def test_choices_parse_to_their_own_names() -> None:
    task = _task()
    for prompt in task.prompts(_individual("whale")) + task.prompts(_individual("Hillary Clinton")):
        for choice, name in zip(prompt.choices, (prompt.metadata["choice1"], prompt.metadata["choice2"])):
            assert task.parse(prompt, choice).value == name


def test_assign_targets_is_balanced_and_seeded() -> None:
    assigned = assign_targets(45, seed=3)
    counts = Counter(assigned)
    assert set(counts) == set(TARGETS) and set(counts.values()) <= {2, 3} and sum(counts.values()) == 45
    assert assign_targets(45, seed=3) == assigned
    assert assign_targets(45, seed=4) != assigned
    assert Counter(assign_targets(30, ANIMALS, seed=0)) == {animal: 3 for animal in ANIMALS}


def _answers(individual: str, target: str, vector, *, second=None, drop: int | None = None):
    """Answer records for one individual: ``vector[k]`` = 1 picks the pair's second item in order 1."""
    answers = []
    for k, (first, other) in enumerate(pair_items(target)):
        item = f"{target}|{first}|{other}"
        choice = other if vector[k] else first
        answers.append(ConceptAnswer(individual, target, item, 1, None if k == drop else choice))
        swapped = choice if second is None else second(k, first, other)
        answers.append(ConceptAnswer(individual, target, item, 2, swapped))
    return answers


def test_response_vectors_only_complete_individuals() -> None:
    vector = [k % 2 for k in range(36)]
    answers = _answers("a", "robin", vector) + _answers("b", "robin", vector, drop=5)
    vectors = response_vectors(answers)
    assert list(vectors) == ["a"]
    np.testing.assert_array_equal(vectors["a"], vector)


def test_order_consistency() -> None:
    vector = [0] * 36
    same = _answers("a", "seal", vector)
    assert order_consistency(same) == 1.0
    # In the swapped order the individual always takes the first-listed item, i.e. the pair's second:
    # it disagrees with its first-order answer (the pair's first item) on every pair.
    flipped = _answers("b", "seal", vector, second=lambda k, first, other: other)
    assert order_consistency(flipped) == 0.0
    half = _answers("c", "seal", vector, second=lambda k, first, other: other if k < 18 else first)
    assert order_consistency(half) == 0.5
    assert order_consistency([]) is None


def test_inconsistent_records_are_rejected() -> None:
    with pytest.raises(ValueError):
        response_vectors([ConceptAnswer("a", "robin", "robin|finch|chicken", 1, "whale")])
    with pytest.raises(ValueError):
        response_vectors([ConceptAnswer("a", "robin", "robin|finch|chicken", 3, "finch")])


def test_summary_of_identical_and_split_populations() -> None:
    rng = np.random.default_rng(0)
    pattern = rng.integers(0, 2, 36)
    answers = []
    for index in range(10):  # robin: everyone identical → one concept
        answers += _answers(f"r{index}", "robin", pattern)
    for index in range(10):  # Obama: two opposite halves → two concepts, P = 1 − (0.5² + 0.5²) = 0.5
        answers += _answers(f"o{index}", "Barack Obama", pattern if index < 5 else 1 - pattern)
    answers += _answers("o-incomplete", "Barack Obama", pattern, drop=0)
    block = summarize_concepts(answers, sweeps=40, burn_in=5, chains=2)
    robin, obama = block["by_target"]["robin"], block["by_target"]["Barack Obama"]
    assert robin["p_multiple_concepts"] == 0.0 and robin["tables"] == 1.0
    assert obama["p_multiple_concepts"] == pytest.approx(0.5) and obama["tables"] == 2.0
    assert obama["n_individuals"] == 11 and obama["n_complete"] == 10
    assert block["p_multiple_concepts"] == pytest.approx(0.25)
    assert block["by_category"]["animals"]["p_multiple_concepts"] == 0.0
    assert block["by_category"]["politicians"]["p_multiple_concepts"] == pytest.approx(0.5)
    assert block["n_individuals"] == 21 and block["n_complete"] == 20
    assert block["valid_fraction"] == pytest.approx(1 - 1 / (21 * 72))
    assert block["order_consistency"] == 1.0
    assert set(block) >= {"p_multiple_concepts_ci", "tables", "richness", "by_category", "by_target"}
    assert "mode" not in block and "invalid_examples" not in block
