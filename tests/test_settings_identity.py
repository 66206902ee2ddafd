"""A study changed between two runs into one folder never mixes or mislabels samples: whatever changes what
is asked or how it is sampled joins the sample's identity (its settings hash), so new samples are drawn, the
old ones stay in the store, and the summary rests only on samples of its own settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import monoculture
from monoculture._run import run_study
from monoculture.study import parse_study


def _study(prompt_version="v1", top_k=0, individuals_per_target=3):
    return parse_study({
        "name": "identity", "models": ["fake:uniform"], "conditions": [{"context": "none"}],
        "decoding": {"top_k": top_k},
        "concepts": {"individuals_per_target": individuals_per_target, "targets": ["robin"], "mode": "free",
                     "prompt_version": prompt_version, "sweeps": 20, "burn_in": 2},
    })


def test_changing_prompt_version_and_decoding_draws_new_samples_and_never_mixes(tmp_path, data_root):
    first = run_study(_study(), tmp_path)
    assert first.drawn == first.planned == 3 * 72
    changed = run_study(_study(prompt_version="published", top_k=5), tmp_path)
    # Before: 0 new samples and a summary that reported the new settings for the old samples.
    assert changed.drawn == changed.planned == 3 * 72
    summary = changed.summary
    cell = summary.models["fake:uniform"]["none@default"]
    assert cell.decoding["top_k"] == 5
    assert summary.n_samples_stored == 3 * 72 and summary.n_samples_not_in_study == 3 * 72
    samples = monoculture.open_results(tmp_path).samples()
    assert len(samples) == 2 * 3 * 72
    used = samples[samples.settings == cell.tasks["concepts"].settings]
    assert len(used) == 3 * 72
    assert used.prompt.str.contains("similar to a a robin").all()  # the published doubled article
    assert (used.decoding_top_k == 5).all()
    old = samples[samples.settings != cell.tasks["concepts"].settings]
    assert not old.prompt.str.contains("a a robin").any() and (old.decoding_top_k == 0).all()
    # Back to the first settings: nothing to draw, and the summary is the first one's again.
    again = run_study(_study(), tmp_path)
    assert again.drawn == 0
    assert again.summary.models["fake:uniform"]["none@default"].decoding["top_k"] == 0
    assert again.summary.models["fake:uniform"]["none@default"].tasks["concepts"].result == \
        first.summary.models["fake:uniform"]["none@default"].tasks["concepts"].result


def test_a_larger_population_draws_only_the_new_individuals_and_a_smaller_one_uses_its_own(tmp_path, data_root):
    run_study(_study(individuals_per_target=2), tmp_path)
    larger = run_study(_study(individuals_per_target=4), tmp_path)
    assert larger.drawn == 2 * 72  # the size is not a setting of a sample: the first two individuals are kept
    smaller = run_study(_study(individuals_per_target=1), tmp_path)
    assert smaller.drawn == 0
    assert smaller.summary.n_samples_stored == 72 and smaller.summary.n_samples_not_in_study == 3 * 72
    accounting = smaller.summary.models["fake:uniform"]["none@default"].tasks["concepts"].accounting["free"]
    assert accounting.planned == accounting.stored == 72


def test_a_model_file_changed_between_runs_raises_the_mixed_versions_alarm(tmp_path, data_root):
    from monoculture.backends.catalogue import embedded_catalogue

    # Two real GGUF files: the same path serves SmolLM2 in the first run and Gemma in the second.
    files = {entry["spec"]: Path(entry["file"]) for entry in embedded_catalogue()}
    smollm2, gemma = files["embedded:smollm2-135m-instruct"], files["embedded:gemma-3-270m"]
    model = tmp_path / "model.gguf"
    shutil.copyfile(smollm2, model)

    def study(individuals):
        return parse_study({"models": [{"spec": f"gguf:{model}", "kind": "chat"}],
                            "conditions": [{"context": "none"}],
                            "colour": {"individuals": individuals, "words": ["wisdom", "lemon"],
                                       "mode": "constrained"}})

    first = run_study(study(2), tmp_path / "out")
    assert [a.kind for a in first.summary.alarms] == []
    shutil.copyfile(gemma, model)
    second = run_study(study(3), tmp_path / "out")
    assert second.drawn == 4  # the third individual, 2 words x 2 replicates
    mixed = [a for a in second.summary.alarms if a.kind == "mixed_versions"]
    assert len(mixed) == 1 and mixed[0].evidence["versions"] == {"1": 8, "2": 4}
    assert [record.sha256 for record in second.summary.model_versions] == [
        first.summary.model_versions[0].sha256, second.summary.model_info[f"gguf:{model}"].sha256]
    assert len({record.sha256 for record in second.summary.model_versions}) == 2
