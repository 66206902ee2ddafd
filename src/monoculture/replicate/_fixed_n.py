"""monoculture's recipe at one population size: the converged sampler on the first :data:`FIXED_N` complete subjects
of every concept, the unbiased estimator N/(N − 1) · P(multiple concepts), posterior mean.

Why: P(multiple concepts) of a partition depends on how many people are clustered (the sampler finds more concepts
in more people, and the plug-in is capped at 1 − 1/N), and the published files hold from 0 to 90 complete subjects
per concept; a model whose answers are more often invalid is clustered on fewer people. At one N for every model
and condition, a difference between a base and its aligned model is the models', not their validity's. Concepts with
fewer complete subjects are left out of the cell (and of the paired verdict). docs/methods.md, section 13.
"""

from __future__ import annotations

import os
import zlib
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from monoculture.replicate._import import ReadFile
from monoculture.replicate._published import bare_name

__all__ = ["FIXED_N", "cell_means", "fixed_n_recipe"]

# The paper's smallest sub-sample: 518 of the 880 model × condition × concept populations outside llama2 have it.
FIXED_N = 25
BATCH = 32  # populations per run_crp_many call (each with its chains' tempered replicas)
STREAM = 7  # a seed stream of its own: not the paper recipe's or the summary's draws


def _run_batch(batch: list[tuple[tuple[int, ...], np.ndarray]]) -> list[float]:
    from monoculture.metrics import run_crp_many

    results = run_crp_many([x for _, x in batch], seeds=[seed for seed, _ in batch])
    n = batch[0][1].shape[0]
    return [result.p_multiple_concepts * n / (n - 1) for result in results]


def fixed_n_recipe(read: Sequence[ReadFile], *, n: int = FIXED_N, seed: int = 0, workers: int | None = None
                   ) -> dict[tuple[str, str, str], float]:
    """(model, condition label, concept) -> the unbiased P(multiple concepts) of the concept's first ``n`` complete
    subjects, for every concept that has ``n`` (see the module)."""
    if n < 2:
        raise ValueError(f"a fixed population size needs at least 2 people, got {n}")
    keys: list[tuple[str, str, str]] = []
    populations: list[tuple[tuple[int, ...], np.ndarray]] = []
    for one in read:
        for concept, given in one.inputs.items():
            if given.responses.shape[0] >= n:
                keys.append((one.file.model, one.file.condition, bare_name(concept)))
                # Stable across processes and Python versions (str hashes are salted).
                populations.append(((seed, STREAM, zlib.crc32(one.file.name.encode()), zlib.crc32(concept.encode())),
                                    given.responses[:n]))
    batches = [populations[start:start + BATCH] for start in range(0, len(populations), BATCH)]
    workers = workers or min(len(os.sched_getaffinity(0)), max(len(batches), 1))
    values: list[float] = []
    if workers > 1 and len(batches) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for outcome in pool.map(_run_batch, batches):
                values += outcome
    else:
        for batch in batches:
            values += _run_batch(batch)
    return dict(zip(keys, values))


def cell_means(values: dict[tuple[str, str, str], float]) -> dict[tuple[str, str, str], tuple[float, int]]:
    """(model, condition label, category) -> (the mean over the category's concepts that have a value, how many)."""
    from monoculture.tasks.concepts import category_of

    grouped: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for (model, condition, concept), value in values.items():
        grouped[(model, condition, category_of(concept))].append(value)
    return {key: (float(np.mean(found)), len(found)) for key, found in grouped.items()}
