"""Crash safety: runs killed at random moments, two runs into one store at once, a server that stops answering.

In every case each planned sample ends up stored exactly once, and a sample stored before a failure is never
drawn again: its row (id, raw output, start time, everything) is the same after the run that completes it.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import count_samples, run_cli
from hostile_server import HostileServer

from monoculture._run import run_study
from monoculture.analysis import summarize
from monoculture.store import Store
from monoculture.study import parse_study

# Two slots: samples arrive one or two at a time, so a kill can fall between any two of them.
KILL_STUDY = ('name = "tiny"\nseed = 7\nmodels = [{ spec = "embedded:smollm2-135m-instruct", parallel = 2 }]\n'
              'conditions = [{ context = "none" }, { context = "persona" }]\n'
              '[colour]\nindividuals = 2\nwords = ["lemon", "wisdom"]\nmode = "constrained"\n')
KILL_PLANNED = 2 * 2 * 2 * 2  # conditions x individuals x words x replicates


def _rows(store: Path) -> dict[int, tuple]:
    """Every stored row as it is on disk, by id."""
    with sqlite3.connect(store, timeout=30) as db:
        return {row[0]: row for row in db.execute("SELECT * FROM samples")}


def _integrity(store: Path) -> str:
    with sqlite3.connect(store, timeout=30) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def _runs(store: Path) -> int:
    if not store.exists():  # connecting would create it
        return 0
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _start(study_file: Path, out: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "monoculture", "run", str(study_file), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _wait(process: subprocess.Popen, condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the run ended before {what}: {process.communicate()[1]}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.02)


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL  # it was still running: the kill interrupted it


def _drew(stdout: str) -> int:
    """The number of new samples a finished run says it drew."""
    return int(re.search(r"drew (\d+) new samples", stdout).group(1))


def _toml(url: str, individuals: int, words: list[str]) -> str:
    """A free-mode colour study of the fake server, two requests at a time (four in flight)."""
    return (f'name = "crash"\nseed = 11\nmodels = [{{ spec = "openai:fake@{url}", kind = "chat", parallel = 2 }}]\n'
            'conditions = [{ context = "none" }]\n'
            f'[colour]\nindividuals = {individuals}\nwords = {json.dumps(words)}\nmode = "free"\n')


@pytest.mark.model
def test_runs_killed_at_random_moments_resume_without_redoing_or_duplicating_samples(tmp_path, data_root):
    rng = random.Random(20240611)  # the kill moments are random, and the same on every run of the test
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(KILL_STUDY)
    out = tmp_path / "out"
    store = out / "samples.sqlite"
    snapshots: list[dict[int, tuple]] = []

    def killed_after(condition, what: str, delay_s: float) -> None:
        process = _start(study_file, out)
        _wait(process, condition, what)
        time.sleep(delay_s)
        _kill(process)
        assert _integrity(store) == "ok"
        snapshots.append(_rows(store))

    # 1. Early: the run has registered itself and is loading the model; nothing is drawn yet.
    killed_after(lambda: _runs(store) >= 1, "run start", rng.uniform(0.0, 0.4))
    assert snapshots[-1] == {}
    # 2. Mid-run, after a random number of samples and a random few milliseconds more.
    target = rng.randint(2, KILL_PLANNED - 6)
    killed_after(lambda: count_samples(store) >= target, f"{target} samples", rng.uniform(0, 0.2))
    assert target <= len(snapshots[-1]) < KILL_PLANNED
    # 3. Late: every sample is stored and the run is writing summary.json and report.html.
    killed_after(lambda: count_samples(store) >= KILL_PLANNED, "every sample", rng.uniform(0.0, 0.3))
    assert len(snapshots[-1]) == KILL_PLANNED
    if (out / "summary.json").exists():  # written whole or not at all
        json.loads((out / "summary.json").read_text())
    # Rows are never rewritten between kills: each snapshot contains the one before it unchanged.
    for earlier, later in pairwise(snapshots):
        assert earlier.items() <= later.items()

    resumed = run_cli("run", str(study_file), "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert _drew(resumed.stdout) == 0 and f"({KILL_PLANNED} planned)" in resumed.stdout

    after = _rows(store)
    print(f"\nkilled runs: planned {KILL_PLANNED}, stored at each kill {[len(rows) for rows in snapshots]}, "
          f"after the resume {len(after)}")
    assert after == snapshots[-1]  # nothing redrawn: same ids, raw outputs, seeds and start times
    with Store(store) as db:
        samples = list(db.samples())
        assert len(samples) == len({s.key for s in samples}) == KILL_PLANNED
        # Constrained decoding: every answer is a valid code, recorded with its mode.
        assert all(s.valid and s.mode == "constrained" for s in samples)
        assert len({s.seed for s in samples}) == KILL_PLANNED
        assert {s.decoding["temperature"] for s in samples} == {1.0}  # "default" on every backend, resolved
        persona = [s for s in samples if s.condition == "persona@default"]
        assert persona and all(s.context.startswith("You are ") and s.context in s.prompt for s in persona)
        # The summary is derived from the store alone: a reloaded store gives the same numbers.
        rebuilt = json.loads(summarize(db).to_json())
    written = json.loads((out / "summary.json").read_text())
    for summary in (rebuilt, written):
        summary.pop("created")
    assert rebuilt == written
    cell = written["models"]["embedded:smollm2-135m-instruct"]["none@default"]
    assert cell["kind"] == "chat"
    colour = cell["tasks"]["colour"]["result"]
    assert colour["valid_fraction"] == 1.0 and colour["n_individuals"] == 2 and colour["n_words"] == 2
    assert colour["internal_delta_e"] >= 0 and colour["population_delta_e"] >= 0
    for word in colour["words"]:
        assert word["n_individuals"] == 2
        assert abs(word["distance_from_diagonal"]
                   - abs(word["population_delta_e"] - word["internal_delta_e"]) / 2**0.5) < 1e-9
    mean_distance = sum(word["distance_from_diagonal"] for word in colour["words"]) / 2
    assert abs(colour["distance_from_diagonal"] - mean_distance) < 1e-9
    # The humans on the study's own words: the 201 of the 475 people who were asked "lemon" or "wisdom".
    from monoculture.tasks.colour import human_colour_answers

    asked = {a.individual for a in human_colour_answers() if a.word in ("lemon", "wisdom")}
    assert written["human"]["colour"]["n_individuals"] == len(asked) == 201
    assert written["human"]["colour"]["n_words"] == 2
    html = (out / "report.html").read_text()
    assert "embedded:smollm2-135m-instruct" in html and "<svg" in html


def test_two_runs_into_one_store_at_the_same_time(tmp_path, data_root):
    out = tmp_path / "out"
    store = out / "samples.sqlite"
    planned = 6 * 3 * 2
    # Every request waits until both runs have registered in the store, so that they sample side by side.
    with HostileServer("healthy", delay_s=0.05, hold_until=lambda: _runs(store) >= 2) as server:
        study_file = tmp_path / "study.toml"
        study_file.write_text(_toml(server.url, 6, ["lemon", "ocean", "wisdom"]))
        first, second = _start(study_file, out), _start(study_file, out)
        try:
            outputs = [run.communicate(timeout=300) for run in (first, second)]
        except subprocess.TimeoutExpired:
            # One run waiting on the other: say what both wrote (the other may have ended early with an error).
            for run in (first, second):
                run.kill()
            said = [f"run {n}: exit {run.wait()}, stderr {run.communicate()[1][-800:]!r}"
                    for n, run in enumerate((first, second), 1)]
            pytest.fail("the two runs did not both finish within 300 s; " + "; ".join(said))
    for run, (_, stderr) in zip((first, second), outputs):
        assert run.returncode == 0, stderr
    assert _integrity(store) == "ok"
    with Store(store) as db:
        samples = list(db.samples())
        runs = db.runs()
    assert len(samples) == len({s.key for s in samples}) == planned
    assert len(runs) == 2 and all(run["finished_at"] for run in runs)
    # Each run counts only what it stored itself: together exactly the plan.
    assert sum(_drew(stdout) for stdout, _ in outputs) == planned
    json.loads((out / "summary.json").read_text())
    assert (out / "report.html").read_text().rstrip().endswith("</html>")
    assert not list(out.glob(".*.part"))  # no temporary output left behind
    # Every stored sample is one the server was asked for; a sample both runs asked for before either had
    # stored it is drawn twice and stored once.
    requests = Counter(server.seeds())
    assert all(requests[s.seed] in (1, 2) for s in samples)
    drawn_twice = sum(requests[s.seed] == 2 for s in samples)
    print(f"\ntwo runs at once: planned {planned}, stored {len(samples)}, drawn twice {drawn_twice}")
    # The second run takes the list backwards: the two meet once, and only the requests in flight there
    # (four per run: two slots and two queued) are drawn twice.
    assert drawn_twice <= 8


def test_a_server_that_stops_answering_ends_the_run_and_a_rerun_completes(tmp_path, data_root):
    out = tmp_path / "out"
    store = out / "samples.sqlite"
    planned = 4 * 2 * 2
    with HostileServer("stall", healthy_until=(store, 5)) as server:
        study_file = tmp_path / "study.toml"
        study_file.write_text(_toml(server.url, 4, ["lemon", "ocean"]))
        started = time.monotonic()
        # A half-second timeout: five attempts and their backoff take about 10 s instead of 25 minutes.
        done = run_cli("run", str(study_file), "--out", str(out), env={"MONOCULTURE_REQUEST_TIMEOUT": "0.5"},
                       timeout=120)
        assert time.monotonic() - started < 60
        assert done.returncode == 6, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith("monoculture: error: ") and "failed 5 times in a row" in line
        assert "ReadTimeout" in line and "MONOCULTURE_REQUEST_TIMEOUT" in line and "run again to continue" in line
        assert _integrity(store) == "ok"
        before = _rows(store)
        assert 5 <= len(before) < planned
        with Store(store) as db:  # what was collected is what the server sent
            assert all(s.raw_output == server.sent[s.seed] for s in db.samples())

        server.behaviour, server.healthy_until = "healthy", None
        result = run_study(parse_study(_study_dict(server.url)), out)
    after = _rows(store)
    assert before.items() <= after.items()  # untouched
    with Store(store) as db:
        samples = list(db.samples())
    assert result.planned == len(samples) == len({s.key for s in samples}) == planned
    assert result.drawn == planned - len(before)
    assert all(s.valid and s.raw_output == server.sent[s.seed] for s in samples)
    print(f"\nserver stopped answering: planned {planned}, stored before {len(before)}, after the rerun {len(samples)}")


def _study_dict(url: str) -> dict:
    return {"name": "crash", "seed": 11, "models": [{"spec": f"openai:fake@{url}", "kind": "chat", "parallel": 2}],
            "conditions": [{"context": "none"}], "colour": {"individuals": 4, "words": ["lemon", "ocean"], "mode": "free"}}
