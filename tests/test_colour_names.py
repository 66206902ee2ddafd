"""The colour-name rule (PROTOCOL.md section 7) and the reader of colour names in free text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from monoculture.metrics import (
    BASIC_TERMS,
    ColourName,
    colour_names,
    hex_to_srgb,
    read_colour_name,
    srgb_to_lab,
    term_of_chip,
    term_of_lab,
)


def _one_term(name: str) -> str | None:
    """The protocol's reading, written out again: the single basic term among a name's words, if exactly one."""
    words = [{"gray": "grey", "violet": "purple"}.get(word, word) for word in re.split(r"[ /]", name)]
    terms = {word for word in words if word in BASIC_TERMS}
    return terms.pop() if len(terms) == 1 else None


def _lab(hex_code: str) -> tuple[float, float, float]:
    return tuple(srgb_to_lab(hex_to_srgb(hex_code)))


# --- the name table ----------------------------------------------------------------------------------------------

def test_basic_terms_are_berlin_and_kays_eleven():
    assert BASIC_TERMS == ("black", "white", "red", "green", "yellow", "blue", "brown", "purple", "pink", "orange",
                           "grey")


def test_the_survey_set_is_519_of_949_names():
    from matplotlib.colors import XKCD_COLORS

    survey = [name.removeprefix("xkcd:") for name in XKCD_COLORS]
    assert len(survey) == 949
    single = [name for name in survey if _one_term(name) is not None]
    assert len(single) == 519  # "blue blue" counts once: one distinct term
    names = colour_names()
    assert all(names[name].term == _one_term(name) for name in single)


def test_every_survey_and_css_name_is_known_in_lower_case_with_the_grey_spelling():
    from matplotlib.colors import CSS4_COLORS, XKCD_COLORS

    names = colour_names()
    expected = {name.removeprefix("xkcd:") for name in XKCD_COLORS} | {name.replace("gray", "grey")
                                                                        for name in CSS4_COLORS}
    assert set(names) == expected and len(names) == 1041
    assert not any("gray" in name for name in names)
    assert all(colour.name == name and colour.term in BASIC_TERMS for name, colour in names.items())
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour.hex) for colour in names.values())
    assert names["lightgrey"].hex == "#d3d3d3" and names["darkslategrey"].term == "grey"


def test_the_survey_colour_wins_over_the_css_colour_of_the_same_name():
    names = colour_names()
    assert names["teal"].hex == "#029386"  # CSS: #008080
    assert names["violet"].hex == "#9a0eea"  # CSS: #ee82ee
    assert names["aliceblue"].hex == "#f0f8ff"  # CSS only


def test_each_basic_term_names_itself():
    names = colour_names()
    for term in BASIC_TERMS:
        assert names[term].term == term
        assert term_of_lab(names[term].lab) == term
    assert names["white"].hex == "#ffffff" and names["black"].hex == "#000000"
    assert term_of_lab(_lab("#ffffff")) == "white" and term_of_lab(_lab("#000000")) == "black"


@pytest.mark.parametrize(("name", "term"), [
    ("navy", "blue"), ("crimson", "red"), ("lavender", "purple"), ("gold", "yellow"), ("ivory", "white"),
    ("maroon", "red"), ("teal", "blue"), ("turquoise", "blue"), ("olive", "green"), ("chocolate", "brown"),
    ("beige", "brown"), ("salmon", "pink"), ("darkred", "red"), ("lime", "green"), ("silver", "grey"),
    ("indigo", "blue"), ("plum", "purple"), ("peach", "orange"), ("burgundy", "red"), ("charcoal", "grey"),
])
def test_names_without_a_basic_term_take_their_nearest_survey_colours_term(name, term):
    colour = colour_names()[name]
    assert colour.term == term
    assert _one_term(name) is None and term_of_lab(colour.lab) == term


def test_names_with_two_terms_are_not_in_the_survey_set_and_go_by_their_colour():
    names = colour_names()
    for name in ("blue green", "purple/pink", "blue violet", "red orange", "yellow/green", "grey blue"):
        assert _one_term(name) is None
        assert names[name].term == term_of_lab(names[name].lab)
    assert names["blue green"].term == "blue" and names["purple/pink"].term == "purple"


def test_a_chromatic_colour_takes_the_term_of_its_nearest_survey_colour():
    assert term_of_lab(_lab("#0000ff")) == "blue"
    assert term_of_lab(_lab("#ff0000")) == "red"
    assert term_of_lab(_lab("#ffa500")) == "orange"
    assert term_of_lab(_lab("#8b4513")) == "brown"
    with pytest.raises(ValueError):
        term_of_lab([1.0, 2.0])


def test_neutral_chips_are_named_by_their_munsell_value():
    # The chips of the human study (derived_munsell_chips_88.csv): N9 (233,232,231) down to N2 (59,58,58).
    assert term_of_chip("N9", "#e9e8e7") == "white"
    assert term_of_chip("N2", "#3b3a3a") == "black"
    for munsell, hex_code in [("N8", "#cacaca"), ("N5", "#888987"), ("N3", "#525251")]:
        assert term_of_chip(munsell, hex_code) == "grey"
    # Why: by nearness the lightest chip would be grey, and the darkest not black.
    assert term_of_lab(_lab("#e9e8e7")) == "grey"
    assert term_of_chip("5PB8/6", "#adccf7") == "blue" and term_of_chip("5R4/14", "#be1a34") == "red"


# --- the reader --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "name"), [
    ("Blue", "blue"), ("Blue.", "blue"), ("blue!", "blue"), ("**Blue**", "blue"), ("BLUE", "blue"),
    ("It is white.", "white"), ("The colour is dark green", "dark green"), ('"Red"', "red"),
    ("light blue", "light blue"), ("Light Blue", "light blue"), ("light-blue", "light blue"),
    ("light_blue", "light blue"), ("  light \n\t blue ", "light blue"), ("sky blue", "sky blue"),
    ("navy", "navy"), ("teal", "teal"), ("Turquoise", "turquoise"), ("Maroon.", "maroon"), ("ivory", "ivory"),
    ("gray", "grey"), ("Grey", "grey"), ("Gray-blue", "grey blue"), ("lightgray", "lightgrey"),
    ("violet", "violet"), ("off-white", "off white"), ("blue/green", "blue/green"), ("blue / green", "blue/green"),
    ("blue-green", "blue green"), ("robin\u2019s egg blue", "robin's egg blue"), ("\uff42\uff4c\uff55\uff45", "blue"),
])
def test_reads_a_colour_name(text, name):
    colour = read_colour_name(text)
    assert colour is not None and colour.name == name
    assert colour == colour_names()[name]


@pytest.mark.parametrize(("text", "name"), [
    ("very dark blue", "very dark blue"),  # itself a survey name
    ("pale pink", "pale pink"), ("bright red", "bright red"), ("deep purple", "deep purple"),
    ("dusky light blue", "light blue"), ("a very very dark teal", "dark teal"), ("soft crimson", "crimson"),
    ("muted sky blue hue", "sky blue"),
])
def test_a_modifier_that_makes_no_known_name_is_dropped(text, name):
    assert read_colour_name(text).name == name


def test_a_basic_term_beats_a_mentioned_thing_then_the_earliest_then_the_longest_name():
    # The cue word echoed: "rose", "tomato", "lemon" are human-study words and colour names.
    assert read_colour_name("The word rose makes me think of red.").name == "red"
    assert read_colour_name("Tomato - I'd say red").name == "red"
    assert read_colour_name("Rose").term == "pink"
    # Earliest: a reply gives its answer first; longest among names that start at the same word.
    assert read_colour_name("Blue, or perhaps light green").name == "blue"
    assert read_colour_name("Light green, or perhaps blue").name == "light green"
    assert read_colour_name("green or blue").name == "green"
    assert read_colour_name("dark blue green").name == "dark blue green"
    assert read_colour_name("Teal, or a bluish green").name == "bluish green"


@pytest.mark.parametrize("text", [
    "", "   ", "I don't know", "happiness", "colourless", "the sky", "The ocean.", "It is dark", "pale", "sand",
    "ice", "mud", "dust", "apple", "grapes", "snow", "barney", "pea soup", "redemption", "bluetooth", "Orangeade",
    "reddit", "greenery", "blackness", "whitewash", "pinkie", "blues", "blue2", "#0000ff", "Blau", "🔵",
])
def test_text_that_names_no_colour_reads_as_none(text):
    assert read_colour_name(text) is None


def test_ordinary_words_are_not_read_alone_but_are_known_and_read_inside_names():
    names = colour_names()
    for word in ("ocean", "sky", "sand", "dark", "pale", "blood", "grass", "apple", "thistle"):
        assert word in names and read_colour_name(word) is None
    assert read_colour_name("The ocean is blue").name == "blue"
    assert read_colour_name("Ocean blue").name == "ocean blue"
    assert read_colour_name("blood red").name == "blood red"
    assert read_colour_name("sandy brown").name == "sandy brown"


def test_every_word_not_read_alone_is_a_known_name():
    from monoculture.metrics._colour_names import _NOT_READ_ALONE

    assert _NOT_READ_ALONE <= set(colour_names())  # a misspelt entry would silently do nothing


def test_colour_words_borrowed_from_things_are_read_alone():
    for word, term in [("lemon", "yellow"), ("peach", "orange"), ("lavender", "purple"), ("gold", "yellow"),
                       ("emerald", "green"), ("chocolate", "brown"), ("cream", "white")]:
        assert read_colour_name(word.capitalize()).term == term


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=())))  # lone surrogates too: model output is untrusted
def test_never_raises_on_any_text(text):
    colour = read_colour_name(text)
    assert colour is None or isinstance(colour, ColourName)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["blue", "light", "-", " ", "/", "gray", "ocean", "x", "**", "\n", "é", "'s"]),
                max_size=12))
def test_never_raises_on_colour_like_text_and_reads_only_known_names(parts):
    colour = read_colour_name("".join(parts))
    assert colour is None or colour_names()[colour.name] == colour


def test_not_a_string_reads_as_none():
    assert read_colour_name(None) is None  # type: ignore[arg-type]
    assert read_colour_name(b"blue") is None  # type: ignore[arg-type]
