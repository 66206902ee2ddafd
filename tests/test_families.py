"""Families and stages: a later stage against its base on the same items, on fake populations whose difference
is known (fake:uniform as the base, fake:constant as the aligned stage), and the sign-flip test's exact p-values."""

from __future__ import annotations

import pytest

import monoculture
from monoculture.errors import StudyFileError
from monoculture.metrics import jackknife_interval, jackknife_variance, paired_difference, share_of_people
from monoculture.study import parse_study

WORDS = ["ocean", "joy", "sadness", "fire", "love", "chalk", "lemon", "tree"]


def _study(models):
    return parse_study({"name": "families", "seed": 4, "models": models, "conditions": [{"context": "none"}],
                        "colour_terms": {"individuals": 30, "words": WORDS}})


@pytest.fixture(scope="module")
def summary(tmp_path_factory, data_root):
    return monoculture.run(_study([{"spec": "fake:constant", "family": "f", "stage": "aligned"},
                                   {"spec": "fake:uniform", "family": "f", "stage": "base"}]),
                           tmp_path_factory.mktemp("families"))


def test_the_aligned_stage_loses_what_the_constant_population_must(summary):
    (comparison,) = summary.families
    assert comparison.base_model == "fake:uniform" and comparison.measure == "gini_simpson"  # "base" first
    (stage,) = comparison.stages
    gini = next(d for d in stage.differences if d.measure == "gini_simpson")
    # A constant population's Gini-Simpson is 0; uniform draws over 11 terms give 10/11 up to sampling.
    assert gini.mean == pytest.approx(-10 / 11, abs=0.02) and gini.n_items == 8
    assert gini.p_value == pytest.approx(2 / 2**8)  # every item lower: the two most extreme of 256 sign patterns
    assert stage.share_of_people == 0.0


def test_the_interval_over_individuals_covers_the_known_difference(summary):
    (comparison,) = summary.families
    gini = next(d for d in comparison.stages[0].differences if d.measure == "gini_simpson")
    low, high = gini.ci_individuals
    # The constant stage has no spread at all, so the width is the uniform base's alone: 30 individuals x 2
    # replicates per word put its Gini-Simpson within a few hundredths of 10/11.
    assert low < -10 / 11 < high and 0.005 < high - low < 0.1
    assert f"[{low:+.3f}, {high:+.3f}] over individuals" in comparison.sentences[0]


def test_the_jackknife_of_a_mean_is_its_textbook_variance():
    # Leave-one-out means of x: the jackknife variance is exactly s^2 / n (Efron & Stein).
    x = [0.3, 1.7, 2.2, 0.9, 4.1, 3.0]
    n = len(x)
    leave_out = [(sum(x) - v) / (n - 1) for v in x]
    mean = sum(x) / n
    s2 = sum((v - mean) ** 2 for v in x) / (n - 1)
    assert jackknife_variance(leave_out) == pytest.approx(s2 / n)
    # Two independent populations: the variances add; a homogeneous one adds nothing.
    low, high = jackknife_interval(1.0, leave_out, [0.5] * 4)
    assert (high - low) / 2 == pytest.approx(1.959964 * (s2 / n) ** 0.5, rel=1e-5)
    assert jackknife_interval(0.0, [1.0]) is None


def test_the_share_of_the_peoples_diversity_is_against_their_own_items(summary, data_root):
    from monoculture.tasks.colour_terms import ColourTermsSpec, ColourTermsTask

    people = {item.item: item.gini_simpson for item in ColourTermsTask(ColourTermsSpec(words=WORDS)).human().items}
    base = summary.models["fake:uniform"]["none@default"].tasks["colour_terms"].result
    own = {item.item: item.gini_simpson for item in base.items}
    expected = sum(own[w] for w in WORDS) / sum(people[w] for w in WORDS)
    (comparison,) = summary.families
    assert comparison.base_share_of_people == pytest.approx(expected)
    assert comparison.sentences[0].startswith("f aligned keeps 0% [0%, 0%] of the people's colour_terms diversity")


def test_sign_flips_and_shares_on_hand_cases():
    # Differences (+1, +1, -1): |mean| 1/3; of the 8 sign patterns, those with |mean| >= 1/3 are all 8.
    assert paired_difference([0, 0, 0], [1, 1, -1])["p_value"] == 1.0
    result = paired_difference([0, 0, 0, 0], [2, 1, 1, 1])
    assert result["mean"] == 1.25 and result["p_value"] == pytest.approx(2 / 16)
    assert share_of_people([1, 3], [2, 2])["share"] == 1.0
    with pytest.raises(ValueError):
        paired_difference([1, 2], [1])


def test_family_and_stage_come_together_and_once():
    with pytest.raises(StudyFileError, match="give family and stage together"):
        _study([{"spec": "fake:uniform", "family": "f"}])
    with pytest.raises(StudyFileError, match="has stage 'base' twice"):
        _study([{"spec": "fake:uniform", "family": "f", "stage": "base"},
                {"spec": "fake:constant", "family": "f", "stage": "base"}])


def test_across_families_the_mixed_model_gives_the_mean_paired_difference(tmp_path, data_root):
    # Two families on the same 8 words: a uniform base sharpened by consensus (beta 0.2), and a constant base its
    # twin cannot change. Balanced and complete, so the stage's fixed effect is the mean of the paired differences.
    twin = {"reward": "consensus", "beta": 0.2, "raters": 100_000, "stage": "aligned"}
    summary = monoculture.run(_study([
        {"spec": "fake:uniform", "family": "u", "stage": "base"},
        {"spec": "aligned:fake:uniform", "family": "u", **twin},
        {"spec": "fake:constant", "family": "c", "stage": "base"},
        {"spec": "aligned:fake:constant", "family": "c", **twin}]), tmp_path)
    (fit,) = summary.mixed_models
    assert fit.n_families == 2 and fit.n_items == 8 and fit.n_observations == 32
    means = [next(d for d in c.stages[0].differences if d.measure == "gini_simpson").mean for c in summary.families]
    assert fit.effect == pytest.approx(sum(means) / 2, abs=1e-6)
    assert max(means) == 0.0 and min(means) < -0.5  # the constant family does not move; the uniform one does


def test_models_that_give_one_answer_agree_completely_and_the_people_less(summary):
    (row,) = summary.agreement
    assert {row.model_a, row.model_b} == {"fake:uniform", "fake:constant"}
    # fake:constant always says grey; fake:uniform draws grey 1 time in 11.
    assert row.answer_agreement == pytest.approx(1 / 11, abs=0.05)
    # Two people on these words: sum over terms of n(n - 1) / (N(N - 1)), computed here from the people's counts.
    from monoculture.tasks.colour_terms import ColourTermsSpec, ColourTermsTask

    counts = [item.distribution for item in ColourTermsTask(ColourTermsSpec(words=WORDS)).human().items]
    expected = sum(sum(c * (c - 1) for c in d.values()) / (sum(d.values()) * (sum(d.values()) - 1))
                   for d in counts) / len(counts)
    assert summary.people_agreement["colour_terms"] == pytest.approx(expected)


def test_the_report_opens_with_the_family_and_the_agreement_tables(summary, data_root):
    from monoculture.report import render_html

    html = render_html(summary)
    assert html.index("Families: each stage against its base") < html.index("<h2>Models</h2>")
    assert "f aligned keeps 0% [0%, 0%] of the people&#39;s colour_terms diversity" in html
    agreement = html[html.index("Do the models converge"):html.index("<h2>Models</h2>")]
    assert '<td class="num">8</td>' in agreement and "built-in method" not in agreement  # 8 items, as a number
