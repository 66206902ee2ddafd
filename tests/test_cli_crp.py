"""``monoculture crp`` and ``monoculture baseline concepts``, and agreement with the published CRP runs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from monoculture.metrics import run_crp
from monoculture.reference import data_root
from monoculture.tasks.concepts import read_crp_input

# The published runs are part of the data manifest ($MONOCULTURE_DATA, or `monoculture data fetch`).
EXAMPLES = data_root() / "murthy2025-onefish-twofish/model-crp-example"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, text=True,
                          env=os.environ | {"OPENBLAS_NUM_THREADS": "1"}, timeout=120)


def test_crp_json_on_a_published_file() -> None:
    path = EXAMPLES / "tulu-dpo-prompt=none-temp=default-forCRP.csv"
    done = _cli("crp", str(path), "--sweeps", "40", "--burn-in", "5", "--chains", "1", "--max-people", "20", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 20
    assert all(set(row) == {"concept", "n_individuals", "p_multiple_concepts", "tables", "richness"} for row in rows)
    assert {row["concept"] for row in rows} >= {"a finch", "Barack Obama"}
    assert all(row["n_individuals"] == 20 for row in rows)
    for row in rows:
        assert 0 <= row["p_multiple_concepts"] < 1 and row["tables"] >= 1 and row["richness"] >= 1


def test_crp_table_output() -> None:
    path = EXAMPLES / "openchat-prompt=none-temp=default-forCRP.csv"
    done = _cli("crp", str(path), "--sweeps", "12", "--burn-in", "2", "--chains", "1", "--max-people", "8")
    assert done.returncode == 0, done.stderr
    assert "Hillary Clinton" in done.stdout and "a finch" in done.stdout


def test_crp_malformed_csv_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad-forCRP.csv"
    bad.write_text("Concept,ID,Question,ChoiceNumber\nrobin,1,a b,yes\n")
    done = _cli("crp", str(bad))
    assert done.returncode == 5
    assert done.stderr.strip().startswith("monoculture: error:") and "\n" not in done.stderr.strip()
    assert "Traceback" not in done.stderr


def test_baseline_concepts_json() -> None:
    done = _cli("baseline", "concepts", "--json")
    assert done.returncode == 0, done.stderr
    block = json.loads(done.stdout)
    assert block["by_category"]["animals"]["p_multiple_concepts_sweep499"] == pytest.approx(0.559, abs=0.0005)
    assert block["by_category"]["politicians"]["p_multiple_concepts_sweep499"] == pytest.approx(0.783, abs=0.0005)
    assert len(block["by_target"]) == 20 and "Joe Biden" in block["by_target"]
    assert {"p_multiple_concepts", "tables", "richness", "n_individuals"} <= set(block)


# Published runs (one chain, iterations 101-499) on the first min(100, available) complete individuals.
# These concepts span the published range at that size (about 0 to 0.028).
AGREEMENT = [
    ("openchat", "Donald Trump"),
    ("openchat", "Ronald Reagan"),
    ("openchat", "Bernie Sanders"),
    ("openchat", "a finch"),
    ("tulu-dpo", "George W. Bush"),
    ("tulu-dpo", "a dolphin"),
]


def _published_posterior_mean(model: str, concept: str) -> tuple[int, float]:
    draws: dict[int, list[float]] = defaultdict(list)
    with (EXAMPLES / f"{model}-prompt=none-temp=default-ClusteringResults.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Concept"] == concept:
                draws[int(row["NumberOfPeople"])].append(1 - float(row["ProbabilityOfSameTable"]))
    largest = max(draws)
    return largest, float(np.mean(draws[largest]))


@pytest.mark.parametrize(("model", "concept"), AGREEMENT)
def test_agrees_with_the_published_runs(model: str, concept: str) -> None:
    n_people, published = _published_posterior_mean(model, concept)
    responses = read_crp_input(EXAMPLES / f"{model}-prompt=none-temp=default-forCRP.csv")[concept].responses
    assert responses.shape[0] >= n_people  # the published run used the first n of these
    ours = run_crp(responses[:n_people], sweeps=500, burn_in=100, chains=2, seed=1).p_multiple_concepts
    # With 3 chains the 40 published concepts agree within 0.005; 0.01 leaves room for Monte-Carlo
    # error with 2 chains, while a sampler that mis-seats people moves these values by far more.
    assert abs(ours - published) < 0.01, (ours, published)
