"""A tiny study on a real embedded model through llama.cpp (runs killed and resumed: test_crash_safety.py)."""

from __future__ import annotations

import pytest

from monoculture._run import run_study
from monoculture.store import Store
from monoculture.study import parse_study
from monoculture.tasks.colour import COLOUR_PROMPT

TINY = {
    "name": "tiny",
    "seed": 7,
    "models": ["embedded:smollm2-135m-instruct"],
    "conditions": [{"context": "none"}, {"context": "persona"}],
    "colour": {"individuals": 3, "words": ["lemon", "wisdom", "ocean"], "mode": "constrained"},
}


@pytest.mark.model
def test_base_model_gets_a_plain_completion_prompt(tmp_path, data_root):
    study = parse_study({**TINY, "models": ["embedded:gemma-3-270m"], "conditions": [{"context": "persona"}],
                         "colour": {"individuals": 2, "words": ["lemon"], "mode": "constrained"}})
    run_study(study, tmp_path)
    with Store(tmp_path / "samples.sqlite") as store:
        samples = list(store.samples())
    assert len(samples) == 4
    for sample in samples:
        # docs/methods.md, section 2: "{context} {prompt}\nAnswer:", the context a persona.
        assert sample.context.startswith("You are ")
        assert sample.prompt == f"{sample.context} {COLOUR_PROMPT.format(word='lemon')}\nAnswer:"
        assert sample.valid and sample.answer.startswith("#")
