"""Does the interval over individuals cover the truth, and why reweight the posterior partitions rather than
re-cluster each resample?

Run: ``python benchmarks/crp_bootstrap.py [--part coverage|recluster|all] [--sizes 3 5 10 20] [--studies 40]``.
One core (BLAS threads pinned to 1 before numpy loads).

- **coverage**: populations drawn from a known mixture: three answer patterns (random 36-answer vectors) with
  shares 0.5 / 0.3 / 0.2, so the population's 1 − Σπ² is 0.62, and 5% of every individual's answers flipped.
  Each study has 10 targets of N individuals (each target its own patterns); the CRP runs 120 sweeps (burn-in
  20, 2 chains). Counts how often the nominal 95% interval of the unbiased P(multiple concepts) covers 0.62:
  the posterior interval and the interval over individuals (``bootstrap_p_multiple_concepts``, 2,000
  resamples), per target and pooled over the 10 targets (mean over targets), with their mean widths and the
  spread of the pooled estimate between studies. Noisier concepts (15% flips) are also run: the CRP then splits
  concepts (α = 0.16 expects about 88% agreement within one), so its estimate is biased and no interval of it
  covers the mixture's value; the bootstrap cannot repair a model that does not fit.
- **recluster**: for a few populations, the resampled statistic's mean and 95% interval when each resample
  reweights the posterior partitions of the people observed (what summaries do) against re-running the CRP on
  the resampled people (60 resamples, counting pairs of distinct people at different tables).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

SHARES = np.array([0.5, 0.3, 0.2])
TRUTH = 1 - float(np.sum(SHARES**2))  # 0.62
TARGETS = 10


def mixture(n: int, flip: float, rng: np.random.Generator) -> np.ndarray:
    """n people of three concepts (shares 0.5/0.3/0.2), each a random answer pattern, ``flip`` of answers flipped."""
    patterns = rng.integers(0, 2, (3, 36))
    concepts = rng.choice(3, size=n, p=SHARES)
    return patterns[concepts] ^ (rng.random((n, 36)) < flip)


def coverage(n: int, flip: float, studies: int) -> None:
    from monoculture.metrics import bootstrap_p_multiple_concepts, run_crp

    start = time.perf_counter()
    covered = {"posterior": 0, "individuals": 0}
    pooled_covered = {"posterior": 0, "individuals": 0}
    widths: dict[str, list[float]] = {"posterior": [], "individuals": [], "pooled posterior": [],
                                      "pooled individuals": []}
    estimates = []
    for study in range(studies):
        posterior_draws, bootstrap_draws, values = [], [], []
        for target in range(TARGETS):
            x = mixture(n, flip, np.random.default_rng([n, study, target]))
            result = run_crp(x, sweeps=120, burn_in=20, chains=2, seed=(study, target), keep_partitions=True)
            post = result.post_burn_in
            unbiased = result.p_multiple_concepts_trace[:, post].ravel() * n / (n - 1)
            resampled = bootstrap_p_multiple_concepts(result.partitions[:, post].reshape(-1, n),
                                                      seed=(9, study, target))
            for label, draws in (("posterior", unbiased), ("individuals", resampled)):
                low, high = np.percentile(draws, [2.5, 97.5])
                covered[label] += bool(low <= TRUTH <= high)
                widths[label].append(high - low)
            posterior_draws.append(unbiased)
            bootstrap_draws.append(resampled)
            values.append(unbiased.mean())
        estimates.append(np.mean(values))
        for label, draws in (("posterior", np.mean(posterior_draws, axis=0)),
                             ("individuals", np.mean(bootstrap_draws, axis=0))):
            low, high = np.percentile(draws, [2.5, 97.5])
            pooled_covered[label] += bool(low <= TRUTH <= high)
            widths[f"pooled {label}"].append(high - low)
    total = studies * TARGETS
    print(f"N={n:2d}, {flip:.0%} flipped, truth {TRUTH:.2f}: per target: posterior {covered['posterior']}/{total} "
          f"(width {np.mean(widths['posterior']):.3f}), individuals {covered['individuals']}/{total} "
          f"(width {np.mean(widths['individuals']):.3f}); pooled over {TARGETS}: posterior "
          f"{pooled_covered['posterior']}/{studies} (width {np.mean(widths['pooled posterior']):.3f}), "
          f"individuals {pooled_covered['individuals']}/{studies} (width {np.mean(widths['pooled individuals']):.3f}); "
          f"pooled estimate {np.mean(estimates):.3f}, spread between studies {np.std(estimates, ddof=1):.3f}; "
          f"{time.perf_counter() - start:.0f} s", flush=True)


def recluster() -> None:
    from monoculture.metrics import bootstrap_p_multiple_concepts, run_crp

    rng = np.random.default_rng(3)
    populations = {
        "3 concepts, 5% flipped, N=10": mixture(10, 0.05, rng),
        "one population, shares spread over 0-1, N=30": (rng.random((30, 36)) < rng.random(36)).astype(int),
        "one population, shares 0.2/0.8, N=30": (rng.random((30, 36))
                                                  < np.where(rng.random(36) < 0.5, 0.2, 0.8)).astype(int),
        "coin flips, N=30": (rng.random((30, 36)) < 0.5).astype(int),
    }
    for name, x in populations.items():
        n = len(x)
        result = run_crp(x, sweeps=300, burn_in=60, seed=1, keep_partitions=True)
        estimate = result.p_multiple_concepts * n / (n - 1)
        reweighted = bootstrap_p_multiple_concepts(result.partitions[:, 61:].reshape(-1, n), seed=2)
        draws = np.random.default_rng(4)
        reclustered = []
        for resample in range(60):
            people = draws.integers(0, n, n)
            while len(set(people.tolist())) < 2:
                people = draws.integers(0, n, n)
            again = run_crp(x[people], sweeps=300, burn_in=60, seed=(5, resample), keep_partitions=True)
            distinct = people[:, None] != people[None, :]
            reclustered.append(np.mean([(labels[:, None] != labels[None, :])[distinct].mean()
                                        for labels in again.partitions[:, 61::20].reshape(-1, n)]))
        print(f"{name}: estimate {estimate:.3f}; reweighting {reweighted.mean():.3f} "
              f"[{np.percentile(reweighted, 2.5):.3f}, {np.percentile(reweighted, 97.5):.3f}]; re-clustering "
              f"{np.mean(reclustered):.3f} [{np.percentile(reclustered, 2.5):.3f}, "
              f"{np.percentile(reclustered, 97.5):.3f}]", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("coverage", "recluster", "all"), default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 10, 20])
    parser.add_argument("--studies", type=int, default=40)
    arguments = parser.parse_args()
    if arguments.part in ("coverage", "all"):
        for n in arguments.sizes:
            coverage(n, 0.05, arguments.studies)
        coverage(10, 0.15, arguments.studies)
    if arguments.part in ("recluster", "all"):
        recluster()


if __name__ == "__main__":
    main()
