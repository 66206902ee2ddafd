"""Sampling alarms, provoked by real misconfigurations between monoculture and a real llama.cpp server.

A gateway on loopback stands between the openai: backend and llama.cpp's HTTP server and does what real
gateways and caches get wrong: it answers repeated prompts from a cache, drops the ``seed`` field, drops the
``temperature`` field, or starts failing part-way. Each must raise its alarm in summary.json and the report; a
clean run of an embedded model must raise none.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import run_cli
from openai_server import TEST_KEY

from monoculture._run import run_study
from monoculture.analysis import Repeats, repeats_check
from monoculture.errors import BackendError
from monoculture.store import SampleRecord
from monoculture.study import parse_study


class Gateway:
    """A loopback gateway to llama.cpp that can cache answers, drop request fields, or fail after some requests."""

    def __init__(self, upstream_port: int, *, cache: bool = False, drop: tuple[str, ...] = (),
                 fail_after: int | None = None) -> None:
        self.upstream_port, self.cache, self.drop, self.fail_after = upstream_port, cache, drop, fail_after
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.posts = 0
        self._lock, self._cache_lock = threading.Lock(), threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                gateway._forward(self, None)

            def do_POST(self) -> None:
                gateway._forward(self, json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _forward(self, handler: BaseHTTPRequestHandler, payload: dict | None) -> None:
        if payload is not None:
            with self._lock:
                self.posts += 1
                failing = self.fail_after is not None and self.posts > self.fail_after
            if failing:
                return self._reply(handler, 500, b'{"error": {"message": "upstream exhausted"}}')
            for field in self.drop:
                payload.pop(field, None)
            if self.cache:  # keyed like a careless response cache: the prompt and settings, not the seed
                cache_key = json.dumps({k: v for k, v in payload.items() if k != "seed"}, sort_keys=True)
                with self._cache_lock:  # one request at a time, so that every repeat is answered from the cache
                    if cache_key not in self.answers:
                        self.answers[cache_key] = self._upstream(handler, payload)
                    return self._reply(handler, *self.answers[cache_key])
        self._reply(handler, *self._upstream(handler, payload))

    def _upstream(self, handler: BaseHTTPRequestHandler, payload: dict | None) -> tuple[int, bytes]:
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
        upstream.request(handler.command, handler.path, body=None if payload is None else json.dumps(payload),
                         headers=headers)
        response = upstream.getresponse()
        return response.status, response.read()

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, content: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)


@pytest.fixture
def gateway(llama_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    made: list[Gateway] = []

    def make(**options) -> Gateway:
        made.append(Gateway(llama_server.port, **options))
        return made[-1]

    yield make
    for running in made:
        running.close()


def _study(spec: str, *, individuals: int = 6, words: int = 3):
    return parse_study({
        "name": "alarms", "seed": 11, "models": [{"spec": spec, "kind": "chat"}],
        "conditions": [{"context": "none"}],
        "colour": {"individuals": individuals, "words": words, "replicates": 2, "mode": "constrained"},
    })


def _run(study, out) -> dict:
    """Run a study; its summary as summary.json holds it."""
    return json.loads(run_study(study, out).summary.to_json())


def _kinds(summary: dict) -> list[str]:
    return sorted(alarm["kind"] for alarm in summary["alarms"])


def _probe_messages(summary: dict) -> list[str]:
    return [alarm["message"] for alarm in summary["alarms"] if alarm["kind"] == "probe"]


@pytest.mark.model
def test_a_response_cache_raises_the_probe_and_the_repeats_alarms(gateway, tmp_path, data_root):
    cached = gateway(cache=True)
    study_file = tmp_path / "study.toml"
    study_file.write_text(f'name = "alarms"\nseed = 11\nmodels = [{{ spec = "openai:smollm2@{cached.url}", '
                          'kind = "chat" }]\nconditions = [{ context = "none" }]\n'
                          '[colour]\nindividuals = 6\nwords = 3\nmode = "constrained"\n')
    done = run_cli("run", str(study_file), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    # The terminal says it too, one line per alarm, and where the evidence is.
    printed = " ".join(done.stdout.split())
    assert "alarm (probe," in printed and "alarm (repeats," in printed and "Sampling checks" in printed
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert _kinds(summary) == ["probe", "repeats"]
    assert "ignores the seed or the temperature, or answers from a cache" in _probe_messages(summary)[0]
    repeats = next(a for a in summary["alarms"] if a["kind"] == "repeats")
    evidence = repeats["evidence"]
    # 3 words x 12 draws, every draw of a word the same text: 3 x 66 identical pairs.
    assert evidence["draws"] == 36 and evidence["identical_pairs"] == 198
    assert evidence["expected_identical_pairs"] < 198 / 20
    assert evidence["most_unlikely_repeats"][0]["count"] == 12
    report = (tmp_path / "report.html").read_text()
    checks = report.split('id="checks"')[1].split("</section>")[0]
    assert checks.count('class="alarm"') == 2 and "198 pairs of independent draws are identical" in checks


@pytest.mark.model
@pytest.mark.parametrize(("dropped", "alarm"), [
    ("seed", "does not honour the seed"),  # llama.cpp then picks a random seed for every request
    ("temperature", "does not honour the temperature"),  # llama.cpp then samples at 0.8, even for greedy
])
def test_a_gateway_that_drops_a_field_raises_its_alarm(gateway, dropped, alarm, tmp_path, data_root):
    dropping = gateway(drop=(dropped,))
    summary = _run(_study(f"openai:smollm2@{dropping.url}", individuals=2, words=2), tmp_path)
    assert _kinds(summary) == ["probe"]
    [message] = _probe_messages(summary)
    assert alarm in message
    texts = summary["alarms"][0]["evidence"]["texts"]
    assert len(texts) == 2 and texts[0] != texts[1]  # the evidence: two texts that should have been one


@pytest.mark.model
def test_a_run_that_fails_part_way_reports_its_shortfall(gateway, tmp_path, data_root):
    # 8 probe requests, then 10 samples, then every request fails: the run stops with a one-line error, but
    # the summary and report are written for what arrived, with the shortfall as an alarm.
    failing = gateway(fail_after=18)
    with pytest.raises(BackendError):
        run_study(_study(f"openai:smollm2@{failing.url}"), tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    shortfall = [a for a in summary["alarms"] if a["kind"] == "shortfall"]
    assert len(shortfall) == 1
    stored = shortfall[0]["evidence"]["stored"]
    assert shortfall[0]["evidence"]["planned"] == 36 and 10 <= stored < 36
    assert f"{36 - stored} of 36 planned samples are missing" in shortfall[0]["message"]
    assert "planned samples are missing" in (tmp_path / "report.html").read_text()
    # The gateway recovers; run again: complete, and the alarm is gone.
    failing.fail_after = None
    summary = _run(_study(f"openai:smollm2@{failing.url}"), tmp_path)
    assert summary["n_samples_stored"] == 36 and summary["alarms"] == []


@pytest.mark.model
def test_a_clean_embedded_run_raises_no_alarm(tmp_path, data_root):
    study = parse_study({
        "name": "clean", "seed": 5, "models": [{"spec": "embedded:smollm2-135m-instruct"}],
        "conditions": [{"context": "none"}, {"context": "persona"}],
        "colour": {"individuals": 6, "words": 4, "replicates": 2, "mode": "constrained"},
    })
    summary = _run(study, tmp_path)
    assert summary["alarms"] == []
    for cell in summary["models"]["embedded:smollm2-135m-instruct"].values():
        colour = cell["tasks"]["colour"]
        assert colour["repeats"]["constrained"]["checked"]
        assert colour["accounting"]["constrained"]["stored"] == colour["accounting"]["constrained"]["planned"] == 48
    probe = summary["probes"]["embedded:smollm2-135m-instruct"]
    assert [check["passed"] for check in probe["checks"]] == [True, True, True]


# ----------------------------------------------------------------------------- the repeats statistic alone


def _record(group: int, output: str, logprob: float | None) -> SampleRecord:
    return SampleRecord(model="m", condition="none@default", task="colour", individual=0, item=str(group),
                        replicate=0, mode="constrained", settings="s", target=None, context="",
                        prompt=f"prompt {group}",
                        raw_output=output, answer=output, valid=True, invalid_reason=None, seed=0,
                        decoding={"temperature": 1.0}, finish_reason="stop", started_at=0.0, latency_s=0.0,
                        logprob=logprob)


def _draws(rng: random.Random, distribution: dict[str, float], groups: int, per_group: int) -> list[SampleRecord]:
    answers = sorted(distribution)
    return [_record(g, answer, math.log(distribution[answer]))
            for g in range(groups)
            for answer in rng.choices(answers, weights=[distribution[a] for a in answers], k=per_group)]


def test_independent_draws_repeat_as_often_as_their_probabilities_say():
    # Draws from a known distribution: the expected identical pairs are C(m, 2) * sum p^2 per group, and the
    # statistic's estimate (mean of p over the draws) must agree with that, and with what is seen.
    rng = random.Random(2026)
    distribution = {"#ff0000": 0.3, "#00ff00": 0.2, "#0000ff": 0.1, **{f"#0000{i:02x}": 0.4 / 40 for i in range(40)}}
    check = repeats_check(_draws(rng, distribution, groups=200, per_group=10))
    exact = 200 * 45 * sum(p * p for p in distribution.values())
    assert check.checked and not check.alarm
    assert check.expected_identical_pairs == pytest.approx(exact, rel=0.05)
    assert check.identical_pairs == pytest.approx(exact, rel=0.1)


def test_a_reused_seed_repeats_far_beyond_its_probabilities():
    rng = random.Random(7)
    distribution = {f"#{i:06x}": 1 / 500 for i in range(500)}
    honest = _draws(rng, distribution, groups=20, per_group=6)
    # The same draws, but every group answered with its first draw, as a fixed seed or a cache would.
    reused = [_record(int(r.item), honest[6 * int(r.item)].raw_output, r.logprob) for r in honest]
    assert not repeats_check(honest).alarm
    check = repeats_check(reused)
    assert check.alarm and check.identical_pairs == 20 * 15
    assert check.expected_identical_pairs == pytest.approx(300 / 500)


def test_a_model_that_is_sure_explains_its_own_repeats():
    # Probability 1 for every draw (a model that is sure of its answer): all identical, all expected, no alarm.
    check = repeats_check([_record(g, "#123456", 0.0) for g in range(10) for _ in range(5)])
    assert check.identical_pairs == check.expected_identical_pairs == 100 and not check.alarm


def test_without_probabilities_the_check_says_it_was_not_made():
    check = repeats_check([_record(0, "#123456", None), _record(0, "#123456", None)])
    assert not check.checked and check.reason.startswith("the backend reports no probabilities of what it sampled")


def test_greedy_populations_are_not_checked_for_repeats():
    greedy = [replace(_record(0, "#123456", -3.0), decoding={"temperature": 0.0})] * 3
    assert repeats_check(greedy) == Repeats(checked=False,
                                            reason="temperature 0: every draw of a request is the same by design")


def test_exact_mode_draws_are_not_checked_for_repeats():
    exact = [replace(_record(0, '{"a": 0.5, "b": 0.5}', None), mode="exact")] * 3
    assert repeats_check(exact) == Repeats(checked=False,
                                           reason="exact mode: monoculture draws the answers from the stored "
                                                  "distribution itself")
