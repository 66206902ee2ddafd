"""The openai: backend against a real OpenAI-compatible server: llama.cpp's HTTP server (xllamacpp) on loopback.

The server runs in a subprocess (``tests/openai_server.py``) serving SmolLM2-135M-Instruct with an API key, so
that a test can kill it mid-run and start it again on the same port. A small proxy in this process stands in
front of it (``tests/loopback_proxy.py``) where a test needs a slow or refusing server, or one that is not llama.cpp.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import count_samples
from loopback_proxy import Proxy
from openai_server import TEST_KEY as KEY
from openai_server import LlamaServer, free_port

from monoculture._run._probe import PROBE_REQUESTS
from monoculture._run import run_study
from monoculture.backends import Decoding, GenerationRequest, ModelOptions, TransientBackendError, load_backend
from monoculture.backends._openai import ASSUMED_DEFAULTS, OpenAIBackend
from monoculture.backends.catalogue import backends_available
from monoculture.errors import BackendError, ModelSpecError, StudyFileError
from monoculture.store import Store
from monoculture.study import parse_study

from conftest import run_cli

PURE = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=12)


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


def _study(url: str, *, individuals: int = 3, **entry) -> dict:
    return {
        "name": "openai-tiny", "seed": 3,
        "models": [{"spec": f"openai:smollm2@{url}", "kind": "chat", **entry}],
        "conditions": [{"context": "none"}],
        "colour": {"individuals": individuals, "words": ["lemon", "ocean"], "mode": "constrained"},
    }


def _study_toml(url: str, individuals: int = 3) -> str:
    return (f'name = "openai-tiny"\nseed = 3\nmodels = [{{ spec = "openai:smollm2@{url}", kind = "chat" }}]\n'
            f'conditions = [{{ context = "none" }}]\n'
            f'[colour]\nindividuals = {individuals}\nwords = ["lemon", "ocean"]\nmode = "constrained"\n')


def _generate(backend, request: GenerationRequest):
    async def once():
        try:
            return await backend.generate(request)
        finally:
            await backend.aclose()
    return asyncio.run(once())


def _chat(seed: int, decoding: Decoding = PURE, grammar: str | None = None) -> GenerationRequest:
    return GenerationRequest(decoding=decoding, seed=seed, messages=(("user", "Describe the sea in a few words."),),
                             grammar=grammar)


# -- without a server ------------------------------------------------------------------------------------


def test_spec_forms_are_checked_before_anything_loads():
    from monoculture.backends import split_spec

    assert split_spec("openai:gpt-4o-mini") == ("openai", "gpt-4o-mini")
    assert split_spec("openai:Qwen/Qwen2.5-7B@http://10.0.0.2:8000/v1")[1] == "Qwen/Qwen2.5-7B@http://10.0.0.2:8000/v1"
    assert split_spec("openai:m@https://example.org/v1")[0] == "openai"
    for bad in ("openai:@http://127.0.0.1:8080/v1", "openai:m@127.0.0.1:8080/v1", "openai:m@ftp://host/v1",
                "openai:m@http://", "openai:m@http://host:port/v1", "openai:two words"):
        with pytest.raises(ModelSpecError) as caught:
            split_spec(bad)
        assert "\n" not in str(caught.value) and "openai:MODEL" in str(caught.value)
    # The study file takes the name of the key's variable (never a key), and validates it.
    study = parse_study(_study("http://127.0.0.1:9/v1", api_key_env="MY_SERVER_KEY"))
    assert study.models[0].api_key_env == "MY_SERVER_KEY"
    with pytest.raises(StudyFileError, match="api_key_env"):
        parse_study(_study("http://127.0.0.1:9/v1", api_key_env="sk-not a variable"))
    with pytest.raises(StudyFileError, match="unknown key"):
        parse_study(_study("http://127.0.0.1:9/v1", api_key="sk-123"))
    openai = next(entry for entry in backends_available() if entry["prefix"] == "openai")
    assert openai["available"] and openai["example"].startswith("openai:MODEL@http://")


def test_hosted_api_needs_a_key_and_refuses_what_it_lacks(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(BackendError, match="set the environment variable OPENAI_API_KEY"):
        load_backend("openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    backend = load_backend("openai:gpt-4o-mini")  # recognised by its host: nothing is sent yet
    assert backend.info.kind == "chat" and load_backend("openai:davinci-002").info.kind == "base"
    assert backend.info.default_decoding == {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
    assert KEY not in repr(backend.info)
    with pytest.raises(BackendError, match='does not offer grammar-constrained decoding: use mode = "free"'):
        _generate(backend, _chat(1, grammar='root ::= "a"'))
    with pytest.raises(BackendError, match="no top_k or min_p"):
        _generate(backend, _chat(1, Decoding(1.0, 40, 1.0, 0.0, 12)))


def test_an_unreachable_server_is_one_line():
    with pytest.raises(BackendError, match="cannot reach http://127.0.0.1:.*start the server") as caught:
        load_backend(f"openai:m@http://127.0.0.1:{free_port()}/v1")
    assert "\n" not in str(caught.value)


# -- against llama.cpp's server ------------------------------------------------------------------------


@pytest.mark.model
def test_colour_study_runs_end_to_end(llama_server, api_key, tmp_path, data_root):
    study = parse_study(_study(llama_server.url))
    result = run_study(study, tmp_path)
    with Store(tmp_path / "samples.sqlite") as store:
        samples = list(store.samples())
        [info] = [v["info"] for v in store.model_versions().values() if v["spec"] == study.models[0].spec]
    planned = 1 * 3 * 2 * 2  # conditions x individuals x words x replicates
    assert result.planned == result.drawn == len(samples) == len({s.key for s in samples}) == planned
    # The grammar reached llama.cpp: every answer is a hex code.
    assert all(s.valid and s.mode == "constrained" and s.raw_output.strip().startswith("#") for s in samples)
    assert info["backend"] == "openai" and info["runtime"].startswith("llama.cpp server")
    assert "defaults from /props" in info["runtime"] and info["max_concurrency"] == 4  # the server's slots
    # llama.cpp's defaults, read from /props and recorded; "default" is the same on every backend: the model's own
    # distribution (before, these samples were drawn at llama.cpp's 0.8 with top-k 40 and a vLLM's at 1.0 untruncated).
    assert info["default_decoding"] == {"temperature": 0.8, "top_k": 40, "top_p": 0.95, "min_p": 0.05}
    assert {json.dumps(s.decoding, sort_keys=True) for s in samples} == {json.dumps(
        {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "max_tokens": 64,
         "order": "temperature_first"}, sort_keys=True)}
    assert all(s.latency_s > 0 and s.started_at > 0 for s in samples)


@pytest.mark.model
def test_the_key_is_required_and_never_stored(llama_server, tmp_path, data_root):
    study_file = tmp_path / "study.toml"
    study_file.write_text(_study_toml(llama_server.url))
    environment = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    for key, says in ((None, "no API key was sent: set the environment variable OPENAI_API_KEY"),
                      ("sk-wrong", "the key in OPENAI_API_KEY was refused: set OPENAI_API_KEY to the server's API key")):
        env = {**environment, **({"OPENAI_API_KEY": key} if key else {})}
        done = subprocess.run([sys.executable, "-m", "monoculture", "run", str(study_file), "--out",
                               str(tmp_path / "refused")], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 6, done.stderr
        assert done.stderr.strip().splitlines() == [f"monoculture: error: {llama_server.url} answered HTTP 401 for "
                                                    f"openai:smollm2@{llama_server.url}: {says}"]
    out = tmp_path / "out"
    done = run_cli("run", str(study_file), "--out", str(out), env={"OPENAI_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    assert {"samples.sqlite", "summary.json", "report.html"} <= {path.name for path in out.iterdir()}
    for path in out.iterdir():  # the database with its WAL files, the summary, the report
        assert KEY.encode() not in path.read_bytes(), path.name
    assert KEY not in done.stdout + done.stderr


@pytest.mark.model
def test_a_key_from_another_variable(llama_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MONOCULTURE_TEST_SERVER_KEY", KEY)
    spec = f"openai:smollm2@{llama_server.url}"
    backend = load_backend(spec, ModelOptions(kind="chat", api_key_env="MONOCULTURE_TEST_SERVER_KEY"))
    assert _generate(backend, _chat(1)).text
    monkeypatch.setenv("MONOCULTURE_TEST_SERVER_KEY", "sk-wrong")
    with pytest.raises(BackendError, match="set MONOCULTURE_TEST_SERVER_KEY to the server's API key"):
        load_backend(spec, ModelOptions(kind="chat", api_key_env="MONOCULTURE_TEST_SERVER_KEY"))


@pytest.mark.model
def test_a_study_names_the_key_variable(llama_server, monkeypatch, tmp_path, data_root):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MONOCULTURE_TEST_SERVER_KEY", KEY)
    result = run_study(parse_study(_study(llama_server.url, individuals=2, api_key_env="MONOCULTURE_TEST_SERVER_KEY")),
                       tmp_path)
    assert result.drawn == result.planned


@pytest.mark.model
def test_same_seed_same_text_other_seeds_other_texts(llama_server, api_key):
    backend = load_backend(f"openai:smollm2@{llama_server.url}", ModelOptions(kind="chat"))

    async def texts(seeds):
        try:
            return [(await backend.generate(_chat(seed))).text for seed in seeds]
        finally:
            await backend.aclose()

    first, again, *others = asyncio.run(texts([11, 11, 12, 13, 14]))
    assert first == again
    assert len({first, *others}) >= 3


@pytest.mark.model
def test_base_models_use_the_completions_endpoint(llama_server, api_key):
    with Proxy(llama_server.port) as proxy:
        backend = load_backend(f"openai:smollm2@{proxy.url}", ModelOptions(kind="base"))
        request = GenerationRequest(decoding=PURE, seed=5, prompt="The colour of the sea is",
                                    grammar='root ::= " blue" | " green"')
        generation = _generate(backend, request)
    assert generation.text in (" blue", " green") and generation.completion_tokens
    sent = proxy.bodies[0]
    assert "prompt" in sent and "messages" not in sent and sent["grammar"].startswith("root")
    assert {key: sent[key] for key in ("temperature", "top_k", "top_p", "min_p", "max_tokens", "seed")} == {
        "temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "max_tokens": 12, "seed": 5}


@pytest.mark.model
def test_a_request_the_server_rejects_is_one_line_with_its_message(llama_server, api_key):
    backend = load_backend(f"openai:smollm2@{llama_server.url}", ModelOptions(kind="chat"))
    with pytest.raises(BackendError, match=r"HTTP 400\): .*failed to parse grammar") as caught:
        _generate(backend, _chat(1, grammar="root ::= ("))
    assert "\n" not in str(caught.value)


@pytest.mark.model
def test_slow_and_refusing_server_is_retried_and_timed(llama_server, api_key, tmp_path, data_root):
    refusals = [(503, 0), (429, 1), (503, None), (500, 0)]
    with Proxy(llama_server.port, refusals=refusals, delay_s=0.3) as proxy:
        result = run_study(parse_study(_study(proxy.url)), tmp_path)
    # Every sample was asked for once, after the sampling probe's requests.
    assert proxy.refused == 4 and result.planned == result.drawn == 12
    assert proxy.forwarded == 12 + PROBE_REQUESTS
    with Store(tmp_path / "samples.sqlite") as store:
        samples = list(store.samples())
    assert len(samples) == 12 and all(s.valid for s in samples)
    # The timing is the successful attempt's, and it includes the proxy's delay.
    assert all(0.3 <= s.latency_s < 30 for s in samples)


@pytest.mark.model
def test_a_read_timeout_is_transient(llama_server, api_key):
    # Generous margins: other processes may share the two cores, and the real answer must come in time.
    short = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=2)
    with Proxy(llama_server.port, delays=[12.0]) as proxy:
        backend = OpenAIBackend("openai:smollm2@proxy", "smollm2", proxy.url, "chat", read_timeout_s=5.0)

        async def twice():
            try:
                with pytest.raises(TransientBackendError, match="ReadTimeout"):
                    await backend.generate(_chat(1, short))
                return await backend.generate(_chat(1, short))
            finally:
                await backend.aclose()

        assert asyncio.run(twice()).text


@pytest.mark.model
def test_servers_that_are_not_llama_cpp(llama_server, api_key):
    not_found = (404, {"error": {"message": "File Not Found"}})
    # An OpenAI-compatible server of unknown make: pure-sampling defaults, marked assumed; no grammar is sent.
    with Proxy(llama_server.port, fake={"/props": not_found, "/version": not_found}) as proxy:
        backend = load_backend(f"openai:smollm2@{proxy.url}", ModelOptions(kind="chat", parallel=2))
        assert backend.info.default_decoding == ASSUMED_DEFAULTS and backend.info.max_concurrency == 2
        assert "defaults assumed" in backend.info.runtime
        with pytest.raises(BackendError, match='neither a llama.cpp nor a vLLM server.*use mode = "free"'):
            _generate(backend, _chat(1, grammar='root ::= "a"'))
    # vLLM (recognised by /version): "no top-k" goes as -1, the grammar in the field its version reads.
    for version, field in (("0.9.2", "guided_grammar"), ("0.12.0", "structured_outputs")):
        vllm = {"/props": not_found, "/version": (200, {"version": version})}
        with Proxy(llama_server.port, fake=vllm) as proxy:
            backend = load_backend(f"openai:smollm2@{proxy.url}", ModelOptions(kind="chat"))
            assert backend.info.runtime.startswith(f"vLLM {version}") and backend.info.max_concurrency == 8
            request = _chat(1, Decoding(1.0, 0, 1.0, 0.0, 2), grammar='root ::= "a"')
            _generate(backend, request)  # llama.cpp ignores both fields; what was sent is checked
        # Before its first sample a vLLM is asked which log-probabilities it reports (one token of "The").
        asked, sent = proxy.bodies
        assert asked["prompt"] == "The" and asked["top_k"] == 1 and asked["logprobs"] == 2
        assert "grammar" not in sent and sent["top_k"] == -1
        assert sent[field] == ('root ::= "a"' if field == "guided_grammar" else {"grammar": 'root ::= "a"'})
        # vLLM applies temperature before truncation and cannot be told otherwise.
        with pytest.raises(BackendError, match='temperature before top-k.*order = "temperature_first"'):
            _generate(backend, _chat(1, Decoding(1.0, 40, 1.0, 0.0, 2, "truncation_first")))
    # llama.cpp is sent the sampler chain of the study's order.
    with Proxy(llama_server.port) as proxy:
        backend = load_backend(f"openai:smollm2@{proxy.url}", ModelOptions(kind="chat"))
        for order in ("truncation_first", "temperature_first"):
            _generate(backend, _chat(1, Decoding(1.0, 40, 1.0, 0.0, 2, order)))
    chains = [body["samplers"] for body in proxy.bodies if "samplers" in body]
    assert chains == [["top_k", "top_p", "min_p", "temperature"], ["temperature", "top_k", "top_p", "min_p"]]


@pytest.mark.model
def test_exact_mode_matches_the_embedded_backend(llama_server, api_key):
    from monoculture.backends._embedded import EMBEDDED_MODELS, EmbeddedBackend

    choices = ("cat", "dog")
    grammar = 'root ::= " "? ("cat" | "dog")\n'
    chat = GenerationRequest(decoding=PURE, seed=1, grammar=grammar,
                             messages=(("user", "Which animal barks, cat or dog? Answer with one word."),))
    base = GenerationRequest(decoding=PURE, seed=1, grammar=grammar, prompt="The animal that barks is the")
    remote = load_backend(f"openai:smollm2@{llama_server.url}", ModelOptions(kind="chat"))
    local = EmbeddedBackend("embedded:smollm2-135m-instruct", EMBEDDED_MODELS["smollm2-135m-instruct"].locate(),
                            "chat", parallel=1)

    async def both(backend):
        try:
            return [(await backend.answer_distribution(request, choices)).probabilities for request in (chat, base)]
        finally:
            await backend.aclose()

    over_http, in_process = asyncio.run(both(remote)), asyncio.run(both(local))
    for http_answer, local_answer in zip(over_http, in_process):
        assert set(http_answer) == set(choices) and abs(sum(http_answer.values()) - 1) < 1e-9
        # Same runtime, same file; llama.cpp's logits still move in the last digits with the batch a prompt is
        # read in and with a prefix reused from the server's prompt cache (measured: 0.881 against 0.892).
        assert all(abs(http_answer[c] - local_answer[c]) < 0.03 for c in choices), (http_answer, local_answer)


def _run_until_four_samples(study_file: Path, out: Path, *, server_wait_s: float) -> subprocess.Popen:
    """``monoculture run`` in a process of its own, once it has stored four samples."""
    run = subprocess.Popen([sys.executable, "-m", "monoculture", "run", str(study_file), "--out", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "MONOCULTURE_SERVER_WAIT": str(server_wait_s)})
    deadline = time.monotonic() + 120
    while count_samples(out / "samples.sqlite") < 4:
        assert run.poll() is None, run.stderr.read()
        assert time.monotonic() < deadline, "no samples arrived"
        time.sleep(0.02)
    return run


@pytest.mark.model
def test_a_server_that_dies_mid_run_fails_cleanly_and_resumes(api_key, tmp_path, data_root):
    dying = LlamaServer(KEY).start()
    try:
        study_file = tmp_path / "study.toml"
        study_file.write_text(_study_toml(dying.url, individuals=6))
        planned = 6 * 2 * 2
        out = tmp_path / "out"
        # A server that stays gone is waited for MONOCULTURE_SERVER_WAIT seconds (default 180), here 2.
        run = _run_until_four_samples(study_file, out, server_wait_s=2)
        dying.kill()
        killed = time.monotonic()
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 6, stderr
        assert 2 <= time.monotonic() - killed < 60
        # One line, and nothing after it (every failed request's error is retrieved, none is logged).
        [error] = stderr.splitlines()
        assert error.startswith("monoculture: error:"), stderr
        assert re.search(r"could not be reached for \d+ s \((ConnectError|ReadError|RemoteProtocolError) on ", error)
        assert "what was collected is stored: start the server and run again to continue" in error
        assert error.endswith("(MONOCULTURE_SERVER_WAIT sets how long a run waits for it)")
        with Store(out / "samples.sqlite") as store:
            before = {s.key: s for s in store.samples()}
        assert 4 <= len(before) < planned and all(s.valid for s in before.values())

        dying.start()  # the same port again
        result = run_study(parse_study(_study(dying.url, individuals=6)), out)
        with Store(out / "samples.sqlite") as store:
            after = list(store.samples())
        assert result.planned == len(after) == len({s.key for s in after}) == planned
        assert result.drawn == planned - len(before)
        assert all(s == before[s.key] for s in after if s.key in before)  # what was collected is untouched
    finally:
        dying.kill()


@pytest.mark.model
def test_a_server_that_comes_back_within_the_wait_is_waited_for(api_key, tmp_path, data_root):
    """A restarted server (vLLM takes 26-126 s to listen again) costs the run a pause, not a failure."""
    server = LlamaServer(KEY).start()
    try:
        study_file = tmp_path / "study.toml"
        study_file.write_text(_study_toml(server.url, individuals=6))
        out = tmp_path / "out"
        run = _run_until_four_samples(study_file, out, server_wait_s=60)
        server.kill()
        gone = count_samples(out / "samples.sqlite")
        time.sleep(8)  # longer than the attempts-only rule waited (0.5 + 1 + 2 + 4 s)
        assert run.poll() is None, run.stderr.read()
        assert count_samples(out / "samples.sqlite") == gone  # nothing was drawn while it was gone
        server.start()  # the same port again
        _, stderr = run.communicate(timeout=180)
        assert run.returncode == 0, stderr
        with Store(out / "samples.sqlite") as store:
            samples = list(store.samples())
        assert len(samples) == len({s.key for s in samples}) == 6 * 2 * 2 and all(s.valid for s in samples)
    finally:
        server.kill()


def test_the_server_wait_is_checked(monkeypatch):
    from monoculture.backends import Model
    from monoculture.backends._fake import FakeBackend
    from monoculture.errors import MonocultureError

    backend = FakeBackend("fake:uniform", "uniform", None)
    monkeypatch.setenv("MONOCULTURE_SERVER_WAIT", "0")
    assert Model(backend).server_wait_s == 0.0
    monkeypatch.delenv("MONOCULTURE_SERVER_WAIT")
    assert Model(backend).server_wait_s == 180.0
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv("MONOCULTURE_SERVER_WAIT", bad)
        with pytest.raises(MonocultureError, match="MONOCULTURE_SERVER_WAIT must be a number of seconds"):
            Model(backend)
