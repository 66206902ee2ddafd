"""``monoculture crp`` and ``monoculture baseline concepts``, and agreement with the published CRP runs."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
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
    assert all(set(row) == JSON_KEYS for row in rows)
    assert {row["concept"] for row in rows} >= {"a finch", "Barack Obama"}
    assert all(row["n_individuals"] == 20 for row in rows)
    for row in rows:
        assert 0 <= row["p_multiple_concepts"] < 1 and row["tables"] >= 1 and row["richness"] >= 1
        assert set(row["r_hat"]) == {"p_multiple_concepts", "tables"}
        assert len(row["chain_means"]["p_multiple_concepts"]) == len(row["chain_means"]["tables"]) == 1
        assert len(row["log_posterior"]["final"]) == len(row["log_posterior"]["mean"]) == 1
        assert isinstance(row["converged"], bool) and row["starts"] == ["alone"]


JSON_KEYS = {"concept", "n_individuals", "p_multiple_concepts", "p_multiple_concepts_ci", "tables", "richness",
             "r_hat", "chain_means", "log_posterior", "starts", "tempering", "split_merge_acceptance", "converged",
             "convergence_problems"}


def test_crp_json_reports_each_chain_and_its_agreement() -> None:
    # Two concepts, 40 people each: one of two clear groups (any sampler agrees), and one of coin flips run with
    # the published sampler's moves only (no split-merge, no tempered replicas), its chains started alone and
    # together: 30 sweeps leave the first fragmented and the second at one table, and the check must say so.
    rng = np.random.default_rng(4)
    pattern = rng.integers(0, 2, 36)
    groups = np.vstack([np.tile(pattern, (24, 1)), np.tile(1 - pattern, (16, 1))])
    coins = (rng.random((40, 36)) < 0.5).astype(int)
    rows = [("two groups", groups), ("coin flips", coins)]
    with NamedCSV(rows) as csv_path:
        done = _cli("crp", str(csv_path), "--sweeps", "30", "--burn-in", "5", "--chains", "2",
                    "--starts", "alone,together", "--split-merge", "0", "--no-tempering", "--json")
    assert done.returncode == 0, done.stderr
    by_concept = {row["concept"]: row for row in json.loads(done.stdout)}
    two, coin = by_concept["two groups"], by_concept["coin flips"]
    assert two["converged"] is True and two["convergence_problems"] == []
    assert two["p_multiple_concepts"] == pytest.approx(1 - 0.6**2 - 0.4**2)
    assert two["chain_means"] == {"p_multiple_concepts": [pytest.approx(0.48)] * 2, "tables": [2.0, 2.0]}
    assert two["r_hat"] == {"p_multiple_concepts": 1.0, "tables": 1.0}  # constant chains at one value
    assert two["starts"] == ["alone", "together"] and two["split_merge_acceptance"] == [None, None]
    assert two["tempering"] == {"temperatures": [1.0], "sweeps": 0, "swap_acceptance": [None, None]}
    assert coin["converged"] is False and coin["convergence_problems"]
    alone, together = coin["chain_means"]["p_multiple_concepts"]
    assert alone > together + 0.05  # the fragmented chain against the one-table chain
    final, mean = coin["log_posterior"]["final"], coin["log_posterior"]["mean"]
    assert len(final) == len(mean) == 2 and all(math.isfinite(value) for value in final + mean)
    r_hat = coin["r_hat"]["p_multiple_concepts"]
    assert r_hat is None or r_hat > 1.1  # null: halves constant at different values (infinite)


def test_crp_table_warns_about_chains_that_disagree() -> None:
    rng = np.random.default_rng(4)
    coins = (rng.random((40, 36)) < 0.5).astype(int)
    with NamedCSV([("coin flips", coins), ("[bold red]x[/]", np.tile(coins[0], (5, 1)))]) as csv_path:
        done = _cli("crp", str(csv_path), "--sweeps", "30", "--burn-in", "5", "--chains", "2",
                    "--starts", "alone,together", "--split-merge", "0", "--no-tempering")
    assert done.returncode == 0, done.stderr
    table_lines = [line for line in done.stdout.splitlines() if "coin flips" in line]
    assert table_lines and "chains disagree" in table_lines[0]
    assert "warning: coin flips:" in done.stdout and "--sweeps" in done.stdout
    # A concept name is printed as written, not read as rich markup.
    assert "[bold red]x[/]" in done.stdout
    literal = [line for line in done.stdout.splitlines() if "[bold red]x[/]" in line]
    assert "chains disagree" not in literal[0]  # identical people: one table in both chains


class NamedCSV:
    """A *-forCRP.csv file of the given (concept, responses) pairs, in a temporary folder."""

    def __init__(self, concepts: list[tuple[str, np.ndarray]], encoding: str = "utf-8") -> None:
        import tempfile

        self._folder = tempfile.TemporaryDirectory()
        self.path = Path(self._folder.name) / "test-forCRP.csv"
        with self.path.open("w", newline="", encoding=encoding) as handle:
            writer = csv.writer(handle)
            writer.writerow(["Concept", "ID", "Question", "ChoiceNumber"])
            for concept, responses in concepts:
                for person, answers in enumerate(responses):
                    for question, answer in enumerate(answers):
                        writer.writerow([concept, f"p{person}", f"q{question}", int(answer)])

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *_: object) -> None:
        self._folder.cleanup()


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


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_crp_rejects_an_alpha_that_is_not_a_positive_number(value: str) -> None:
    path = EXAMPLES / "openchat-prompt=none-temp=default-forCRP.csv"
    done = run_cli("crp", str(path), "--alpha", value, "--sweeps", "5", "--burn-in", "1", "--max-people", "3")
    assert done.returncode == 2, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert message.startswith("monoculture: error: --alpha must be a positive finite number") and "\n" not in message
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_crp_rejects_a_split_merge_rate_that_is_not_a_number(value: str) -> None:
    path = EXAMPLES / "openchat-prompt=none-temp=default-forCRP.csv"
    done = run_cli("crp", str(path), "--split-merge", value, "--sweeps", "5", "--burn-in", "1", "--max-people", "3")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "split-merge" in done.stderr and "Traceback" not in done.stderr and done.stdout == ""


def test_crp_reads_a_csv_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" puts a BOM before the header: the first column must still be called Concept.
    rng = np.random.default_rng(2)
    with NamedCSV([("a robin", rng.integers(0, 2, (6, 36)))], encoding="utf-8-sig") as path:
        assert path.read_bytes().startswith(b"\xef\xbb\xbfConcept,")
        done = run_cli("crp", str(path), "--sweeps", "12", "--burn-in", "2", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(row["concept"], row["n_individuals"]) for row in rows] == [("a robin", 6)]


@pytest.mark.parametrize("where", ["header", "row"])
def test_crp_file_that_is_not_utf8_is_one_line(tmp_path: Path, where: str) -> None:
    path = tmp_path / "latin1-forCRP.csv"
    header = "Concept,ID,Question,ChoiceNumber\n"
    body = "".join(f"caf\u00e9,p{person},q{question},{(person + question) % 2}\n"
                   for person in range(3) for question in range(4))
    text = (header.replace("ChoiceNumber", "Choice\u00e9Number") + body) if where == "header" else header + body
    path.write_bytes(text.encode("latin-1"))  # é as the single byte 0xe9: not UTF-8
    done = run_cli("crp", str(path))
    assert done.returncode == 5, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert message.startswith("monoculture: error: malformed latin1-forCRP.csv") and "\n" not in message
    assert "UTF-8" in message and "Traceback" not in done.stderr


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


# Published concepts on which the published sampler's moves (Gibbs only, every chain alone) disagreed most between
# seeds (benchmarks/crp_seed_spread.py --published, seeds (0..2, 7); the spread is max − min of P(multiple
# concepts)): a homogeneous population held at two tables by some chains and not others, or a coin-flip one
# left fragmented. With split-merge moves, several starts and tempered replicas the defaults agree within 0.03.
SEED_AGREEMENT = [
    ("gemma-instruct-prompt=random-temp=default", "Barack Obama"),  # 35 people; published moves: spread 0.33
    ("llama2-chat-prompt=nonsense-temp=default", "George W. Bush"),  # 72; 0.29-0.37
    ("openchat-prompt=nonsense-temp=default", "a finch"),  # 67; 0.24-0.27
    ("zephyr-gemma-prompt=random-temp=default", "Barack Obama"),  # 15; 0.15-0.26
    ("tulu-dpo-prompt=nonsense-temp=default", "an ostrich"),  # 26; 0.07-0.15
]


@pytest.mark.parametrize(("condition", "concept"), SEED_AGREEMENT)
def test_repeated_runs_with_different_seeds_agree(condition: str, concept: str) -> None:
    path = EXAMPLES.parent / "model-forCRP" / f"{condition}-forCRP.csv"
    responses = read_crp_input(path)[concept].responses[:100]  # the paper's first 100 complete individuals
    results = [run_crp(responses, seed=seed) for seed in (3, 4, 5)]
    values = [result.p_multiple_concepts for result in results]
    assert max(values) - min(values) < 0.03, values
    assert all(result.converged for result in results), [result.convergence_problems for result in results]
