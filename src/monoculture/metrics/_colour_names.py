"""Colour names and the 11 basic colour terms: which term a colour or a written colour name falls under.

The rule is PROTOCOL.md section 7 (basic terms after Berlin & Kay 1969; names from the XKCD colour survey as
matplotlib ships them, ``matplotlib.colors.XKCD_COLORS``, and the CSS colour keywords, ``CSS4_COLORS``):

* A name is split into words on spaces and "/"; "gray" is read as grey and "violet" as purple.
* The **survey set** is the 519 of the 949 survey names that contain exactly one basic term ("light blue",
  "dark grey", "blue blue"), each at its sRGB colour in CIELAB (D65, 2°, colour-science).
* A **known name** with exactly one basic term takes that term. Any other known name, including one with two
  terms ("blue green", "purple/pink") and a CSS name ("teal", "maroon", "darkred"), takes the term of its
  nearest survey colour by ΔE76, as **a chromatic colour** does (:func:`term_of_lab`).
* **Neutral Munsell chips** take their term from their value (:func:`term_of_chip`): the survey set has almost
  no whites or blacks, so nearness would call the lightest chip, N9, grey.

Known names are lower case with the grey spelling ("darkgray" is kept as "darkgrey"). Where the survey and CSS
give the same name different colours (46 names: "teal" is #029386 in the survey, #008080 in CSS) the survey
colour wins: it is what people meant by the name, and the survey set it is judged against comes from it.

:func:`read_colour_name` reads the colour that untrusted free text names. The text is lower-cased and split
into words (any character that is not a letter or digit separates words, so "light-blue" and "**Blue**" read
like "light blue" and "blue", and "redemption" or "bluetooth" never contain "red" or "blue"; "/" is kept as a
word of its own so that "blue/green" reads as the survey's "blue/green"; Unicode is NFKC-normalised, so
full-width letters read too). Among the known names found as whole word sequences, the reader prefers

1. a name with a basic term in it: in "The word rose makes me think of red" the writer names red and echoes
   the word they were asked about ("rose", "tomato", "lemon" are among the human study's words);
2. then the earliest: a reply gives its answer first ("Blue, or perhaps light green" reads as blue);
3. then, among names starting at the same word, the longest: "very dark blue" reads as the survey's "very dark
   blue" and "light blue" beats "blue". A modifier that makes no known name is dropped and the inner name is
   read ("dusky light blue" reads as "light blue").

A one-word name that chiefly names something else is never read on its own: the survey's colour "ocean",
"sky", "sand" or "dark" would make "the ocean is calm" or "it is dark" name a colour. These words
(:data:`_NOT_READ_ALONE`: places, weather and times of day, substances and body products, plants and foods
that come in several colours, animals, a cartoon character, and bare modifiers, plus four survey phrases such as
"pea soup") still read inside longer names ("ocean blue", "sky blue", "sandy brown"), and they keep their term
in :func:`colour_names`. Colour words taken from things that English uses alone as colour names (lemon, peach,
rose, lavender, gold, emerald, chocolate) are read. This list is a judgment; the tests pin its consequences.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from monoculture.metrics._colour_space import delta_e_76, hex_to_srgb, srgb_to_lab

__all__ = ["BASIC_TERMS", "ColourName", "colour_names", "read_colour_name", "term_of_chip", "term_of_lab"]

BASIC_TERMS: tuple[str, ...] = (
    "black", "white", "red", "green", "yellow", "blue", "brown", "purple", "pink", "orange", "grey",
)
_READ_AS = {"gray": "grey", "violet": "purple"}

# One-word survey or CSS names (and four survey phrases) that name something else first; see the docstring.
_NOT_READ_ALONE = frozenset({
    # places, landscape, weather and times of day
    "desert", "earth", "forest", "ocean", "sea", "sky", "swamp", "ice", "snow", "dusk", "twilight", "midnight",
    "marine", "peru",
    # substances, materials and dirt
    "adobe", "brick", "cement", "clay", "dirt", "dust", "leather", "linen", "mud", "petrol", "putty", "sand",
    "sandstone", "steel", "stone", "straw", "velvet", "camo",
    # the body and what comes out of it
    "bile", "blood", "booger", "bruise", "diarrhea", "poo", "poop", "puke", "shit", "snot", "vomit",
    # plants, fruits and foods that come in several colours or are not named for one
    "algae", "apple", "asparagus", "banana", "berry", "bisque", "blueberry", "bubblegum", "butter", "carnation",
    "celery", "custard", "dandelion", "evergreen", "fern", "grape", "grapefruit", "grass", "heather",
    "honeydew", "iris", "kiwi", "leaf", "lichen", "melon", "moss", "mushroom", "pea", "pear", "pine",
    "seaweed", "shamrock", "spruce", "squash", "strawberry", "sunflower", "tea", "thistle", "watermelon",
    # animals, things and a purple dinosaur
    "camel", "canary", "moccasin", "seashell", "barney",
    # bare modifiers
    "bland", "dark", "drab", "pale", "royal",
    # survey phrases that are food or dirt
    "baby poo", "baby poop", "macaroni and cheese", "pea soup",
})
# A word is a run of letters or digits, with inner apostrophes ("robin's"); "/" is a word of its own.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*|/")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


@dataclass(frozen=True)
class ColourName:
    """A known colour name: ``name`` as the name table writes it, ``hex`` ``"#rrggbb"``, ``term`` a basic term.

    ``lab`` is the colour in CIELAB (D65, 2°).
    """

    name: str
    hex: str
    term: str
    lab: tuple[float, float, float] = field(repr=False, compare=False)


def _words(name: str) -> list[str]:
    return _WORD.findall(name.translate(_APOSTROPHES))


def _terms_in(name: str) -> set[str]:
    """The basic terms among a name's words (split on spaces and "/"), reading gray as grey and violet as purple."""
    return {_READ_AS.get(word, word) for word in re.split(r"[ /]", name)} & set(BASIC_TERMS)


def _labs(hex_codes: list[str]) -> NDArray[np.float64]:
    return srgb_to_lab(np.array([hex_to_srgb(code) for code in hex_codes], dtype=float)).reshape(-1, 3)


@lru_cache(maxsize=1)
def _survey_set() -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """The survey set's CIELAB colours, shape (519, 3), and their terms, in matplotlib's order."""
    from matplotlib.colors import XKCD_COLORS  # lazy: matplotlib is slow to import

    survey = [(name.removeprefix("xkcd:"), hex_code.lower()) for name, hex_code in XKCD_COLORS.items()]
    chosen = [(name, hex_code) for name, hex_code in survey if len(_terms_in(name)) == 1]
    labs = _labs([hex_code for _, hex_code in chosen])
    return labs, tuple(_terms_in(name).pop() for name, _ in chosen)


def _nearest_terms(labs: NDArray[np.float64]) -> list[str]:
    """The term of the nearest survey colour (ΔE76) to each CIELAB colour of an ``(n, 3)`` array."""
    survey_labs, survey_terms = _survey_set()
    distances = delta_e_76(labs[:, None, :], survey_labs[None, :, :])
    return [survey_terms[index] for index in np.argmin(distances, axis=1)]


def term_of_lab(lab: ArrayLike) -> str:
    """The basic term of a chromatic colour given in CIELAB (D65): that of its nearest survey colour by ΔE76.

    Ties go to the survey colour that matplotlib lists first. Neutral chips are named by
    :func:`term_of_chip` instead.
    """
    values = np.asarray(lab, dtype=np.float64)
    if values.shape != (3,):
        raise ValueError(f"a CIELAB colour has 3 values, got shape {values.shape}")
    return _nearest_terms(values[None, :])[0]


@lru_cache(maxsize=256)
def term_of_chip(munsell: str, hex: str) -> str:
    """The basic term of a Munsell chip: neutral chips by value, all others by :func:`term_of_lab`.

    N9 (and anything lighter) is white, N2 (and anything darker) black, N3 to N8 grey (PROTOCOL.md section 7).
    ``hex`` is the chip's sRGB colour, ``"#rrggbb"``.
    """
    neutral = re.fullmatch(r"N\s*(\d+(?:\.\d+)?)\s*(?:/\s*0?)?", munsell.strip(), flags=re.IGNORECASE)
    if neutral is not None:
        value = float(neutral.group(1))
        return "white" if value >= 9 else "black" if value <= 2 else "grey"
    return term_of_lab(srgb_to_lab(hex_to_srgb(hex)))


@lru_cache(maxsize=1)
def colour_names() -> Mapping[str, ColourName]:
    """Every known colour name (949 survey names and the CSS keywords not among them), lower case, grey spelling.

    Each name's term follows PROTOCOL.md section 7: its one basic term if it has exactly one, else its nearest
    survey colour's. Where the survey and CSS disagree on a name's colour the survey's is used. Computed once
    (about 0.05 s once colour-science is imported).
    """
    from matplotlib.colors import CSS4_COLORS, XKCD_COLORS  # lazy: matplotlib is slow to import

    # CSS spells every grey both ways with one colour; the survey's names come last so that they win.
    table = {name.replace("gray", "grey"): hex_code.lower() for name, hex_code in CSS4_COLORS.items()}
    table.update((name.removeprefix("xkcd:"), hex_code.lower()) for name, hex_code in XKCD_COLORS.items())
    names = list(table)
    labs = _labs([table[name] for name in names])
    nearest = _nearest_terms(labs)
    built = {}
    for name, lab, near in zip(names, labs, nearest):
        terms = _terms_in(name)
        term = terms.pop() if len(terms) == 1 else near
        built[name] = ColourName(name=name, hex=table[name], term=term,
                                 lab=(float(lab[0]), float(lab[1]), float(lab[2])))
    return MappingProxyType(built)


@lru_cache(maxsize=1)
def _readable() -> tuple[dict[tuple[str, ...], ColourName], int]:
    """The names the reader looks for, keyed by their words, and the most words any of them has."""
    readable = {tuple(_words(name)): colour for name, colour in colour_names().items() if name not in _NOT_READ_ALONE}
    return readable, max(len(words) for words in readable)


def read_colour_name(text: str) -> ColourName | None:
    """The known colour name that free text names, or None if it names none; never raises on a ``str``.

    Prefers a name with a basic term in it, then the earliest, then the longest (see the module docstring):
    "Light-Blue." reads as "light blue", "It is navy" as "navy", "Rose: red" as "red", "very pale pink" as the
    survey's "very pale pink", "the sky" and "redemption" as None.
    """
    if not isinstance(text, str):
        return None
    readable, most_words = _readable()
    words = [word.replace("gray", "grey") for word in _words(unicodedata.normalize("NFKC", text).lower())]
    best: tuple[tuple[bool, int, int], ColourName] | None = None
    for start in range(len(words)):
        for length in range(1, min(most_words, len(words) - start) + 1):
            colour = readable.get(tuple(words[start:start + length]))
            if colour is None:
                continue
            rank = (not _terms_in(colour.name), start, -length)
            if best is None or rank < best[0]:
                best = (rank, colour)
    return None if best is None else best[1]
