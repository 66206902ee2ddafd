"""Speed of the CRP Gibbs sampler: a full run, and one sweep against a rescore-everything sampler.

Run: ``python benchmarks/crp_speed.py``. Everything runs on one core (BLAS threads pinned to 1 before
numpy loads). Data: 100 synthetic individuals x 36 questions from 4 seeded prototypes, each answer
flipped with probability 0.12 (about the human test-retest disagreement behind alpha = 0.16).

The rescore-everything sampler is the published one's strategy (skmur/onefish-twofish, ``Model.py``):
for every candidate seat, recompute the whole joint log posterior (CRP prior + every table's
Beta-Bernoulli likelihood), then sample from the normalised scores. It is kept here only, vectorised
over questions with numpy (the published code also looped over questions in Python, so it was slower).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import betaln, gammaln, logsumexp  # noqa: E402

from monoculture.metrics import run_crp  # noqa: E402

ALPHA = 0.16


def synthetic_population(n_people: int = 100, n_questions: int = 36, n_concepts: int = 4,
                         flip: float = 0.12, seed: int = 1) -> np.ndarray:
    """Seeded clustered 0/1 answers: each person copies one of ``n_concepts`` prototypes with noise."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 2, (n_concepts, n_questions))
    concept = rng.integers(0, n_concepts, n_people)
    return (prototypes[concept] ^ (rng.random((n_people, n_questions)) < flip)).astype(np.int64)


def _joint_log_posterior(tables: list[list[int]], x: np.ndarray) -> float:
    total = -float(gammaln(x.shape[0] + 1))
    for members in tables:
        answers = x[members]
        ones = answers.sum(axis=0)
        total += float(gammaln(len(members)))
        total += float(np.sum(betaln(ones + ALPHA, len(members) - ones + ALPHA) - betaln(ALPHA, ALPHA)))
    return total


def rescore_everything_sweep(tables: list[list[int]], x: np.ndarray, rng: np.random.Generator) -> None:
    """One sweep of the published strategy: rescore the whole restaurant for every candidate seat."""
    for person in range(x.shape[0]):
        for members in tables:
            if person in members:
                members.remove(person)
        tables[:] = [members for members in tables if members]
        scores = []
        for members in tables:
            members.append(person)
            scores.append(_joint_log_posterior(tables, x))
            members.remove(person)
        tables.append([person])
        scores.append(_joint_log_posterior(tables, x))
        tables.pop()
        scores_array = np.array(scores)
        choice = rng.choice(len(scores), p=np.exp(scores_array - logsumexp(scores_array)))
        if choice == len(tables):
            tables.append([person])
        else:
            tables[choice].append(person)


def main() -> None:
    x = synthetic_population()
    sweeps, chains = 500, 3
    run_crp(x[:10], sweeps=20, burn_in=5, chains=chains)  # warm-up: imports, first-call overheads
    full_times = []
    for _ in range(3):
        start = time.perf_counter()
        result = run_crp(x, sweeps=sweeps, burn_in=100, chains=chains, seed=0)
        full_times.append(time.perf_counter() - start)
    full = min(full_times)
    per_sweep = full / (sweeps * chains)
    print(f"full run, {x.shape[0]} people x {x.shape[1]} questions, {sweeps} sweeps x {chains} chains: "
          f"{full:.3f} s (best of 3; P(multiple concepts) {result.p_multiple_concepts:.3f}, "
          f"tables {result.tables:.2f})")
    print(f"incremental sampler: {per_sweep * 1e3:.3f} ms per sweep of one chain")

    rng = np.random.default_rng(0)
    tables: list[list[int]] = [[person] for person in range(x.shape[0])]
    start = time.perf_counter()
    rescore_everything_sweep(tables, x, rng)  # from everyone alone: the slowest sweep
    first = time.perf_counter() - start
    settled = []
    for _ in range(3):
        start = time.perf_counter()
        rescore_everything_sweep(tables, x, rng)
        settled.append(time.perf_counter() - start)
    typical = float(np.mean(settled))
    print(f"rescore-everything sampler: {first:.2f} s for the first sweep (everyone alone), "
          f"{typical:.3f} s per later sweep ({len(tables)} tables)")
    print(f"speed-up per sweep: {typical / per_sweep:,.0f}x on later sweeps, {first / per_sweep:,.0f}x on the first")


if __name__ == "__main__":
    main()
