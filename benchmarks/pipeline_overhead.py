"""What monoculture itself costs per sample: a paper-size colour population from a fake: model, which answers
instantly, so the figure is the runner, the store and the summary alone (planning, one SQLite row per sample
committed on arrival, the summary and the report recomputed from the store).

    python benchmarks/pipeline_overhead.py [--individuals 150] [--words all]

Prints samples per second through the runner, the time of each phase and the peak memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import monoculture
from monoculture.study import parse_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--individuals", type=int, default=150)
    parser.add_argument("--words", default="all")
    args = parser.parse_args()
    words = args.words if args.words == "all" else int(args.words)
    study = parse_study({"name": "overhead", "models": ["fake:uniform"], "conditions": [{"context": "none"}],
                         "colour": {"individuals": args.individuals, "words": words, "mode": "constrained"}})
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        summary = monoculture.run(study, out)
        wall = time.perf_counter() - started
        samples = summary.n_samples_stored
        results = monoculture.open_results(out)
        again = time.perf_counter()
        results.summary()
        summarize = time.perf_counter() - again
        again = time.perf_counter()
        frame = results.samples()
        load = time.perf_counter() - again
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{samples} samples ({args.individuals} individuals x {summary.models['fake:uniform']['none@default'].tasks['colour'].result.n_words} "
          f"words x 2) in {wall:.1f} s wall, run + summary + report: {samples / wall:.0f} samples/s")
    print(f"summary recomputed from the store alone: {summarize:.1f} s; samples() as a DataFrame "
          f"({len(frame)} rows): {load:.1f} s")
    print(f"peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
