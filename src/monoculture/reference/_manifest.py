"""The data manifest: every human data file monoculture reads, its origin and its sha256.

The entries live in ``manifest.json`` beside this module. A file is either a **copy** of a file in a public
GitHub repository at a pinned commit, or **derived** by a named recipe (``_derive.py``) from other manifest
files; either way its bytes must hash to the recorded sha256. Each file belongs to a group: ``human`` (the
people's data every study compares with: fetched and verified by default) or ``published-answers`` (the concept-task
answers of the ten models of Murthy, Ullman & Hu 2025, for ``monoculture replicate murthy2025``: fetched on request).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["DEFAULT_GROUPS", "GROUPS", "ManifestEntry", "manifest"]

GROUPS = ("human", "published-answers")
DEFAULT_GROUPS = ("human",)


@dataclass(frozen=True)
class ManifestEntry:
    """One data file: ``path`` relative to the data root, and either a GitHub source or a derivation recipe."""

    path: str
    sha256: str
    size: int
    repo: str | None = None
    commit: str | None = None
    source_path: str | None = None
    derive: str | None = None
    inputs: tuple[str, ...] = ()
    group: str = "human"

    @property
    def is_derived(self) -> bool:
        """True when the file is computed from other manifest files rather than downloaded."""
        return self.derive is not None


@cache
def _entries() -> tuple[ManifestEntry, ...]:
    raw = json.loads(resources.files("monoculture.reference").joinpath("manifest.json").read_text("utf-8"))
    entries = [ManifestEntry(**{**item, "inputs": tuple(item.get("inputs", ()))}) for item in raw["files"]]
    return tuple(sorted(entries, key=lambda entry: entry.is_derived))


def manifest(groups: tuple[str, ...] | None = DEFAULT_GROUPS) -> tuple[ManifestEntry, ...]:
    """The manifest entries of ``groups`` (default: the people's data; None: all), downloaded files first and
    derived files after the files they derive from."""
    return tuple(entry for entry in _entries() if groups is None or entry.group in groups)
