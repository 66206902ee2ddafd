"""One model, many servers: ``endpoints`` in a study's model entry.

The pool's rule (least outstanding requests, round robin on ties, a failed endpoint out of rotation with a doubling
back-off) is tested with a fake clock; the failover of :class:`PooledBackend` with fake endpoint backends; and a
whole run against three real llama.cpp servers on loopback (``tests/openai_server.py``), one of them killed
mid-run, each behind a small counting forwarder that says which server answered which request.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import run_cli
from openai_server import TEST_KEY, LlamaServer, free_port

from monoculture._run import run_study
from monoculture.backends import (
    Backend,
    Decoding,
    Generation,
    GenerationRequest,
    Model,
    ModelInfo,
    ModelOptions,
    TransientBackendError,
)
from monoculture.backends.endpoints import (
    FIRST_BACKOFF_S,
    MAX_BACKOFF_S,
    STRIKES,
    EndpointDown,
    EndpointPool,
    PooledBackend,
    load_with_endpoints,
)
from monoculture.errors import BackendError, StudyFileError
from monoculture.store import Store
from monoculture.study import load_study, parse_study


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the pool's rule, on a fake clock ----------------------------------------------------------------------


def test_least_outstanding_requests_with_round_robin_on_ties():
    pool = EndpointPool(["a", "b", "c"], clock=Clock())
    first = [pool.pick() for _ in range(3)]
    assert [ticket.endpoint for ticket in first] == ["a", "b", "c"]  # all idle: in turn
    pool.release(first[1], "served")
    assert pool.pick().endpoint == "b"  # the only one with fewer in flight
    assert [pool.pick().endpoint for _ in range(3)] == ["c", "a", "b"]  # all at one: in turn again, after b
    assert pool.outstanding() == {"a": 2, "b": 2, "c": 2}
    assert pool.served() == {"a": 0, "b": 1, "c": 0}
    # A request that failed on some endpoints goes to the others; on all of those in rotation, back to its caller.
    assert pool.pick(exclude={"a", "c"}).endpoint == "b"
    assert pool.pick(exclude={"a", "b", "c"}) is None


def test_a_failed_endpoint_is_retried_after_a_doubling_capped_back_off():
    clock = Clock()
    pool = EndpointPool(["a", "b"], clock=clock)
    doomed = [pool.pick() for _ in range(4)]  # two each
    pool.release(doomed[0], "down")  # connection refused: out at once
    assert pool.in_rotation() == ["b"] and pool.retry_at("a") == clock.now + FIRST_BACKOFF_S
    pool.release(doomed[2], "down")  # the other request it had in flight fails too: the same death, same back-off
    assert pool.retry_at("a") == clock.now + FIRST_BACKOFF_S
    assert {pool.pick().endpoint for _ in range(5)} == {"b"}  # a is skipped, however busy b is

    waits = []
    for _ in range(6):
        clock.now = pool.retry_at("a")
        trial = pool.pick()  # due again: one request tests it (a has fewer in flight than b)
        assert trial.endpoint == "a" and trial.trial
        assert pool.pick().endpoint == "b"  # while the trial is out, nothing else goes to a
        pool.release(trial, "down")
        waits.append(pool.retry_at("a") - clock.now)
    assert waits == [min(FIRST_BACKOFF_S * 2 ** n, MAX_BACKOFF_S) for n in range(1, 7)]
    assert waits[-1] == MAX_BACKOFF_S

    clock.now = pool.retry_at("a")
    trial = pool.pick()
    pool.release(trial, "served")  # back: in rotation, and its next failure starts the back-off afresh
    assert pool.in_rotation() == ["a", "b"] and pool.retry_at("a") is None
    pool.release(pool.pick(), "down")
    assert pool.retry_at("a") == clock.now + FIRST_BACKOFF_S


def test_transient_failures_take_an_endpoint_out_only_when_they_run_in_a_row():
    clock = Clock()
    pool = EndpointPool(["a", "b"], clock=clock)

    def on_a(verdict):
        ticket = pool.pick(exclude={"b"})
        assert ticket.endpoint == "a"
        pool.release(ticket, verdict)

    for _ in range(STRIKES - 1):
        on_a("failed")  # HTTP 500
    on_a("served")  # an answer clears them
    for _ in range(STRIKES - 1):
        on_a("failed")
    assert pool.in_rotation() == ["a", "b"]
    on_a("failed")
    assert pool.in_rotation() == ["b"] and pool.retry_at("a") == clock.now + FIRST_BACKOFF_S


def test_when_every_endpoint_is_down_the_one_due_first_is_tried_without_waiting():
    clock = Clock()
    pool = EndpointPool(["a", "b"], clock=clock)
    pool.release(pool.pick(), "down")
    clock.now += 1
    pool.release(pool.pick(), "down")  # a due at +5, b at +6
    ticket = pool.pick()
    assert ticket.endpoint == "a" and ticket.trial and clock.now < pool.retry_at("a")
    assert pool.pick(exclude={"a"}).endpoint == "b"
    assert pool.pick(exclude={"a", "b"}) is None


# -- failover, with fake endpoint backends -----------------------------------------------------------------


class Member(Backend):
    """An endpoint's backend that answers with its name, or fails as told."""

    def __init__(self, name: str, failure: Exception | None = None) -> None:
        self.info = ModelInfo(spec="openai:fake", kind="chat", backend="openai")
        self.name, self.failure, self.calls = name, failure, 0

    async def generate(self, request: GenerationRequest) -> Generation:
        self.calls += 1
        await asyncio.sleep(0)
        if self.failure is not None:
            raise self.failure
        return Generation(text=self.name)


REQUEST = GenerationRequest(decoding=Decoding(1.0, 0, 1.0, 0.0, 8), seed=1, prompt="hi")


def _pooled(members: dict[str, Backend | None], connect=None, clock=None) -> PooledBackend:
    info = ModelInfo(spec="openai:fake", kind="chat", backend="openai", max_concurrency=len(members))
    return PooledBackend(info, members, connect or (lambda endpoint: Member(endpoint)), pool=EndpointPool(
        list(members), clock=clock or Clock()))


def test_a_request_that_fails_on_a_dead_endpoint_is_sent_to_a_live_one():
    dead = Member("a", EndpointDown("ConnectError on a"))
    live = Member("b")
    backend = _pooled({"a": dead, "b": live})

    async def three():
        return [(await backend.generate(REQUEST)).text for _ in range(3)]

    assert asyncio.run(three()) == ["b", "b", "b"]
    assert dead.calls == 1 and live.calls == 3  # a was tried once, then left out of rotation
    assert backend.pool.served() == {"a": 0, "b": 3} and backend.pool.in_rotation() == ["b"]


def test_every_endpoint_failing_is_one_transient_error_for_the_wrappers_retries():
    backend = _pooled({"a": Member("a", EndpointDown("ConnectError on a")),
                       "b": Member("b", TransientBackendError("HTTP 503 from b"))})
    with pytest.raises(TransientBackendError, match=r"HTTP 503 from b \(and on 1 other endpoint\)"):
        asyncio.run(backend.generate(REQUEST))
    assert backend.pool.outstanding() == {"a": 0, "b": 0}
    # Then the wrapper gives up as it does for one server (every endpoint is tried again on each of its attempts).
    with pytest.raises(BackendError, match="openai:fake failed 2 times in a row"):
        asyncio.run(Model(backend, retries=1, backoff_s=0.0).generate(REQUEST))


def test_a_model_none_of_whose_endpoints_answers_is_one_line():
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    with pytest.raises(BackendError, match="none of the 2 endpoints of openai:m answered") as refused:
        load_with_endpoints("openai:m", urls, ModelOptions(kind="chat"))
    assert "\n" not in str(refused.value) and "start the server or correct the URL" in str(refused.value)


def test_an_endpoint_unreachable_at_load_starts_out_of_rotation_and_is_connected_when_tried_again():
    connected = []
    up = False

    def connect(endpoint):
        connected.append(endpoint)
        if not up:
            raise EndpointDown(f"ConnectError on {endpoint}")
        return Member(endpoint)

    clock = Clock()
    backend = _pooled({"a": None, "b": Member("b")}, connect, clock)
    assert list(backend.replicas()) == ["b"] and backend.pool.in_rotation() == ["b"]
    assert asyncio.run(backend.generate(REQUEST)).text == "b" and connected == []
    clock.now = backend.pool.retry_at("a")
    assert asyncio.run(backend.generate(REQUEST)).text == "b"  # tried, still down: the request went on to b
    assert connected == ["a"] and backend.pool.retry_at("a") == clock.now + 2 * FIRST_BACKOFF_S
    up, clock.now = True, backend.pool.retry_at("a")
    assert asyncio.run(backend.generate(REQUEST)).text == "a"  # back: connected, and in rotation again
    assert connected == ["a", "a"] and list(backend.replicas()) == ["a", "b"]
    assert backend.pool.in_rotation() == ["a", "b"]


# -- the study file ------------------------------------------------------------------------------------------


def _entry_study(entry: dict) -> dict:
    return {"models": [entry], "conditions": [{"context": "none"}],
            "colour": {"individuals": 2, "words": ["lemon", "ocean"], "mode": "constrained"}}


def test_endpoints_on_a_model_that_is_not_a_server_are_one_line(tmp_path):
    study_file = tmp_path / "study.toml"
    study_file.write_text('models = [{ spec = "embedded:smollm2-135m-instruct", '
                          'endpoints = ["http://127.0.0.1:8001/v1"] }]\nconditions = [{ context = "none" }]\n'
                          '[colour]\nindividuals = 2\nwords = ["lemon", "ocean"]\n')
    with pytest.raises(StudyFileError) as refused:
        load_study(study_file)
    assert "\n" not in str(refused.value)
    assert "models.0: endpoints apply only to openai: models" in str(refused.value)
    cli = run_cli("plan", str(study_file))
    assert cli.returncode == 3 and len(cli.stderr.splitlines()) == 1, cli.stderr
    assert "endpoints apply only to openai: models" in cli.stderr


@pytest.mark.parametrize(("entry", "message"), [
    ({"spec": "openai:m@http://127.0.0.1:9/v1", "endpoints": ["http://127.0.0.1:1/v1"]},
     "the spec's URL 'http://127.0.0.1:9/v1' is not one of its endpoints"),
    ({"spec": "openai:m", "endpoints": ["http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1/"]}, "listed twice"),
    ({"spec": "openai:m", "endpoints": ["localhost:8000"]}, "is not a URL such as"),
    ({"spec": "openai:m", "endpoints": ["http://me:hunter22@127.0.0.1:1/v1"]}, "carries credentials"),
])
def test_endpoints_are_checked(entry, message):
    with pytest.raises(StudyFileError, match=message) as refused:
        parse_study(_entry_study(entry))
    assert "hunter22" not in str(refused.value)


def test_the_spec_may_name_the_model_alone_or_keep_one_of_its_endpoints():
    urls = ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"]
    for spec in ("openai:m", "openai:m@http://127.0.0.1:8002/v1/"):
        assert parse_study(_entry_study({"spec": spec, "endpoints": urls})).models[0].endpoints == urls


# -- three real servers, one killed mid-run --------------------------------------------------------------------


class Forwarder:
    """A loopback forwarder in front of one server that notes each sample's request it received and each reply it
    delivered (the sampling probe's requests, without a grammar, are not noted), and can die with its server.

    Once dead it delivers nothing more: requests in flight lose their connection, new ones are refused.
    """

    def __init__(self, upstream: LlamaServer) -> None:
        self.upstream = upstream
        self.received: list[float] = []  # when each sample's request (one with a grammar) arrived
        self.delivered: list[float] = []  # when each sample's reply went back
        self.dead_at: float | None = None
        self._lock = threading.Lock()
        forwarder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as httpx uses it

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                forwarder._forward(self, b"")

            def do_POST(self) -> None:
                forwarder._forward(self, self.rfile.read(int(self.headers.get("Content-Length", 0))))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        sample = handler.command == "POST" and "grammar" in json.loads(body)
        try:
            with self._lock:
                if self.dead_at is not None:
                    raise OSError("dead")
                if sample:
                    self.received.append(time.monotonic())
            upstream = http.client.HTTPConnection("127.0.0.1", self.upstream.port, timeout=60)
            headers = {name: value for name, value in handler.headers.items() if name.lower() != "host"}
            upstream.request(handler.command, handler.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            content = response.read()
        except OSError:  # the server is gone: so is this connection, without a reply
            handler.close_connection = True
            return
        with self._lock:  # a reply goes back whole before death, or not at all
            if self.dead_at is not None:
                handler.close_connection = True
                return
            if sample:
                self.delivered.append(time.monotonic())
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.getheader("Content-Type", "application/json"))
            handler.send_header("Content-Length", str(len(content)))
            handler.end_headers()
            handler.wfile.write(content)

    def kill(self) -> None:
        """The server dies: nothing more is delivered, and nothing more can connect."""
        with self._lock:
            self.dead_at = time.monotonic()
        self.server.shutdown()
        self.server.server_close()
        self.upstream.kill()

    def close(self) -> None:
        if self.dead_at is None:
            self.server.shutdown()
            self.server.server_close()


class KillAfter:
    """A run observer that kills one endpoint once ``samples`` samples are stored and it has delivered two."""

    def __init__(self, forwarder: Forwarder, samples: int) -> None:
        self.forwarder, self.samples, self.stored = forwarder, samples, 0

    def planned(self, total, remaining, expected_s) -> None:
        pass

    def model_started(self, info, remaining) -> None:
        pass

    def model_timed(self, info, expected_s) -> None:
        pass

    def sample_stored(self, record) -> None:
        self.stored += 1
        # Three servers share two cores, so one may be slower to deliver its first samples than the others.
        if self.stored >= self.samples and len(self.forwarder.delivered) >= 2 and self.forwarder.dead_at is None:
            self.forwarder.kill()


@pytest.fixture
def three_servers():
    servers = [LlamaServer(TEST_KEY) for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as starting:  # they load at once
            list(starting.map(LlamaServer.start, servers))
        yield servers
    finally:
        for server in servers:
            server.kill()


@pytest.mark.model
def test_a_run_survives_one_of_three_servers_dying(three_servers, monkeypatch, tmp_path, data_root):
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    forwarders = [Forwarder(server) for server in three_servers]
    never_up = f"http://127.0.0.1:{free_port()}/v1"  # a fourth server, down from the start and throughout
    try:
        urls = [forwarder.url for forwarder in forwarders] + [never_up]
        individuals, kill_after = 9, 12
        planned = individuals * 2 * 2  # individuals x words x replicates
        study = parse_study({
            "name": "three-servers", "seed": 5,
            "models": [{"spec": "openai:smollm2", "kind": "chat", "endpoints": urls}],
            "conditions": [{"context": "none"}],
            "colour": {"individuals": individuals, "words": ["lemon", "ocean"], "mode": "constrained"},
        })
        dying = forwarders[0]
        result = run_study(study, tmp_path, observer=KillAfter(dying, kill_after))
        with Store(tmp_path / "samples.sqlite") as store:
            samples = list(store.samples())
            [version] = store.model_versions().values()
            probe = store.probes()["openai:smollm2"]
    finally:
        for forwarder in forwarders:
            forwarder.close()

    # Complete, and every planned sample stored exactly once.
    assert result.planned == result.drawn == len(samples) == len({s.key for s in samples}) == planned
    assert all(s.valid for s in samples)
    # Every sample was delivered by exactly one server: none lost in the death, none drawn twice.
    assert sum(len(forwarder.delivered) for forwarder in forwarders) == planned
    died = dying.dead_at
    assert died is not None
    assert dying.delivered and all(at < died for at in dying.delivered)  # some before its death, none after
    # It died with requests in flight, and they were drawn again elsewhere (all were delivered once, above).
    assert len(dying.received) > len(dying.delivered)
    survivors = forwarders[1:]
    delivered_before = sum(at < died for forwarder in forwarders for at in forwarder.delivered)
    after = [sum(at >= died for at in forwarder.delivered) for forwarder in survivors]
    assert sum(after) == planned - delivered_before and all(after)  # the others carried the rest
    # Spread evenly while all three were up: least outstanding requests gave each about a third. (What each
    # delivered follows its speed: with three servers on two cores one may get less of the CPU for a while.)
    sent_before = [sum(at < died for at in forwarder.received) for forwarder in forwarders]
    assert min(sent_before) >= sum(sent_before) / 6, sent_before  # at least half an even share each
    # The model's record names every endpoint (the one never up too: the record does not depend on who answered).
    assert version["info"]["runtime"].startswith("llama.cpp server")
    assert all(url in version["info"]["runtime"] for url in urls)
    assert version["info"]["max_concurrency"] == 4 * 4  # 4 slots each, the unseen server counted like the others
    # The probe asked each server that answered, and they agree; the one never up is a failed check.
    assert probe["requests"] == 3 * 8
    for url in urls[:3]:
        assert [check["passed"] for check in probe["checks"] if url in check["name"]] == [True] * 3
    [unprobed] = [check for check in probe["checks"] if never_up in check["name"]]
    assert not unprobed["passed"] and "did not answer the sampling probe" in unprobed["alarm"]
    [agreement] = [check for check in probe["checks"] if check["name"].startswith("every endpoint")]
    assert agreement["passed"], agreement
