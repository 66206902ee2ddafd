"""The concept task's homogeneous null: what it costs, how close its short chains come to long ones, and what it
adds to a summary.

Run: ``python benchmarks/crp_null.py [--part speed|accuracy|summary|all] [--sizes 10 20 30]``. One core (BLAS
threads pinned to 1 before numpy loads).

- **speed**: 20 shuffled copies of a population sampled together (``run_crp_many``, one chain each) against 20
  calls of ``run_crp``, at the null's length (60 sweeps) and at the estimate's (500).
- **accuracy**: the null as summaries compute it (20 copies, one chain of 60 sweeps from a k-modes start) against
  a reference of 3 chains x 500 sweeps (starts alone / together / k-modes) on the same 20 copies, for
  populations whose per-question shares of answer 1 are coin flips (0.5), spread evenly over 0-1, 0.2/0.8 or
  0.05/0.95, at 10, 30, 50 and 100 people; and the other single starts for comparison.
- **summary**: what the null and the interval over individuals add to ``summarize_concepts`` for a study of 4
  model x condition cells x 10 targets, each target the first N complete individuals of a published model
  population (``murthy2025-onefish-twofish/model-forCRP``, 4 files), and which cells and targets the null
  finds indistinguishable from a homogeneous population.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

PERMUTATIONS = 20
KINDS = ("coin flips", "shares spread over 0-1", "shares 0.2/0.8", "shares 0.05/0.95")
SUMMARY_FILES = ("gemma-instruct-prompt=identity-temp=default", "gemma-instruct-prompt=none-temp=2.0",
                 "llama2-chat-prompt=identity-temp=default", "llama2-chat-prompt=none-temp=1.5")


def population(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n people x 36 questions, every answer independent given its question's share of answer 1."""
    if kind == "coin flips":
        shares = np.full(36, 0.5)
    elif kind == "shares spread over 0-1":
        shares = rng.random(36)
    else:
        low = 0.2 if kind == "shares 0.2/0.8" else 0.05
        shares = np.where(rng.random(36) < 0.5, low, 1 - low)
    return (rng.random((n, 36)) < shares).astype(np.int64)


def shuffled(x: np.ndarray, seed: int) -> np.ndarray:
    from monoculture.metrics import shuffled_columns

    rng = np.random.default_rng(seed)
    return np.stack([shuffled_columns(x, rng) for _ in range(PERMUTATIONS)])


def speed() -> None:
    from monoculture.metrics import run_crp, run_crp_many

    print("speed: 20 shuffled copies, 1 chain each (coin flips)")
    for n in (10, 30, 100):
        copies = shuffled(population("coin flips", n, np.random.default_rng(n)), n)
        seeds = [(1, k) for k in range(PERMUTATIONS)]
        for sweeps, burn_in in ((60, 12), (500, 100)):
            start = time.perf_counter()
            together = run_crp_many(copies, seeds=seeds, chains=1, sweeps=sweeps, burn_in=burn_in)
            batched = time.perf_counter() - start
            start = time.perf_counter()
            alone = [run_crp(copy, seed=seed, chains=1, sweeps=sweeps, burn_in=burn_in)
                     for copy, seed in zip(copies, seeds)]
            separate = time.perf_counter() - start
            same = all(np.array_equal(a.p_multiple_concepts_trace, b.p_multiple_concepts_trace)
                       for a, b in zip(together, alone))
            print(f"  N={n:3d} {sweeps:3d} sweeps: together {batched:5.2f} s, separately {separate:5.2f} s "
                  f"({separate / batched:.1f}x); identical traces: {same}")


def accuracy() -> None:
    from monoculture.metrics import run_crp_many

    configurations = {
        "reference 3x500": {"chains": 3, "sweeps": 500, "burn_in": 100},
        "null (k-modes, 60)": {"chains": 1, "sweeps": 60, "burn_in": 12, "starts": ("kmeans",)},
        "alone, 60": {"chains": 1, "sweeps": 60, "burn_in": 12, "starts": ("alone",)},
        "together, 60": {"chains": 1, "sweeps": 60, "burn_in": 12, "starts": ("together",)},
    }
    print("accuracy: null mean ± spread over 20 shuffled copies (time)")
    rng = np.random.default_rng(5)
    for n in (10, 30, 50, 100):
        for kind in KINDS:
            copies = shuffled(population(kind, n, rng), n)
            cells = []
            for label, settings in configurations.items():
                start = time.perf_counter()
                results = run_crp_many(copies, seeds=[(2, k) for k in range(PERMUTATIONS)], **settings)
                values = np.array([result.p_multiple_concepts for result in results])
                cells.append(f"{label} {values.mean():.3f}±{values.std(ddof=1):.3f} "
                             f"({time.perf_counter() - start:.1f} s)")
            print(f"  N={n:3d} {kind:24s} " + " | ".join(cells), flush=True)


def published_answers(sizes: list[int]) -> dict[int, list[list]]:
    """Per size: 4 cells of ConceptAnswers, 10 targets each (5 animals, 5 politicians), the first N people."""
    from monoculture.reference import data_file
    from monoculture.tasks.concepts import CATEGORIES, ConceptAnswer, item_id, pair_items, read_crp_input
    from monoculture.tasks.concepts._items import with_article

    targets = [*CATEGORIES["animals"][:5], *CATEGORIES["politicians"][:5]]
    inputs = [read_crp_input(data_file(f"murthy2025-onefish-twofish/model-forCRP/{name}-forCRP.csv"))
              for name in SUMMARY_FILES]
    cells: dict[int, list[list]] = {}
    for n in sizes:
        cells[n] = []
        for concepts in inputs:
            answers = []
            for target in targets:
                found = concepts[with_article(target)]  # the files name animals with their article
                pairs = {f"{with_article(first)} {with_article(second)}": (first, second)
                         for first, second in pair_items(target)}
                for person in range(min(n, len(found.ids))):
                    for question, value in zip(found.questions, found.responses[person]):
                        first, second = pairs[question]
                        answers += [ConceptAnswer(f"{target}-{person}", target, item_id(target, first, second),
                                                  order, second if value else first) for order in (1, 2)]
            cells[n].append(answers)
    return cells


def summary(sizes: list[int]) -> None:
    from monoculture.tasks.concepts import summarize_concepts

    print("summary: 4 cells x 10 targets of published model populations (first N people)")
    for n, cells in published_answers(sizes).items():
        start = time.perf_counter()
        plain = [summarize_concepts(answers, null_permutations=0, bootstrap_resamples=0) for answers in cells]
        without = time.perf_counter() - start
        start = time.perf_counter()
        full = [summarize_concepts(answers) for answers in cells]
        with_both = time.perf_counter() - start
        assert all(a["p_multiple_concepts"] == b["p_multiple_concepts"] for a, b in zip(plain, full))
        homogeneous = sum(block["null"]["indistinguishable"] for block in full)
        targets = [entry for block in full for entry in block["by_target"].values() if entry["null"]]
        flat = sum(entry["null"]["indistinguishable"] for entry in targets)
        unconverged = sum(block["n_unconverged_targets"] for block in full)
        print(f"  N={n:3d}: without {without:5.1f} s, with null and bootstrap {with_both:5.1f} s "
              f"(+{with_both - without:.1f} s); cells indistinguishable from homogeneous {homogeneous}/4, "
              f"targets {flat}/{len(targets)}; unconverged targets {unconverged}")
        for name, block in zip(SUMMARY_FILES, full):
            null = block["null"]
            print(f"    {name:45s} P(multiple) {block['p_multiple_concepts']:.3f} "
                  f"posterior {block['p_multiple_concepts_ci']} individuals "
                  f"{block['p_multiple_concepts_bootstrap_ci']} null {null['null_mean']:.3f} p {null['p_value']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "accuracy", "summary", "all"), default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30])
    arguments = parser.parse_args()
    if arguments.part in ("speed", "all"):
        speed()
    if arguments.part in ("accuracy", "all"):
        accuracy()
    if arguments.part in ("summary", "all"):
        summary(arguments.sizes)


if __name__ == "__main__":
    main()
