"""aligned: twins — a base model's exact distributions under alignment pressure, as models of a study.

The fake: bases have known distributions (fake:uniform: uniform over the closed set), so every twin's stored
distribution has a closed form written out here."""

from __future__ import annotations

import json

import pytest

import monoculture
from monoculture.errors import ModelSpecError
from monoculture.store import Store
from monoculture.study import parse_study

PET = {"id": "pet", "question": "Which pet is better, a cat or a dog?", "answers": ["cat", "dog"],
       "human": {"cat": 40, "dog": 60}}
TRIPLE = {"id": "fruit", "question": "Pick a fruit.", "answers": ["apple", "banana", "cherry"]}


def _study(models, **tasks):
    return parse_study({"name": "twins", "seed": 9, "models": models, "conditions": [{"context": "none"}],
                        **(tasks or {"questions": {"individuals": 4, "items": [PET, TRIPLE], "mode": "exact"}})})


def _distributions(folder, model):
    with Store(folder / "samples.sqlite") as store:
        return {s.item: json.loads(s.raw_output) for s in store.samples(model=model) if s.replicate == 1}


def test_the_entry_settings_are_written_into_the_spec():
    study = _study([{"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 0.5},
                    {"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 2, "raters": 50}])
    assert [m.spec for m in study.models] == ["aligned:fake:uniform [reward=consensus beta=0.5]",
                                              "aligned:fake:uniform [reward=consensus beta=2 raters=50]"]
    again = parse_study(study.model_dump(mode="json"))  # the stored study gives the same models
    assert [m.spec for m in again.models] == [m.spec for m in study.models]


@pytest.mark.parametrize(("entry", "message"), [
    ({"spec": "aligned:fake:uniform", "beta": 1.0}, "needs reward and beta"),
    ({"spec": "aligned:fake:uniform", "reward": "flattery", "beta": 1.0}, "unknown reward 'flattery'"),
    ({"spec": "aligned:fake:uniform", "reward": "consensus", "beta": -1.0}, "beta must be a number above 0"),
    ({"spec": "aligned:aligned:fake:uniform", "reward": "consensus", "beta": 1.0}, "not another twin"),
])
def test_bad_twin_settings_are_one_line(entry, message):
    with pytest.raises(ModelSpecError, match=message):
        _study([entry])


def test_consensus_of_a_large_pool_tilts_uniform_towards_the_peoples_shares(tmp_path, data_root):
    # r(y) = log of the pool's share; 100,000 raters drawn from the people's (0.4, 0.6) give shares within 0.005.
    # Uniform reference: pi(y) ∝ exp(r(y) / beta) = share(y)^(1/beta).
    models = [{"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 1.0, "raters": 100_000},
              {"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 0.5, "raters": 100_000}]
    monoculture.run(_study(models, questions={"individuals": 3, "items": [PET], "mode": "exact"}), tmp_path)
    at_one = _distributions(tmp_path, "aligned:fake:uniform [reward=consensus beta=1 raters=100000]")
    at_half = _distributions(tmp_path, "aligned:fake:uniform [reward=consensus beta=0.5 raters=100000]")
    assert at_one["pet"]["dog"] == pytest.approx(0.6, abs=0.005)
    assert at_half["pet"]["dog"] == pytest.approx(0.36 / (0.36 + 0.16), abs=0.006)  # 0.692


def test_typicality_sharpens_by_its_exact_power_and_a_loop_collapses(tmp_path, data_root):
    # A uniform reference stays uniform under any power: typicality cannot break a tie...
    models = [{"spec": "aligned:fake:uniform", "reward": "typicality", "beta": 0.1},
              {"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 0.2, "raters": 3,
               "rounds": 30}]
    monoculture.run(_study(models, questions={"individuals": 2, "items": [TRIPLE], "mode": "exact"}), tmp_path)
    flat = _distributions(tmp_path, "aligned:fake:uniform [reward=typicality beta=0.1]")["fruit"]
    assert all(p == pytest.approx(1 / 3) for p in flat.values())
    # ...while a small rater pool redrawn from the model's own answers every round breaks it and collapses.
    looped = _distributions(tmp_path, "aligned:fake:uniform [reward=consensus beta=0.2 raters=3 rounds=30]")
    assert max(looped["fruit"].values()) > 0.99


def test_a_twin_is_refused_before_sampling_on_a_task_without_closed_answers(tmp_path, data_root):
    study = _study([{"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 1.0}],
                   questions={"individuals": 2, "items": [PET, {"id": "poem", "question": "A poem.", "type": "open"}]})
    with pytest.raises(ModelSpecError, match="answers only closed answer sets, and the questions task's 'poem' has none"):
        monoculture.run(study, tmp_path)
    with Store(tmp_path / "samples.sqlite") as store:
        assert store.count() == 0


def test_a_twin_answers_only_its_tasks_and_flows_through_the_summary(tmp_path, data_root):
    study = _study(["fake:uniform", {"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 0.3,
                                     "raters": 100_000, "tasks": ["questions"]}],
                   colour={"individuals": 3, "words": 2, "mode": "constrained"},
                   questions={"individuals": 20, "items": [PET]})
    summary = monoculture.run(study, tmp_path)
    twin = summary.models["aligned:fake:uniform [reward=consensus beta=0.3 raters=100000]"]["none@default"]
    assert set(twin.tasks) == {"questions"}
    assert twin.kind == "chat"
    base = summary.models["fake:uniform"]["none@default"].tasks["questions"].result.categorical
    aligned = twin.tasks["questions"].result.categorical
    # The pool's (0.4, 0.6) at beta 0.3: P(dog) = 0.6^(10/3) / (0.4^(10/3) + 0.6^(10/3)) = 0.794, so two answers
    # differ with probability 2 * 0.794 * 0.206 = 0.33 instead of the uniform base's 0.5.
    assert aligned.items[0].modal_answer == "dog" and aligned.items[0].modal_share > 0.7
    assert aligned.population_disagreement < base.population_disagreement - 0.1


def test_decoding_the_twin_hotter_undoes_its_sharpening(tmp_path, data_root):
    # At beta 0.5 the consensus twin of a uniform base is share^2 normalised; decoded at temperature 2 it is
    # (share^2)^(1/2) = share again: (0.4, 0.6). min-p 0.7 then drops cat (0.4 < 0.7 * 0.6 = 0.42).
    models = [{"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 0.5, "raters": 100_000,
               "sampling_temperature": 2.0},
              {"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 0.5, "raters": 100_000,
               "sampling_temperature": 2.0, "sampling_min_p": 0.7}]
    monoculture.run(_study(models, questions={"individuals": 2, "items": [PET], "mode": "exact"}), tmp_path)
    hot = _distributions(tmp_path, "aligned:fake:uniform [reward=consensus beta=0.5 raters=100000 "
                                   "sampling_temperature=2]")["pet"]
    assert hot["dog"] == pytest.approx(0.6, abs=0.005)
    cut = _distributions(tmp_path, "aligned:fake:uniform [reward=consensus beta=0.5 raters=100000 "
                                   "sampling_temperature=2 sampling_min_p=0.7]")["pet"]
    assert cut == {"cat": 0.0, "dog": 1.0}
