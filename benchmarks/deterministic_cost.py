"""What deterministic mode costs: samples per second of the embedded models, deterministic against default.

    python benchmarks/deterministic_cost.py [--individuals 4] [--words 6] [--mode constrained] [--repeats 2]

Runs one small fixed colour study (conditions none and persona, the demo's constrained mode by default) on each
embedded model, in default mode (8 slots decoded together, prompt prefixes reused) and in deterministic mode
(one request at a time, no prompt reused), alternating the two ``--repeats`` times so that load from other
processes falls on both. Samples per second run from the first request to the last stored sample, as in
throughput.py (model load, the sampling probe and the summary are left out). Each run also checks what the mode
promises: the deterministic runs of a model stored the same outputs, byte for byte, and the default runs did not.
Needs the human data ($MONOCULTURE_DATA or `monoculture data fetch`).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from monoculture._run import run_study
from monoculture.study import parse_study

MODELS = ("embedded:gemma-3-270m", "embedded:smollm2-135m-instruct")


def _sampling_rate(store: Path) -> tuple[int, float]:
    with sqlite3.connect(store) as db:
        count, first, last = db.execute(
            "SELECT COUNT(*), MIN(started_at), MAX(started_at + latency_s) FROM samples").fetchone()
    return count, last - first


def _outputs(store: Path) -> dict[tuple, tuple]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT condition, individual, item, replicate, CAST(raw_output AS BLOB), logprob "
                          "FROM samples").fetchall()
    return {row[:4]: row[4:] for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--individuals", type=int, default=4)
    parser.add_argument("--words", type=int, default=6)
    parser.add_argument("--mode", choices=("free", "constrained"), default="constrained")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()

    print(f"colour study: conditions none and persona, {args.individuals} individuals x {args.words} words x 2 "
          f"replicates, {args.mode}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        for spec in args.models:
            rates: dict[bool, list[float]] = {False: [], True: []}
            outputs: dict[bool, list[dict]] = {False: [], True: []}
            for repeat in range(args.repeats):
                for deterministic in (False, True):
                    out = Path(folder) / f"{spec.split(':')[1]}-{deterministic}-{repeat}"
                    study = parse_study({
                        "name": "deterministic-cost", "models": [spec], "deterministic": deterministic,
                        "conditions": [{"context": "none"}, {"context": "persona"}],
                        "colour": {"individuals": args.individuals, "words": args.words, "mode": args.mode}})
                    load = os.getloadavg()[0]
                    wall = time.perf_counter()
                    run_study(study, out)
                    wall = time.perf_counter() - wall
                    count, seconds = _sampling_rate(out / "samples.sqlite")
                    rates[deterministic].append(count / seconds)
                    outputs[deterministic].append(_outputs(out / "samples.sqlite"))
                    print(f"  {spec} {'deterministic' if deterministic else 'default'}: {count} samples in "
                          f"{seconds:.1f} s of sampling = {count / seconds:.2f} samples/s ({wall:.1f} s wall; "
                          f"load average {load:.1f} before)", flush=True)
            default, deterministic = statistics.median(rates[False]), statistics.median(rates[True])
            same = all(run == outputs[True][0] for run in outputs[True])
            texts = sum(outputs[False][0][key][0] != run[key][0] for run in outputs[False][1:] for key in run)
            differing = sum(outputs[False][0][key] != run[key] for run in outputs[False][1:] for key in run)
            print(f"{spec}: default {default:.2f} samples/s, deterministic {deterministic:.2f} samples/s "
                  f"(median of {args.repeats}): deterministic costs {1 - deterministic / default:.0%} of the rate, "
                  f"{default / deterministic:.1f}x the time", flush=True)
            print(f"{spec}: deterministic runs stored identical outputs: {same}; default runs differed from the "
                  f"first in {differing} of {len(outputs[False][0]) * (args.repeats - 1)} samples ({texts} in the "
                  "text, the others in its log-probability)", flush=True)


if __name__ == "__main__":
    main()
