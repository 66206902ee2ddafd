"""The embedded backend under CPU contention: llama.cpp's thread count and wait policy, quiet and beside CPU hogs.

    python benchmarks/contention.py [--quick] [--models embedded:smollm2-135m-instruct ...] [--individuals 4]
                                    [--words 6] [--hogs 2] [--repeats 2] [--limit 300] [--mode constrained]

For each model, on the machine as it is ("quiet": no hogs of ours; other people's work is measured and printed)
and beside ``--hogs`` processes that spin on a core each (``python -c "while True: pass"``), a short
grammar-constrained colour study (condition none, individuals x words x 2 replicates: 48 samples by default;
``--mode free``: unconstrained, up to 64 tokens) runs in a fresh process for every configuration, the configurations
interleaved over ``--repeats`` rounds:

- through monoculture (a study with the model's ``threads``): the backend's default (its threads, and waiting
  threads that spin about 0.1 ms before they sleep: ``GOMP_SPINCOUNT=10000``); threads = cores and threads = cores - 1
  with libgomp's own waiting (spin about 3 ms at a barrier, then sleep: what the backend did before); threads =
  cores (and cores - 1) with waiting threads sleeping at once (``OMP_WAIT_POLICY=PASSIVE``);
- without ``--quick``, on the bare xllamacpp runtime replaying the requests the first run stored, with llama.cpp's
  ``poll`` (0-100: how long its own threadpool busy-waits for work) at 50, its default, and at 0; ``poll`` is not a
  monoculture setting, since llama.cpp built with OpenMP (as xllamacpp is) leaves the waiting to OpenMP.

A fresh process per configuration, because libgomp reads its settings once, when it is loaded. Printed per run:
samples/s from the first request to the last stored sample (model load, the sampling probe and the summary left
out); the process's CPU seconds per sample (from the loaded model to the last sample, the probe's 8 short requests
included); the load average before the run; and how many cores everything else kept busy during it (from
/proc/stat, the run's own CPU taken out). A run still going after ``--limit`` seconds is stopped and its rate
computed from the samples it stored. Then the median of each configuration over the rounds.
``--quick``: the monoculture configurations, one round unless ``--repeats`` says; ``--hogs 0``: quiet runs only.
Needs the human data ($MONOCULTURE_DATA or `monoculture data fetch`); Linux (/proc/stat).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MODELS = ("embedded:smollm2-135m-instruct", "embedded:gemma-3-270m")


@dataclass(frozen=True)
class Setup:
    """One configuration: which path, llama.cpp's threads and poll, and the OpenMP environment."""

    label: str
    engine: str  # "monoculture" or "bare"
    threads: int | None  # None: the backend's default
    poll: int = 50
    environment: dict[str, str] = field(default_factory=dict)


def setups(cores: int, quick: bool) -> list[Setup]:
    """The configurations compared, on a machine with ``cores`` cores."""
    from monoculture.backends._embedded import default_threads

    fewer = max(1, cores - 1)
    # libgomp's own default when neither variable is set: spin about 3 ms (300,000 rounds), then sleep: what the
    # backend had before it set a short spin. A set GOMP_SPINCOUNT overrides OMP_WAIT_POLICY's spinning.
    spin = {"GOMP_SPINCOUNT": "300000"}
    passive = {"OMP_WAIT_POLICY": "PASSIVE"}
    chosen = [Setup(f"default (threads={default_threads(cores)})", "monoculture", None),
              Setup(f"threads={cores}, spin 3 ms", "monoculture", cores, environment=spin),
              Setup(f"threads={fewer}, spin 3 ms", "monoculture", fewer, environment=spin)]
    # One thread never waits for another: how it would wait does not matter.
    chosen += [Setup(f"threads={threads}, passive", "monoculture", threads, environment=passive)
               for threads in sorted({cores, fewer}, reverse=True) if threads > 1]
    if cores != default_threads(cores):  # the default's short spin (about 0.1 ms) on every core
        chosen.append(Setup(f"threads={cores}, spin 0.1 ms", "monoculture", cores,
                            environment={"GOMP_SPINCOUNT": "10000"}))
    if not quick:
        chosen += [Setup(f"bare threads={cores}, poll 50", "bare", cores, 50, spin),
                   Setup(f"bare threads={cores}, poll 0", "bare", cores, 0, spin),
                   Setup(f"bare threads={fewer}, poll 0", "bare", fewer, 0, spin)]
    return chosen


# -- the measured process ------------------------------------------------------------------------------------------


def _study(spec: str, threads: int | None, individuals: int, words: int, mode: str) -> dict:
    entry: dict = {"spec": spec} if threads is None else {"spec": spec, "threads": threads}
    return {"name": "contention", "models": [entry], "conditions": [{"context": "none"}],
            "colour": {"individuals": individuals, "words": words, "mode": mode}}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_monoculture(spec: str, threads: int | None, individuals: int, words: int, mode: str, out: Path) -> None:
    """Run the study; once the last sample is stored, print the CPU seconds since the model loaded, and exit."""
    from monoculture._run import run_study
    from monoculture.study import parse_study

    study = parse_study(_study(spec, threads, individuals, words, mode))
    planned = individuals * words * 2

    class Observer:
        stored = 0
        cpu_at_start = 0.0

        def planned(self, total: int, remaining: int, expected_s: float | None) -> None: ...
        def model_timed(self, info, expected_s: float | None) -> None: ...

        def model_started(self, info, remaining: int) -> None:
            self.cpu_at_start = _cpu_seconds()  # the model is loaded; the sampling probe comes next

        def sample_stored(self, record) -> None:
            self.stored += 1
            if self.stored == planned:
                print(json.dumps({"cpu_s": _cpu_seconds() - self.cpu_at_start}), flush=True)
                # What follows (the summary and the report) is not what is measured here.
                os._exit(0)

    run_study(study, out, observer=Observer())


def run_bare(spec: str, threads: int, poll: int, mode: str, store: Path) -> None:
    """Replay the requests a monoculture run stored on a bare xllamacpp server set up as the backend sets it up."""
    import xllamacpp

    from monoculture.backends._base import Decoding
    from monoculture.backends._distribution import llama_samplers, with_sampled_probabilities
    from monoculture.backends._embedded import CONTEXT_PER_SLOT, DEFAULT_PARALLEL, EMBEDDED_MODELS
    from monoculture.tasks.colour import ColourSpec, ColourTask

    model = EMBEDDED_MODELS[spec.removeprefix("embedded:")]
    params = xllamacpp.CommonParams()
    params.model.path = str(model.locate())
    params.n_parallel = DEFAULT_PARALLEL
    params.n_ctx = DEFAULT_PARALLEL * CONTEXT_PER_SLOT
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.cpuparams.poll = params.cpuparams_batch.poll = poll
    params.warmup = False
    params.swa_full = True
    params.verbosity = -1
    server = xllamacpp.Server(params)
    grammar = ColourTask(ColourSpec()).grammar(None)  # type: ignore[arg-type]
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT prompt, seed, decoding_json FROM samples ORDER BY id").fetchall()

    def call(row: tuple) -> None:
        prompt, seed, decoding_json = row
        decoding = Decoding(**json.loads(decoding_json))
        body = {"seed": seed, "max_tokens": decoding.max_tokens, "temperature": decoding.temperature,
                "top_k": decoding.top_k, "top_p": decoding.top_p, "min_p": decoding.min_p,
                "samplers": llama_samplers(decoding)}
        if mode == "constrained":
            body["grammar"] = grammar
        if model.kind == "chat":  # stored as "user: ..." (condition none: one user message)
            body["messages"] = [{"role": "user", "content": prompt.removeprefix("user: ")}]
            server.handle_chat_completions(with_sampled_probabilities(body, chat=True))
        else:
            body["prompt"] = prompt
            server.handle_completions(with_sampled_probabilities(body, chat=False))

    from concurrent.futures import ThreadPoolExecutor

    cpu = _cpu_seconds()
    start = time.perf_counter()
    with ThreadPoolExecutor(DEFAULT_PARALLEL) as pool:
        list(pool.map(call, rows))
    print(json.dumps({"samples": len(rows), "seconds": time.perf_counter() - start,
                      "cpu_s": _cpu_seconds() - cpu}), flush=True)


# -- the driver ----------------------------------------------------------------------------------------------------


def _busy_jiffies() -> int:
    """All CPU time the machine has spent outside idle and iowait, in clock ticks."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stored_rate(store: Path) -> tuple[int, float]:
    if not store.exists():
        return 0, 0.0
    with sqlite3.connect(store) as db:
        count, first, last = db.execute(
            "SELECT COUNT(*), MIN(started_at), MAX(started_at + latency_s) FROM samples").fetchone()
    return count, (last - first) if count else 0.0


def measure(setup: Setup, spec: str, args: argparse.Namespace, folder: Path, reference: Path | None) -> dict:
    """Run one configuration in a fresh process and return its figures."""
    out = folder / f"{spec.split(':')[1]}-{len(list(folder.iterdir()))}"
    command = [sys.executable, __file__, "--child", setup.engine, "--models", spec, "--individuals",
               str(args.individuals), "--words", str(args.words), "--out", str(out), "--poll", str(setup.poll),
               "--mode", args.mode]
    if setup.threads is not None:
        command += ["--threads", str(setup.threads)]
    if setup.engine == "bare":
        command += ["--replay", str(reference)]
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    environment.update(setup.environment)
    load = os.getloadavg()[0]
    ticks = os.sysconf("SC_CLK_TCK")
    busy, cpu_before, started = _busy_jiffies(), _children_cpu(), time.perf_counter()
    child = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
    try:
        output, _ = child.communicate(timeout=args.limit)
        stopped = False
    except subprocess.TimeoutExpired:
        child.kill()
        output, _ = child.communicate()
        stopped = True
    if not stopped and child.returncode != 0:
        raise SystemExit(f"{setup.label} failed (exit {child.returncode}): see its error above")
    wall = time.perf_counter() - started
    child_cpu = _children_cpu() - cpu_before
    others = max(0.0, ((_busy_jiffies() - busy) / ticks - child_cpu) / wall)  # both clocks tick in 1/100 s
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    reported = lines[-1] if lines else {}
    if setup.engine == "bare" and "samples" in reported:
        count, seconds = reported["samples"], reported["seconds"]
    else:
        count, seconds = _stored_rate(out / "samples.sqlite")
    cpu = reported.get("cpu_s", child_cpu)
    return {"setup": setup.label, "samples": count, "seconds": seconds, "rate": count / seconds if seconds else 0.0,
            "cpu_per_sample": cpu / count if count else float("nan"), "load": load, "others": others,
            "stopped": stopped or (setup.engine == "monoculture" and not lines), "store": out / "samples.sqlite"}


def _hogs(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.kill()
    for process in processes:
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--individuals", type=int, default=4)
    parser.add_argument("--words", type=int, default=6)
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--mode", choices=("constrained", "free"), default="constrained",
                        help="free: hex codes unconstrained, answers of up to 64 tokens")
    parser.add_argument("--repeats", type=int, help="rounds over every configuration (medians printed); default 2, "
                        "1 with --quick")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds after which a run is stopped")
    parser.add_argument("--quick", action="store_true", help="the monoculture configurations only")
    parser.add_argument("--child", choices=("monoculture", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--poll", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--replay", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "monoculture":
        return run_monoculture(args.models[0], args.threads, args.individuals, args.words, args.mode, args.out)
    if args.child == "bare":
        return run_bare(args.models[0], args.threads, args.poll, args.mode, args.replay)

    from monoculture.backends._embedded import available_cores

    cores = available_cores()
    repeats = args.repeats or (1 if args.quick else 2)
    print(f"{cores} cores; colour, {args.mode}, condition none, {args.individuals} individuals x {args.words} words x "
          f"2 = {args.individuals * args.words * 2} samples a run; {repeats} round(s), configurations interleaved; "
          f"runs stopped after {args.limit:.0f} s", flush=True)
    results: dict[tuple, list[dict]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for spec in args.models:
            reference: Path | None = None
            for _ in range(repeats):
                for hogs in (0, args.hogs) if args.hogs else (0,):
                    spinning = _hogs(hogs)
                    try:
                        time.sleep(2 if hogs else 0)
                        for setup in setups(cores, args.quick):
                            if setup.engine == "bare" and reference is None:
                                continue  # nothing stored to replay yet
                            result = measure(setup, spec, args, Path(folder), reference)
                            if setup.engine == "monoculture" and reference is None and not result["stopped"]:
                                reference = result["store"]
                            results.setdefault((spec, hogs, setup.label), []).append(result)
                            print(_line(spec, hogs, result), flush=True)
                    finally:
                        _stop(spinning)
    print(f"\nmedians of {repeats} round(s): samples/s (CPU s/sample)")
    for (spec, hogs, label), runs in results.items():
        rate = statistics.median(run["rate"] for run in runs)
        cpu = statistics.median(run["cpu_per_sample"] for run in runs)
        others = statistics.median(run["others"] for run in runs)
        print(f"{spec:32} {'+' + str(hogs) + ' hogs' if hogs else 'quiet':8} {label:34} {rate:6.2f} ({cpu:4.2f}); "
              f"other work {others:.1f} cores")


def _line(spec: str, hogs: int, result: dict) -> str:
    return (f"{spec:32} {'+' + str(hogs) + ' hogs' if hogs else 'quiet':8} {result['setup']:34} "
            f"{result['rate']:6.2f} samples/s ({result['samples']} in {result['seconds']:6.1f} s"
            f"{', stopped' if result['stopped'] else ''}), {result['cpu_per_sample']:5.2f} CPU s/sample; "
            f"load {result['load']:.1f} before, other work {result['others']:.1f} cores")


if __name__ == "__main__":
    main()
