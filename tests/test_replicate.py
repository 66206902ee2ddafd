"""``monoculture replicate murthy2025``: the paper's published concept answers, its recipe against its own compiled
values, the import into a store, and the verdicts, on the files the data folder holds (CI: 50 of the 60)."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from conftest import run_cli

from monoculture.replicate import (
    FAMILIES,
    RUN_TO_RUN_SPREAD,
    compiled_cells,
    paper_recipe,
    published_files,
)

FOLDER = "murthy2025-onefish-twofish"


@pytest.fixture(scope="module")
def files(data_root):
    return published_files(data_root)


def test_the_compiled_values_give_the_papers_pooled_means(data_root):
    # The paper: P(multiple concepts) about 0.125 for the non-aligned models, 0.063 for the aligned ones.
    cells = compiled_cells(data_root)
    aligned = {a for _, a, _ in FAMILIES.values()}
    non = [v for (model, *_), v in cells.items() if model not in aligned]
    yes = [v for (model, *_), v in cells.items() if model in aligned]
    assert sum(non) / len(non) == pytest.approx(0.125, abs=0.002)
    assert sum(yes) / len(yes) == pytest.approx(0.063, abs=0.002)
    assert not any(model == "llama2" for model, *_ in cells)  # too few valid answers for the paper to run


def test_the_papers_recipe_reproduces_its_published_cells(files, data_root):
    present = [f for f in files if f.path is not None]
    assert len(present) >= 50  # CI's folder: model-forCRP/ (48) and model-crp-example/ (2)
    published = compiled_cells(data_root)
    # The cells the paper's conclusion rests on: every family but llama2's (its base has no cell, so the pair is
    # out of the paper's model; llama2-chat's 12 cells agree as well: benchmarks/replicate_paper.py), to keep the
    # suite within its time.
    concluding = [f for f in files if f.family != "llama2"]
    ours = {(c.model, c.prompt, c.temperature, c.category): c.p_multiple_concepts
            for c in paper_recipe(concluding, seed=0) if c.p_multiple_concepts is not None}
    shared = [key for key in ours if key in published]
    within = [key for key in shared if abs(ours[key] - published[key]) <= RUN_TO_RUN_SPREAD]
    # The paper's value is one run of the same sampler: a faithful recipe lands within the spread of two runs
    # (its 95th percentile, benchmarks/replicate_paper.py) on about 95% of cells; a wrong one (another sweep,
    # the posterior mean instead of sweep 499, all subjects instead of the first 25-100) misses far more.
    assert len(shared) >= 60 and len(within) >= 0.9 * len(shared), (len(within), len(shared))
    for aligned in (False, True):
        keys = [k for k in shared if (k[0] in {a for _, a, _ in FAMILIES.values()}) == aligned]
        mine = sum(ours[k] for k in keys) / len(keys)
        theirs = sum(published[k] for k in keys) / len(keys)
        assert mine == pytest.approx(theirs, abs=0.01)


def test_a_family_whose_aligned_model_is_lower_everywhere_is_judged_so():
    from monoculture.replicate._verdict import family_verdict, pooled_verdict

    values = {}
    for index in range(20):
        values[("tulu", "none@default", f"c{index}")] = 0.3 + 0.01 * index
        values[("tulu-dpo", "none@default", f"c{index}")] = 0.2 + 0.01 * index
        values[("openchat", "none@default", f"c{index}")] = 0.1
        values[("starling", "none@default", f"c{index}")] = 0.1 + (0.02 if index % 2 else -0.02)
    (tulu,) = family_verdict("tulu", {"paper": values}, seed=0)
    assert tulu.difference == pytest.approx(-0.1) and tulu.holds and tulu.n_pairs == 20 and tulu.p_value < 0.001
    (openchat,) = family_verdict("openchat", {"paper": values}, seed=0)
    assert openchat.difference == pytest.approx(0.0, abs=1e-12) and openchat.holds is False
    (pooled,) = pooled_verdict({"paper": values}, seed=0)
    # 20 pairs 0.1 lower and 20 whose differences are +-0.02 in turn: the mean difference is -0.05.
    assert pooled.difference == pytest.approx(-0.05) and pooled.n_pairs == 40
    # Two families, aligned 0.1 lower in one and equal in the other: the mixed model's effect is their mean.
    assert pooled.mixed_effect == pytest.approx(-0.05, abs=1e-6)


@pytest.fixture(scope="module")
def replicated(tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("replicate")
    done = run_cli("replicate", "murthy2025", "--out", str(out), "--models", "tulu-dpo,tulu",
                   "--targets", "Hillary Clinton")
    assert done.returncode == 0, done.stderr
    return out, done


def test_the_published_answers_are_samples_with_their_files_provenance(replicated, data_root):
    out, _ = replicated
    example = data_root / FOLDER / "model-crp-example" / "tulu-dpo-prompt=none-temp=default-forCRP.csv"
    with example.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Concept"] == "Hillary Clinton"]
    first = next(row for row in rows if row["Question"] == "Abraham Lincoln Bernie Sanders")
    with sqlite3.connect(out / "samples.sqlite") as db:
        stored = db.execute("SELECT individual, answer, valid, raw_output FROM samples WHERE model = ? AND "
                            "condition = 'none@default' AND item = ?",
                            ("published:tulu-dpo", "Hillary Clinton|Abraham Lincoln|Bernie Sanders")).fetchall()
        subjects = {r["ID"] for r in rows}
        valid = db.execute("SELECT COUNT(*) FROM samples WHERE model = 'published:tulu-dpo' AND condition = "
                           "'none@default' AND target = 'Hillary Clinton' AND valid = 1").fetchone()[0]
        total = db.execute("SELECT COUNT(*) FROM samples WHERE model = 'published:tulu-dpo' AND condition = "
                           "'none@default' AND target = 'Hillary Clinton'").fetchone()[0]
        versions = [json.loads(info) for (info,) in db.execute("SELECT info_json FROM model_versions")]
    # Politicians' subjects follow the animals' 900; ChoiceNumber 0 is the pair's first name.
    chosen = dict((individual, (answer, bool(ok), raw)) for individual, answer, ok, raw in stored)
    expected = ("Abraham Lincoln", True, "0") if first["ChoiceNumber"] == "0" else ("Bernie Sanders", True, "1")
    assert chosen[900 + int(first["ID"])] == expected
    assert valid == len(rows) and total == 36 * len(subjects)  # the pairs absent from the file: invalid samples
    from monoculture.files import sha256_of

    assert {"file": example.name, "sha256": sha256_of(example)}.items() <= next(
        v for v in versions if v["file"] == example.name).items()


def test_the_replication_carries_both_recipes_and_a_verdict(replicated):
    out, done = replicated
    replication = json.loads((out / "replication.json").read_text())
    (family,) = replication["families"]
    assert family["family"] == "tulu" and family["method"] == "DPO"
    assert [v["recipe"] for v in family["recipes"]] == ["paper", "monoculture", "monoculture_unbiased",
                                                        "monoculture_fixed_n"]
    assert family["sentence"].startswith("tulu-dpo (DPO on tulu): the paper's conclusion ")
    cell = next(c for c in replication["cells"] if c["model"] == "tulu-dpo" and c["prompt"] == "none"
                and c["temperature"] == "default" and c["category"] == "politicians")
    assert cell["paper_recipe"] is not None and cell["monoculture"] is not None and cell["people"] > 0.5
    assert cell["homogeneous_null"] is not None and cell["within_run_to_run_spread"] is None  # a concept subset
    assert "tulu-prompt=none-temp=default-forCRP.csv" in replication["files_missing"]
    summary = json.loads((out / "summary.json").read_text())
    assert {f["family"] for f in summary["families"]} == {"tulu"}
    assert replication["comparison_sentences"] == [s for f in summary["families"] for s in f["sentences"]]
    assert replication["comparison_sentences"][0].startswith("tulu aligned ")
    page = (out / "replication.html").read_text()
    assert "<h1>The paper's concept result, replicated</h1>" in page and "<svg" in page
    assert "Each family per condition" in page
    assert "replication.html" in done.stdout


def test_at_a_fixed_n_every_concept_is_judged_on_its_first_n_complete_subjects():
    import numpy as np

    from monoculture.replicate import PublishedFile, ReadFile
    from monoculture.replicate._fixed_n import cell_means, fixed_n_recipe
    from monoculture.tasks.concepts import CRPInput

    def concept(name: str, rows: np.ndarray) -> CRPInput:
        return CRPInput(name, tuple(str(i) for i in range(len(rows))), tuple(f"q{k}" for k in range(36)),
                        rows.astype(np.int8), n_incomplete=0)

    rng = np.random.default_rng(3)
    answer = rng.integers(0, 2, 36)
    # Two camps that disagree on all 36 pairs, alternating, with 10 more people after the first 25; one camp; and a
    # concept with 24 complete subjects (too few).
    camps = np.array([answer if i % 2 == 0 else 1 - answer for i in range(35)])
    camps[25:] = answer  # beyond the first 25: would make it 23/12 if they were counted
    read = ReadFile(PublishedFile("tulu", "none", "default", None), "0" * 64, {
        "a robin": concept("a robin", camps), "a penguin": concept("a penguin", np.tile(answer, (30, 1))),
        "a finch": concept("a finch", np.tile(answer, (24, 1)))})
    values = fixed_n_recipe([read], n=25, seed=0, workers=1)
    # 13 and 12 of 25: 1 − (13² + 12²)/25² = 0.4992, times 25/24 (the unbiased form) = 0.52; one camp: 0.
    assert values[("tulu", "none@default", "robin")] == pytest.approx(0.52, abs=0.005)
    assert values[("tulu", "none@default", "penguin")] == pytest.approx(0.0, abs=0.005)
    assert ("tulu", "none@default", "finch") not in values
    assert cell_means(values)[("tulu", "none@default", "animals")] == (pytest.approx(0.26, abs=0.005), 2)


def test_bad_requests_are_one_line(tmp_path, data_root):
    for args, words in ((["nonsense2030"], "unknown replication"), (["murthy2025", "--models", "gpt9"],
                        "unknown published model"), (["murthy2025", "--targets", "unicorn"], "unknown concept")):
        done = run_cli("replicate", *args, "--out", str(tmp_path / "x"))
        assert done.returncode != 0 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_concept_families_get_their_interval_over_individuals_from_each_targets_bootstrap(replicated):
    out, _ = replicated
    summary = json.loads((out / "summary.json").read_text())
    comparison = next(f for f in summary["families"] if f["condition"] == "random@default")
    difference = next(d for d in comparison["stages"][0]["differences"] if d["measure"] == "p_multiple_concepts")

    def variance(model: str) -> float:
        stats = summary["models"][model]["random@default"]["tasks"]["concepts"]["result"]["by_target"]
        low, high = stats["Hillary Clinton"]["p_multiple_concepts_bootstrap_ci"]
        return ((high - low) / (2 * 1.959964)) ** 2

    # One target, two independent populations: the variances of the two bootstraps add.
    half = 1.959964 * (variance("published:tulu") + variance("published:tulu-dpo")) ** 0.5
    low, high = difference["ci_individuals"]
    assert low == pytest.approx(difference["mean"] - half) and high == pytest.approx(difference["mean"] + half)
