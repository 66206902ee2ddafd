"""The people's colour terms (PROTOCOL.md section 7): the chips of Murthy, Griffiths & Hawkins (2022), named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monoculture.errors import DataError
from monoculture.metrics import BASIC_TERMS, CategoricalAnswer
from monoculture.metrics._colour import natural_key
from monoculture.reference import data_root
from monoculture.tasks.colour_terms._human import CHIPS_FILE, human_term_answers, human_term_distributions

ANSWERS = "murthy2022-color-ref/exp1/color_preprocessed.csv"


@pytest.fixture(scope="module")
def answers() -> list[CategoricalAnswer]:
    return human_term_answers()


@pytest.fixture(scope="module")
def disagreement(answers) -> dict[str, tuple[float, float]]:
    """Per word (internal, population) disagreement, computed here in plain lines, not by the code under test."""
    terms: dict[str, dict[str, dict[int, str]]] = {}
    for answer in answers:
        terms.setdefault(answer.item, {}).setdefault(answer.individual, {})[answer.replicate] = answer.value
    result = {}
    for word, people in terms.items():
        ids = sorted((person for person, blocks in people.items() if blocks.get(1) and blocks.get(2)), key=natural_key)
        first, second = [people[i][1] for i in ids], [people[i][2] for i in ids]
        n = len(ids)
        internal = sum(a != b for a, b in zip(first, second)) / n
        population = sum(first[i] != second[j] for i in range(n) for j in range(i + 1, n)) / (n * (n - 1) / 2)
        result[word] = (internal, population)
    return result


def test_every_answer_is_a_basic_term_of_a_person_a_word_and_a_block(answers):
    assert len(answers) == 38000
    assert {answer.replicate for answer in answers} == {1, 2}
    assert {answer.value for answer in answers} == set(BASIC_TERMS)
    assert len({answer.individual for answer in answers}) == 475 and len({answer.item for answer in answers}) == 199
    # Line 2 of the CSV: participant 652, "sadness", block 1, chip 5PB8/6 (173, 204, 247).
    assert answers[0] == CategoricalAnswer(individual="652", item="sadness", replicate=1, value="blue")


def test_mean_disagreement_over_the_199_words(disagreement):
    assert len(disagreement) == 199
    internal = sum(value[0] for value in disagreement.values()) / 199
    population = sum(value[1] for value in disagreement.values()) / 199
    assert round(internal, 3) == 0.429
    assert round(population, 3) == 0.736


def test_disagreement_of_ocean_and_joy(disagreement):
    assert tuple(round(value, 3) for value in disagreement["ocean"]) == (0.032, 0.086)
    assert tuple(round(value, 3) for value in disagreement["joy"]) == (0.495, 0.815)


@pytest.mark.parametrize(("word", "shares"), [
    ("ocean", {"blue": 0.952}), ("lemon", {"yellow": 0.914}), ("tree", {"green": 0.868}), ("sun", {"yellow": 0.828}),
    ("fire", {"orange": 0.645, "red": 0.269}), ("love", {"pink": 0.382, "red": 0.366}),
    ("chalk", {"white": 0.523, "pink": 0.282}), ("sadness", {"blue": 0.443, "grey": 0.218, "black": 0.201}),
    ("joy", {"yellow": 0.301, "pink": 0.226, "blue": 0.188}),
])
def test_most_named_terms_per_word_over_both_blocks(word, shares):
    counts = human_term_distributions([word])[word]
    total = sum(counts.values())
    most_named = list(counts)[: len(shares)]
    assert most_named == list(shares)
    assert {term: round(counts[term] / total, 3) for term in most_named} == shares


def test_distributions_count_both_blocks_of_the_words_asked(answers):
    distributions = human_term_distributions(["ocean", "joy", "cleanliness"])
    assert set(distributions) == {"ocean", "joy"}  # "cleanliness" is not among the 199 words
    for word, counts in distributions.items():
        assert sum(counts.values()) == sum(answer.item == word for answer in answers)
        assert list(counts.values()) == sorted(counts.values(), reverse=True)
    assert len(human_term_distributions()) == 199


def test_a_damaged_chip_table_is_a_one_line_data_error(tmp_path, monkeypatch):
    root = tmp_path / "data"
    for relative in (ANSWERS, CHIPS_FILE):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_root() / relative, root / relative)
    chips = root / CHIPS_FILE
    chips.write_text(chips.read_text(encoding="utf-8").replace(",r,", ",red,"), encoding="utf-8")
    monkeypatch.setenv("MONOCULTURE_DATA", str(root))
    monkeypatch.setenv("MONOCULTURE_UNVERIFIED_DATA", "1")
    with pytest.raises(DataError, match="monoculture data fetch") as raised:
        human_term_answers()
    assert "\n" not in str(raised.value)
