"""The paper's published concept-task inputs and results: which file holds which model and condition, where
each is, and the compiled per-cell values the paper reported.

Murthy, Ullman & Hu (2025) ran ten 7B models, five base/aligned pairs, in six conditions each (prompt none,
identity, random or nonsense at the default temperature; none at 1.5 and 2.0). Their ``*-forCRP.csv`` inputs hold
the coded first-order answers of every subject; ``compiled/<model>-ClusteringResults.csv`` the sampler's sweep-499
values, per concept and sub-sample size.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from monoculture.errors import DataError

__all__ = ["bare_name", "FAMILIES", "MODELS", "PUBLISHED_CONDITIONS", "PublishedFile", "compiled_cells", "published_files"]

FOLDER = "murthy2025-onefish-twofish"
# The five pairs (family: base, aligned) and how the aligned one was trained, as the paper lists them.
FAMILIES = {
    "llama2": ("llama2", "llama2-chat", "RLHF"),
    "tulu": ("tulu", "tulu-dpo", "DPO"),
    "mistral": ("mistral-instruct", "zephyr-mistral", "DPO"),
    "gemma": ("gemma-instruct", "zephyr-gemma", "DPO"),
    "openchat": ("openchat", "starling", "RLAIF"),
}
MODELS = tuple(model for base, aligned, _ in FAMILIES.values() for model in (base, aligned))
# (prompt, temperature) as the file names spell them -> monoculture's context and temperature (None: default)
PUBLISHED_CONDITIONS: dict[tuple[str, str], tuple[str, float | None]] = {
    ("none", "default"): ("none", None),
    ("identity", "default"): ("persona", None),
    ("random", "default"): ("random", None),
    ("nonsense", "default"): ("nonsense", None),
    ("none", "1.5"): ("none", 1.5),
    ("none", "2.0"): ("none", 2.0),
}


@dataclass(frozen=True)
class PublishedFile:
    """One model in one condition: its ``*-forCRP.csv`` and where it was found (None: missing)."""

    model: str
    prompt: str
    temperature: str
    path: Path | None

    @property
    def name(self) -> str:
        return f"{self.model}-prompt={self.prompt}-temp={self.temperature}-forCRP.csv"

    @property
    def family(self) -> str:
        return next(family for family, (base, aligned, _) in FAMILIES.items() if self.model in (base, aligned))

    @property
    def aligned(self) -> bool:
        return FAMILIES[self.family][1] == self.model

    @property
    def condition(self) -> str:
        """monoculture's condition label (context@temperature)."""
        from monoculture.population import Condition

        return Condition(*PUBLISHED_CONDITIONS[(self.prompt, self.temperature)]).label


def bare_name(name: str) -> str:
    """The published files name animals with their article ("a robin"); monoculture's targets do not."""
    for article in ("a ", "an "):
        if name.startswith(article):
            return name[len(article):]
    return name


def published_files(root: Path) -> list[PublishedFile]:
    """All 60 inputs in a fixed order (family, base before aligned, condition), each located under ``root``'s
    ``model-forCRP/`` or, for the two the example folder holds, ``model-crp-example/``."""
    folder = root / FOLDER
    files = []
    for model in MODELS:
        for prompt, temperature in PUBLISHED_CONDITIONS:
            name = f"{model}-prompt={prompt}-temp={temperature}-forCRP.csv"
            found = next((path for path in (folder / "model-forCRP" / name, folder / "model-crp-example" / name)
                          if path.is_file()), None)
            files.append(PublishedFile(model, prompt, temperature, found))
    return files


def compiled_cells(root: Path) -> dict[tuple[str, str, str, str], float]:
    """The paper's per-cell values: (model, prompt, temperature, category) -> the mean over concepts and
    sub-sample sizes of 1 − ProbabilityOfSameTable at sweep 499 (cells the paper could not run are absent)."""
    values: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    for model in MODELS:
        path = root / FOLDER / "model-crp-results" / "compiled" / f"{model}-ClusteringResults.csv"
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    key = (model, row["prompt"], row["temperature"], row["concept_category"])
                    values[key].append(1.0 - float(row["ProbabilityOfSameTable"]))
        except OSError as error:
            raise DataError(f"cannot read {path}: {error.strerror}; run `monoculture data fetch`") from None
        except (KeyError, ValueError) as error:
            raise DataError(f"malformed {path.name}: {error}") from None
    return {key: sum(v) / len(v) for key, v in values.items()}
