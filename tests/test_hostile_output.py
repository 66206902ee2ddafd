"""Model output is untrusted: a loopback server answers with nothing, with bytes that are not UTF-8, with
markup, with endless or oversized bodies, with invalid JSON and without choices.

Each case is either neutralised (stored as it came, or with replacement characters, as an invalid answer with
its reason, and escaped wherever it is shown) or ends the run with one line and exit 6, keeping what was
collected. The server is :class:`hostile_server.HostileServer`; the runs are the real runner, store and report.
"""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser

import pytest
from conftest import run_cli
from hostile_server import MARKUP, MARKUP_PAYLOADS, RAMBLE, REFUSAL, HostileServer, healthy_answer

from monoculture._run import run_study
from monoculture.errors import BackendError
from monoculture.store import Store
from monoculture.study import parse_study


def _study(url: str, words: list[str], *, individuals: int = 2, model: str = "fake") -> dict:
    return {"name": "hostile", "seed": 5, "models": [{"spec": f"openai:{model}@{url}", "kind": "chat", "parallel": 2}],
            "conditions": [{"context": "none"}],
            "colour": {"individuals": individuals, "words": words, "mode": "free"}}


def _toml(study: dict) -> str:
    [model] = study["models"]
    colour = study["colour"]
    return (f'name = "{study["name"]}"\nseed = {study["seed"]}\n'
            f'models = [{{ spec = "{model["spec"]}", kind = "chat", parallel = {model["parallel"]} }}]\n'
            'conditions = [{ context = "none" }]\n'
            f'[colour]\nindividuals = {colour["individuals"]}\nwords = {json.dumps(colour["words"])}\nmode = "free"\n')


def _strings(value) -> set[str]:
    """Every string in a JSON value."""
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    return {value} if isinstance(value, str) else set()


def _samples(out) -> list:
    with Store(out / "samples.sqlite") as store:
        return list(store.samples())


def test_empty_null_and_undecodable_content_are_stored_as_invalid_answers(tmp_path, data_root):
    words = {"lemon": "empty", "ocean": "null", "wisdom": "bad_utf8", "anxiety": "healthy"}
    with HostileServer(words) as server:
        run_study(parse_study(_study(server.url, list(words))), tmp_path)
    samples = _samples(tmp_path)
    assert len(samples) == len({s.key for s in samples}) == 2 * 4 * 2
    for sample in samples:
        behaviour = words[sample.item]
        if behaviour in ("empty", "null"):  # no text at all: stored as it came, an invalid answer with its reason
            assert (sample.raw_output, sample.valid, sample.invalid_reason) == ("", False, "no #RRGGBB code")
        else:  # bytes that are not UTF-8 arrive as replacement characters; the code around them is still read
            assert sample.raw_output == server.sent[sample.seed] and sample.valid
            assert sample.answer == healthy_answer(sample.seed, {"temperature": 1})[9:16]
            assert ("\ufffd" in sample.raw_output) == (behaviour == "bad_utf8")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "no #RRGGBB code" in _strings(summary)  # the reason travels with the examples


def test_refusals_are_counted_apart_from_parse_failures_with_examples(tmp_path, data_root):
    words = {"lemon": "ramble", "ocean": "refuse", "wisdom": "healthy"}
    with HostileServer(words) as server:
        summary = json.loads(run_study(parse_study(_study(server.url, list(words))), tmp_path).summary.to_json())
    [cell] = summary["models"][f"openai:fake@{server.url}"].values()
    colour = cell["tasks"]["colour"]
    counts = colour["accounting"]["free"]
    # 2 individuals x 3 words x 2 replicates: a third of them refuse, a third ramble without a code.
    assert (counts["planned"], counts["stored"], counts["valid"]) == (12, 12, 4)
    assert (counts["refusals"], counts["parse_failures"]) == (4, 4)
    assert {e["item"] for e in counts["refusal_examples"]} == {"ocean"}
    assert {e["output"] for e in counts["refusal_examples"]} == {REFUSAL}
    assert {e["output"] for e in counts["parse_failure_examples"]} == {RAMBLE}
    # The estimate rests on the valid answers only, and says so.
    assert (colour["result"]["n_samples"], colour["result"]["n_valid"], colour["result"]["n_words"]) == (12, 4, 1)
    report = (tmp_path / "report.html").read_text()
    assert "refusal" in report and "parse failure" in report and "As an AI, I don&#39;t have personal" in report


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.style_text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)
        self._in_style = tag == "style"

    def handle_endtag(self, tag) -> None:
        self._in_style = False

    def handle_data(self, data) -> None:
        if self._in_style:
            self.style_text.append(data)


def test_markup_in_model_output_reaches_the_report_only_escaped(tmp_path, data_root):
    # Model output with markup, and a model name with markup (written by the user, drawn in the plots).
    words = ["lemon", "ocean", "wisdom", "anxiety"]
    with HostileServer({"anxiety": "healthy", "*": "markup"}) as server:
        study = parse_study(_study(server.url, words, model="<script>alert(2)</script>"))
        run_study(study, tmp_path)
    samples = _samples(tmp_path)
    assert sum(s.raw_output == MARKUP and not s.valid for s in samples) == 2 * 3 * 2  # stored as it came
    html = (tmp_path / "report.html").read_text()
    # The payloads reached the report (as invalid answers and the model's name), escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;/style&gt;" in html
    for payload in MARKUP_PAYLOADS:
        if payload != "</style>":
            assert payload not in html
    # The report's stylesheet and the plots' own style elements each end once: none was closed early.
    assert html.count("</style>") == html.count("<style") >= 1
    page = _Elements()
    page.feed(html)
    # What a browser builds: no script, no image, no event handler, no javascript: link, no payload in a style.
    assert "script" not in page.tags and "img" not in page.tags
    assert not [name for name, _ in page.attributes if name.startswith("on")]
    assert not [value for _, value in page.attributes if "javascript:" in value.lower()]
    assert "alert" not in "".join(page.style_text)
    # summary.json keeps the output as data: JSON-escaped inside a string, the file still valid JSON.
    assert MARKUP in _strings(json.loads((tmp_path / "summary.json").read_text()))


# behaviour -> what the one-line error says
UNREADABLE = {
    "endless": "sent a reply larger than 4 MiB",
    "huge_text": "characters for at most 64 tokens",
    "bad_json": "sent a reply that is not JSON",
    "no_choices": "sent a reply without choices",
}


@pytest.mark.parametrize("behaviour", list(UNREADABLE))
def test_replies_that_cannot_be_read_end_the_run_in_one_line_keeping_what_was_collected(behaviour, tmp_path,
                                                                                         data_root):
    with HostileServer(behaviour, healthy_until=(tmp_path / "samples.sqlite", 3)) as server:
        study = _study(server.url, ["lemon", "ocean"], individuals=3)
        started = time.monotonic()
        if behaviour == "bad_json":  # one through the command, for its exit code and its stderr
            (tmp_path / "study.toml").write_text(_toml(study))
            done = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path), timeout=120)
            assert done.returncode == 6, done.stderr
            [line] = done.stderr.splitlines()  # one line, no traceback
            assert line.startswith("monoculture: error: ")
        else:
            with pytest.raises(BackendError) as caught:
                run_study(parse_study(study), tmp_path)
            line = str(caught.value)
            assert "\n" not in line and caught.value.exit_code == 6
        assert UNREADABLE[behaviour] in line and "openai:fake@" in line, line
        assert time.monotonic() - started < 60  # no retries of what cannot get better, no reading to the end
    samples = _samples(tmp_path)
    # What was collected before the server turned is stored, as it came.
    assert 3 <= len(samples) < 12
    assert all(s.raw_output == server.sent[s.seed] and s.valid for s in samples)
    if behaviour == "endless":  # abandoned after a few MiB (socket buffers aside), not read to its end
        assert 0 < server.endless_bytes_sent < 64 * 2**20
