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

import math
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from monoculture.errors import StudyFileError
from monoculture.population import Condition

# TOML integers are 64-bit; numpy seeds must be non-negative.
_MAX_SEED = 2**63 - 1


class _Strict(BaseModel):
    # strict: TOML has real types, so "5" is not a number, 2.0 is not a count and true is not a seed;
    # NaN and infinity are never a valid setting.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _shown(value: object, limit: int = 60) -> str:
    """A user's value quoted for a one-line message: repr escapes newlines, and long values are cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _distinct_names(values: list[str], what: str) -> None:
    """Raise naming the first repeated entry of a list the user wrote."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {_shown(value)} is listed twice")
        seen.add(value)


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

    @field_validator("temperature", mode="before")
    @classmethod
    def _sane_temperature(cls, value: object) -> object:
        if value == "default" and isinstance(value, str):
            return value
        if not _is_number(value) or not math.isfinite(value) or not 0.0 <= value <= 5.0:  # type: ignore[arg-type]
            raise ValueError(f"must be between 0 and 5 or \"default\", got {_shown(value)}")
        return float(value)  # type: ignore[arg-type]

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
    # The colour metrics compare each individual's replicate 1 with its replicate 2 (PROTOCOL section 3).
    replicates: int = 2
    mode: Literal["free", "constrained"] = "free"
    max_tokens: int = Field(default=24, ge=8, le=512)

    @field_validator("words", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        # Checked by hand before the union, so a mistake gets one message instead of one per union member.
        if isinstance(value, str) and value == "all":
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if not 2 <= value <= 199:
                raise ValueError(f"a number of words must be between 2 and 199, got {value}")
            return value
        if isinstance(value, list):
            if not value:
                raise ValueError("the word list is empty")
            for word in value:
                if not isinstance(word, str) or not word.strip():
                    raise ValueError(f"every word must be a non-empty string, got {_shown(word)}")
            _distinct_names(value, "word")
            return value
        raise ValueError(f"must be \"all\", a number of words or a list of words, got {_shown(value)}")

    @field_validator("replicates")
    @classmethod
    def _two_replicates(cls, value: int) -> int:
        if value != 2:
            raise ValueError(f"must be 2 (the colour metrics compare replicate 1 with replicate 2), got {value}")
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

    @field_validator("targets", mode="before")
    @classmethod
    def _known_targets(cls, value: object) -> object:
        from monoculture.tasks import TARGETS

        if isinstance(value, str) and value == "all":
            return value
        if not isinstance(value, list):
            # pydantic reports ValueError as a validation error; a TypeError would escape as a bug
            raise ValueError(f"must be \"all\" or a list of targets, got {_shown(value)}")  # noqa: TRY004
        if not value:
            raise ValueError("the target list is empty")
        for target in value:
            if target not in TARGETS:
                raise ValueError(f"unknown target {_shown(target)}; the targets are {', '.join(TARGETS)}")
        _distinct_names(value, "target")
        return value

    @field_validator("burn_in")
    @classmethod
    def _leaves_sweeps(cls, burn_in: int, info: ValidationInfo) -> int:
        # The posterior averages the sweeps after the burn-in (index > burn_in): at least one must remain.
        sweeps = info.data.get("sweeps")
        if sweeps is not None and burn_in > sweeps - 2:
            raise ValueError(f"must be at most sweeps - 2 = {sweeps - 2} so that some sweeps follow it, got {burn_in}")
        return burn_in

    @field_validator("compare_with")
    @classmethod
    def _another_mode(cls, compare_with: str | None, info: ValidationInfo) -> str | None:
        if compare_with is not None and compare_with == info.data.get("mode"):
            raise ValueError(f"must be another mode than mode ({compare_with})")
        return compare_with

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes sampled: the estimate's, then the comparison's."""
        return (self.mode,) if self.compare_with is None else (self.mode, self.compare_with)


class Study(_Strict):
    """A whole study."""

    name: str = Field(default="study", min_length=1, max_length=200)
    seed: int = Field(default=0, ge=0, le=_MAX_SEED)
    models: list[ModelEntry] = Field(min_length=1)
    conditions: list[ConditionEntry] = Field(min_length=1)
    contexts: Literal["paper", "generated"] = "paper"  # generated: new personas beyond the paper's rows
    decoding: DecodingOverrides = DecodingOverrides()
    colour: ColourSpec | None = None
    concepts: ConceptSpec | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _specs_as_entries(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        for number, item in enumerate(value, start=1):
            if not isinstance(item, (str, dict)):
                raise ValueError(  # noqa: TRY004 - pydantic turns only ValueError into a validation error
                    f"model {number} must be a spec such as \"embedded:gemma-3-270m\" or a table with a spec key, "
                    f"got {_shown(item)}")
        return [{"spec": item} if isinstance(item, str) else item for item in value]

    @field_validator("models")
    @classmethod
    def _distinct_models(cls, models: list[ModelEntry]) -> list[ModelEntry]:
        _distinct_names([model.spec for model in models], "model")
        return models

    @field_validator("conditions")
    @classmethod
    def _distinct_conditions(cls, conditions: list[ConditionEntry]) -> list[ConditionEntry]:
        _distinct_names([entry.condition().label for entry in conditions], "condition")
        return conditions

    @model_validator(mode="after")
    def _checks(self) -> Study:
        if self.colour is None and self.concepts is None:
            raise ValueError("the study has no task: add a [colour] or [concepts] table")
        return self

    def with_size(self, individuals: int | None = None, words: int | str | None = None) -> Study:
        """The same study at another size (the CLI's --individuals and --words)."""
        if self.colour is None or (individuals is None and words is None):
            return self
        overrides = {k: v for k, v in (("individuals", individuals), ("words", words)) if v is not None}
        colour = {**self.colour.model_dump(), **overrides}
        return parse_study({**self.model_dump(), "colour": colour}, source="--individuals/--words")


# A union member's tag in an error location ("int", "list[str]", "literal['all']"); study fields have none of
# these shapes, so such a part is pydantic's, not the user's.
_UNION_TAG = re.compile(r"^(int|float|str|bool|[\w-]+\[.*\])$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,60}$")


def _location(loc: tuple[int | str, ...], *, user_key: bool) -> str:
    """The dotted path of a problem; ``user_key``: the last part is a key the user wrote, never a union tag."""
    last = len(loc) - 1 if user_key else len(loc)
    parts = [part for index, part in enumerate(loc)
             if index >= last or not (isinstance(part, str) and _UNION_TAG.match(part))]
    # Keys come from the user's file: quote anything that could break the line or hide in it.
    return ".".join(str(part) if isinstance(part, int) or _PLAIN_KEY.match(part) else _shown(part) for part in parts)


def _known_keys(loc: tuple[int | str, ...]) -> str:
    """The keys allowed where an unknown key was found, so the message names the fix."""
    tables: dict[str, type[BaseModel]] = {"models": ModelEntry, "conditions": ConditionEntry,
                                          "decoding": DecodingOverrides, "colour": ColourSpec, "concepts": ConceptSpec}
    table = tables.get(str(loc[0]), Study) if len(loc) > 1 else Study
    return ", ".join(table.model_fields)


def _one_line(error: ValidationError) -> str:
    """Every problem as ``where: what``, joined on one line; a union's failed members merge into one message."""
    merged: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False):
        message = problem["msg"].removeprefix("Value error, ")
        unknown = problem["type"] == "extra_forbidden"
        if unknown:
            message = f"unknown key (known: {_known_keys(problem['loc'])})"
        elif problem["type"] == "missing":
            message = "required but missing"
        messages = merged.setdefault(_location(problem["loc"], user_key=unknown), [])
        if messages:
            message = message.removeprefix("Input should be ")
        if message not in messages:
            messages.append(message)
    return "; ".join(f"{where}: {' or '.join(messages)}" if where else " or ".join(messages)
                     for where, messages in merged.items())


def parse_study(data: Any, *, source: str = "study") -> Study:
    """Validate a study given as a dict; a :class:`StudyFileError` names every problem on one line."""
    if not isinstance(data, dict):
        raise StudyFileError(f"{source}: a study is a table of keys (models, conditions, ...), "
                             f"not {type(data).__name__}")
    try:
        return Study.model_validate(data)
    except ValidationError as error:
        raise StudyFileError(f"{source}: {_one_line(error)}") from None


def load_study(path: str | Path) -> Study:
    """Read and validate a TOML study file."""
    path = Path(path)
    shown = str(path) if str(path).isprintable() else _shown(str(path), limit=200)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyFileError(f"study file {shown} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise StudyFileError(f"{shown} is not valid TOML: {error}") from None
    except OSError as error:  # a folder, no permission, ...
        raise StudyFileError(f"cannot read study file {shown}: {error.strerror or error}") from None
    if not data:
        raise StudyFileError(f"{shown} is empty: a study needs models, conditions and a [colour] or [concepts] table")
    return parse_study(data, source=shown)


def demo_study() -> Study:
    """The built-in demo study (``monoculture demo``)."""
    from importlib.resources import files

    text = files("monoculture").joinpath("studies/demo.toml").read_text(encoding="utf-8")
    return parse_study(tomllib.loads(text), source="demo study")
