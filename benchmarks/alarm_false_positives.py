"""How often the sampling alarms fire on clean runs of the embedded models (they should not).

    python benchmarks/alarm_false_positives.py [--individuals 10] [--words 10] [--seeds 2]

Runs colour studies on both embedded models, nothing misconfigured, across elicitation modes (free and
grammar-constrained), conditions (no context, personas, temperature 0 and 1.5) and study seeds, and counts:

* probe checks made and failed (three per model and run),
* populations whose repeats were checked, and how many raised the alarm, with the largest ratio of identical
  pairs seen to expected (the alarm needs 20),
* shortfall alarms (none expected: every run completes).

Needs the human data ($MONOCULTURE_DATA or `monoculture data fetch`).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import monoculture
from monoculture.analysis import MIN_IDENTICAL_PAIRS, RATIO_LIMIT
from monoculture.study import parse_study

MODELS = ("embedded:gemma-3-270m", "embedded:smollm2-135m-instruct")
CONDITIONS = [{"context": "none"}, {"context": "persona"}, {"context": "none", "temperature": 0.0},
              {"context": "none", "temperature": 1.5}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--individuals", type=int, default=10)
    parser.add_argument("--words", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()

    probe_checks = probe_failures = populations = repeat_alarms = shortfalls = samples = 0
    ratios: list[tuple[float, int, float, str]] = []
    started = time.perf_counter()
    for seed in range(args.seeds):
        for mode in ("constrained", "free"):
            study = parse_study({
                "name": f"clean-{mode}-{seed}", "seed": seed, "models": list(MODELS), "conditions": CONDITIONS,
                "colour": {"individuals": args.individuals, "words": args.words, "mode": mode,
                           "max_tokens": 24 if mode == "free" else 12},
            })
            with tempfile.TemporaryDirectory() as out:
                summary = monoculture.run(study, out)
            samples += summary.n_samples_stored
            for probe in summary.probes.values():
                probe_checks += len(probe.checks)
                probe_failures += sum(not check.passed for check in probe.checks)
            for cell in summary.cells():
                repeats = cell.tasks["colour"].repeats[mode]
                if repeats.checked:
                    populations += 1
                    repeat_alarms += bool(repeats.alarm)
                    if repeats.ratio is not None and repeats.identical_pairs > 0:
                        ratios.append((repeats.ratio, repeats.identical_pairs, repeats.expected_identical_pairs,
                                       f"{mode} {cell.condition}"))
            shortfalls += sum(alarm.kind == "shortfall" for alarm in summary.alarms)
            print(f"seed {seed} {mode}: alarms {[a.kind for a in summary.alarms]}", flush=True)
    print(f"clean runs: {args.seeds * 2}, samples {samples}, {time.perf_counter() - started:.0f} s")
    print(f"probe checks failed: {probe_failures} of {probe_checks}")
    print(f"repeats alarms: {repeat_alarms} of {populations} populations checked (alarm at {MIN_IDENTICAL_PAIRS}+ "
          f"identical pairs and {RATIO_LIMIT:.0f}x the expected)")
    for ratio, seen, expected, where in sorted(ratios, reverse=True)[:5]:
        print(f"  seen/expected {ratio:5.2f}: {seen} identical pairs, {expected:.2f} expected ({where})")
    enough = [r for r in ratios if r[1] >= MIN_IDENTICAL_PAIRS]
    print(f"  largest ratio among populations with {MIN_IDENTICAL_PAIRS}+ identical pairs: "
          f"{max(enough, default=(0,))[0]:.2f}")
    print(f"shortfall alarms: {shortfalls}")


if __name__ == "__main__":
    main()
