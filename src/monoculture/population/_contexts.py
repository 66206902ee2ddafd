"""Context texts for the random, nonsense and persona conditions.

The paper's exact contexts come from ``murthy2025-onefish-twofish/prompts/{color,concept}-task-prompts.csv``
(one row per simulated individual; columns random, nonsense, identity). Personas for populations beyond
those rows come from :func:`generate_persona`, with the paper's attribute lists.
"""

from __future__ import annotations

import csv
import random
from functools import lru_cache

from monoculture.errors import DataError, StudyFileError
from monoculture.reference import data_file

CONTEXT_KINDS = ("none", "random", "nonsense", "persona")
_PROMPT_FILES = {
    "colour": "murthy2025-onefish-twofish/prompts/color-task-prompts.csv",
    "concepts": "murthy2025-onefish-twofish/prompts/concept-task-prompts.csv",
}
_COLUMNS = {"random": "random", "nonsense": "nonsense", "persona": "identity"}

RACES = ("a Black", "an Asian", "a White", "a Hispanic", "a Native American",
         "a Native Hawaiian or other Pacific Islander")
GENDERS = ("man", "woman", "non-binary person")
HOMETOWNS = ("from a small town", "from a big city", "from a rural area")
STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
    "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
    "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi",
    "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico",
    "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania",
    "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont",
    "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
)
AGES = ("a Baby Boomer (age 59 to 77)", "a Millennial (age 27 to 42)",
        "a member of Generation Z (age 18 to 26)", "a member of Generation X (age 43-58)")
OCCUPATIONS = ("a teacher", "a doctor", "a lawyer", "a farmer", "a construction worker",
               "a software engineer", "a painter", "a musician", "a writer", "a gardener", "a cook",
               "a photographer")


def generate_persona(rng: random.Random) -> str:
    """A new persona in the paper's template, drawn from the paper's attribute lists."""
    return (f"You are {rng.choice(RACES)} {rng.choice(GENDERS)} {rng.choice(HOMETOWNS)} in "
            f"{rng.choice(STATES)} who is {rng.choice(AGES)} and works as {rng.choice(OCCUPATIONS)}.")


@lru_cache(maxsize=4)
def paper_contexts(domain: str) -> dict[str, tuple[str, ...]]:
    """The paper's contexts for a domain (``colour`` or ``concepts``), one per simulated individual."""
    path = data_file(_PROMPT_FILES[domain])
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = set(_COLUMNS.values()) - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"{path} lacks the columns {sorted(missing)}: run `monoculture data fetch` to restore it")
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path} cannot be read as UTF-8 CSV ({type(error).__name__}): run `monoculture data fetch` "
                        "to restore it") from None
    # The experiment script replaced newlines in the Wikipedia sentences with spaces.
    return {kind: tuple(" ".join(row[column].split()) for row in rows) for kind, column in _COLUMNS.items()}


def contexts_for(kind: str, count: int, *, domain: str, source: str, seed: int) -> list[str]:
    """``count`` context texts of one kind.

    ``source="paper"`` takes the paper's rows in order (an error if the study asks for more individuals
    than the paper had); ``source="generated"`` draws new personas (persona condition only).
    """
    if kind == "none":
        return [""] * count
    if source == "generated":
        if kind != "persona":
            raise StudyFileError(f"context source 'generated' exists only for personas, not {kind!r}: "
                                 "use source = \"paper\"")
        rng = random.Random(f"persona:{seed}")
        return [generate_persona(rng) for _ in range(count)]
    available = paper_contexts(domain)[kind]
    if count > len(available):
        hint = " or contexts = \"generated\"" if kind == "persona" else ""
        raise StudyFileError(f"the paper has {len(available)} {kind} contexts for the {domain} task but the study "
                             f"asks for {count} individuals: lower the population size{hint}")
    return list(available[:count])
