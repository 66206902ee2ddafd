"""Memory of the CRP sampler on a large population: 20,000 synthetic people x 36 questions.

Run: ``python benchmarks/crp_memory.py [--people 20000] [--sweeps 3] [--limit-gb 2]``. One core (BLAS threads
pinned to 1 before numpy loads). Data: seeded people copying one of 4 prototypes, each answer flipped with
probability 0.12 (as in ``crp_speed.py``). The run uses the default settings (3 chains started alone,
together and from k-modes, split-merge moves; no tempered replicas above 1,000 people) for a few sweeps:
memory does not grow with sweeps (the traces are chains x sweeps numbers; the sampled partitions are kept
only on request), so a few sweeps show the peak of a full run.

Prints the time, the peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: the whole
process, Python and numpy included) and the memory before the run, and exits 1 if the peak exceeds
``--limit-gb``. Before the fix the sampler's lookup tables were people x people: 0.33 GB at 2,000 people,
1.67 GB at 5,000, killed by the out-of-memory killer at 19.4 GB for 20,000.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from monoculture.metrics import run_crp  # noqa: E402


def peak_gb() -> float:
    """Peak resident memory of this process so far, in GB (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def population(n_people: int, n_questions: int = 36, seed: int = 1) -> np.ndarray:
    """Seeded 0/1 answers: each person copies one of 4 prototypes, each answer flipped with probability 0.12."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 2, (4, n_questions))
    concept = rng.integers(0, 4, n_people)
    return (prototypes[concept] ^ (rng.random((n_people, n_questions)) < 0.12)).astype(np.int8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--limit-gb", type=float, default=2.0)
    args = parser.parse_args()
    x = population(args.people)
    before = peak_gb()
    start = time.perf_counter()
    result = run_crp(x, sweeps=args.sweeps, burn_in=args.sweeps - 2, seed=0)
    elapsed = time.perf_counter() - start
    peak = peak_gb()
    print(f"{args.people:,} people x {x.shape[1]} questions, {args.sweeps} sweeps x {result.chains} chains "
          f"(starts {', '.join(result.starts)}): {elapsed:.1f} s; tables at the last sweep "
          f"{', '.join(str(int(value)) for value in result.tables_trace[:, -1])}")
    print(f"peak memory {peak:.3f} GB (before the run {before:.3f} GB; limit {args.limit_gb} GB)")
    sys.exit(0 if peak <= args.limit_gb else 1)


if __name__ == "__main__":
    main()
