"""The people's side of a user's questions: their answer distributions from the counts in the file.

Counts carry no replicates, so the people's internal and population disagreement stay undefined; every
distribution measure is computed with the same estimators as the models'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def people_block(counts: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """A categorical result's fields for the people: per question its distribution measures, and their means."""
    from monoculture.metrics import entropy_corrected, entropy_plugin, gini_simpson_unbiased, hill_numbers

    items = []
    for item, distribution in counts.items():
        hill = hill_numbers(distribution)
        ranked = dict(sorted(distribution.items(), key=lambda pair: (-pair[1], pair[0])))
        total = sum(ranked.values())
        modal = next(iter(ranked)) if ranked else None
        items.append({
            "item": item, "n_individuals": 0, "n_answers": total, "internal_disagreement": None,
            "population_disagreement": None, "distance_from_diagonal": None, "signed_difference": None,
            "entropy_bits": entropy_plugin(distribution), "entropy_corrected_bits": entropy_corrected(distribution),
            "gini_simpson": gini_simpson_unbiased(distribution), "hill_q0": hill["q0"], "hill_q1": hill["q1"],
            "hill_q2": hill["q2"], "total_variation_to_human": None, "js_distance_to_human": None,
            "distribution": ranked, "modal_answer": modal, "modal_share": ranked[modal] / total if modal else None})

    def mean(key: str) -> float | None:
        values = [row[key] for row in items if row[key] is not None]
        return sum(values) / len(values) if values else None

    measures = ("entropy_bits", "entropy_corrected_bits", "gini_simpson", "hill_q0", "hill_q1", "hill_q2")
    return {**{key: mean(key) for key in measures}, "n_samples": sum(row["n_answers"] for row in items),
            "n_valid": sum(row["n_answers"] for row in items), "valid_fraction": 1.0, "n_items": len(items),
            "items": items}
