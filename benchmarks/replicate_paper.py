"""The paper's recipe on its published answers: how long it takes, how far repeated runs land apart, and how
close it comes to the paper's own compiled values.

Run: ``python benchmarks/replicate_paper.py [--seeds 3] [--workers N]``. Inputs: every ``*-forCRP.csv`` the data
folder holds (``$MONOCULTURE_DATA``; CI has 50 of the 60, ``monoculture data fetch --group published-answers``
gets all) and ``model-crp-results/compiled/``.

Prints the time of one full run of the recipe, then per cell (model × condition × category) the spread of the
seeds' values (largest minus smallest) and of every pair of seeds (|a − b|) at its median, 90th and 95th
percentile and maximum. The 95th percentile of |a − b| is the run-to-run spread the replication test allows
between one run and the paper's (itself one run of the same sampler): a correct recipe lands within it on about 95%
of cells. Last, per seed, the share of cells within that spread of the compiled value.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from monoculture.reference import data_root
from monoculture.replicate._paper import paper_recipe
from monoculture.replicate._published import compiled_cells, published_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    root = Path(data_root())
    files = published_files(root)
    present = [f for f in files if f.path is not None]
    print(f"{len(present)} of {len(files)} published files present")
    runs = []
    for seed in range(args.seeds):
        started = time.perf_counter()
        cells = paper_recipe(files, seed=seed, workers=args.workers)
        print(f"seed {seed}: {time.perf_counter() - started:.1f} s for {len(cells)} cells")
        runs.append({(c.model, c.prompt, c.temperature, c.category): c.p_multiple_concepts for c in cells
                     if c.p_multiple_concepts is not None})
    keys = sorted(set.intersection(*(set(run) for run in runs)))
    spread = np.array([max(run[k] for run in runs) - min(run[k] for run in runs) for k in keys])
    pairs = np.array([abs(a[k] - b[k]) for a, b in itertools.combinations(runs, 2) for k in keys])
    for label, values in (("max - min over seeds", spread), ("|a - b| of two seeds", pairs)):
        p50, p90, p95 = np.percentile(values, [50, 90, 95])
        print(f"{label}: median {p50:.4f}, 90th {p90:.4f}, 95th {p95:.4f}, max {values.max():.4f} "
              f"({len(keys)} cells)")
    allowed = float(np.percentile(pairs, 95))
    published = compiled_cells(root)
    for seed, run in enumerate(runs):
        shared = [k for k in run if k in published]
        within = sum(abs(run[k] - published[k]) <= allowed for k in shared)
        print(f"seed {seed}: {within} of {len(shared)} cells within {allowed:.4f} of the compiled value "
              f"({within / len(shared):.0%})")
    widest = sorted(zip(spread, keys), reverse=True)[:5]
    print("widest cells:", ", ".join(f"{'/'.join(k)} {s:.3f}" for s, k in widest))


if __name__ == "__main__":
    main()
