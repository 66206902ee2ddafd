"""The fake: models are populations whose truth is known, and every estimator is checked against it:
a homogeneous population (fake:constant), a random one (fake:uniform) and one drawn from the human answers
(fake:human). Expected values are computed here independently of monoculture's metrics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import monoculture
from monoculture.study import parse_study


def _study(models, **tasks):
    return parse_study({"name": "truths", "seed": 3, "models": models, "conditions": [{"context": "none"}], **tasks})


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory, data_root):
    study = _study(["fake:uniform", "fake:constant", "fake:human"],
                   colour={"individuals": 80, "words": 20, "mode": "constrained"})
    return monoculture.run(study, tmp_path_factory.mktemp("colour"))


def _colour(summary, spec):
    return summary.models[spec]["none@default"].tasks["colour"].result


def _lab(hex_codes):
    import colour

    rgb = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in hex_codes]) / 255.0
    return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb))


def test_a_constant_population_sits_exactly_on_the_diagonal(colour_run):
    result = _colour(colour_run, "fake:constant")
    assert result.internal_delta_e == result.population_delta_e == result.distance_from_diagonal == 0.0
    assert result.n_words == 20 and result.n_individuals == 80 and result.valid_fraction == 1.0
    assert colour_run.alarms == []  # a sure model repeating itself is explained by its own probability


def test_a_uniform_population_has_the_mean_distance_of_random_colours(colour_run):
    # Closed form by simulation, independent of monoculture: E ΔE76 between two uniform random sRGB colours.
    rng = np.random.default_rng(0)
    codes = [f"#{v:06x}" for v in rng.integers(0, 16**6, size=40_000)]
    lab = _lab(codes)
    expected = float(np.linalg.norm(lab[:20_000] - lab[20_000:], axis=1).mean())
    result = _colour(colour_run, "fake:uniform")
    for value, (low, high) in ((result.internal_delta_e, result.internal_delta_e_ci),
                               (result.population_delta_e, result.population_delta_e_ci)):
        assert abs(value - expected) < high - low  # within about 4 standard errors of the closed form
    # Individuals are draws from one distribution: the distance is within what a homogeneous population of
    # the same size gets (the permutation null).
    assert result.null.indistinguishable


def test_a_population_drawn_from_the_human_answers_is_homogeneous_with_human_distances(colour_run):
    from monoculture.tasks.colour import human_colour_answers

    words = [w.word for w in _colour(colour_run, "fake:human").words]
    by_word = {}
    for answer in human_colour_answers():
        if answer.word in words:
            by_word.setdefault(answer.word, []).append(answer.hex)
    # The expected ΔE between two independent draws from a word's pooled human answers, averaged over words.
    expected = []
    for answers in by_word.values():
        lab = _lab(answers)
        expected.append(float(np.linalg.norm(lab[:, None] - lab[None, :], axis=2).mean()))
    expected_mean = float(np.mean(expected))
    result = _colour(colour_run, "fake:human")
    for value, interval in ((result.internal_delta_e, result.internal_delta_e_ci),
                            (result.population_delta_e, result.population_delta_e_ci)):
        assert interval[0] < expected_mean < interval[1], (value, interval, expected_mean)
    assert result.null.indistinguishable  # homogeneous: within its permutation null
    # The people themselves are consistent individuals: far from the diagonal, unlike their pooled answers.
    human = colour_run.human["colour"]
    assert human.distance_from_diagonal > 4 * result.distance_from_diagonal


def test_concepts_of_constant_and_uniform_populations(tmp_path, data_root):
    study = _study(["fake:constant", "fake:uniform"],
                   concepts={"individuals_per_target": 8, "targets": ["robin", "Joe Biden"], "mode": "exact",
                             "sweeps": 60, "burn_in": 10})
    summary = monoculture.run(study, tmp_path)
    constant = summary.models["fake:constant"]["none@default"].tasks["concepts"]
    uniform = summary.models["fake:uniform"]["none@default"].tasks["concepts"]
    # One shared answer pattern: one concept, and the same choice whichever order the pair is asked in.
    assert constant.result.p_multiple_concepts == 0.0 and constant.result.tables == 1.0
    assert constant.result.order_consistency == 1.0
    # Random answers: order consistency is a coin flip, and 36 random answers rarely match a shared pattern.
    assert 0.4 < uniform.result.order_consistency < 0.6
    assert uniform.result.p_multiple_concepts > 0.5
    # Exact mode asks each distinct prompt once: 72 per target in the none condition, whatever the population.
    assert constant.accounting["exact"].model_calls == 2 * 72


def test_fake_human_refuses_a_task_without_raw_human_answers_before_sampling(tmp_path, data_root):
    study = _study(["fake:human"], concepts={"individuals_per_target": 2, "targets": ["robin"]})
    with pytest.raises(monoculture.ModelSpecError, match="no human answers to draw for the concepts task"):
        monoculture.run(study, tmp_path)
    assert monoculture.open_results(tmp_path).samples().empty


def test_fake_models_honour_seeds_and_temperature_zero(data_root):
    import asyncio

    from monoculture.backends import Asked, Decoding, GenerationRequest, load_backend
    from monoculture.tasks.colour import ColourSpec, ColourTask

    task = ColourTask(ColourSpec(words=["wisdom", "lemon"]), seed=0)
    prompt = task.prompts(None)[0]
    backend = load_backend("fake:uniform")

    def draw(seed, temperature=1.0):
        decoding = Decoding(temperature=temperature, top_k=0, top_p=1.0, min_p=0.0, max_tokens=8)
        request = GenerationRequest(decoding=decoding, seed=seed, prompt="x", asked=Asked(task, prompt))
        return asyncio.run(backend.generate(request)).text

    texts = [draw(seed) for seed in range(20)]
    assert len(set(texts)) == 20 and texts == [draw(seed) for seed in range(20)]
    assert len({draw(seed, temperature=0.0) for seed in range(5)}) == 1
    assert all(task.parse(prompt, text).valid for text in texts)
    pairs = list(itertools.combinations(texts, 2))
    assert not any(a == b for a, b in pairs)
