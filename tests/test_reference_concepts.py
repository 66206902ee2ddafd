"""The human concept reference (Martí et al. 2023's chains) and the published CRP input reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from monoculture.errors import DataError
from monoculture.reference import data_file
from monoculture.tasks.concepts import (
    ANIMALS,
    POLITICIANS,
    TARGETS,
    human_concept_block,
    human_concept_chains,
    read_crp_input,
)
from monoculture.tasks.concepts._human import CHAIN_RESULTS



def test_protocol_numbers() -> None:
    # docs/methods.md, section 4: sweep 499, mean of 3 chains, then over the 10 concepts of each category.
    block = human_concept_block()
    animals, politicians = block["by_category"]["animals"], block["by_category"]["politicians"]
    assert animals["p_multiple_concepts_sweep499"] == pytest.approx(0.559, abs=0.0005)
    assert politicians["p_multiple_concepts_sweep499"] == pytest.approx(0.783, abs=0.0005)
    # post-burn-in means (sweeps 101-499)
    assert animals["p_multiple_concepts"] == pytest.approx(0.568, abs=0.0005)
    assert politicians["p_multiple_concepts"] == pytest.approx(0.780, abs=0.0005)
    assert animals["tables_sweep499"] == pytest.approx(8.6, abs=0.05)
    assert politicians["tables_sweep499"] == pytest.approx(14.7, abs=0.05)
    low, high = animals["p_multiple_concepts_ci"]
    assert low < animals["p_multiple_concepts"] < high


def test_block_shape_and_people() -> None:
    block = human_concept_block()
    assert set(block["by_target"]) == set(TARGETS)
    assert set(block["by_category"]) == {"animals", "politicians"}
    for target, entry in block["by_target"].items():
        assert 101 <= entry["n_individuals"] <= 111, target
        assert 0 < entry["p_multiple_concepts"] < 1
    assert block["n_individuals"] == sum(entry["n_individuals"] for entry in block["by_target"].values())
    mean_of_targets = sum(block["by_target"][t]["p_multiple_concepts"] for t in TARGETS) / len(TARGETS)
    assert block["p_multiple_concepts"] == pytest.approx(mean_of_targets)


def test_human_names_mapped_to_task_targets() -> None:
    chains = human_concept_chains()
    assert set(chains) == set(ANIMALS) | set(POLITICIANS)
    biden = chains["Joe Biden"]
    assert biden.category == "politicians"
    assert biden.p_multiple_concepts.shape == (3, 499)
    assert biden.n_individuals == 101
    # the file's first row: Biden, iteration 1, chain 1, ProbabilityOfSameTable 0.07793353592785023
    assert biden.p_multiple_concepts[0, 0] == pytest.approx(1 - 0.07793353592785023)
    assert biden.tables[0, 0] == 27


def _write(folder: Path, text: str) -> None:
    path = folder / CHAIN_RESULTS
    path.parent.mkdir(parents=True)
    path.write_text(text)


def test_missing_file_is_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONOCULTURE_DATA", str(tmp_path))
    with pytest.raises(DataError, match="monoculture data fetch"):
        human_concept_block()


@pytest.mark.parametrize(
    "text",
    [
        "Concept,Iteration\nBiden,1\n",  # missing columns
        "Concept,Iteration,S_Chao1,NumberOfPeople,Tables,Chain,ProbabilityOfSameTable\nBiden,1,x,101,3,1,0.5\n",
        "Concept,Iteration,S_Chao1,NumberOfPeople,Tables,Chain,ProbabilityOfSameTable\nKennedy,1,2,101,3,1,0.5\n",
        "Concept,Iteration,S_Chao1,NumberOfPeople,Tables,Chain,ProbabilityOfSameTable\nBiden,1,2,101,3,1,0.5\n",
    ],
)
def test_malformed_chains_are_one_line_data_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    _write(tmp_path, text)
    monkeypatch.setenv("MONOCULTURE_DATA", str(tmp_path))
    with pytest.raises(DataError) as raised:
        human_concept_block()
    assert "\n" not in str(raised.value)


def test_read_crp_input_keeps_complete_individuals_in_file_order() -> None:
    path = data_file("murthy2025-onefish-twofish/model-crp-example/openchat-prompt=none-temp=default-forCRP.csv")
    inputs = read_crp_input(path)
    assert len(inputs) == 20
    finch = inputs["a finch"]
    assert finch.responses.shape == (106, 36) and finch.n_incomplete == 2
    # first rows of the file: "a finch", ID 21: a robin a chicken -> 0, ..., a salmon -> 1
    assert finch.ids[0] == "21"
    assert finch.questions[0] == "a robin a chicken"
    assert finch.responses[0, :8].tolist() == [0, 0, 0, 0, 1, 0, 1, 0]
    # the published runs clustered min(100, complete) people: 61 for Obama, 58 for Trump
    assert inputs["Barack Obama"].responses.shape[0] == 61
    assert inputs["Donald Trump"].responses.shape[0] == 58


@pytest.mark.parametrize(
    "text",
    [
        "Concept,ID,Question\na,1,x y\n",
        "Concept,ID,Question,ChoiceNumber\na,1,x y,2\n",
        "Concept,ID,Question,ChoiceNumber\na,1,x y,1\na,1,x y,0\n",
        "Concept,ID,Question,ChoiceNumber\n",
    ],
)
def test_read_crp_input_rejects_malformed(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad-forCRP.csv"
    path.write_text(text)
    with pytest.raises(DataError):
        read_crp_input(path)


def test_targets_name_their_category() -> None:
    by_target = human_concept_block()["by_target"]
    assert by_target["robin"]["category"] == "animals"
    assert by_target["Richard Nixon"]["category"] == "politicians"
    assert {entry["category"] for entry in by_target.values()} == {"animals", "politicians"}
