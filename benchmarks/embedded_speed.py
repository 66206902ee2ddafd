"""Samples per second of each embedded model in each elicitation mode, and the paper's colour study projected from them.

    python benchmarks/embedded_speed.py [--quick] [--models embedded:gemma-3-270m ...] [--modes free constrained exact]
                                        [--individuals 4] [--words 10]

The paper's full colour study is 150 individuals x 199 words x 2 replicates in its six conditions (none at the
default temperature, at 1.5 and at 2.0; random, nonsense and persona contexts): 358,200 samples per model. Each
measurement runs a small study in those six conditions through monoculture (``--individuals`` x ``--words`` x 2 x 6
samples), on the real llama.cpp runtime with the backend's defaults (its 8 slots and threads):

- **free** and **constrained**: the colour task (hex codes, up to 64 tokens free; the colour grammar constrained).
  Projected time = 358,200 samples at the measured rate. Per condition, the rate is shown too (the run's sampling
  time shared out in proportion to each condition's summed request latencies: the conditions are drawn together).
- **exact**: the hex-code answer set is open, so exact mode runs the colour-terms task (the same 199 words, the
  11 basic colour terms) at the same size. One model call serves every individual whose request differs only in
  its seed: in the three context-free conditions all 150 individuals share each word's call. Projected time = the
  full study's calls (counted per condition from the run: context-free calls grow with the words, context calls
  with words x individuals) at the measured seconds per call. The concept task in exact mode (one target,
  condition none: 72 calls for any number of individuals; ``throughput.py`` measures it for SmolLM2 beside
  constrained sampling) is printed for reference.

Samples per second run from the first request to the last stored sample (model load, the sampling probe and the
summary left out), as in throughput.py, which compares SmolLM2's constrained rate with the bare runtime.
``--quick``: 2 individuals x 4 words (96 samples a measurement, a minute or two each on 2 cores).
Needs the human data ($MONOCULTURE_DATA or `monoculture data fetch`).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from monoculture._run import run_study
from monoculture.study import parse_study

MODELS = ("embedded:gemma-3-270m", "embedded:smollm2-135m-instruct")
PAPER_CONDITIONS = [{"context": "none"}, {"context": "none", "temperature": 1.5},
                    {"context": "none", "temperature": 2.0}, {"context": "random"}, {"context": "nonsense"},
                    {"context": "persona"}]
PAPER_INDIVIDUALS, PAPER_WORDS, REPLICATES = 150, 199, 2
PAPER_SAMPLES = PAPER_INDIVIDUALS * PAPER_WORDS * REPLICATES * len(PAPER_CONDITIONS)  # 358,200


def _rows(store: Path) -> list[tuple]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT condition, started_at, latency_s, prompt, decoding_json, valid "
                          "FROM samples").fetchall()


def _sampling_seconds(rows: list[tuple]) -> float:
    return max(started + latency for _, started, latency, *_ in rows) - min(started for _, started, *_ in rows)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def _run(spec: str, task: str, table: dict, folder: Path,
         conditions: list[dict] = PAPER_CONDITIONS) -> tuple[list[tuple], float, float]:
    out = folder / f"{spec.split(':')[1]}-{task}-{table.get('mode')}"
    study = parse_study({"name": "embedded-speed", "models": [spec], "conditions": conditions, task: table})
    load = os.getloadavg()[0]
    wall = time.perf_counter()
    run_study(study, out)
    return _rows(out / "samples.sqlite"), time.perf_counter() - wall, load


def sampled(spec: str, mode: str, individuals: int, words: int, folder: Path) -> None:
    """Free or constrained colour: the rate, per condition, and the paper-size projection."""
    rows, wall, load = _run(spec, "colour", {"individuals": individuals, "words": words, "mode": mode}, folder)
    seconds = _sampling_seconds(rows)
    rate = len(rows) / seconds
    latency: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for condition, _, request_s, *_ in rows:
        latency[condition] += request_s
        count[condition] += 1
    total_latency = sum(latency.values())
    shares = ", ".join(f"{condition} {count[condition] / (seconds * latency[condition] / total_latency):.2f}"
                       for condition in latency)
    valid = sum(row[5] for row in rows)
    print(f"{spec} colour {mode}: {len(rows)} samples in {seconds:.1f} s = {rate:.2f} samples/s ({valid} valid; "
          f"{wall:.0f} s wall; load {load:.1f} before); per condition: {shares}", flush=True)
    print(f"  projected: the paper's colour study ({PAPER_SAMPLES:,} samples) {mode}: "
          f"{_hours(PAPER_SAMPLES / rate)}", flush=True)


def _calls(rows: list[tuple]) -> dict[str, int]:
    """Model calls per condition: requests that differ only in their seed share one call."""
    distinct: dict[str, set] = defaultdict(set)
    for condition, _, _, prompt, decoding, _ in rows:
        distinct[condition].add((prompt, decoding))
    return {condition: len(prompts) for condition, prompts in distinct.items()}


def exact(spec: str, individuals: int, words: int, folder: Path, concepts: bool) -> None:
    """Exact colour terms: answers and calls per second, and the paper-size projection by calls."""
    rows, wall, load = _run(spec, "colour_terms", {"individuals": individuals, "words": words, "mode": "exact"},
                            folder)
    seconds = _sampling_seconds(rows)
    calls = _calls(rows)
    per_call = seconds / sum(calls.values())
    full_calls = 0.0
    for condition, measured in calls.items():
        scale = PAPER_WORDS / words
        if not condition.startswith("none@"):  # each individual's context makes its own prompts
            scale *= PAPER_INDIVIDUALS / individuals
        full_calls += measured * scale
    print(f"{spec} colour terms exact: {len(rows)} answers from {sum(calls.values())} model calls in {seconds:.1f} s "
          f"= {len(rows) / seconds:.2f} answers/s, {per_call:.2f} s per call ({wall:.0f} s wall; load {load:.1f} "
          "before)", flush=True)
    print(f"  projected: the paper's colour study size ({PAPER_SAMPLES:,} answers) in colour terms, exact: "
          f"{full_calls:,.0f} calls, {_hours(full_calls * per_call)}", flush=True)
    if concepts:
        rows, wall, load = _run(spec, "concepts", {"individuals_per_target": individuals, "targets": ["robin"],
                                                   "mode": "exact"}, folder, [{"context": "none"}])
        seconds = _sampling_seconds(rows)
        print(f"{spec} concepts exact (robin, condition none): {len(rows)} answers from "
              f"{sum(_calls(rows).values())} model calls in {seconds:.1f} s = {len(rows) / seconds:.2f} answers/s "
              f"({wall:.0f} s wall; load {load:.1f} before)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--modes", nargs="+", choices=("free", "constrained", "exact"),
                        default=["free", "constrained", "exact"])
    parser.add_argument("--individuals", type=int, default=4)
    parser.add_argument("--words", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 individuals x 4 words, no concept task")
    args = parser.parse_args()
    individuals, words = (2, 4) if args.quick else (args.individuals, args.words)

    from monoculture.backends._embedded import DEFAULT_PARALLEL, default_threads

    print(f"{os.cpu_count()} cores, llama.cpp threads {default_threads()}, {DEFAULT_PARALLEL} slots; six paper "
          f"conditions x {individuals} individuals x {words} words x {REPLICATES} = "
          f"{individuals * words * REPLICATES * len(PAPER_CONDITIONS)} samples a measurement", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for spec in args.models:
            for mode in args.modes:
                if mode == "exact":
                    exact(spec, individuals, words, Path(folder), concepts=not args.quick)
                else:
                    sampled(spec, mode, individuals, words, Path(folder))


if __name__ == "__main__":
    main()
