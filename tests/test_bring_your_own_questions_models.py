"""The colour-terms and questions tasks on a real embedded model (llama.cpp): exact mode over the terms, a closed
question, a normalised free one and an open one, through the store, the summary and the report."""

from __future__ import annotations

import json
import time

import pytest

import monoculture
from monoculture.study import parse_study


@pytest.mark.model
def test_colour_terms_exact_and_questions_free_on_smollm2(tmp_path, data_root):
    questions = [
        {"id": "pet", "question": "Which pet is better, a cat or a dog? Answer with one word.",
         "answers": ["cat", "dog"], "human": {"cat": 40, "dog": 60}},
        {"id": "clean", "question": "What colour represents cleanliness? Answer with one colour word.",
         "normalise": "colour"},
        {"id": "haiku", "question": "Write a haiku about autumn.", "type": "open"},
    ]
    study = parse_study({
        "name": "byoq", "seed": 4, "models": ["embedded:smollm2-135m-instruct"], "conditions": [{"context": "none"}],
        "colour_terms": {"individuals": 3, "words": ["cleanliness", "ocean"], "mode": "exact"},
        "questions": {"individuals": 3, "items": questions, "max_tokens": 40},
    })
    # The plan's estimate (rates measured here, loading included) against the run's real duration.
    preview = monoculture.plan(study)
    assert preview.samples == 12 + 18 and preview.seconds is not None
    started = time.perf_counter()
    summary = monoculture.run(study, tmp_path)
    elapsed = time.perf_counter() - started
    # Rates measured on idle cores; the suite runs a file per core, so another model test may share them (up to
    # twice as slow): 1.3x idle here (18 s for 14 s), 3x allowed.
    assert 0.5 <= elapsed / preview.seconds <= 3.0, (elapsed, preview.seconds)
    cell = summary.models["embedded:smollm2-135m-instruct"]["none@default"]
    terms = cell.tasks["colour_terms"]
    # Exact mode: one distribution per distinct prompt (both replicates and all three individuals share it).
    assert terms.accounting["exact"].model_calls == 2
    for word, distribution in terms.result.exact_distributions.items():
        assert sum(distribution.values()) == pytest.approx(1.0) and set(distribution) <= {
            "black", "white", "red", "green", "yellow", "blue", "brown", "purple", "pink", "orange", "grey"}
    assert terms.result.n_valid == 12 and terms.result.words_without_people == ["cleanliness"]
    ocean = next(item for item in terms.result.items if item.item == "ocean")
    assert ocean.total_variation_to_human is not None  # ocean has the people's answers; cleanliness has none
    asked = cell.tasks["questions"]
    assert asked.accounting["free"].planned == 18
    assert asked.result.open.n_valid >= 1 and asked.result.open.embedder.startswith("minilm:")
    assert asked.result.categorical is not None
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Colour terms" in html and "Open questions" in html and "cleanliness" in html
    stored = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert stored["models"]["embedded:smollm2-135m-instruct"]["none@default"]["tasks"]["questions"]["result"]["open"]
