"""Fetching and verifying the human data against a real HTTP server on loopback (no internet needed)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monoculture.errors import DataError
from monoculture.reference import data_file, data_root, fetch, manifest, verify

SHARED = data_root()  # $MONOCULTURE_DATA: CI points it at the shared data folder
FIRST_DOWNLOAD = next(e for e in manifest() if not e.is_derived)


class _Server:
    """A static file server on 127.0.0.1 laid out like raw.githubusercontent.com: {repo}/{commit}/{path}."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                server.requests.append(self.path)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _serve_copy(folder: Path, entries=None) -> Path:
    for entry in entries if entries is not None else [e for e in manifest() if not e.is_derived]:
        target = folder / entry.repo / entry.commit / entry.source_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED / entry.path, target)
    return folder


@pytest.fixture(scope="module")
def github(tmp_path_factory) -> Iterator[_Server]:
    server = _Server(_serve_copy(tmp_path_factory.mktemp("github")))
    yield server
    server.close()


@pytest.fixture
def small_github(tmp_path) -> Iterator[_Server]:
    """A server holding only the first file fetch asks for; each test may break it."""
    server = _Server(_serve_copy(tmp_path / "github", [FIRST_DOWNLOAD]))
    yield server
    server.close()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_sources_and_checksums_match_the_shared_data():
    entries = manifest()
    paths = {e.path for e in entries}
    assert "murthy2022-color-ref/exp1/color_preprocessed.csv" in paths
    assert "murthy2022-color-ref/stimuli/derived_word_list_199.csv" in paths
    colorref = next(e for e in entries if e.path.endswith("color_preprocessed.csv"))
    assert (colorref.repo, colorref.source_path) == ("skmur/onefish-twofish", "input-data/color-task/colorref.csv")
    for entry in entries:
        assert entry.is_derived or (entry.repo and len(entry.commit) == 40 and entry.source_path)
        assert set(entry.inputs) <= paths
    assert verify(SHARED) == []


def test_fetch_downloads_derives_and_verifies_everything(github, tmp_path):
    dest = tmp_path / "data"
    paths = fetch(dest, base_url=github.url)
    assert sorted(paths) == sorted(dest / e.path for e in manifest())
    assert verify(dest) == []
    for entry in manifest():
        assert sha256_of(dest / entry.path) == sha256_of(SHARED / entry.path)
    # derived files were built here, never downloaded
    assert not any("derived_" in request for request in github.requests)
    assert not list(dest.rglob("*.part"))

    github.requests.clear()
    fetch(dest, base_url=github.url)  # everything intact: nothing to download
    assert github.requests == []


def test_fetch_replaces_a_corrupt_file(github, tmp_path):
    dest = tmp_path / "data"
    fetch(dest, base_url=github.url)
    target = dest / "murthy2022-color-ref/stimuli/derived_word_list_199.csv"
    target.write_text("word,word_type\nbanana,concrete\n")
    (dest / FIRST_DOWNLOAD.path).unlink()
    assert sorted(verify(dest)) == sorted([f"missing: {FIRST_DOWNLOAD.path}",
                                           "corrupt (sha256 mismatch): murthy2022-color-ref/stimuli/derived_word_list_199.csv"])
    fetch(dest, base_url=github.url)
    assert verify(dest) == []


def test_checksum_mismatch_is_a_data_error_and_writes_nothing(small_github, tmp_path):
    served = small_github.folder / FIRST_DOWNLOAD.repo / FIRST_DOWNLOAD.commit / FIRST_DOWNLOAD.source_path
    served.write_bytes(served.read_bytes()[:-1] + b"X")
    dest = tmp_path / "data"
    with pytest.raises(DataError) as raised:
        fetch(dest, base_url=small_github.url)
    message = str(raised.value)
    assert "checksum mismatch" in message and FIRST_DOWNLOAD.path in message and "\n" not in message
    assert not (dest / FIRST_DOWNLOAD.path).exists()
    assert not list(dest.rglob("*")) or all(p.is_dir() for p in dest.rglob("*"))


def test_missing_source_file_is_a_data_error(small_github, tmp_path):
    (small_github.folder / FIRST_DOWNLOAD.repo / FIRST_DOWNLOAD.commit / FIRST_DOWNLOAD.source_path).unlink()
    with pytest.raises(DataError, match="HTTP 404") as raised:
        fetch(tmp_path / "data", base_url=small_github.url)
    assert "\n" not in str(raised.value)


def test_unreachable_server_is_a_data_error(tmp_path):
    closed = _Server(tmp_path)
    url = closed.url
    closed.close()  # nothing listens on this port any more
    with pytest.raises(DataError, match="could not download"):
        fetch(tmp_path / "data", base_url=url)


def test_missing_data_file_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("MONOCULTURE_DATA", str(tmp_path))
    with pytest.raises(DataError) as raised:
        data_file("murthy2022-color-ref/exp1/color_preprocessed.csv")
    assert "monoculture data fetch" in str(raised.value) and "\n" not in str(raised.value)


def test_cli_data_fetch_and_verify(github, tmp_path, capsys):
    from monoculture.cli import main

    dest = tmp_path / "data"
    main(["data", "fetch", "--dest", str(dest), "--base-url", github.url])
    assert f"{len(manifest())} data files" in capsys.readouterr().out
    main(["data", "verify", "--root", str(dest)])
    assert "intact" in capsys.readouterr().out

    (dest / FIRST_DOWNLOAD.path).unlink()
    with pytest.raises(SystemExit) as exited:
        main(["data", "verify", "--root", str(dest)])
    assert exited.value.code == 5
    err = capsys.readouterr().err
    assert f"missing: {FIRST_DOWNLOAD.path}" in err
    assert err.strip().splitlines()[-1].startswith("monoculture: error:") and "monoculture data fetch" in err


def test_the_published_answers_are_a_group_fetched_on_request(tmp_path):
    published = manifest(("published-answers",))
    assert len(published) == 58 and not set(published) & set(manifest())  # the 60, less the two examples
    for entry in published:  # the paper's concept-task inputs, at the paper's pinned commit
        assert entry.repo == "skmur/onefish-twofish" and entry.source_path.startswith("concept-task/input-data/")
    present = [e for e in published if (SHARED / e.path).is_file()]
    assert len(present) >= 48 and all(sha256_of(SHARED / e.path) == e.sha256 for e in present)
    # A mirror holding the present ones: the group is fetched and verified; the human data is not asked for.
    server = _Server(_serve_copy(tmp_path / "github", present))
    try:
        dest = tmp_path / "data"
        if len(present) == len(published):
            assert len(fetch(dest, base_url=server.url, groups=("published-answers",))) == 58
        else:
            with pytest.raises(DataError, match="could not download .*HTTP 404"):
                fetch(dest, base_url=server.url, groups=("published-answers",))
        assert all("forCRP" in request for request in server.requests)
        fetched = {p.name for p in (dest / "murthy2025-onefish-twofish" / "model-forCRP").glob("*.csv")}
        assert fetched and fetched <= {Path(e.path).name for e in present}
        missing = verify(dest, groups=("published-answers",))
        assert len(missing) == 58 - len(fetched) and all(line.startswith("missing: ") for line in missing)
    finally:
        server.close()
