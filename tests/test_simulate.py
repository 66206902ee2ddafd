"""``monoculture simulate``: the frontier of reward against diversity, checked against closed forms on a fake base
whose distribution is known (fake:uniform: uniform over the closed set)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ElementTree

import pytest

import monoculture
from conftest import run_cli
from monoculture.errors import StudyFileError
from monoculture.study import parse_study

PET = {"id": "pet", "question": "Cat or dog?", "answers": ["cat", "dog"], "human": {"cat": 40, "dog": 60}}


def _study(**questions):
    return parse_study({
        "name": "sim", "seed": 2, "conditions": [{"context": "none"}],
        "models": [{"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 1.0, "raters": 100_000}],
        "questions": {"individuals": 200, "items": [PET], **questions},
        "colour": {"individuals": 2, "words": 2, "mode": "constrained"},
    })


@pytest.fixture(scope="module")
def simulation(tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("simulation")
    return monoculture.simulate(_study(), [1.0, 0.5], out), out


def _row(simulation, beta):
    return next(row for row in simulation.rows if row["beta"] == beta)


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_each_beta_costs_its_closed_form_kl_and_earns_its_reward(simulation, beta):
    result, _ = simulation
    # The pool of 100,000 raters has the people's shares (0.4, 0.6) within 0.005, so r = log share and, from a
    # uniform base, pi = share^(1/beta) normalised; KL(pi || uniform) = log 2 - H(pi); E_pi[r] = sum pi log share.
    weights = [0.4 ** (1 / beta), 0.6 ** (1 / beta)]
    pi = [w / sum(weights) for w in weights]
    row = _row(result, beta)
    assert row["kl"] == pytest.approx(math.log(2) + sum(p * math.log(p) for p in pi), abs=2e-3)
    assert row["mean_reward"] == pytest.approx(pi[0] * math.log(0.4) + pi[1] * math.log(0.6), abs=0.01)
    assert row["reference_reward"] == pytest.approx(0.5 * math.log(0.4) + 0.5 * math.log(0.6), abs=0.01)
    # Gini-Simpson of 400 draws from pi: 2 pi_0 pi_1 up to sampling.
    assert row["measures"]["gini_simpson"] == pytest.approx(2 * pi[0] * pi[1], abs=0.05)


def test_the_base_sits_at_zero_kl_and_the_people_are_marked(simulation):
    result, out = simulation
    base = next(row for row in result.rows if row["reward"] is None)
    assert base["kl"] == 0.0 and base["measures"]["gini_simpson"] == pytest.approx(0.5, abs=0.05)
    assert result.people["questions"]["gini_simpson"] == pytest.approx(1 - 40 * 39 / (100 * 99) - 60 * 59 / (100 * 99))
    assert result.dropped_tasks == {"colour": "some of its prompts have no closed answer set"}
    written = json.loads((out / "frontier.json").read_text(encoding="utf-8"))
    assert len(written["rows"]) == 3 and (out / "frontier.csv").read_text().startswith("model,base,reward,beta")
    ElementTree.fromstring((out / "frontier.svg").read_text(encoding="utf-8"))  # a well-formed SVG document


def test_the_command_prints_the_frontier_and_refuses_a_study_without_twins(tmp_path, data_root):
    study = tmp_path / "study.toml"
    study.write_text('models = [{ spec = "aligned:fake:uniform", reward = "typicality", beta = 1.0 }]\n'
                     'conditions = [{ context = "none" }]\n[questions]\nindividuals = 3\n'
                     'items = [{ id = "pet", question = "Cat or dog?", answers = ["cat", "dog"] }]\n')
    done = run_cli("simulate", str(study), "--beta", "2,0.5", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "price of diversity" in done.stdout and (tmp_path / "out" / "frontier.svg").exists()
    plain = tmp_path / "plain.toml"
    plain.write_text('models = ["fake:uniform"]\nconditions = [{ context = "none" }]\n[questions]\nindividuals = 3\n'
                     'items = [{ id = "pet", question = "Cat or dog?", answers = ["cat", "dog"] }]\n')
    done = run_cli("simulate", str(plain), "--out", str(tmp_path / "out2"))
    assert done.returncode == 3 and "no aligned twin to simulate" in done.stderr
    with pytest.raises(StudyFileError, match="--beta takes numbers above 0"):
        monoculture.simulate(_study(), [0.0], tmp_path / "out3")


def test_a_loop_reports_its_collapse_and_survivors(tmp_path, data_root):
    # Three raters redrawn each round from the model's own answers: a few rounds at beta 0.2 fix one answer of
    # three on every prompt; a single round of the same rater keeps all three alive.
    study = parse_study({
        "name": "loop", "seed": 5, "conditions": [{"context": "none"}],
        "models": [{"spec": "aligned:fake:uniform", "reward": "consensus", "beta": 0.2, "raters": 3}],
        "questions": {"individuals": 2, "items": [{"id": "fruit", "question": "A fruit?",
                                                   "answers": ["apple", "banana", "cherry"]}]},
    })
    result = monoculture.simulate(study, [0.2], tmp_path, rounds=[1, 40])
    once = next(row for row in result.rows if row["rounds"] == 1)
    looped = next(row for row in result.rows if row["rounds"] == 40)
    assert looped["collapsed_share"] == 1.0 and 1 <= looped["mean_rounds_to_collapse"] <= 40
    assert once["mean_survivors"] == 3.0 and looped["kl"] > once["kl"]
