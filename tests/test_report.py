"""The HTML report and terminal tables, rendered from hand-written summaries (docs/summary-schema.md).

The summaries carry hostile text where model output and user text can appear (invalid examples, model
specs, condition labels, swatch values) to check that the report escapes it and stays offline.
"""

from __future__ import annotations

import copy
import math
import random
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from monoculture.report import render_html, result_table

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE_SPEC = f"openai:evil{SCRIPT}{IMG}[bold]"
BAD_HEX = "red;background:url(http://x)"

WORDS = [("banana", "concrete"), ("grass", "concrete"), ("sky", "concrete"), ("coal", "concrete"),
         ("wisdom", "abstract"), ("anger", "abstract"), ("peace", "abstract"), ("jealousy", "abstract")]
ANIMALS = ["finch", "robin", "chicken", "eagle", "ostrich", "penguin", "salmon", "seal", "dolphin", "whale"]
POLITICIANS = ["Abraham Lincoln", "Barack Obama", "Bernie Sanders", "Donald Trump", "Elizabeth Warren",
               "George W. Bush", "Hillary Clinton", "Joe Biden", "Richard Nixon", "Ronald Reagan"]


def colour_block(rng: random.Random, internal: float, gap: float, mode: str | None = "free",
                 swatch_hex: list[str] | None = None) -> dict[str, Any]:
    """A ColourBlock whose words scatter around (internal, internal + gap)."""
    words = []
    for word, word_type in WORDS:
        i = max(internal + rng.gauss(0, 6), 1.0)
        p = max(i + gap + rng.gauss(0, 3), 1.0)
        words.append({"word": word, "word_type": word_type, "n_individuals": 10, "internal_delta_e": i,
                      "population_delta_e": p, "distance_from_diagonal": abs(p - i) / math.sqrt(2)})
    mean_i = sum(w["internal_delta_e"] for w in words) / len(words)
    mean_p = sum(w["population_delta_e"] for w in words) / len(words)
    distance = sum(w["distance_from_diagonal"] for w in words) / len(words)
    block: dict[str, Any] = {
        "internal_delta_e": mean_i, "internal_delta_e_ci": [mean_i - 2, mean_i + 2],
        "population_delta_e": mean_p, "population_delta_e_ci": [mean_p - 2, mean_p + 2],
        "distance_from_diagonal": distance, "distance_from_diagonal_ci": [max(distance - 1, 0), distance + 1],
        "signed_difference": mean_p - mean_i, "signed_difference_ci": [mean_p - mean_i - 1, mean_p - mean_i + 1],
        "valid_fraction": 0.93, "n_samples": 160, "n_valid": 149, "n_individuals": 10, "n_words": len(words),
        "n_per_word": {"min": 8, "max": 10},
        "words": words,
        "swatches": {"banana": swatch_hex or ["#f2d024", "#e8c020", "#ffe135"], "sky": ["#87ceeb", "#4a90d9"]},
        "accounting": accounting(),
    }
    if mode is not None:
        block["mode"] = mode
    return block


def accounting(refusals: list[dict] | None = None, failures: list[dict] | None = None) -> dict[str, Any]:
    """The accounting block of a population with the given examples of refusals and parse failures."""
    refusals, failures = refusals or [], failures or []
    return {"planned": 160, "stored": 160, "missing": 0, "valid": 160 - len(refusals) - len(failures),
            "valid_fraction": 1 - (len(refusals) + len(failures)) / 160, "refusals": len(refusals),
            "parse_failures": len(failures), "refusal_examples": refusals, "parse_failure_examples": failures}


def empty_colour_block() -> dict[str, Any]:
    """A model that never produced a valid hex code."""
    return {
        "mode": "free", "internal_delta_e": None, "internal_delta_e_ci": None, "population_delta_e": float("nan"),
        "population_delta_e_ci": None, "distance_from_diagonal": None, "distance_from_diagonal_ci": None,
        "valid_fraction": 0.0, "n_samples": 160, "n_valid": 0, "n_individuals": 10, "n_words": 0,
        "words": [], "swatches": {},
        "accounting": accounting(failures=[{"item": "banana", "output": "I like bananas, they are yellow.",
                                            "reason": "no #RRGGBB"}]),
    }


def concept_block(rng: random.Random, level: float, mode: str | None = "free") -> dict[str, Any]:
    by_target = {}
    for target in ANIMALS + POLITICIANS:
        p = min(max(level + rng.gauss(0, 0.08), 0.0), 1.0)
        by_target[target] = {"p_multiple_concepts": p, "p_multiple_concepts_ci": [max(p - 0.1, 0), min(p + 0.1, 1)],
                             "tables": 1 + 10 * p, "richness": 2 + 12 * p, "n_individuals": 20, "n_complete": 18}
    block: dict[str, Any] = {
        "p_multiple_concepts": level, "p_multiple_concepts_ci": [max(level - 0.05, 0), level + 0.05],
        "tables": 1 + 10 * level, "richness": 2 + 12 * level, "valid_fraction": 0.97, "n_individuals": 400,
        "n_complete": 380, "order_consistency": 0.8,
        "by_category": {
            "animals": {"p_multiple_concepts": level * 0.9, "tables": 1 + 8 * level, "richness": 3.0,
                        "n_individuals": 200, "n_complete": 190},
            "politicians": {"p_multiple_concepts": level * 1.1, "tables": 1 + 12 * level, "richness": 4.0,
                            "n_individuals": 200, "n_complete": 190},
        },
        "by_target": by_target,
        "accounting": accounting(),
    }
    if mode is not None:
        block["mode"] = mode
    return block


def condition(kind: str, context: str, temperature: float, **blocks: Any) -> dict[str, Any]:
    return {"kind": kind, "context": context, "temperature": temperature,
            "decoding": {"temperature": temperature, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "max_tokens": 16},
            **blocks}


def full_summary() -> dict[str, Any]:
    """A demo-like study: a base and a chat model, two conditions each, a hostile model, both tasks."""
    rng = random.Random(7)
    hostile_colour = colour_block(rng, 20, 1, swatch_hex=["#00ff00", BAD_HEX, f"#12345{SCRIPT}", "#ABCDEF\n"])
    hostile_colour["accounting"] = accounting(
        refusals=[{"item": "banana", "output": f"As an AI {SCRIPT}", "reason": "no #RRGGBB"}],
        failures=[{"item": "banana", "output": SCRIPT, "reason": "no #RRGGBB"},
                  {"item": IMG, "output": IMG + " " + "x" * 2000, "reason": f"reason {SCRIPT}"}])
    hostile_concepts = concept_block(rng, 0.1)
    hostile_concepts["accounting"] = accounting(failures=[{"item": "robin", "output": SCRIPT, "reason": "neither choice"}])
    hostile_alarms = [
        {"model": HOSTILE_SPEC, "condition": None, "task": None, "kind": "probe", "message": f"seed ignored {SCRIPT}",
         "evidence": {"check": "different seeds give different texts", "texts": [SCRIPT, IMG]}},
        {"model": HOSTILE_SPEC, "condition": f"none@default{SCRIPT}", "task": "colour", "kind": "repeats",
         "message": "repeats", "evidence": {"most_unlikely_repeats": [{"output": SCRIPT, "count": 8, "draws": 8,
                                                                       "model_probability": 0.01}]}},
    ]
    return {
        "monoculture_version": "0.1.0",
        "created": "2026-11-28T06:00:00Z",
        "study": {"name": "demo <i>study</i>"},
        "alarms": hostile_alarms,
        "environment": {"python": "3.11.9", "libraries": {"xllamacpp": "0.2.1", "numpy": "2.1.0"},
                        "data_checksums": {"murthy2022-color-ref/exp1/color_preprocessed.csv": "ab" * 32}},
        "model_info": {
            "embedded:gemma-3-270m": {"kind": "base", "backend": "embedded", "file": "gemma-3-270m-Q4_K_M.gguf",
                                      "sha256": "0123456789abcdef" * 4, "size_bytes": 253000000,
                                      "licence": "Gemma Terms of Use"},
            "embedded:smollm2-135m-instruct": {"kind": "chat", "backend": "embedded",
                                               "file": "SmolLM2-135M-Instruct-Q4_K_M.gguf",
                                               "sha256": "fedcba9876543210" * 4, "size_bytes": 105000000,
                                               "licence": "Apache-2.0"},
            HOSTILE_SPEC: {"kind": "chat", "backend": "openai", "file": None, "sha256": None,
                           "licence": SCRIPT},
        },
        "models": {
            "embedded:gemma-3-270m": {
                "none@default": condition("base", "none", 0.8, colour=colour_block(rng, 30, 4),
                                          concepts=concept_block(rng, 0.15)),
                "persona@default": condition("base", "persona", 0.8, colour=colour_block(rng, 30, 8),
                                             concepts=concept_block(rng, 0.25)),
            },
            "embedded:smollm2-135m-instruct": {
                "none@default": condition("chat", "none", 0.2, colour=colour_block(rng, 12, 1.5, mode="constrained"),
                                          concepts=concept_block(rng, 0.05)),
                "none@1.5": condition("chat", "none", 1.5, colour=empty_colour_block(),
                                      concepts=concept_block(rng, 0.0)),
            },
            HOSTILE_SPEC: {
                f"none@default{SCRIPT}": condition("chat", "none", 1.0, colour=hostile_colour,
                                                   concepts=hostile_concepts),
            },
        },
        "human": {
            "colour": {**colour_block(rng, 29.24, 22.46, mode=None),
                       "internal_delta_e": 29.24, "population_delta_e": 51.70, "distance_from_diagonal": 15.88,
                       "n_individuals": 475, "n_words": 199},
            "concepts": {**concept_block(rng, 0.67, mode=None), "n_individuals": 2130},
        },
    }


def colour_only() -> dict[str, Any]:
    summary = full_summary()
    for by_condition in summary["models"].values():
        for data in by_condition.values():
            del data["concepts"]
    del summary["human"]["concepts"]
    return summary


def concept_only() -> dict[str, Any]:
    summary = full_summary()
    for by_condition in summary["models"].values():
        for data in by_condition.values():
            del data["colour"]
    del summary["human"]["colour"]
    return summary


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


@pytest.fixture(scope="module")
def full_html() -> str:
    return render_html(full_summary())


def test_untrusted_text_is_escaped(full_html: str) -> None:
    assert SCRIPT not in full_html
    assert "<img" not in full_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in full_html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in full_html
    page = parse(full_html)
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "img" not in tags and "i" not in tags
    assert not [(tag, name) for tag, attrs in page.tags for name in attrs if name.startswith("on")]
    # The escaped text reads back as the model's verbatim output.
    assert SCRIPT in "".join(page.text)


def test_report_is_offline(full_html: str) -> None:
    assert "http://" not in full_html and "https://" not in full_html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?://|[a-z][a-z0-9+.-]*:)""", full_html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?!#)", full_html)
    assert "@import" not in full_html
    for tag, attrs in parse(full_html).tags:
        assert tag not in {"script", "link", "iframe", "object", "embed"}
        for name in ("src", "href", "xlink:href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)


def test_only_valid_hex_reaches_css(full_html: str) -> None:
    styles = [attrs["style"] for tag, attrs in parse(full_html).tags if tag == "span" and attrs.get("style")]
    assert styles, "swatches are rendered"
    assert all(re.fullmatch(r"background:#[0-9a-f]{6}", style) for style in styles), styles
    assert "background:#00ff00" in full_html
    assert "red;background" not in full_html
    assert "background:#abcdef" not in styles  # "#ABCDEF\n": a trailing newline is not a hex code
    assert "malformed value" in full_html


def test_plots_are_inline_svg(full_html: str) -> None:
    assert full_html.count("<svg") == 3  # scatter, distance, concept targets
    assert "<?xml" not in full_html and "<!DOCTYPE svg" not in full_html


def test_all_invalid_model_gets_a_note(full_html: str) -> None:
    text = " ".join(" ".join(parse(full_html).text).split())
    assert "embedded:smollm2-135m-instruct · none@1.5: no valid answers" in text


def test_header_shows_models_decoding_and_references(full_html: str) -> None:
    text = " ".join(" ".join(parse(full_html).text).split())
    for expected in ("demo <i>study</i>", "2026-11-28T06:00:00Z", "0.1.0", "Gemma Terms of Use",
                     "0123456789abcdef" * 4, "top_k=40", "persona", "Shades of confusion",
                     "Latent diversity in human concepts"):
        assert expected in text, expected


def test_long_output_is_truncated(full_html: str) -> None:
    assert "x" * 2000 not in full_html
    assert "x" * 300 in full_html


def test_colour_only_summary_has_no_concept_section() -> None:
    html = render_html(colour_only())
    assert 'id="colour"' in html and 'id="concepts"' not in html
    assert "P(multiple concepts)" not in html
    assert html.count("<svg") == 2


def test_concept_only_summary_has_no_colour_section() -> None:
    html = render_html(concept_only())
    assert 'id="concepts"' in html and 'id="colour"' not in html
    assert "ΔE" not in html
    assert html.count("<svg") == 1


def test_summary_where_every_model_is_invalid_renders() -> None:
    summary = colour_only()
    for by_condition in summary["models"].values():
        for data in by_condition.values():
            data["colour"] = empty_colour_block()
    del summary["human"]
    html = render_html(summary)
    assert "no valid answers" in html
    assert "<svg" not in html


def test_minimal_summary_renders() -> None:
    html = render_html({})
    assert "<html" in html and 'id="colour"' not in html and 'id="concepts"' not in html


def test_render_does_not_mutate_the_summary() -> None:
    summary = full_summary()
    before = copy.deepcopy(summary)
    render_html(summary)
    assert repr(summary) == repr(before)


def test_result_table_prints_markup_literally() -> None:
    from rich.console import Console

    console = Console(record=True, width=400, color_system=None)
    tables = result_table(full_summary())
    assert len(tables) == 2
    console.print(*tables)
    text = console.export_text()
    assert "[bold]" in text
    assert "humans" in text and "15.88" in text and "0.670" in text
    assert "none@1.5" in text


def test_result_table_omits_absent_tasks() -> None:
    assert len(result_table(colour_only())) == 1
    assert len(result_table(concept_only())) == 1
    assert result_table({}) == []


def test_render_is_deterministic() -> None:
    assert render_html(full_summary()) == render_html(full_summary())


def test_dollar_signs_in_labels_do_not_break_plots() -> None:
    summary = colour_only()
    summary["models"]["embedded:gemma-3-270m"]["$x^{$"] = summary["models"]["embedded:gemma-3-270m"].pop("none@default")
    assert render_html(summary).count("<svg") == 2


def test_svg_ids_are_unique_across_figures(full_html: str) -> None:
    ids = [attrs["id"] for _, attrs in parse(full_html).tags if attrs.get("id")]
    assert len(ids) == len(set(ids))
    references = set(re.findall(r'(?:href="#|url\(#)([^")]+)', full_html))
    assert references and references <= set(ids)


def test_alarms_and_accounting_are_shown_with_their_evidence(full_html: str) -> None:
    text = " ".join(" ".join(parse(full_html).text).split())
    assert "Sampling checks" in text and "No alarm" not in text
    assert f"seed ignored {SCRIPT}" in text  # the alarm's message, escaped, with its evidence texts
    checks = full_html.split('id="checks"')[1].split("</section>")[0]
    assert checks.count('class="alarm"') == 2
    assert checks.count("&lt;script&gt;") >= 3  # message, probe text and repeated output, all escaped
    # Refusals and parse failures are told apart in the examples.
    assert "refusal" in text and "parse failure" in text and f"As an AI {SCRIPT}" in text


def test_a_clean_summary_says_so() -> None:
    summary = full_summary()
    summary["alarms"] = []
    text = " ".join(" ".join(parse(render_html(summary)).text).split())
    assert "No alarm" in text
