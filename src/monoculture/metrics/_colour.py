"""Colour-task metrics: internal vs population ΔE over an unreduced population of answers.

Definitions (docs/methods.md, section 3; Murthy, Ullman & Hu 2025, after Murthy, Griffiths & Hawkins 2022). For one
word, with the *complete* individuals (both replicates valid) put in a fixed order:

* internal ΔE   = mean over individuals i of ΔE(answer1_i, answer2_i);
* population ΔE = mean over pairs i < j of ΔE(answer1_i, answer2_j);
* distance from the diagonal = |population − internal| / √2, signed difference = population − internal.

The order is the natural sort of the individual ids ("2" before "10"; ids that sort alike, such as "p1" and
"p01", by the id itself), so that shuffling the input never changes a number. The i < j estimator is the
published one: with the human participants in ascending id order it gives the published 51.70 / 15.88,
whereas averaging over all ordered pairs i ≠ j gives 51.77 / 15.93. ``population_pairs="all"`` selects that
symmetric estimator, which also does not depend on how individuals are labelled.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from monoculture.metrics._colour_space import delta_e_76, delta_e_2000, hex_to_srgb, srgb_to_lab
from monoculture.metrics._null import diagonal_null

__all__ = ["ColourAnswer", "PopulationPairs", "colour_word_stats", "summarize_colour", "swatches"]

PopulationPairs = Literal["upper", "all"]
_DeltaE = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]
_ROWS_PER_BLOCK = 256


@dataclass(frozen=True)
class ColourAnswer:
    """One answer of one individual to one word: ``hex`` is ``"#rrggbb"``, or None for an invalid answer."""

    individual: str
    word: str
    replicate: int
    hex: str | None

    def __post_init__(self) -> None:
        if self.replicate not in (1, 2):
            raise ValueError(f"replicate must be 1 or 2, got {self.replicate!r}")


@dataclass(frozen=True)
class _WordStats:
    """One word's numbers under one ΔE formula; ``population`` is None with fewer than 2 complete individuals."""

    n_complete: int
    internal: float | None
    population: float | None

    @property
    def has_population(self) -> bool:
        return self.population is not None and self.internal is not None


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that orders digit runs by value: ``"p2" < "p10"``; distinct ids never get equal keys."""
    # re.split with a capturing group alternates text, digits, text, ...: positions never mix types.
    parts = tuple(int(part) if index % 2 else part for index, part in enumerate(re.split(r"(\d+)", text)))
    # "p1" and "p01" (or "p١") split alike: without the id itself their order would follow the input's.
    return (parts, text)


def _complete_pairs(answers: Iterable[ColourAnswer]) -> tuple[dict[str, list[tuple[str, str]]], int, int, set[str]]:
    """Per word, the (hex1, hex2) of every complete individual in natural id order; plus counts."""
    seen: dict[tuple[str, str, int], str | None] = {}
    individuals: set[str] = set()
    n_samples = n_valid = 0
    for answer in answers:
        key = (answer.word, answer.individual, answer.replicate)
        if key in seen:
            # An unreduced population has one answer per (individual, word, replicate); a repeat is a bug upstream.
            raise ValueError(f"two answers for individual {answer.individual!r}, word {answer.word!r}, "
                             f"replicate {answer.replicate}")
        seen[key] = answer.hex
        individuals.add(answer.individual)
        n_samples += 1
        n_valid += answer.hex is not None
    by_word: dict[str, list[tuple[str, str, str]]] = {}
    for (word, individual, replicate), first in seen.items():
        by_word.setdefault(word, [])
        if replicate != 1 or first is None:
            continue
        second = seen.get((word, individual, 2))
        if second is not None:
            by_word[word].append((individual, first, second))
    ordered = {word: [(h1, h2) for _, h1, h2 in sorted(rows, key=lambda row: natural_key(row[0]))]
               for word, rows in by_word.items()}
    return ordered, n_samples, n_valid, individuals


def _word_stats(lab1: NDArray[np.float64], lab2: NDArray[np.float64], delta_e: _DeltaE,
                pairs: PopulationPairs) -> _WordStats:
    n = len(lab1)
    if n == 0:
        return _WordStats(0, None, None)
    internal = float(np.mean(delta_e(lab1, lab2)))
    if n < 2:
        return _WordStats(n, internal, None)
    # cross[i, j] = ΔE(answer1_i, answer2_j), computed a block of rows at a time so that memory stays linear in
    # the number of individuals (the whole matrix of 10,000 individuals would take gigabytes per word).
    total = 0.0
    for start in range(0, n, _ROWS_PER_BLOCK):
        cross = delta_e(lab1[start:start + _ROWS_PER_BLOCK, None, :], lab2[None, :, :])
        rows = np.arange(start, start + len(cross))[:, None]
        keep = np.arange(n)[None, :] > rows if pairs == "upper" else np.arange(n)[None, :] != rows
        total += float(cross[keep].sum())
    population = total / (n * (n - 1) / 2 if pairs == "upper" else n * (n - 1))
    return _WordStats(n, internal, population)


_DELTA_E: dict[str, _DeltaE] = {"76": delta_e_76, "2000": delta_e_2000}


def colour_word_stats(answers: Iterable[ColourAnswer], *, delta_e: Literal["76", "2000"] = "76",
                      population_pairs: PopulationPairs = "upper") -> dict[str, dict[str, float | int | None]]:
    """Per word: complete individuals, internal ΔE, population ΔE, distance from the diagonal, signed difference.

    ΔE is CIE 1976 (``"76"``, the paper's) or CIEDE2000 (``"2000"``), on CIELAB under D65; every value is
    0 or more, and population above internal means individuals are consistent but differ from each other
    (docs/methods.md, section 3). Words with fewer than 2 complete individuals get None for the population numbers.
    """
    pairs_by_word, *_ = _complete_pairs(answers)
    return _stats_by_word(pairs_by_word, _DELTA_E[delta_e], population_pairs)


def _stats_by_word(pairs_by_word: Mapping[str, Sequence[tuple[str, str]]], delta_e: _DeltaE,
                   population_pairs: PopulationPairs) -> dict[str, dict[str, float | int | None]]:
    lab = _lab_lookup(h for pairs in pairs_by_word.values() for pair in pairs for h in pair)
    result: dict[str, dict[str, float | int | None]] = {}
    for word, pairs in pairs_by_word.items():
        lab1 = np.array([lab[h1] for h1, _ in pairs]).reshape(-1, 3)
        lab2 = np.array([lab[h2] for _, h2 in pairs]).reshape(-1, 3)
        stats = _word_stats(lab1, lab2, delta_e, population_pairs)
        signed = stats.population - stats.internal if stats.has_population else None  # type: ignore[operator]
        result[word] = {
            "n_individuals": stats.n_complete,
            "internal_delta_e": stats.internal,
            "population_delta_e": stats.population,
            "distance_from_diagonal": abs(signed) / math.sqrt(2) if signed is not None else None,
            "signed_difference": signed,
        }
    return result


def _lab_lookup(hex_codes: Iterable[str]) -> dict[str, NDArray[np.float64]]:
    """CIELAB of each distinct hex code, converted in one vectorised call."""
    unique = sorted(set(hex_codes))
    if not unique:
        return {}
    lab = srgb_to_lab(np.array([hex_to_srgb(h) for h in unique], dtype=float))
    return dict(zip(unique, lab))


def _bootstrap_means(columns: Mapping[str, NDArray[np.float64]], n_bootstrap: int,
                     seed: int) -> dict[str, list[float] | None]:
    """95% percentile intervals of each column's mean, resampling words with replacement (same draws for all)."""
    n = len(next(iter(columns.values())))
    if n < 2 or n_bootstrap < 1:
        return {name: None for name in columns}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_bootstrap, n))
    return {name: [float(v) for v in np.percentile(values[draws].mean(axis=1), [2.5, 97.5])]
            for name, values in columns.items()}


_MEASURES = ("internal_delta_e", "population_delta_e", "distance_from_diagonal", "signed_difference")


def _means(words: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    return {m: (float(np.mean([w[m] for w in words])) if words else None) for m in _MEASURES}


def summarize_colour(answers: Iterable[ColourAnswer], word_types: Mapping[str, str], *, n_bootstrap: int = 2000,
                     seed: int = 0, population_pairs: PopulationPairs = "upper",
                     null_permutations: int = 200) -> dict[str, Any]:
    """The numbers of a ColourResult (``docs/summary-schema.md``) without ``mode`` and ``swatches``.

    Means are over words that have a population ΔE (at least 2 complete individuals); the others are
    counted in ``n_words_excluded`` and listed with None. Intervals are 95% percentile bootstraps over
    words (``n_bootstrap`` draws from ``numpy.random.default_rng(seed)``). ΔE76 on CIELAB (D65) unless
    a key says otherwise; all ΔE values are 0 or more. Distance from the diagonal 0 means a homogeneous
    population (individuals indistinguishable from one shared distribution); humans score 15.88
    (docs/methods.md, section 3, Murthy, Ullman & Hu 2025). ``word_types`` maps every answered word to its type.
    """
    answers = list(answers)
    pairs_by_word, n_samples, n_valid, individuals = _complete_pairs(answers)
    untyped = sorted(set(pairs_by_word) - set(word_types))
    if untyped:
        raise ValueError(f"no word type for {len(untyped)} word(s), e.g. {untyped[:3]}")
    stats76 = _stats_by_word(pairs_by_word, delta_e_76, population_pairs)
    stats2000 = _stats_by_word(pairs_by_word, delta_e_2000, population_pairs)

    words = [{"word": w, "word_type": word_types[w], **stats76[w]} for w in sorted(stats76)]
    included = [w for w in words if w["population_delta_e"] is not None]
    block: dict[str, Any] = {}
    intervals = _bootstrap_means({m: np.array([w[m] for w in included], float) for m in _MEASURES},
                                 n_bootstrap, seed)
    for measure, mean in _means(included).items():
        block[measure] = mean
        block[f"{measure}_ci"] = intervals[measure]
    n_complete = [w["n_individuals"] for w in words]
    block.update({
        "population_pairs": population_pairs,
        "valid_fraction": n_valid / n_samples if n_samples else None,
        "n_samples": n_samples,
        "n_valid": n_valid,
        "n_individuals": len(individuals),
        "n_words": len(included),
        "n_words_excluded": len(words) - len(included),
        "n_per_word": {"min": min(n_complete), "max": max(n_complete)} if n_complete else {"min": 0, "max": 0},
        "by_word_type": _by_word_type(included),
        "ciede2000": _ciede2000(stats2000, [w["word"] for w in included]),
        "null": _null(pairs_by_word, [w["word"] for w in included], null_permutations, seed, population_pairs),
        "words": words,
    })
    return block


def _null(pairs_by_word: Mapping[str, Sequence[tuple[str, str]]], included: Sequence[str], permutations: int,
          seed: int, population_pairs: PopulationPairs) -> dict[str, Any] | None:
    """The distance a homogeneous population of the same size would get (see ``_null``), on the included words."""
    lab = _lab_lookup(h for word in included for pair in pairs_by_word[word] for h in pair)
    words = {word: (np.array([lab[h1] for h1, _ in pairs_by_word[word]]).reshape(-1, 3),
                    np.array([lab[h2] for _, h2 in pairs_by_word[word]]).reshape(-1, 3)) for word in included}
    return diagonal_null(words, delta_e_76, permutations=permutations, seed=seed, pairs=population_pairs)


def _by_word_type(included: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for word_type in sorted({w["word_type"] for w in included}):
        group = [w for w in included if w["word_type"] == word_type]
        means = _means(group)
        result[word_type] = {m: means[m] for m in _MEASURES[:3]} | {"n_words": len(group)}
    return result


def _ciede2000(stats: Mapping[str, Mapping[str, Any]], included: Sequence[str]) -> dict[str, float | None]:
    # The same words as the ΔE76 means, so the two blocks stay comparable.
    means = _means([stats[w] for w in included])
    return {m: means[m] for m in _MEASURES[:3]}


def swatches(answers: Iterable[ColourAnswer], words: Iterable[str], limit: int = 24) -> dict[str, list[str]]:
    """Up to ``limit`` valid replicate-1 hex answers per word, individuals in natural id order (for display)."""
    wanted = list(words)
    chosen: dict[str, list[tuple[tuple[Any, ...], str]]] = {w: [] for w in wanted}
    for answer in answers:
        if answer.replicate == 1 and answer.hex is not None and answer.word in chosen:
            chosen[answer.word].append((natural_key(answer.individual), answer.hex))
    return {w: [h for _, h in sorted(chosen[w], key=lambda item: item[0])[:limit]] for w in wanted}
