import math

import pytest
from conftest import run_cli

from monoculture.errors import ModelSpecError, StudyFileError
from monoculture.study import demo_study, load_study, parse_study

GOOD = {
    "models": ["embedded:gemma-3-270m"],
    "conditions": [{"context": "none"}, {"context": "none", "temperature": 1.5}],
    "colour": {"individuals": 5, "words": 4},
}
CONCEPTS = {**{k: v for k, v in GOOD.items() if k != "colour"}, "concepts": {"targets": ["robin", "Barack Obama"]}}
STUDY_HEAD = 'models = ["embedded:gemma-3-270m"]\nconditions = [{ context = "none" }]\n'


def test_a_good_study_validates_and_conditions_have_stable_labels():
    study = parse_study(GOOD)
    assert [c.condition().label for c in study.conditions] == ["none@default", "none@1.5"]
    assert study.models[0].spec == "embedded:gemma-3-270m"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"colour": {"individuals": 5, "wrods": 4}}, "colour.wrods: unknown key"),
        ({"extra": 1}, "extra: unknown key"),
        ({"colour": {"individuals": "many"}}, "colour.individuals"),
        ({"colour": {"individuals": 1}}, "greater than or equal to 2"),
        ({"conditions": [{"context": "dream"}]}, "conditions.0.context"),
        ({"conditions": [{"context": "none", "temperature": -1.0}]}, "temperature: must be between 0 and 5"),
        ({"colour": None}, "no task"),
        ({"conditions": [{"context": "none"}, {"context": "none"}]}, "listed twice"),
    ],
)
def test_bad_studies_get_one_line_errors(change, fragment):
    with pytest.raises(StudyFileError) as caught:
        parse_study({**GOOD, **change})
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_unknown_model_specs_name_the_fix():
    with pytest.raises(ModelSpecError, match="unknown backend 'ollama-ish'"):
        parse_study({**GOOD, "models": ["ollama-ish:x"]})
    with pytest.raises(ModelSpecError, match="unknown embedded model 'gpt-5'"):
        parse_study({**GOOD, "models": ["embedded:gpt-5"]})
    with pytest.raises(ModelSpecError, match="no backend prefix"):
        parse_study({**GOOD, "models": ["gemma"]})


def test_study_files(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('models = ["embedded:smollm2-135m-instruct"]\nconditions = [{context = "persona"}]\n'
                    "[colour]\nindividuals = 3\nwords = [\"lemon\", \"wisdom\"]\n")
    study = load_study(path)
    assert study.colour.words == ["lemon", "wisdom"]
    path.write_text("models = [")
    with pytest.raises(StudyFileError, match="not valid TOML"):
        load_study(path)
    with pytest.raises(StudyFileError, match="does not exist"):
        load_study(tmp_path / "missing.toml")


def test_demo_meets_the_promised_size():
    demo = demo_study()
    assert {m.spec for m in demo.models} == {"embedded:gemma-3-270m", "embedded:smollm2-135m-instruct",
                                             "aligned:embedded:gemma-3-270m [reward=consensus beta=0.3]"}
    assert demo.models[2].tasks == ["concepts", "colour_terms"]  # the twin answers the closed-set tasks
    assert demo.colour_terms.mode == "exact" and "cleanliness" in demo.colour_terms.words
    assert {c.context for c in demo.conditions} >= {"none", "persona"}
    assert demo.colour.individuals >= 10 and demo.colour.words >= 20
    full = demo.with_size(150, "all")
    assert full.colour.individuals == 150 and full.colour.words == "all"


def _colour(**changes):
    return {**GOOD, "colour": {**GOOD["colour"], **changes}}


def _concepts(**changes):
    return {**CONCEPTS, "concepts": {**CONCEPTS["concepts"], **changes}}


def _condition(**changes):
    return {**GOOD, "conditions": [{"context": "none", **changes}]}


def _decoding(**changes):
    return {**GOOD, "decoding": changes}


# (study, the field the message must name first, a fragment of what it says). Every case is a value the runner
# cannot use: it must be refused when the file is read, not crash a run later.
HOSTILE = {
    # unknown keys, at every level
    "top-level key": ({**GOOD, "sed": 1}, "sed", "unknown key"),
    "model key": ({**GOOD, "models": [{"spec": "embedded:gemma-3-270m", "temperature": 1}]}, "models.0.temperature",
                  "unknown key"),
    "condition key": (_condition(top_q=0.9), "conditions.0.top_q", "unknown key"),
    "condition top_p": (_condition(top_p=1.5), "conditions.0.top_p", "less than or equal to 1"),
    "decoding key": (_decoding(temperature=1.0), "decoding.temperature", "unknown key"),
    "colour key": (_colour(replicate=2), "colour.replicate",
                   "unknown key (known: individuals, words, replicates, mode, max_tokens)"),
    "key named like a type": ({**GOOD, "int": 1}, "int", "unknown key (known: name, seed, models,"),
    "concepts key": (_concepts(chain=2), "concepts.chain", "unknown key"),
    # wrong types: TOML has real types, so nothing is coerced
    "seed float": ({**GOOD, "seed": 1.5}, "seed", "valid integer"),
    "seed whole float": ({**GOOD, "seed": 1.0}, "seed", "valid integer"),
    "seed string": ({**GOOD, "seed": "42"}, "seed", "valid integer"),
    "seed bool": ({**GOOD, "seed": True}, "seed", "valid integer"),
    "individuals float": (_colour(individuals=5.0), "colour.individuals", "valid integer"),
    "temperature string": (_condition(temperature="1.5"), "conditions.0.temperature", "between 0 and 5"),
    "temperature bool": (_condition(temperature=True), "conditions.0.temperature", "between 0 and 5"),
    "top_k float": (_decoding(top_k=40.0), "decoding.top_k", "valid integer"),
    "words float": (_colour(words=20.0), "colour.words", "a number of words or a list"),
    "words string": (_colour(words="some"), "colour.words", "a number of words or a list"),
    "word not a string": (_colour(words=["lemon", 3]), "colour.words", "non-empty string"),
    "models not a list": ({**GOOD, "models": "embedded:gemma-3-270m"}, "models", "valid list"),
    "model not a spec": ({**GOOD, "models": [42]}, "models", "model 1 must be a spec"),
    "conditions an empty grid": ({**GOOD, "conditions": {"context": []}}, "conditions", "must not be empty"),
    "colour a list": ({**GOOD, "colour": [5]}, "colour", "valid dictionary"),
    "targets a string": (_concepts(targets="robin"), "concepts.targets", "list of targets"),
    "chains string": (_concepts(chains="3"), "concepts.chains", "valid integer"),
    # impossible values
    "no individuals": (_colour(individuals=0), "colour.individuals", "greater than or equal to 2"),
    "negative individuals": (_colour(individuals=-5), "colour.individuals", "greater than or equal to 2"),
    "absurd individuals": (_colour(individuals=10**12), "colour.individuals", "less than or equal to"),
    "no replicates": (_colour(replicates=0), "colour.replicates", "must be 2"),
    "one replicate": (_colour(replicates=1), "colour.replicates", "must be 2"),
    "three replicates": (_colour(replicates=3), "colour.replicates", "must be 2"),
    "negative temperature": (_condition(temperature=-0.1), "conditions.0.temperature", "between 0 and 5"),
    "huge temperature": (_condition(temperature=50.0), "conditions.0.temperature", "between 0 and 5"),
    "NaN temperature": (_condition(temperature=math.nan), "conditions.0.temperature", "between 0 and 5"),
    "infinite temperature": (_condition(temperature=math.inf), "conditions.0.temperature", "between 0 and 5"),
    "top_p zero": (_decoding(top_p=0.0), "decoding.top_p", "greater than 0"),
    "top_p above one": (_decoding(top_p=1.5), "decoding.top_p", "less than or equal to 1"),
    "top_p NaN": (_decoding(top_p=math.nan), "decoding.top_p", "finite number"),
    "min_p negative": (_decoding(min_p=-0.1), "decoding.min_p", "greater than or equal to 0"),
    "min_p one": (_decoding(min_p=1.0), "decoding.min_p", "less than 1"),
    "min_p infinite": (_decoding(min_p=math.inf), "decoding.min_p", "finite number"),
    "top_k negative": (_decoding(top_k=-1), "decoding.top_k", "greater than or equal to 0"),
    "max_tokens zero": (_colour(max_tokens=0), "colour.max_tokens", "greater than or equal to"),
    "max_tokens negative": (_colour(max_tokens=-24), "colour.max_tokens", "greater than or equal to"),
    "max_tokens absurd": (_colour(max_tokens=10**9), "colour.max_tokens", "less than or equal to 512"),
    "empty word list": (_colour(words=[]), "colour.words", "the word list is empty"),
    "empty word": (_colour(words=["lemon", " "]), "colour.words", "non-empty string"),
    "duplicate words": (_colour(words=["lemon", "wisdom", "lemon"]), "colour.words", "'lemon' is listed twice"),
    "too few words": (_colour(words=1), "colour.words", "between 2 and 199"),
    "too many words": (_colour(words=200), "colour.words", "between 2 and 199"),
    "duplicate models": ({**GOOD, "models": ["embedded:gemma-3-270m", {"spec": "embedded:gemma-3-270m"}]},
                         "models", "'embedded:gemma-3-270m' is listed twice"),
    "no models": ({**GOOD, "models": []}, "models", "at least 1 item"),
    "no conditions": ({**GOOD, "conditions": []}, "conditions", "at least 1 item"),
    "duplicate conditions": ({**GOOD, "conditions": [{"context": "persona", "temperature": 1},
                                                      {"context": "persona", "temperature": 1.0}]},
                             "conditions", "'persona@1' is listed twice"),
    "unknown target": (_concepts(targets=["robin", "unicorn"]), "concepts.targets", "unknown target 'unicorn'"),
    "duplicate targets": (_concepts(targets=["robin", "robin"]), "concepts.targets", "'robin' is listed twice"),
    "no targets": (_concepts(targets=[]), "concepts.targets", "the target list is empty"),
    "no individuals per target": (_concepts(individuals_per_target=0), "concepts.individuals_per_target",
                                  "greater than or equal to 1"),
    "no chains": (_concepts(chains=0), "concepts.chains", "greater than or equal to 1"),
    "negative sweeps": (_concepts(sweeps=-1), "concepts.sweeps", "greater than or equal to"),
    "no sweeps": (_concepts(sweeps=0), "concepts.sweeps", "greater than or equal to"),
    "negative burn-in": (_concepts(burn_in=-1), "concepts.burn_in", "greater than or equal to 0"),
    "burn-in = sweeps": (_concepts(sweeps=50, burn_in=50), "concepts.burn_in", "at most sweeps - 2 = 48"),
    # run_crp averages the sweeps with index > burn_in: sweeps - 1 would leave none
    "burn-in = sweeps - 1": (_concepts(sweeps=50, burn_in=49), "concepts.burn_in", "at most sweeps - 2 = 48"),
    "unknown colour mode": (_colour(mode="exact"), "colour.mode", "'free' or 'constrained'"),
    "unknown concept mode": (_concepts(mode="sampled"), "concepts.mode", "'free', 'constrained' or 'exact'"),
    "comparison with itself": (_concepts(mode="exact", compare_with="exact"), "concepts.compare_with",
                               "another mode"),
    "unknown context": ({**GOOD, "conditions": [{"context": "dream"}]}, "conditions.0.context", "Input should be"),
    "unknown context source": ({**GOOD, "contexts": "invented"}, "contexts", "'paper' or 'generated'"),
    "unknown prompt version": (_concepts(prompt_version="v2"), "concepts.prompt_version", "'v1' or 'published'"),
    "negative seed": ({**GOOD, "seed": -1}, "seed", "greater than or equal to 0"),
    "seed beyond 64 bits": ({**GOOD, "seed": 2**64}, "seed", "less than or equal to"),
    "no parallel slots": ({**GOOD, "models": [{"spec": "embedded:gemma-3-270m", "parallel": 0}]},
                          "models.0.parallel", "greater than or equal to 1"),
    "empty name": ({**GOOD, "name": ""}, "name", "at least 1 character"),
    "missing models": ({k: v for k, v in GOOD.items() if k != "models"}, "models", "required but missing"),
}


@pytest.mark.parametrize(("study", "field", "fragment"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_studies_get_one_line_naming_the_field(study, field, fragment):
    with pytest.raises(StudyFileError) as caught:
        parse_study(study, source="bad.toml")
    message = str(caught.value)
    assert message.startswith(f"bad.toml: {field}: "), message
    assert fragment in message, message
    assert len(message.splitlines()) == 1 and len(message) < 400, message


@pytest.mark.parametrize(
    "study",
    [
        _condition(temperature=0), _condition(temperature=5.0), _condition(temperature=1),  # an integer is a number
        _decoding(top_p=1.0, min_p=0.0, top_k=0), _decoding(top_p=1e-9, min_p=0.999),
        {**GOOD, "seed": 0}, {**GOOD, "seed": 2**63 - 1},
        _concepts(sweeps=10, burn_in=8), _concepts(burn_in=0), _concepts(mode="exact", compare_with="free"),
        _colour(individuals=2, words=2, max_tokens=8), _colour(words="all"), _colour(words=["lemon"]),
    ],
)
def test_the_edges_of_every_range_are_accepted(study):
    parse_study(study)


def test_keys_and_values_that_could_break_the_line_are_quoted():
    with pytest.raises(StudyFileError) as caught:
        parse_study({**GOOD, "evil\nkey\u2028": 1, "concepts": {"targets": ["robin\nfinch"]}})
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert "'evil\\nkey\\u2028': unknown key" in message and "'robin\\nfinch'" in message
    with pytest.raises(StudyFileError, match="got 'x{56}\\.\\.\\.$"):  # long values are cut to 60 characters
        parse_study(_colour(words="x" * 10_000))


def test_every_problem_is_named_on_one_line():
    with pytest.raises(StudyFileError) as caught:
        parse_study({**GOOD, "seed": -1, "colour": {"individuals": 0, "mode": "fast"}})
    message = str(caught.value)
    assert "seed:" in message and "colour.individuals:" in message and "colour.mode:" in message
    assert "\n" not in message


def test_a_study_that_is_not_a_table():
    for data in ([GOOD], "models", 42, None):
        with pytest.raises(StudyFileError, match="a study is a table of keys"):
            parse_study(data)


def test_stored_studies_read_back_unchanged():
    # The summary re-reads the study the run stored as JSON: strict types must not refuse their own output.
    for study in (GOOD, CONCEPTS, _condition(temperature=1), _decoding(top_p=0.9, top_k=40, min_p=0.05),
                  {**GOOD, "models": [{"spec": "embedded:smollm2-135m-instruct", "context_placement": "system",
                                       "parallel": 4}]}):
        parsed = parse_study(study)
        assert parse_study(parsed.model_dump(mode="json")) == parsed
    demo = demo_study()
    assert parse_study(demo.model_dump(mode="json")) == demo


def test_size_overrides_are_validated_like_the_file():
    study = parse_study(GOOD)
    with pytest.raises(StudyFileError, match="^--individuals/--words: colour.individuals: .*greater than or equal to 2"):
        study.with_size(individuals=1)
    with pytest.raises(StudyFileError, match="colour.words: a number of words must be between 2 and 199"):
        study.with_size(words=500)
    assert study.with_size(individuals=7).colour.individuals == 7


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (b"# only a comment\n\n", "is empty"),
        (b"[1, 2, 3]\n", "not valid TOML"),  # a TOML document is a table, never a list
        (b'["embedded:gemma-3-270m"]\n', "'embedded:gemma-3-270m': unknown key"),  # TOML reads a quoted table name
        (b'{"models": ["embedded:gemma-3-270m"]}', "not valid TOML"),  # JSON is not TOML
        (b"models:\n  - embedded:gemma-3-270m\n", "not valid TOML"),  # nor is YAML
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not valid TOML"),  # nor a binary file
        (b"\xff\xfemodels = []", "not valid TOML"),  # UTF-16 byte order mark: not UTF-8
        (b'models = ["embedded:gemma-3-270m"]\nmodels = ["embedded:gemma-3-270m"]\n', "not valid TOML"),
        (b'seed = 99999999999999999999999\n' + STUDY_HEAD.encode() + b"[colour]\n",
         "seed: Input should be less than or equal to"),
        (b'models = ["embedded:gemma-3-270m"]\nconditions = [{context = "none"}]\n[colour]\n[colour.extra]\nx = 1\n',
         "colour.extra: unknown key"),
        (b'models = ["embedded:gemma-3-270m"]\nconditions = [{context = "none", temperature = nan}]\n[colour]\n',
         "conditions.0.temperature: must be between 0 and 5"),
    ],
)
def test_hostile_files(tmp_path, content, fragment):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(StudyFileError) as caught:
        load_study(path)
    message = str(caught.value)
    assert fragment in message and str(path) in message, message
    assert len(message.splitlines()) == 1, message


def test_a_folder_is_not_a_study_file(tmp_path):
    with pytest.raises(StudyFileError, match="cannot read study file"):
        load_study(tmp_path)


def test_a_file_name_cannot_break_the_line(tmp_path):
    with pytest.raises(StudyFileError) as caught:
        load_study(tmp_path / "two\nlines.toml")
    assert len(str(caught.value).splitlines()) == 1 and "two\\nlines.toml" in str(caught.value)


def test_unknown_words_are_refused_when_the_run_is_planned(data_root):
    # The 199 words live in the human data, so the check runs when the study is planned, not when it is parsed.
    from monoculture.tasks.colour import choose_words

    study = parse_study(_colour(words=["lemon", "zzyzx", "lemon\nwisdom"]))
    with pytest.raises(StudyFileError) as caught:
        choose_words(study.colour.words, study.seed)
    message = str(caught.value)
    assert message.startswith("colour.words: 'zzyzx', 'lemon\\nwisdom' not among the 199 words")
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "arguments", "fragment"),
    [
        (STUDY_HEAD + "[concepts]\nsweeps = 50\nburn_in = 49\n", (), "concepts.burn_in: must be at most sweeps - 2"),
        ('seed = "7"\n' + STUDY_HEAD + "[colour]\n", (), "seed: Input should be a valid integer"),
        (STUDY_HEAD + "[colour]\nreplicates = 3\n", (), "colour.replicates: must be 2"),
        ("", (), "is empty"),
        (STUDY_HEAD + "[colour]\nindividuals = 4\n", ("--individuals", "1"), "colour.individuals"),
        (None, (), "cannot read study file"),  # the study path is a folder
    ],
)
def test_the_command_reports_bad_study_files_in_one_line(tmp_path, text, arguments, fragment):
    path = tmp_path / "bad.toml"
    if text is None:
        path.mkdir()
    else:
        path.write_text(text)
    result = run_cli("run", str(path), "--out", str(tmp_path / "out"), *arguments, timeout=120)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monoculture: error:") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was written
