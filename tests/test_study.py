import pytest

from monoculture.errors import ModelSpecError, StudyFileError
from monoculture.study import demo_study, load_study, parse_study

GOOD = {
    "models": ["embedded:gemma-3-270m"],
    "conditions": [{"context": "none"}, {"context": "none", "temperature": 1.5}],
    "colour": {"individuals": 5, "words": 4},
}


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
        ({"conditions": [{"context": "none", "temperature": -1.0}]}, "temperature must be between 0 and 5"),
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
    assert {m.spec for m in demo.models} == {"embedded:gemma-3-270m", "embedded:smollm2-135m-instruct"}
    assert {c.context for c in demo.conditions} >= {"none", "persona"}
    assert demo.colour.individuals >= 10 and demo.colour.words >= 20
    full = demo.with_size(150, "all")
    assert full.colour.individuals == 150 and full.colour.words == "all"
