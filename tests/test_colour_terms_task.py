"""The colour-terms task end to end on populations whose truth is known (fake:constant, fake:uniform, fake:human),
its answer reading, its exact mode and the people's reference of PROTOCOL "Basic colour terms"."""

from __future__ import annotations

import json

import pytest

import monoculture
from conftest import run_cli
from monoculture.study import parse_study
from monoculture.tasks import Prompt
from monoculture.tasks.colour_terms import ESSAY_WORDS, ColourTermsSpec, ColourTermsTask

WORDS = ["ocean", "joy", "sadness", "fire", "love", "chalk", "lemon", "tree"]


def _study(models, **colour_terms):
    return parse_study({"name": "terms", "seed": 5, "models": models, "conditions": [{"context": "none"}],
                        "colour_terms": {"individuals": 40, "words": WORDS, **colour_terms}})


@pytest.fixture(scope="module")
def terms_run(tmp_path_factory, data_root):
    return monoculture.run(_study(["fake:uniform", "fake:constant", "fake:human"]), tmp_path_factory.mktemp("terms"))


def _result(summary, spec):
    return summary.models[spec]["none@default"].tasks["colour_terms"].result


def test_a_constant_population_never_disagrees(terms_run):
    result = _result(terms_run, "fake:constant")
    assert result.internal_disagreement == result.population_disagreement == 0.0
    assert result.entropy_bits == 0.0 and result.hill_q1 == 1.0
    assert all(item.distribution == {"grey": 80} for item in result.items)


def test_a_uniform_population_disagrees_as_often_as_eleven_equal_terms_predict(terms_run):
    result = _result(terms_run, "fake:uniform")
    # Two independent draws from 11 equally likely terms differ with probability 10/11.
    assert result.population_disagreement == pytest.approx(10 / 11, abs=0.02)
    assert result.internal_disagreement == pytest.approx(10 / 11, abs=0.05)
    assert result.null is not None and result.null.indistinguishable


def test_a_population_drawn_from_the_people_has_their_distributions(terms_run):
    people, drawn, uniform = terms_run.human["colour_terms"], _result(terms_run, "fake:human"), \
        _result(terms_run, "fake:uniform")
    # Person i's first block against person j's second is a draw from each of two people: fake:human draws both
    # from the pooled answers, so its population disagreement is the people's, up to sampling.
    low, high = drawn.population_disagreement_ci
    assert low - 0.02 <= people.population_disagreement <= high + 0.02
    # ...but its individuals are no more consistent than strangers, unlike the people (internal 0.43 < 0.74).
    assert drawn.internal_disagreement > people.internal_disagreement + 0.1
    assert drawn.total_variation_to_human < 0.15 < uniform.total_variation_to_human
    ocean = next(item for item in drawn.items if item.item == "ocean")
    assert ocean.modal_answer == "blue" and ocean.modal_share > 0.85  # people: blue 0.952


def test_the_names_colours_give_the_hex_tasks_delta_e(terms_run):
    constant = _result(terms_run, "fake:constant").names_delta_e
    assert constant.internal_delta_e == constant.population_delta_e == 0.0
    uniform = _result(terms_run, "fake:uniform").names_delta_e
    assert uniform.population_delta_e > 30  # eleven far-apart colours
    assert terms_run.human["colour_terms"].names_delta_e.n_words == len(WORDS)


@pytest.mark.parametrize(("output", "stored", "term"), [
    ("White", "white", "white"), ("It is white.", "white", "white"), ("**Light Blue**", "light blue", "blue"),
    ("teal", "teal", None), ("grey", "grey", "grey"), ("Gray.", "grey", "grey"),
])
def test_answers_are_read_into_names_and_terms(data_root, output, stored, term):
    from monoculture.metrics import BASIC_TERMS, colour_names

    task = ColourTermsTask(ColourTermsSpec(words=["ocean", "joy"]))
    parsed = task.parse(Prompt("ocean", 1, "q"), output)
    assert parsed.valid and parsed.value == stored
    assert colour_names()[parsed.value].term in BASIC_TERMS
    if term is not None:
        assert colour_names()[parsed.value].term == term


@pytest.mark.parametrize("output", ["", "I don't know", "happiness", "redemption", "\x00\x1b[31m"])
def test_an_answer_naming_no_colour_is_invalid(data_root, output):
    parsed = ColourTermsTask(ColourTermsSpec(words=["ocean", "joy"])).parse(Prompt("ocean", 1, "q"), output)
    assert not parsed.valid and parsed.reason == "names no colour"


def test_all_words_are_the_199_and_the_essays_marked_without_people(data_root):
    task = ColourTermsTask(ColourTermsSpec())
    assert len(task.words) == 199 + len(ESSAY_WORDS) and "cleanliness" in task.words
    assert set(task.words) - set(task.words_with_people) == set(ESSAY_WORDS)


def test_exact_mode_gives_each_words_whole_distribution_over_the_terms(tmp_path, data_root):
    study = parse_study({"name": "exact", "seed": 1, "models": ["fake:uniform"], "conditions": [{"context": "none"}],
                         "colour_terms": {"individuals": 4, "words": ["ocean", "cleanliness"], "mode": "exact"}})
    result = _result(monoculture.run(study, tmp_path), "fake:uniform")
    # fake:uniform spreads its mass over the 22 choices (each term lower-case and capitalised): 1/11 per term.
    assert set(result.exact_distributions) == {"ocean", "cleanliness"}
    for distribution in result.exact_distributions.values():
        assert len(distribution) == 11 and all(p == pytest.approx(1 / 11) for p in distribution.values())
    assert result.words_without_people == ["cleanliness"]


def test_the_baseline_command_reproduces_the_protocol_figures(data_root):
    done = run_cli("baseline", "colour-terms", "--json")
    assert done.returncode == 0, done.stderr
    reference = json.loads(done.stdout)
    # PROTOCOL "Basic colour terms": internal 0.429, population 0.736 over the 199 words.
    assert round(reference["internal_disagreement"], 3) == 0.429
    assert round(reference["population_disagreement"], 3) == 0.736
    joy = next(item for item in reference["items"] if item["item"] == "joy")
    assert round(joy["internal_disagreement"], 3) == 0.495 and round(joy["population_disagreement"], 3) == 0.815
    assert reference["n_items"] == 199
