"""The human colour reference, computed from the data that $MONOCULTURE_DATA points at (CI: the shared folder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from monoculture.errors import DataError
from monoculture.reference import data_root
from monoculture.tasks.colour import colour_words, human_colour_answers, human_colour_block, human_swatches

ANSWERS = "murthy2022-color-ref/exp1/color_preprocessed.csv"
WORDS = "murthy2022-color-ref/stimuli/derived_word_list_199.csv"


@pytest.fixture(scope="module")
def block():
    return human_colour_block()


def test_published_human_numbers(block):
    # docs/methods.md, section 3 / Murthy, Ullman & Hu (2025): ΔE76, D65, mean over 199 words.
    assert block["internal_delta_e"] == pytest.approx(29.24, abs=0.01)
    assert block["population_delta_e"] == pytest.approx(51.70, abs=0.01)
    assert block["distance_from_diagonal"] == pytest.approx(15.88, abs=0.01)
    assert block["signed_difference"] == pytest.approx(51.70 - 29.24, abs=0.02)
    assert block["n_words"] == 199 and block["n_words_excluded"] == 0


def test_published_numbers_by_word_type_and_ciede2000(block):
    abstract, concrete = block["by_word_type"]["abstract"], block["by_word_type"]["concrete"]
    assert (abstract["n_words"], concrete["n_words"]) == (100, 99)
    assert abstract["internal_delta_e"] == pytest.approx(37.2, abs=0.05)
    assert abstract["population_delta_e"] == pytest.approx(58.1, abs=0.05)
    assert concrete["internal_delta_e"] == pytest.approx(21.2, abs=0.05)
    assert concrete["population_delta_e"] == pytest.approx(45.3, abs=0.05)
    assert block["ciede2000"]["internal_delta_e"] == pytest.approx(18.2, abs=0.05)
    assert block["ciede2000"]["population_delta_e"] == pytest.approx(32.3, abs=0.05)


def test_population_exceeds_internal_for_every_word(block):
    assert len(block["words"]) == 199
    assert all(w["population_delta_e"] > w["internal_delta_e"] for w in block["words"])


def test_counts_and_intervals(block):
    assert block["n_individuals"] == 475
    assert block["n_samples"] == 38000 and block["valid_fraction"] == 1.0
    assert block["n_per_word"] == {"min": 87, "max": 208}  # "book" was in two word sets
    for key in ("internal_delta_e", "population_delta_e", "distance_from_diagonal"):
        low, high = block[f"{key}_ci"]
        assert low < block[key] < high
    assert "mode" not in block
    json.dumps(block)  # the block must serialise as it is


def test_human_answers_map_blocks_to_replicates():
    answers = human_colour_answers()
    assert len(answers) == 38000
    assert {a.replicate for a in answers} == {1, 2}
    assert all(a.hex is not None and a.hex.startswith("#") and len(a.hex) == 7 for a in answers)
    first = answers[0]  # line 2 of the CSV: participant 652, "sadness", chip (173, 204, 247), block 1
    assert (first.individual, first.word, first.replicate, first.hex) == ("652", "sadness", 1, "#adccf7")


def test_colour_words_are_199_typed_words():
    words = colour_words()
    assert len(words) == 199 and len({w for w, _ in words}) == 199
    assert sum(t == "abstract" for _, t in words) == 100
    assert sum(t == "concrete" for _, t in words) == 99
    assert ("book", "concrete") in words and ("sadness", "abstract") in words


def test_human_swatches():
    result = human_swatches(["sadness", "lemon"], limit=24)
    assert len(result["sadness"]) == 24 and len(result["lemon"]) == 24
    assert all(h.startswith("#") for h in result["lemon"])


def _copy_data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for relative in (ANSWERS, WORDS):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_root() / relative, root / relative)
    return root


def test_csv_without_a_needed_column_is_a_one_line_data_error(tmp_path, monkeypatch):
    root = _copy_data(tmp_path)
    path = root / ANSWERS
    lines = path.read_text().splitlines()
    # drop the response_b column (the 8th) from every line
    path.write_text("\n".join(",".join(line.split(",")[:7] + line.split(",")[8:]) for line in lines) + "\n")
    monkeypatch.setenv("MONOCULTURE_DATA", str(root))
    with pytest.raises(DataError, match="does not match its recorded sha256"):
        human_colour_answers()  # an edited file is refused before it is read
    monkeypatch.setenv("MONOCULTURE_UNVERIFIED_DATA", "1")  # the user's own data: read, and checked for columns
    with pytest.raises(DataError) as raised:
        human_colour_answers()
    message = str(raised.value)
    assert "response_b" in message and "\n" not in message and "monoculture data fetch" in message


def test_undecodable_human_data_is_a_one_line_data_error(tmp_path, monkeypatch):
    root = _copy_data(tmp_path)
    path = root / ANSWERS
    path.write_bytes(path.read_bytes().replace(b"lemon", b"lem\xff\xfen", 1))
    monkeypatch.setenv("MONOCULTURE_DATA", str(root))
    monkeypatch.setenv("MONOCULTURE_UNVERIFIED_DATA", "1")
    with pytest.raises(DataError, match="is not UTF-8 text") as raised:
        human_colour_answers()
    assert "\n" not in str(raised.value)


def test_missing_word_list_is_a_data_error_naming_the_fix(tmp_path, monkeypatch):
    root = _copy_data(tmp_path)
    (root / WORDS).unlink()
    monkeypatch.setenv("MONOCULTURE_DATA", str(root))
    with pytest.raises(DataError, match="monoculture data fetch"):
        colour_words()
    with pytest.raises(DataError, match="derived_word_list_199"):
        human_colour_block()


def test_cli_baseline_colour_json(capsys):
    from monoculture.cli import main

    main(["baseline", "colour", "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["internal_delta_e"] == pytest.approx(29.24, abs=0.01)
    assert printed["population_delta_e"] == pytest.approx(51.70, abs=0.01)
    assert printed["distance_from_diagonal"] == pytest.approx(15.88, abs=0.01)


def test_cli_baseline_colour_table(capsys):
    from monoculture.cli import main

    main(["baseline", "colour"])
    out = capsys.readouterr().out
    assert "29.24" in out and "51.70" in out and "15.88" in out and "abstract" in out and "CIEDE2000" in out


def test_cli_reports_missing_data_in_one_line(tmp_path, monkeypatch, capsys):
    from monoculture.cli import main

    monkeypatch.setenv("MONOCULTURE_DATA", str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        main(["baseline", "colour"])
    assert exited.value.code == 5
    err = capsys.readouterr().err.strip()
    assert err.startswith("monoculture: error:") and "\n" not in err and "monoculture data fetch" in err
