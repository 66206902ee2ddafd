"""The paper's recipe for P(multiple concepts), as Murthy, Ullman & Hu (2025) ran it on their models.

Per model, condition and concept: the sampler run on the first 25, 50, 75 and 100 complete subjects (each size
capped at the number available, so a concept with 12 complete subjects is run on 12 four times), with the
published sampler's moves (one chain from everyone alone, Gibbs only, 500 sweeps, α 0.16) and its value at sweep
499; per cell (model × condition × category) the mean over concepts and the four runs. docs/methods.md, section 13.

Runs of the same size are sampled together (:func:`monoculture.metrics.run_crp_many` draws exactly the numbers a
run of its own would), and the batches are spread over processes.
"""

from __future__ import annotations

import os
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from monoculture.replicate._published import PublishedFile, bare_name

__all__ = ["PAPER_MOVES", "PaperCell", "paper_recipe"]

# The published sampler: one chain from everyone alone, single-person Gibbs moves, no tempering.
PAPER_MOVES = {"chains": 1, "split_merge": 0.0, "tempered_sweeps": 0, "starts": ("alone",)}
PAPER_SWEEPS, PAPER_BURN_IN, PAPER_SWEEP = 500, 100, 499
BATCH = 48  # populations per run_crp_many call: a unit of work per process, little memory


@dataclass(frozen=True)
class PaperCell:
    """One model × condition × category under the paper's recipe."""

    model: str
    prompt: str
    temperature: str
    category: str
    p_multiple_concepts: float | None  # mean over its concepts and their four runs (None: no complete subject)
    by_concept: dict[str, float]
    complete_subjects: dict[str, int]  # per concept, the subjects with all 36 answers valid
    incomplete_subjects: dict[str, int]


def _seed(seed: int, file: PublishedFile, concept: str, run: int) -> tuple[int, ...]:
    # Stable across processes and Python versions (str hashes are salted).
    return (seed, zlib.crc32(file.name.encode()), zlib.crc32(concept.encode()), run)


def _run_batch(batch: list[tuple[tuple[int, ...], np.ndarray]]) -> list[float]:
    from monoculture.metrics import run_crp_many

    results = run_crp_many([x for _, x in batch], seeds=[seed for seed, _ in batch], sweeps=PAPER_SWEEPS,
                           burn_in=PAPER_BURN_IN, **PAPER_MOVES)
    return [result.single_sweep(PAPER_SWEEP) for result in results]


def paper_recipe(files: Sequence[PublishedFile], *, seed: int = 0, sizes: Sequence[int] = (25, 50, 75, 100),
                 workers: int | None = None, targets: Sequence[str] | None = None,
                 inputs: Mapping[str, dict] | None = None) -> list[PaperCell]:
    """The paper's per-cell P(multiple concepts) for every located file (on ``targets``, default all 20; see the
    module). ``inputs``: the files' answers already read (file name -> concept -> CRPInput), so a file is read
    once."""
    from monoculture.tasks.concepts import category_of, read_crp_input

    jobs: list[tuple[int, str, int]] = []  # (file index, concept, run) per population
    populations: list[tuple[tuple[int, ...], np.ndarray]] = []
    chosen = {}
    for index, file in enumerate(files):
        if file.path is None:
            continue
        read = inputs[file.name] if inputs is not None and file.name in inputs else read_crp_input(file.path)
        chosen[index] = {c: given for c, given in read.items() if targets is None or bare_name(c) in targets}
        for concept, given in chosen[index].items():
            available = given.responses.shape[0]
            for run, size in enumerate(sizes):
                if available:
                    jobs.append((index, concept, run))
                    populations.append((_seed(seed, file, concept, run), given.responses[:min(size, available)]))
    by_size: dict[int, list[int]] = defaultdict(list)
    for position, (_, x) in enumerate(populations):
        by_size[x.shape[0]].append(position)
    batches = [members[start:start + BATCH] for members in by_size.values()
               for start in range(0, len(members), BATCH)]
    batches.sort(key=lambda members: -len(members) * populations[members[0]][1].shape[0])  # longest first
    values = np.full(len(populations), np.nan)
    workers = workers or min(len(os.sched_getaffinity(0)), max(len(batches), 1))
    if workers > 1 and len(batches) > 1:
        with ProcessPoolExecutor(workers) as pool:
            outcomes = pool.map(_run_batch, [[populations[p] for p in members] for members in batches])
            for members, outcome in zip(batches, outcomes):
                values[members] = outcome
    else:
        for members in batches:
            values[members] = _run_batch([populations[p] for p in members])

    per_concept: dict[tuple[int, str], list[float]] = defaultdict(list)
    for (index, concept, _), value in zip(jobs, values):
        per_concept[(index, concept)].append(float(value))
    cells = []
    for index, read in chosen.items():
        file = files[index]
        for category in ("animals", "politicians"):
            concepts = [c for c in read if category_of(bare_name(c)) == category]
            by_concept = {c: float(np.mean(per_concept[(index, c)])) for c in concepts if per_concept[(index, c)]}
            cells.append(PaperCell(
                model=file.model, prompt=file.prompt, temperature=file.temperature, category=category,
                p_multiple_concepts=float(np.mean(list(by_concept.values()))) if by_concept else None,
                by_concept=by_concept, complete_subjects={c: read[c].responses.shape[0] for c in concepts},
                incomplete_subjects={c: read[c].n_incomplete for c in concepts}))
    return cells

