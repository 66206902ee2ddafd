"""End-to-end throughput of a study against the bare llama.cpp runtime on identical requests.

    python benchmarks/throughput.py [--model embedded:smollm2-135m-instruct] [--individuals 10] [--words 12]

1. Runs a colour study (one condition, grammar-constrained) through monoculture and measures samples per
   second from the first request to the last stored sample.
2. Replays exactly the requests that run stored (same prompts, decoding parameters and seeds) on the bare
   runtime (an ``xllamacpp.Server`` with the same slots, driven by a thread pool) at a few concurrency
   levels, and keeps the best.
3. Runs the concept task for one target in constrained and in exact mode, and reports model calls and wall
   time per 100 individuals.

The ratio of (1) to the best of (2) is the toolkit's overhead: it must be at least 0.9.
Needs the human data ($MONOCULTURE_DATA or `monoculture data fetch`).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from monoculture._run import run_study
from monoculture.backends._embedded import CONTEXT_PER_SLOT, DEFAULT_PARALLEL, EMBEDDED_MODELS
from monoculture.study import parse_study


def _sampling_rate(store: Path, mode: str | None = None) -> tuple[int, float]:
    with sqlite3.connect(store) as db:
        where = "WHERE mode = ?" if mode else ""
        count, first, last = db.execute(
            f"SELECT COUNT(*), MIN(started_at), MAX(started_at + latency_s) FROM samples {where}",
            (mode,) if mode else ()).fetchone()
    return count, last - first


def _stored_requests(store: Path) -> list[dict]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT prompt, seed, decoding_json FROM samples ORDER BY id").fetchall()
    return [{"prompt": prompt, "seed": seed, **json.loads(decoding)} for prompt, seed, decoding in rows]


def _bare(model_path: Path, kind: str, requests: list[dict], grammar: str, threads: int) -> float:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.n_parallel = DEFAULT_PARALLEL
    params.n_ctx = DEFAULT_PARALLEL * CONTEXT_PER_SLOT
    params.warmup = False
    params.verbosity = -1
    params.swa_full = True  # as the embedded backend sets it
    server = xllamacpp.Server(params)

    def call(request: dict) -> None:
        body = {key: request[key] for key in ("seed", "max_tokens", "temperature", "top_k", "top_p", "min_p")}
        body["grammar"] = grammar
        if kind == "chat":
            # The store keeps chat prompts as "role: content" lines; these studies send one user message.
            body["messages"] = [{"role": "user", "content": request["prompt"].removeprefix("user: ")}]
            server.handle_chat_completions(body)
        else:
            body["prompt"] = request["prompt"]
            server.handle_completions(body)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(call, requests))
    elapsed = time.perf_counter() - start
    return len(requests) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--individuals", type=int, default=10)
    parser.add_argument("--words", type=int, default=12)
    parser.add_argument("--concept-individuals", type=int, default=10)
    args = parser.parse_args()
    name = args.model.removeprefix("embedded:")
    embedded = EMBEDDED_MODELS[name]

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "colour"
        study = parse_study({"name": "throughput", "models": [args.model], "conditions": [{"context": "none"}],
                             "colour": {"individuals": args.individuals, "words": args.words, "mode": "constrained"}})
        wall = time.perf_counter()
        run_study(study, out)
        wall = time.perf_counter() - wall
        count, seconds = _sampling_rate(out / "samples.sqlite")
        ours = count / seconds
        print(f"monoculture: {count} colour samples ({args.model}, constrained) in {seconds:.1f} s of sampling "
              f"= {ours:.2f} samples/s ({wall:.1f} s wall with model load and summary)")
        requests = _stored_requests(out / "samples.sqlite")
        from monoculture.tasks.colour import ColourSpec, ColourTask

        grammar = ColourTask(ColourSpec()).grammar(None)  # type: ignore[arg-type]
        bare = {threads: _bare(embedded.locate(), embedded.kind, requests, grammar, threads)
                for threads in (DEFAULT_PARALLEL, DEFAULT_PARALLEL + 2, 2 * DEFAULT_PARALLEL)}
        for threads, rate in bare.items():
            print(f"bare xllamacpp, {threads} threads on {DEFAULT_PARALLEL} slots, same requests: {rate:.2f} samples/s")
        best = max(bare.values())
        print(f"ratio monoculture / best bare runtime: {ours / best:.3f} (target >= 0.9)")

        for mode in ("constrained", "exact"):
            out = Path(folder) / f"concepts-{mode}"
            study = parse_study({"name": "throughput", "models": [args.model], "conditions": [{"context": "none"}],
                                 "concepts": {"individuals_per_target": args.concept_individuals,
                                              "targets": ["robin"], "mode": mode}})
            wall = time.perf_counter()
            run_study(study, out)
            wall = time.perf_counter() - wall
            with sqlite3.connect(out / "samples.sqlite") as db:
                calls = db.execute("SELECT COUNT(DISTINCT prompt) FROM samples").fetchone()[0] if mode == "exact" \
                    else db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
            count, seconds = _sampling_rate(out / "samples.sqlite")
            if mode == "exact":
                # In the none condition every individual of a target shares its 72 prompts: the calls do not
                # grow with the population.
                print(f"concepts, exact: {count} answers from {calls} model calls in {seconds:.1f} s of sampling; "
                      f"100 individuals of one target need the same {calls} calls")
            else:
                scale = 100 / args.concept_individuals
                print(f"concepts, {mode}: {count} answers from {calls} model calls in {seconds:.1f} s of sampling; "
                      f"per 100 individuals: {calls * scale:.0f} calls, {seconds * scale:.0f} s")


if __name__ == "__main__":
    main()
