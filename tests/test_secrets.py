"""An API key never reaches the out folder or the terminal: not from the real llama.cpp server that needs it,
not from a hostile server that echoes it back (in generated text, in an error message, in its build string).

Every byte of the out folder (the store with any -wal/-shm files, summary.json, report.html, anything else) and
of the command's stdout and stderr is searched for the key, raw, URL-encoded and base64-encoded.
"""

from __future__ import annotations

import secrets
from base64 import b64encode, urlsafe_b64encode
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import run_cli
from hostile_server import HostileServer
from openai_server import LlamaServer

from monoculture.store import Store


def _random_key() -> str:
    return "sk-test-" + secrets.token_hex(24)


def _spellings(key: str) -> dict[str, bytes]:
    """The key raw and URL-encoded, and the base64 characters that encode nothing but the key, for each of
    the three alignments it can have inside a longer encoded text (``Bearer <key>``, a whole header)."""
    spellings = {"raw": key, "URL-encoded": quote(key, safe="")}
    for offset in range(3):
        for name, encode in (("base64", b64encode), ("base64url", urlsafe_b64encode)):
            encoded = encode(b"-" * offset + key.encode()).decode()
            spellings[f"{name} at offset {offset}"] = encoded[(8 * offset + 5) // 6: 8 * (offset + len(key)) // 6]
    return {name: spelling.encode() for name, spelling in spellings.items()}


def _assert_nowhere(key: str, out: Path, *terminal: str) -> None:
    files = [path for path in out.rglob("*") if path.is_file()]
    assert {"samples.sqlite", "summary.json", "report.html"} <= {path.name for path in files}
    spellings = _spellings(key)
    for path in files:
        data = path.read_bytes()
        for name, spelling in spellings.items():
            assert spelling not in data, f"the key ({name}) is in {path.name}"
    for text in terminal:
        for name, spelling in spellings.items():
            assert spelling.decode() not in text, f"the key ({name}) was printed"


def _study_toml(url: str, individuals: int, mode: str) -> str:
    return (f'name = "secret"\nseed = 9\nmodels = [{{ spec = "openai:m@{url}", kind = "chat", parallel = 2 }}]\n'
            'conditions = [{ context = "none" }]\n'
            f'[colour]\nindividuals = {individuals}\nwords = ["lemon", "ocean"]\nmode = "{mode}"\n')


@pytest.mark.model
def test_a_random_key_never_leaves_the_run_with_llama_cpp(tmp_path, data_root):
    key = _random_key()
    out = tmp_path / "out"
    with LlamaServer(key) as server:
        (tmp_path / "study.toml").write_text(_study_toml(server.url, 2, "constrained"))
        refused = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "refused"),
                          env={"OPENAI_API_KEY": _random_key()}, timeout=120)
        done = run_cli("run", str(tmp_path / "study.toml"), "--out", str(out), env={"OPENAI_API_KEY": key},
                       timeout=300)
    assert refused.returncode == 6 and "was refused" in refused.stderr  # the server does check the key
    assert done.returncode == 0, done.stderr
    with Store(out / "samples.sqlite") as store:
        assert sum(s.valid for s in store.samples()) == 2 * 2 * 2  # the key was sent, and it worked
    _assert_nowhere(key, out, done.stdout, done.stderr, refused.stdout, refused.stderr)


def test_a_server_echoing_the_key_gets_it_neither_stored_nor_shown(tmp_path, data_root):
    key = _random_key()
    out = tmp_path / "out"
    store = out / "samples.sqlite"
    env = {"OPENAI_API_KEY": key}
    # The first run's "lemon" answers echo the Authorization header, as does the build string of /props;
    # the second run (one more individual) is refused with the header in the error message.
    with HostileServer({"lemon": "echo", "*": "healthy"}, props_echo=True) as server:
        (tmp_path / "study.toml").write_text(_study_toml(server.url, 2, "free"))
        first = run_cli("run", str(tmp_path / "study.toml"), "--out", str(out), env=env, timeout=300)
        assert first.returncode == 0, first.stderr
        server.behaviour = "echo_error"
        (tmp_path / "study.toml").write_text(_study_toml(server.url, 3, "free"))
        second = run_cli("run", str(tmp_path / "study.toml"), "--out", str(out), env=env, timeout=300)
    # The server did echo the key, in every spelling searched for.
    assert any(key in text for text in server.sent.values() if text)
    assert second.returncode == 6
    [line] = second.stderr.splitlines()
    assert "HTTP 400" in line and "malformed header: Authorization: Bearer [redacted] (base64 " in line
    with Store(store) as db:
        echoed = [s for s in db.samples() if s.item == "lemon" and s.run_id == 1]
        # The latest recorded version of the model (as the old models() table kept it).
        runtime = [v["info"]["runtime"] for v in db.model_versions().values()
                   if v["spec"] == f"openai:m@{server.url}"][-1]
    assert len(echoed) == 2 * 2 and all("Bearer [redacted] (base64 " in s.raw_output for s in echoed)
    assert runtime.startswith("llama.cpp server b4242 Authorization: Bearer redacted (base64 ")
    _assert_nowhere(key, out, first.stdout, first.stderr, second.stdout, second.stderr)
