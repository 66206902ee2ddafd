"""Seed-to-seed spread of the CRP estimate on every published concept: do repeated runs agree?

Run: ``python benchmarks/crp_seed_spread.py [--seeds 3] [--published] [--match TEXT] [--files GLOB ...]
[--json OUT]``. One core per worker (BLAS threads pinned to 1 before numpy loads; ``--workers`` runs concepts
in parallel processes).

Inputs: every ``*-forCRP.csv`` under the human data (``$MONOCULTURE_DATA`` or ``monoculture data fetch``):
``murthy2025-onefish-twofish/model-forCRP/`` (48 of the paper's 60 conditions; a full ``data fetch`` has all
60) and ``model-crp-example/`` (2), plus any ``--files``. Each concept's first 100 complete individuals (the
paper's cap) with at least two of them are clustered with the default settings (500 sweeps, burn-in 100, 3
chains) once per seed ``(seed, 7)``, seed = 0, 1, ...; ``--published`` also runs the published sampler's moves
(Gibbs only, every chain started alone, no tempered replicas) on the same seeds, for comparison.

Prints, per sampler: how many concepts, the spread (largest minus smallest P(multiple concepts) over the
seeds) at its median, 95th percentile and maximum, how many concepts spread more than 0.03, how many runs
the convergence check flagged, the widest concepts, and the time. The full set takes about 25 minutes per
seed and sampler on one core.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SAMPLERS = {
    "default": {},
    "published": {"split_merge": 0, "tempered_sweeps": 0, "starts": ("alone",)},
}


def published_inputs(extra: list[str]) -> list[Path]:
    """Every published *-forCRP.csv in the data, then the extra files given."""
    from monoculture.reference import data_root

    root = data_root() / "murthy2025-onefish-twofish"
    found = [path for folder in ("model-forCRP", "model-crp-example")
             for path in sorted((root / folder).glob("*-forCRP.csv"))]
    for pattern in extra:
        found += [Path(path) for path in sorted(glob.glob(pattern))]
    return found


def _run(task: tuple[str, str, str, int]) -> dict[str, object]:
    from monoculture.metrics import run_crp
    from monoculture.tasks.concepts import read_crp_input

    path, concept, sampler, seeds = task
    x = read_crp_input(path)[concept].responses[:100]
    values, converged = [], []
    start = time.process_time()
    for seed in range(seeds):
        result = run_crp(x, seed=(seed, 7), **SAMPLERS[sampler])
        values.append(result.p_multiple_concepts)
        converged.append(result.converged)
    return {"file": Path(path).name.removesuffix("-forCRP.csv"), "concept": concept, "sampler": sampler,
            "n": int(x.shape[0]), "values": values, "converged": converged,
            "seconds": (time.process_time() - start) / seeds}


def summarize(records: list[dict[str, object]], sampler: str) -> None:
    mine = [record for record in records if record["sampler"] == sampler]
    if not mine:
        return
    spreads = np.array([max(record["values"]) - min(record["values"]) for record in mine])
    flagged = sum(not value for record in mine for value in record["converged"])
    runs = sum(len(record["converged"]) for record in mine)
    print(f"{sampler}: {len(mine)} concepts x {len(mine[0]['values'])} seeds; spread median {np.median(spreads):.4f}, "
          f"95th percentile {np.percentile(spreads, 95):.4f}, max {spreads.max():.4f}; "
          f"{int((spreads > 0.03).sum())} concepts spread > 0.03; {flagged} of {runs} runs flagged unconverged; "
          f"{sum(record['seconds'] for record in mine) / len(mine):.2f} s per run on average")
    order = np.argsort(-spreads)[:10]
    for index in order:
        record = mine[index]
        shown = ", ".join(f"{value:.3f}" for value in record["values"])
        flags = "".join("." if value else "!" for value in record["converged"])
        print(f"  {spreads[index]:.3f}  {record['file']} / {record['concept']} (n {record['n']}): {shown}  [{flags}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--published", action="store_true", help="also run the published sampler's moves")
    parser.add_argument("--files", nargs="*", default=[], help="more *-forCRP.csv files (globs)")
    parser.add_argument("--match", default="", help="only files whose name contains this")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write every run's values here")
    args = parser.parse_args()
    from monoculture.tasks.concepts import read_crp_input

    samplers = ["default", "published"] if args.published else ["default"]
    tasks = []
    for path in published_inputs(args.files):
        if args.match not in path.name:
            continue
        for concept, data in read_crp_input(path).items():
            if data.responses.shape[0] >= 2:
                tasks += [(str(path), concept, sampler, args.seeds) for sampler in samplers]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        records = list(pool.map(_run, tasks, chunksize=4))
    print(f"{len(tasks)} concept runs in {time.perf_counter() - start:.0f} s wall")
    for sampler in samplers:
        summarize(records, sampler)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
