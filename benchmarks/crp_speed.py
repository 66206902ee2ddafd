"""Speed and reliability of the CRP sampler: a full run, one sweep against a rescore-everything sampler, the
issue's homogeneous population, and the seed-to-seed spread on published concepts.

Run: ``python benchmarks/crp_speed.py [--skip-spread] [--ostrich PATH]``. Everything runs on one core (BLAS
threads pinned to 1 before numpy loads). Times are wall-clock, best of 3, with the process's CPU time beside
them (the machine may be shared).

1. Full run: 100 synthetic individuals x 36 questions from 4 seeded prototypes, each answer flipped with
   probability 0.12 (about the human test-retest disagreement behind alpha = 0.16), 500 sweeps x 3 chains,
   with the default moves (Gibbs + split-merge, tempered replicas through the burn-in at this size), with
   split-merge but no replicas, and with the published sampler's moves only (Gibbs, every chain alone).
2. One sweep of one chain against the published rescore-everything strategy (skmur/onefish-twofish,
   ``Model.py``): for every candidate seat, recompute the whole joint log posterior (CRP prior + every table's
   Beta-Bernoulli likelihood), then sample from the normalised scores. Kept here only, vectorised over
   questions with numpy (the published code also looped over questions in Python, so it was slower).
3. The issue's homogeneous population: 100 people x 36 questions sharing one answer pattern, 5% of answers
   flipped (the best partition is one table), seeded populations 0-4: P(multiple concepts) with the published
   moves and with the defaults.
4. Seed-to-seed spread on published concepts: the concepts of the published inputs where the published
   moves disagreed most across seeds (``crp_seed_spread.py`` measures all 686), first 100 complete
   individuals, seeds (0, 7), (1, 7), (2, 7), both samplers; and tulu's "an ostrich" (no context, 17
   people) when its file is present (a full ``monoculture data fetch``, or ``--ostrich PATH``), 6 seeds.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import betaln, gammaln, logsumexp  # noqa: E402

from monoculture.metrics import run_crp  # noqa: E402

ALPHA = 0.16
PUBLISHED_MOVES = {"split_merge": 0, "tempered_sweeps": 0, "starts": ("alone",)}
# Published concepts whose published-sampler estimate moved most between seeds (crp_seed_spread.py --published).
HARD = [
    ("model-forCRP/llama2-chat-prompt=nonsense-temp=default", "George W. Bush"),
    ("model-forCRP/llama2-chat-prompt=nonsense-temp=default", "a whale"),
    ("model-forCRP/tulu-dpo-prompt=nonsense-temp=default", "Joe Biden"),
    ("model-forCRP/gemma-instruct-prompt=random-temp=default", "Barack Obama"),
    ("model-forCRP/openchat-prompt=nonsense-temp=default", "a finch"),
    ("model-forCRP/llama2-chat-prompt=random-temp=default", "a chicken"),
    ("model-forCRP/gemma-instruct-prompt=identity-temp=default", "a penguin"),
    ("model-forCRP/tulu-dpo-prompt=nonsense-temp=default", "an ostrich"),
    ("model-forCRP/zephyr-gemma-prompt=random-temp=default", "Barack Obama"),
    ("model-forCRP/zephyr-gemma-prompt=nonsense-temp=default", "a dolphin"),
]
OSTRICH = "model-forCRP/tulu-prompt=none-temp=default"


def synthetic_population(n_people: int = 100, n_questions: int = 36, n_concepts: int = 4,
                         flip: float = 0.12, seed: int = 1) -> np.ndarray:
    """Seeded clustered 0/1 answers: each person copies one of ``n_concepts`` prototypes with noise."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 2, (n_concepts, n_questions))
    concept = rng.integers(0, n_concepts, n_people)
    return (prototypes[concept] ^ (rng.random((n_people, n_questions)) < flip)).astype(np.int64)


def homogeneous_population(seed: int, n_people: int = 100, flip: float = 0.05) -> np.ndarray:
    """Everyone shares one answer pattern, each answer flipped with probability ``flip``: one concept."""
    rng = np.random.default_rng(seed)
    pattern = rng.integers(0, 2, 36)
    return (pattern[None, :] ^ (rng.random((n_people, 36)) < flip)).astype(np.int64)


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


def timed(x: np.ndarray, repeats: int = 3, **settings: object):
    """Best wall time and its CPU time over ``repeats`` runs (seeds 0, 1, ...), and the last result."""
    best = (np.inf, np.inf)
    result = None
    for seed in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_crp(x, seed=seed, **settings)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best[0], best[1], result


def full_run() -> float:
    x = synthetic_population()
    run_crp(x[:10], sweeps=20, burn_in=5)  # warm-up: imports, first-call overheads
    per_sweep = 0.0
    for label, settings in (("default (Gibbs + split-merge + replicas in the burn-in)", {}),
                            ("split-merge, no tempered replicas", {"tempered_sweeps": 0}),
                            ("published moves (Gibbs only, chains alone)", PUBLISHED_MOVES)):
        wall, cpu, result = timed(x, **settings)
        print(f"full run, {x.shape[0]} people x {x.shape[1]} questions, 500 sweeps x 3 chains, {label}: "
              f"{wall:.3f} s (CPU {cpu:.3f} s; P(multiple concepts) {result.p_multiple_concepts:.3f}, "
              f"tables {result.tables:.2f})")
        if settings is PUBLISHED_MOVES:
            per_sweep = wall / (500 * 3)
    print(f"incremental sampler, published moves: {per_sweep * 1e3:.3f} ms per sweep of one chain")
    return per_sweep


def against_rescoring(per_sweep: float) -> None:
    x = synthetic_population()
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


def homogeneous() -> None:
    print("homogeneous population (100 x 36, one pattern, 5% flipped; truth: one concept), P(multiple concepts):")
    for seed in range(5):
        x = homogeneous_population(seed)
        cells = []
        for label, settings in (("published moves", PUBLISHED_MOVES), ("default", {})):
            wall, cpu, result = timed(x, repeats=1, **settings)
            means = ", ".join(f"{value:.2f}" for value in result.chain_p_multiple_concepts)
            cells.append(f"{label} {result.p_multiple_concepts:.3f} (chains {means}; "
                         f"{'converged' if result.converged else 'UNCONVERGED'}; {wall:.2f} s)")
        print(f"  population {seed}: " + " | ".join(cells))


def spread(ostrich: Path | None) -> None:
    from monoculture.reference import data_root
    from monoculture.tasks.concepts import read_crp_input

    root = data_root() / "murthy2025-onefish-twofish"
    print("seed-to-seed spread on published concepts (first 100 complete people, seeds (0..2, 7)):")
    for name, concept in HARD:
        path = root / f"{name}-forCRP.csv"
        if not path.exists():
            print(f"  {name} / {concept}: file not present")
            continue
        x = read_crp_input(path)[concept].responses[:100]
        cells = []
        for label, settings in (("published moves", PUBLISHED_MOVES), ("default", {})):
            start = time.perf_counter()
            results = [run_crp(x, seed=(seed, 7), **settings) for seed in range(3)]
            values = [result.p_multiple_concepts for result in results]
            flagged = sum(not result.converged for result in results)
            cells.append(f"{label} {min(values):.3f}-{max(values):.3f} (spread {max(values) - min(values):.3f}, "
                         f"{flagged}/3 flagged, {(time.perf_counter() - start) / 3:.2f} s/run)")
        print(f"  {Path(name).name} / {concept} (n {x.shape[0]}): " + " | ".join(cells))
    path = ostrich or root / f"{OSTRICH}-forCRP.csv"
    if not path.exists():
        print(f"tulu (no context) 'an ostrich': {path} not present (a full `monoculture data fetch` has it, "
              "or pass --ostrich PATH)")
        return
    x = read_crp_input(path)["an ostrich"].responses
    for label, settings, sweeps in (("published moves", PUBLISHED_MOVES, 500), ("default", {}, 500),
                                    ("published moves", PUBLISHED_MOVES, 5000)):
        start = time.perf_counter()
        results = [run_crp(x, seed=seed, sweeps=sweeps, **settings) for seed in range(6)]
        values = [result.p_multiple_concepts for result in results]
        flagged = sum(not result.converged for result in results)
        print(f"tulu (no context) 'an ostrich' ({x.shape[0]} people), {label}, {sweeps} sweeps, seeds 0-5: "
              f"{', '.join(f'{value:.3f}' for value in values)} (spread {max(values) - min(values):.3f}, "
              f"{flagged}/6 flagged, {(time.perf_counter() - start) / 6:.2f} s/run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-spread", action="store_true", help="skip the published concepts (about 3 min)")
    parser.add_argument("--ostrich", type=Path, help="tulu-prompt=none-temp=default-forCRP.csv, if not in the data")
    args = parser.parse_args()
    per_sweep = full_run()
    against_rescoring(per_sweep)
    homogeneous()
    if not args.skip_spread:
        spread(args.ostrich)


if __name__ == "__main__":
    main()
