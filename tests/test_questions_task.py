"""The questions task: a user's file (CSV and JSONL) read with line-numbered errors, answers read by each
normaliser and closed set, and the measures on populations whose truth is known."""

from __future__ import annotations

import json
import math

import pytest

import monoculture
from conftest import run_cli
from monoculture.errors import StudyFileError
from monoculture.study import load_study, parse_study
from monoculture.tasks import Prompt
from monoculture.tasks.questions import Question, QuestionsSpec, QuestionsTask, read_answer

CSV = """id,question,answers,human,normalise,type
clean,What colour represents cleanliness?,,white=12|blue=7|green=3,colour,
pet,Which pet is better: a cat or a dog?,cat|dog,cat=40|dog=60,,
"""


def _write_study(folder, questions_file="q.csv", text=CSV, models=("fake:uniform",), **settings):
    (folder / questions_file).write_text(text, encoding="utf-8")
    table = "".join(f"{key} = {json.dumps(value)}\n" for key, value in {"individuals": 40, **settings}.items())
    (folder / "study.toml").write_text(
        f'name = "q"\nseed = 2\nmodels = {json.dumps(list(models))}\nconditions = [{{ context = "none" }}]\n'
        f'[questions]\nfile = "{questions_file}"\n{table}', encoding="utf-8")
    return folder / "study.toml"


def test_a_csv_file_is_read_relative_to_the_study(tmp_path):
    study = load_study(_write_study(tmp_path))
    clean, pet = study.questions.questions
    assert clean.human == {"white": 12, "blue": 7, "green": 3} and clean.normalise == "colour" and clean.answers is None
    assert pet.answers == ["cat", "dog"] and pet.normalise == "lower" and pet.type == "category"


def test_a_jsonl_file_gives_the_same_questions(tmp_path):
    lines = [{"id": "clean", "question": "What colour represents cleanliness?", "human": {"white": 12, "blue": 7,
              "green": 3}, "normalise": "colour"},
             {"id": "pet", "question": "Which pet is better: a cat or a dog?", "answers": ["cat", "dog"],
              "human": {"cat": 40, "dog": 60}}]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    jsonl = load_study(_write_study(tmp_path, "q.jsonl", text)).questions.questions
    assert jsonl == load_study(_write_study(tmp_path)).questions.questions


@pytest.mark.parametrize(("text", "message"), [
    ("id,question\na,first\na,second\n", "question id 'a' is listed twice"),
    ("id,text\na,first\n", "the header lacks question"),
    ("id,question,human\na,first,white:3\n", "line 2: human counts are written answer=count"),
    ("id,question,answers\na,first,cat\n", "line 2: answers: a closed answer set needs at least 2 answers"),
    ("id,question,answers,human\na,first,cat|dog,cow=3\n", "human answer 'cow' is not among its answers"),
    ("id,question,type,answers\na,first,open,x|y\n", "question 'a' is open: it takes no answers"),
    ("id,question,normalise\na,first,upper\n", "line 2: normalise"),
])
def test_a_bad_file_is_one_line_naming_the_problem(tmp_path, text, message):
    with pytest.raises(StudyFileError) as error:
        load_study(_write_study(tmp_path, text=text))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_missing_file_and_exact_mode_without_answers_are_refused(tmp_path):
    path = _write_study(tmp_path)
    (tmp_path / "q.csv").unlink()
    with pytest.raises(StudyFileError, match="does not exist"):
        load_study(path)
    with pytest.raises(StudyFileError, match="needs a closed answer set for every question; 'clean' has none"):
        load_study(_write_study(tmp_path, mode="exact"))


@pytest.mark.parametrize(("question", "output", "value"), [
    (Question(id="q", question="?"), "  Whiskers.\nBecause it is cute.", "whiskers"),
    (Question(id="q", question="?", normalise="exact"), "  Whiskers.  ", "Whiskers."),
    (Question(id="q", question="?", normalise="colour"), "I'd say light blue!", "blue"),
    (Question(id="q", question="?", answers=["cat", "dog"]), "Dog", "dog"),
    (Question(id="q", question="?", answers=["cat", "dog"]), "I would pick a dog, honestly.", "dog"),
    (Question(id="q", question="?", normalise="synonyms"), "Kitty!", "cat"),
    (Question(id="q", question="?", type="open"), "  A lighthouse kept the night.  ", "A lighthouse kept the night."),
])
def test_answers_are_read_by_their_normaliser(question, output, value):
    parsed = read_answer(question, output, {"kitty": "cat", "cat": "cat"})
    assert parsed.valid and parsed.value == value


@pytest.mark.parametrize(("question", "output", "reason"), [
    (Question(id="q", question="?", answers=["cat", "dog"]), "a cat or a dog", "names more than one of the answers"),
    (Question(id="q", question="?", answers=["cat", "dog"]), "a hamster", "names none of the answers"),
    (Question(id="q", question="?", normalise="colour"), "happiness", "names no colour"),
    (Question(id="q", question="?"), "  ...  ", "nothing left after normalising"),
    (Question(id="q", question="?"), "", "empty answer"),
])
def test_unreadable_answers_are_invalid_with_their_reason(question, output, reason):
    parsed = read_answer(question, output, {})
    assert not parsed.valid and parsed.reason == reason


@pytest.fixture(scope="module")
def questions_run(tmp_path_factory, data_root):
    folder = tmp_path_factory.mktemp("questions")
    study = load_study(_write_study(folder, models=("fake:uniform", "fake:constant", "fake:human"), individuals=200))
    return monoculture.run(study, folder / "out"), folder


def _result(summary, spec):
    return summary.models[spec]["none@default"].tasks["questions"].result


def test_known_populations_give_their_closed_form_values(questions_run):
    summary, _ = questions_run
    constant = _result(summary, "fake:constant").categorical
    assert constant.internal_disagreement == constant.population_disagreement == 0.0
    uniform = _result(summary, "fake:uniform").categorical
    pet = next(item for item in uniform.items if item.item == "pet")
    # Two independent draws from two equally likely answers differ half the time; entropy 1 bit.
    assert pet.population_disagreement == pytest.approx(0.5, abs=0.03)
    assert pet.entropy_bits == pytest.approx(1.0, abs=0.01)
    drawn = next(item for item in _result(summary, "fake:human").categorical.items if item.item == "pet")
    assert drawn.total_variation_to_human < 0.08  # 400 draws from (0.4, 0.6)
    expected = 1 - (0.4 ** 2 + 0.6 ** 2)
    assert drawn.population_disagreement == pytest.approx(expected, abs=0.04)


def test_the_people_are_described_by_their_counts(questions_run):
    summary, _ = questions_run
    people = summary.human["questions"].categorical
    pet = next(item for item in people.items if item.item == "pet")
    assert pet.entropy_bits == pytest.approx(-(0.4 * math.log2(0.4) + 0.6 * math.log2(0.6)))
    assert pet.internal_disagreement is None  # counts carry no replicates


def test_the_stored_study_keeps_the_questions_when_the_file_is_gone(questions_run):
    summary, folder = questions_run
    (folder / "q.csv").unlink()
    done = run_cli("report", str(folder / "out"))
    assert done.returncode == 0, done.stderr
    html = (folder / "out" / "report.html").read_text(encoding="utf-8")
    assert "pet" in html and "clean" in html


def test_fake_human_needs_every_questions_counts(tmp_path, data_root):
    study = load_study(_write_study(tmp_path, text=CSV + "open,Write a poem.,,,,open\n", models=("fake:human",)))
    done = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out"))
    assert done.returncode != 0 and "fake:human has no human answers to draw for the questions task" in done.stderr
    assert study.questions.questions[-1].type == "open"


def test_built_in_open_prompts_load():
    spec = QuestionsSpec.model_validate({"file": "builtin:open"})
    kinds = {question.id: question.type for question in spec.questions}
    assert kinds["number-1-10"] == "category" and kinds["autumn-haiku"] == "open"
    task = QuestionsTask(spec)
    assert task.parse(Prompt("number-1-10", 1, "q"), "7.").value == "7"


def test_an_inline_study_needs_file_or_items():
    with pytest.raises(StudyFileError, match="give the questions as file"):
        parse_study({"models": ["fake:uniform"], "conditions": [{"context": "none"}], "questions": {}})


OPEN = CSV + "haiku,Write a haiku about autumn.,,,,open\nstory,Write a one-sentence story about a lighthouse.,,,,open\n"


def test_open_questions_of_known_populations_and_their_cached_embeddings(tmp_path, data_root):
    import sqlite3

    study = load_study(_write_study(tmp_path, text=OPEN, models=("fake:uniform", "fake:constant"), individuals=12))
    summary = monoculture.run(study, tmp_path / "out")
    constant = _result(summary, "fake:constant").open
    # Everyone writes the same text: similarity 1, one class of answers, one effective answer (Vendi).
    assert constant.internal_similarity == pytest.approx(1.0) == constant.population_similarity
    assert constant.distinct_first == 1 and constant.vendi_q1 == pytest.approx(1.0)
    uniform = _result(summary, "fake:uniform").open
    assert uniform.distinct_first > 6 and uniform.vendi_q1 > 2  # 12 random strings per question
    assert uniform.embedder.startswith("minilm:all-MiniLM-L6-v2")
    assert _result(summary, "fake:uniform").examples["haiku"][0].startswith("answer ")
    with sqlite3.connect(tmp_path / "out" / "samples.sqlite") as db:
        cached = db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        texts = db.execute("SELECT COUNT(DISTINCT answer) FROM samples WHERE item IN ('haiku', 'story')").fetchone()[0]
    assert cached == texts  # each distinct answer embedded once, however many summaries
    again = monoculture.open_results(tmp_path / "out").summary()
    assert _result(again, "fake:uniform").open == uniform
