"""The study spec: models x conditions x tasks x population size, validated (STYLE principle 9).

A study file is TOML; unknown keys, wrong types and impossible values are one-line errors::

    name = "my-study"
    seed = 0
    models = ["embedded:gemma-3-270m", { spec = "embedded:smollm2-135m-instruct", context_placement = "system" }]
    conditions = [{ context = "none" }, { context = "none", temperature = 1.5 }, { context = "persona" }]

    [colour]
    individuals = 150
    words = "all"            # or a number (half abstract, half concrete) or a list of words
    mode = "free"            # free | constrained

    [concepts]
    individuals_per_target = 10
    targets = "all"          # or a list of targets
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monoculture.errors import StudyFileError
from monoculture.population import Condition


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelEntry(_Strict):
    """One model of the study."""

    spec: str
    kind: Literal["base", "chat"] | None = None  # None: the backend knows (embedded) or guesses from the name
    context_placement: Literal["user", "system"] = "user"  # chat models: context in the user message or system
    parallel: int | None = Field(default=None, ge=1, le=64)
    # openai: servers: the environment variable holding the API key (default OPENAI_API_KEY), never the key itself
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @field_validator("spec")
    @classmethod
    def _known_backend(cls, spec: str) -> str:
        from monoculture.backends import split_spec

        split_spec(spec)  # raises ModelSpecError with the fix
        return spec


class ConditionEntry(_Strict):
    """A population condition: context kind and temperature ("default": the model's own)."""

    context: Literal["none", "random", "nonsense", "persona"]
    temperature: float | Literal["default"] = "default"

    @field_validator("temperature")
    @classmethod
    def _sane_temperature(cls, value: float | str) -> float | str:
        if isinstance(value, float) and not 0.0 <= value <= 5.0:
            raise ValueError("temperature must be between 0 and 5")
        return value

    def condition(self) -> Condition:
        """As a :class:`Condition`."""
        return Condition(self.context, None if self.temperature == "default" else float(self.temperature))


class DecodingOverrides(_Strict):
    """Decoding parameters that replace the model's defaults in every condition (temperature comes from the condition)."""

    top_k: int | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    min_p: float | None = Field(default=None, ge=0.0, lt=1.0)


class ColourSpec(_Strict):
    """The colour task's size and elicitation mode."""

    individuals: int = Field(default=150, ge=2, le=100_000)
    words: int | list[str] | Literal["all"] = "all"
    replicates: int = Field(default=2, ge=2, le=10)
    mode: Literal["free", "constrained"] = "free"
    max_tokens: int = Field(default=24, ge=8, le=512)

    @field_validator("words")
    @classmethod
    def _words(cls, value: int | list[str] | str) -> int | list[str] | str:
        if isinstance(value, int) and not 2 <= value <= 199:
            raise ValueError("words must be between 2 and 199, a list of words, or \"all\"")
        if isinstance(value, list) and (len(value) < 1 or len(set(value)) != len(value)):
            raise ValueError("the word list must be non-empty and have no repeats")
        return value


class ConceptSpec(_Strict):
    """The concept task's size and elicitation mode."""

    individuals_per_target: int = Field(default=10, ge=1, le=10_000)
    targets: list[str] | Literal["all"] = "all"
    # exact: each prompt's answer distribution from log-probabilities, individuals drawn from it
    mode: Literal["free", "constrained", "exact"] = "free"
    # a second mode sampled on the same prompts, to report how far the two answer distributions are apart
    compare_with: Literal["free", "constrained", "exact"] | None = None
    prompt_version: Literal["v1", "published"] = "v1"
    sweeps: int = Field(default=500, ge=10, le=100_000)
    burn_in: int = Field(default=100, ge=0)
    chains: int = Field(default=3, ge=1, le=32)

    @field_validator("targets")
    @classmethod
    def _known_targets(cls, value: list[str] | str) -> list[str] | str:
        from monoculture.tasks import TARGETS

        if isinstance(value, list):
            unknown = [target for target in value if target not in TARGETS]
            if unknown or not value or len(set(value)) != len(value):
                raise ValueError(f"targets must be distinct names among {', '.join(TARGETS)}"
                                 + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ConceptSpec:
        if self.burn_in >= self.sweeps:
            raise ValueError("burn_in must be smaller than sweeps")
        if self.compare_with == self.mode:
            raise ValueError("compare_with must be another mode than mode")
        return self

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes sampled: the estimate's, then the comparison's."""
        return (self.mode,) if self.compare_with is None else (self.mode, self.compare_with)


class Study(_Strict):
    """A whole study."""

    name: str = Field(default="study", min_length=1, max_length=200)
    seed: int = 0
    models: list[ModelEntry] = Field(min_length=1)
    conditions: list[ConditionEntry] = Field(min_length=1)
    contexts: Literal["paper", "generated"] = "paper"  # generated: new personas beyond the paper's rows
    decoding: DecodingOverrides = DecodingOverrides()
    colour: ColourSpec | None = None
    concepts: ConceptSpec | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _specs_as_entries(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"spec": item} if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _checks(self) -> Study:
        if self.colour is None and self.concepts is None:
            raise ValueError("the study has no task: add a [colour] or [concepts] table")
        specs = [model.spec for model in self.models]
        if len(set(specs)) != len(specs):
            raise ValueError("a model is listed twice")
        labels = [entry.condition().label for entry in self.conditions]
        if len(set(labels)) != len(labels):
            raise ValueError("a condition is listed twice")
        return self

    def with_size(self, individuals: int | None = None, words: int | str | None = None) -> Study:
        """The same study at another size (the CLI's --individuals and --words)."""
        if self.colour is None or (individuals is None and words is None):
            return self
        colour = self.colour.model_copy(update={k: v for k, v in (("individuals", individuals), ("words", words))
                                                if v is not None})
        return self.model_validate({**self.model_dump(), "colour": colour.model_dump()})




def _one_line(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "study"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_study(data: dict, *, source: str = "study") -> Study:
    """Validate a study given as a dict; a :class:`StudyFileError` names every problem on one line."""
    try:
        return Study.model_validate(data)
    except ValidationError as error:
        raise StudyFileError(f"{source}: {_one_line(error)}") from None


def load_study(path: str | Path) -> Study:
    """Read and validate a TOML study file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyFileError(f"study file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise StudyFileError(f"{path} is not valid TOML: {error}") from None
    return parse_study(data, source=str(path))


def demo_study() -> Study:
    """The built-in demo study (``monoculture demo``)."""
    from importlib.resources import files

    text = files("monoculture").joinpath("studies/demo.toml").read_text(encoding="utf-8")
    return parse_study(tomllib.loads(text), source="demo study")
