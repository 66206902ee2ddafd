"""Where a run's time went, per model, task and mode, from its store: the demo's breakdown.

    python benchmarks/demo_breakdown.py demo-out/samples.sqlite

For each model, task and mode: the samples stored, the model calls (exact mode: one per distinct prompt, shared by the replicates), the time
from the first request to the last reply, and the rate (samples/s; calls/s in exact mode). Models run one after
another and a model's tasks together, so the spans can overlap a little; the last line is the whole run's sampling
time (model loads, probes and the summary are outside it). Aligned twins compute from the base model's distributions
and take about a second.
"""

from __future__ import annotations

import argparse
import sqlite3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    args = parser.parse_args()
    with sqlite3.connect(f"file:{args.store}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT model, task, mode, COUNT(*), COUNT(DISTINCT prompt || '|' || item),"
            " MIN(started_at), MAX(started_at + latency_s) FROM samples GROUP BY model, task, mode"
            " ORDER BY MIN(started_at)").fetchall()
    if not rows:
        raise SystemExit(f"{args.store} holds no samples")
    print(f"{'model':52s} {'task':13s} {'mode':12s} {'samples':>8s} {'calls':>6s} {'seconds':>8s} {'rate':>10s}")
    for model, task, mode, samples, prompts, first, last in rows:
        seconds = last - first
        calls = prompts if mode == "exact" else samples
        unit = "calls/s" if mode == "exact" else "/s"
        print(f"{model[:52]:52s} {task:13s} {mode:12s} {samples:8d} {calls:6d} {seconds:8.0f} "
              f"{calls / max(seconds, 1e-9):7.2f} {unit}")
    print(f"sampling, first request to last reply: {max(r[6] for r in rows) - min(r[5] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
