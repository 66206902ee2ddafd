"""A tiny study on a real embedded model through llama.cpp: run, interrupt, resume, rebuild the summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import count_samples

from monoculture._runner import run_study
from monoculture.report import summarize
from monoculture.store import Store
from monoculture.tasks import COLOUR_PROMPT
from monoculture.study import parse_study

TINY = {
    "name": "tiny",
    "seed": 7,
    "models": ["embedded:smollm2-135m-instruct"],
    "conditions": [{"context": "none"}, {"context": "persona"}],
    "colour": {"individuals": 3, "words": ["lemon", "wisdom", "ocean"], "mode": "constrained"},
}
PLANNED = 2 * 3 * 3 * 2  # conditions x individuals x words x replicates


@pytest.mark.model
def test_killed_run_resumes_without_redoing_or_duplicating_samples(tmp_path, data_root):
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(
        'name = "tiny"\nseed = 7\nmodels = ["embedded:smollm2-135m-instruct"]\n'
        'conditions = [{ context = "none" }, { context = "persona" }]\n'
        '[colour]\nindividuals = 3\nwords = ["lemon", "wisdom", "ocean"]\nmode = "constrained"\n'
    )
    out = tmp_path / "out"
    store_path = out / "samples.sqlite"
    process = subprocess.Popen([sys.executable, "-m", "monoculture", "run", str(study_file), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 300
    while count_samples(store_path) < 6:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no samples arrived"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with Store(store_path) as store:
        before = {s.key: s for s in store.samples()}
    assert 6 <= len(before) < PLANNED

    result = run_study(parse_study(TINY), out)

    with Store(store_path) as store:
        after = list(store.samples())
        assert len(after) == PLANNED == result.planned
        assert len({s.key for s in after}) == PLANNED
        assert result.drawn == PLANNED - len(before)
        # What was collected before the kill is untouched: same output, same seed, same start time.
        for sample in after:
            if sample.key in before:
                assert sample == before[sample.key]
        # Constrained decoding: every answer is a valid code, recorded with its mode.
        assert all(s.valid and s.mode == "constrained" for s in after)
        assert len({s.seed for s in after}) == PLANNED
        assert {s.decoding["temperature"] for s in after} == {0.8}  # llama.cpp's default, resolved
        persona = [s for s in after if s.condition == "persona@default"]
        assert all(s.context.startswith("You are ") and s.context in s.prompt for s in persona)

        # The summary is derived from the store alone: a reloaded store gives the same numbers.
        rebuilt = summarize(store)
    written = json.loads((out / "summary.json").read_text())
    for summary in (rebuilt, written):
        summary.pop("created")
    assert json.loads(json.dumps(rebuilt)) == written
    block = written["models"]["embedded:smollm2-135m-instruct"]["none@default"]
    assert block["kind"] == "chat"
    colour = block["colour"]
    assert colour["valid_fraction"] == 1.0 and colour["n_individuals"] == 3 and colour["n_words"] == 3
    assert colour["internal_delta_e"] >= 0 and colour["population_delta_e"] >= 0
    for word in colour["words"]:
        assert word["n_individuals"] == 3
        assert abs(word["distance_from_diagonal"]
                   - abs(word["population_delta_e"] - word["internal_delta_e"]) / 2**0.5) < 1e-9
    mean_distance = sum(word["distance_from_diagonal"] for word in colour["words"]) / 3
    assert abs(colour["distance_from_diagonal"] - mean_distance) < 1e-9
    assert written["human"]["colour"]["n_individuals"] == 475
    html = (out / "report.html").read_text()
    assert "embedded:smollm2-135m-instruct" in html and "<svg" in html


@pytest.mark.model
def test_base_model_gets_a_plain_completion_prompt(tmp_path, data_root):
    study = parse_study({**TINY, "models": ["embedded:gemma-3-270m"], "conditions": [{"context": "persona"}],
                         "colour": {"individuals": 2, "words": ["lemon"], "mode": "constrained"}})
    run_study(study, tmp_path)
    with Store(tmp_path / "samples.sqlite") as store:
        samples = list(store.samples())
    assert len(samples) == 4
    for sample in samples:
        # PROTOCOL section 2: "{context} {prompt}\nAnswer:", the context a persona.
        assert sample.context.startswith("You are ")
        assert sample.prompt == f"{sample.context} {COLOUR_PROMPT.format(word='lemon')}\nAnswer:"
        assert sample.valid and sample.answer.startswith("#")
