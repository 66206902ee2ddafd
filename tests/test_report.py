"""The HTML report and terminal tables, rendered from summaries that real runs produced (fake: models, whose
truth is known), with hostile text put where model output and user text appear, to check that the report
escapes it, stays offline and shows the run's provenance."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import monoculture
from monoculture.analysis import Alarm, Example
from monoculture.reference import manifest
from monoculture.report import render_html, result_tables
from monoculture.study import parse_study
from monoculture.tasks.colour import ColourTask, ColourSpec

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
BAD_HEX = "red;background:url(http://x)"


class Collector(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


def text_of(html: str) -> str:
    return " ".join(" ".join(parse(html).text).split())


STUDY = {
    "name": f"demo <i>study</i> [bold]x[/]{SCRIPT}", "seed": 0, "models": ["fake:uniform", "fake:constant"],
    "conditions": [{"context": "none"}, {"context": "persona"}],
    "colour": {"individuals": 8, "words": 20, "mode": "constrained"},
    "concepts": {"individuals_per_target": 3, "targets": ["robin", "Richard Nixon"], "mode": "exact",
                 "compare_with": "constrained", "sweeps": 40, "burn_in": 5},
}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, data_root):
    folder = tmp_path_factory.mktemp("report")
    monoculture.run(parse_study(STUDY), folder)
    return folder


@pytest.fixture(scope="module")
def summary(run_folder):
    return monoculture.open_results(run_folder).summary()


def hostile(summary):
    """The real summary with hostile text where model output reaches the report, and one all-invalid model."""
    cells = summary.models["fake:uniform"]
    cell = cells["none@default"]
    colour = cell.tasks["colour"]
    result = colour.result.model_copy(update={"swatches": {"wisdom": ["#00ff00", BAD_HEX, f"#12345{SCRIPT}",
                                                                       "#ABCDEF\n"]}})
    counts = colour.accounting["constrained"].model_copy(update={
        "refusal_examples": [Example(individual=0, item="wisdom", replicate=1, output=f"As an AI {SCRIPT}",
                                     reason="no #RRGGBB")],
        "parse_failure_examples": [Example(individual=1, item=IMG, replicate=2, output=IMG + " " + "x" * 2000,
                                           reason=f"reason {SCRIPT}")]})
    colour = colour.model_copy(update={"result": result, "accounting": {"constrained": counts}})
    # A model that never wrote a valid code: the colour task's own summary of no valid samples.
    empty = ColourTask(ColourSpec(words=20, mode="constrained"), seed=0).summarize({"constrained": []})
    persona = cells["persona@default"]
    persona = persona.model_copy(update={"tasks": {**persona.tasks, "colour": persona.tasks["colour"].model_copy(
        update={"result": empty})}})
    alarms = [Alarm(kind="probe", model="fake:uniform", condition=None, task=None, message=f"seed ignored {SCRIPT}",
                    evidence={"check": "different seeds give different texts", "texts": [SCRIPT, IMG]}),
              Alarm(kind="repeats", model="fake:uniform", condition=f"none@default{SCRIPT}", task="colour",
                    message="repeats", evidence={"most_unlikely_repeats": [
                        {"output": SCRIPT, "count": 8, "draws": 8, "model_probability": 0.01}]})]
    models = {**summary.models, "fake:uniform": {"none@default": cell.model_copy(
        update={"tasks": {**cell.tasks, "colour": colour}}), "persona@default": persona}}
    return summary.model_copy(update={"models": models, "alarms": alarms})


@pytest.fixture(scope="module")
def hostile_html(summary):
    return render_html(hostile(summary))


def test_the_report_of_a_real_run_has_every_section_and_the_humans_on_the_studys_items(run_folder, summary):
    html = (run_folder / "report.html").read_text()
    assert '<section id="colour">' in html and '<section id="concepts">' in html
    assert html.count("<svg") == 3  # scatter, distance, concept targets
    text = text_of(html)
    # The humans on the study's 20 words and 2 targets, not on all 199 words and 20 targets.
    assert f"{summary.human['colour'].distance_from_diagonal:.2f}" == "16.93" and "16.93" in text
    assert f"{summary.human['concepts'].p_multiple_concepts:.3f}" == "0.606" and "0.606" in text
    # The constant population sits on the diagonal and holds one concept.
    colour = text_of(html.split('<section id="colour">')[1].split("</section>")[0])
    assert "fake:constant · none@default chat constrained 0.00 [0.00, 0.00] 0.00 [0.00, 0.00] 0.00" in colour
    concepts = text_of(html.split('<section id="concepts">')[1].split("</section>")[0])
    # 3 people per target: no interval over individuals (—); a constant population is at its homogeneous null.
    assert ("fake:constant · none@default chat exact 0.000 [0.000, 0.000] — 0.000 0.000 [0.000, 0.000] "
            "≈ homogeneous (p = 1.000) 1.0 1.0 100% 0% 100% 6 / 6 all agree") in concepts
    # Exact against sampled: a constant population's two modes agree exactly, on all 2 x 72 prompts.
    assert "fake:constant · none@default exact vs constrained 0.000 0.000 144 exact 144, constrained 432" in concepts
    assert "No alarm" in text


def test_the_report_shows_the_data_checksums_of_the_run(run_folder, summary):
    html = (run_folder / "report.html").read_text()
    checksums = html.split('class="checksums"')[1].split("</table>")[0]
    for entry in manifest():
        assert entry.path in checksums and entry.sha256 in checksums
    assert summary.environment.data.sha256 == {entry.path: entry.sha256 for entry in manifest()}


def test_the_report_is_rebuilt_from_the_store_alone(run_folder):
    before = (run_folder / "report.html").read_text()
    (run_folder / "report.html").unlink()
    (run_folder / "summary.json").unlink()
    monoculture.open_results(run_folder).rebuild()
    after = (run_folder / "report.html").read_text()
    created = re.compile(r"created [^<·]*")
    assert created.sub("", after) == created.sub("", before)
    assert (run_folder / "summary.json").is_file()


def test_untrusted_text_is_escaped(hostile_html):
    assert SCRIPT not in hostile_html and "<img" not in hostile_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in hostile_html
    page = parse(hostile_html)
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "img" not in tags and "i" not in tags
    assert not [(tag, name) for tag, attrs in page.tags for name in attrs if name.startswith("on")]
    assert SCRIPT in "".join(page.text)  # the escaped text reads back as the verbatim output


def test_report_is_offline(hostile_html):
    assert "http://" not in hostile_html and "https://" not in hostile_html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?://|[a-z][a-z0-9+.-]*:)""", hostile_html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?!#)", hostile_html)
    for tag, attrs in parse(hostile_html).tags:
        assert tag not in {"script", "link", "iframe", "object", "embed"}
        for name in ("src", "href", "xlink:href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)


def test_only_valid_hex_reaches_css(hostile_html):
    styles = [attrs["style"] for tag, attrs in parse(hostile_html).tags if tag == "span" and attrs.get("style")]
    assert styles and all(re.fullmatch(r"background:#[0-9a-f]{6}", style) for style in styles), styles
    assert "background:#00ff00" in hostile_html and "red;background" not in hostile_html
    assert "background:#abcdef" not in styles  # "#ABCDEF\n": a trailing newline is not a hex code
    assert "malformed value" in hostile_html


def test_all_invalid_model_gets_a_note_and_long_output_is_cut(hostile_html):
    text = text_of(hostile_html)
    assert "fake:uniform · persona@default: no valid answers" in text
    assert "x" * 500 not in hostile_html and "x" * 300 in hostile_html


def test_alarms_and_invalid_answers_are_shown_with_their_evidence(hostile_html):
    text = text_of(hostile_html)
    assert "No alarm" not in text and f"seed ignored {SCRIPT}" in text
    checks = hostile_html.split('id="checks"')[1].split("</section>")[0]
    assert checks.count('class="alarm"') == 2 and checks.count("&lt;script&gt;") >= 3
    assert "refusal" in text and "parse failure" in text and f"As an AI {SCRIPT}" in text


def test_svg_ids_are_unique_across_figures(hostile_html):
    ids = [attrs["id"] for _, attrs in parse(hostile_html).tags if attrs.get("id")]
    assert len(ids) == len(set(ids))
    references = set(re.findall(r'(?:href="#|url\(#)([^")]+)', hostile_html))
    assert references and references <= set(ids)


def test_a_task_absent_from_the_study_has_no_section(tmp_path, data_root):
    study = {**STUDY, "name": "colour only", "models": ["fake:constant"]}
    del study["concepts"]
    summary = monoculture.run(parse_study(study), tmp_path)
    html = render_html(summary)
    assert '<section id="colour">' in html and 'id="concepts"' not in html
    assert [table.title for table in result_tables(summary)][0].startswith("colour only — colour")


def test_terminal_tables_print_markup_literally(summary):
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(*result_tables(summary))
    printed = console.export_text()
    assert "[bold]x[/]" in printed and "<i>study</i>" in printed
    assert "humans" in printed and "fake:constant" in printed


def test_render_is_deterministic_and_leaves_the_summary_alone(summary):
    before = summary.model_dump()
    assert render_html(summary) == render_html(summary)
    assert summary.model_dump() == before
