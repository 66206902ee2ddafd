"""The study spec: models x conditions x tasks x population size, validated.

A study file is TOML; unknown keys, wrong types and impossible values are one-line errors::

    name = "my-study"
    seed = 0
    models = ["embedded:gemma-3-270m", { spec = "embedded:smollm2-135m-instruct", context_placement = "system" }]
    conditions = [{ context = "none" }, { context = "none", temperature = 1.5 }, { context = "persona" }]
    deterministic = false    # true: a rerun stores the same outputs (one request at a time; per model too)

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
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from monoculture.errors import StudyFileError
from monoculture.population import Condition
from monoculture.tasks import Task, TaskSpec, quoted, require_distinct, task_type, task_types

# TOML integers are 64-bit; numpy seeds must be non-negative.
_MAX_SEED = 2**63 - 1


class _Strict(BaseModel):
    # strict: TOML has real types, so "5" is not a number, 2.0 is not a count and true is not a seed;
    # NaN and infinity are never a valid setting.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


TWIN_SETTINGS = ("reward", "beta", "raters", "alpha", "rounds", "samples_per_round", "smoothing",
                 "sampling_temperature", "sampling_min_p")


class ModelEntry(_Strict):
    """One model of the study."""

    spec: str
    kind: Literal["base", "chat"] | None = None  # None: the backend knows (embedded) or guesses from the name
    context_placement: Literal["user", "system"] = "user"  # chat models: context in the user message or system
    parallel: int | None = Field(default=None, ge=1, le=64)
    # embedded:/gguf: models: llama.cpp's CPU threads; unset, every core on up to 3, one left free from 4
    # (docs/methods.md, section 6.1)
    threads: int | None = Field(default=None, ge=1, le=512)
    # openai: servers: the environment variable holding the API key (default OPENAI_API_KEY), never the key itself
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # openai: models on several servers (README, "Many servers for one model"): each request goes to the least busy;
    # the spec names the model (openai:MODEL) or, to continue a run made on one server, keeps that server's URL
    endpoints: list[str] | None = Field(default=None, min_length=1, max_length=64)
    # True: each request decoded alone with no cached prompt reused, so a rerun stores the same outputs (slower);
    # None: the study's own ``deterministic``
    deterministic: bool | None = None
    # Model families (README, "Families"): models of one family at their stages (base, sft, aligned or any label),
    # compared stage by stage against the family's base (its "base" stage, else its first listed)
    family: str | None = Field(default=None, min_length=1, max_length=60)
    stage: str | None = Field(default=None, min_length=1, max_length=60)
    # The study's tasks this model answers (default: all of them); e.g. a twin only the closed-set ones
    tasks: list[str] | None = Field(default=None, min_length=1)
    # aligned: twins (README, "Aligned twins"): the reward, its strength and the loop; written into the spec, so
    # that two twins of one base are two models
    reward: str | None = None
    beta: float | None = None
    raters: int | None = Field(default=None, ge=1, le=100_000)
    alpha: float | None = Field(default=None, ge=0.0)
    rounds: int | None = Field(default=None, ge=1, le=10_000)
    samples_per_round: int | None = Field(default=None, ge=1, le=10_000_000)
    smoothing: float | None = Field(default=None, gt=0.0)
    sampling_temperature: float | None = Field(default=None, ge=0.0, le=10.0)
    sampling_min_p: float | None = Field(default=None, ge=0.0, lt=1.0)

    @model_validator(mode="before")
    @classmethod
    def _twin_spec(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("spec"), str):
            return data
        twin = {key: data[key] for key in TWIN_SETTINGS if data.get(key) is not None}
        if not data["spec"].startswith("aligned:"):
            if twin:
                raise ValueError(f"{', '.join(twin)} apply only to aligned twins (spec = \"aligned:BASE\")")
            return data
        from monoculture.backends import twin_from_entry

        # A stored study has the spec with its settings already written: the entry's own keys are the truth.
        base = data["spec"].removeprefix("aligned:").partition(" [")[0]
        return {**data, "spec": twin_from_entry(base, twin).spec()}

    @field_validator("spec")
    @classmethod
    def _known_backend(cls, spec: str) -> str:
        from monoculture.backends import split_spec

        split_spec(spec)  # raises ModelSpecError with the fix
        return spec

    @model_validator(mode="after")
    def _threads_of_an_embedded_model(self) -> ModelEntry:
        # An aligned twin runs on its base model: the base's backend decides.
        base = self.spec.removeprefix("aligned:").partition(" [")[0]
        if self.threads is not None and not base.startswith(("embedded:", "gguf:")):
            raise ValueError(f"threads applies only to models run in-process by llama.cpp (embedded: and gguf:), not "
                             f"{quoted(self.spec)}: remove threads (a server sets its own)")
        return self

    @model_validator(mode="after")
    def _endpoints_of_a_server_model(self) -> ModelEntry:
        if self.endpoints is None:
            return self
        if not self.spec.startswith("openai:"):
            raise ValueError(f"endpoints apply only to openai: models (servers speaking the OpenAI API), not "
                             f"{quoted(self.spec)}: remove endpoints, or serve the model and write "
                             "spec = \"openai:MODEL\"")
        model, at, spec_url = self.spec.removeprefix("openai:").partition("@")
        urls = [_endpoint_url(endpoint) for endpoint in self.endpoints]
        require_distinct(urls, "endpoint")
        if at and spec_url.rstrip("/") not in urls:
            raise ValueError(f"the spec's URL {quoted(spec_url)} is not one of its endpoints: add it to endpoints, "
                             f"or write the spec without it (\"openai:{model}\")")
        return self


def _endpoint_url(endpoint: str) -> str:
    """An endpoint's URL without a trailing slash, or a ValueError naming what is wrong with it."""
    from monoculture.urls import url_problem

    problem = url_problem(endpoint)
    if problem == "credentials":
        raise ValueError("an endpoint carries credentials in its URL: remove them and put the API key in "
                         "OPENAI_API_KEY, or in the variable the model's api_key_env names")
    if problem is not None:
        raise ValueError(f"endpoint {quoted(endpoint)} is not a URL such as \"http://127.0.0.1:8001/v1\"")
    return endpoint.rstrip("/")


class ConditionEntry(_Strict):
    """A population condition: context kind and temperature ("default": the model's own)."""

    context: Literal["none", "random", "nonsense", "persona"]
    temperature: float | Literal["default"] = "default"
    # This condition's truncation (a decoding axis of a grid); unset: the study's [decoding], else the model's
    top_k: int | None = Field(default=None, ge=0, le=1_000_000)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    min_p: float | None = Field(default=None, ge=0.0, lt=1.0)

    @field_validator("temperature", mode="before")
    @classmethod
    def _sane_temperature(cls, value: object) -> object:
        if value == "default" and isinstance(value, str):
            return value
        if not _is_number(value) or not math.isfinite(value) or not 0.0 <= value <= 5.0:  # type: ignore[arg-type]
            raise ValueError(f"must be between 0 and 5 or \"default\", got {quoted(value)}")
        return float(value)  # type: ignore[arg-type]

    def condition(self) -> Condition:
        """As a :class:`Condition`."""
        return Condition(self.context, None if self.temperature == "default" else float(self.temperature),
                         self.top_k, self.top_p, self.min_p)


class DecodingOverrides(_Strict):
    """Decoding parameters for every condition that does not set its own (temperature comes from the condition);
    unset ones are "default": no truncation (``DEFAULT_DECODING``)."""

    # 0 turns top-k off; no vocabulary has a million tokens, and larger values only slow llama.cpp down
    # (top_k = 2**40 took 13-42 s a sample instead of 0.4-1.1 s).
    top_k: int | None = Field(default=None, ge=0, le=1_000_000)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    min_p: float | None = Field(default=None, ge=0.0, lt=1.0)
    # Temperature before truncation (transformers, vLLM, the paper) or after it (llama.cpp's default); every
    # backend is made to follow the one chosen, or refuses the study (README, "Decoding").
    order: Literal["temperature_first", "truncation_first"] = "temperature_first"


class _StudyBase(_Strict):
    """A whole study: its fields, and one optional table per registered task (see :data:`Study`)."""

    name: str = Field(default="study", min_length=1, max_length=200)
    seed: int = Field(default=0, ge=0, le=_MAX_SEED)
    models: list[ModelEntry] = Field(min_length=1)
    conditions: list[ConditionEntry] = Field(min_length=1)
    contexts: Literal["paper", "generated"] = "paper"  # generated: new personas beyond the paper's rows
    decoding: DecodingOverrides = DecodingOverrides()
    # The models' default for ``deterministic`` (docs/methods.md, reproducibility): slower, and reproducible.
    deterministic: bool = False

    @field_validator("models", mode="before")
    @classmethod
    def _specs_as_entries(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        for number, item in enumerate(value, start=1):
            if not isinstance(item, (str, dict)):
                raise ValueError(  # noqa: TRY004 - pydantic turns only ValueError into a validation error
                    f"model {number} must be a spec such as \"embedded:gemma-3-270m\" or a table with a spec key, "
                    f"got {quoted(item)}")
        return [{"spec": item} if isinstance(item, str) else item for item in value]

    @field_validator("conditions", mode="before")
    @classmethod
    def _grid(cls, value: object) -> object:
        # A table of lists is a grid: every combination of its values, in the order written.
        if not isinstance(value, dict):
            return value
        axes = {key: (options if isinstance(options, list) else [options]) for key, options in value.items()}
        if any(not options for options in axes.values()):
            raise ValueError("a grid's lists must not be empty")
        import itertools

        return [dict(zip(axes, combination)) for combination in itertools.product(*axes.values())]

    @field_validator("models")
    @classmethod
    def _distinct_models(cls, models: list[ModelEntry]) -> list[ModelEntry]:
        require_distinct([model.spec for model in models], "model")
        return models

    @field_validator("conditions")
    @classmethod
    def _distinct_conditions(cls, conditions: list[ConditionEntry]) -> list[ConditionEntry]:
        require_distinct([entry.condition().label for entry in conditions], "condition")
        return conditions

    @model_validator(mode="after")
    def _checks(self) -> _StudyBase:
        if not self.task_specs():
            tables = " or ".join(f"[{name}]" for name in task_types())
            raise ValueError(f"the study has no task: add a {tables} table")
        stages: dict[str, list[str]] = {}
        for number, entry in enumerate(self.models, start=1):
            if (entry.family is None) != (entry.stage is None):
                raise ValueError(f"model {number} ({entry.spec}): give family and stage together, e.g. "
                                 "family = \"gemma\", stage = \"base\"")
            if entry.family is not None:
                if entry.stage in stages.setdefault(entry.family, []):
                    raise ValueError(f"model {number} ({entry.spec}): family {entry.family!r} has stage "
                                     f"{entry.stage!r} twice")
                stages[entry.family].append(entry.stage)
            unknown = [name for name in entry.tasks or () if name not in self.task_specs()]
            if unknown:
                raise ValueError(f"model {number} ({entry.spec}): tasks names {unknown[0]!r}, which is not a task of "
                                 f"the study ({', '.join(self.task_specs())})")
            if self.is_deterministic(entry) and entry.parallel not in (None, 1):
                raise ValueError(f"model {number} ({entry.spec}): parallel = {entry.parallel} contradicts "
                                 "deterministic = true (a deterministic model decodes one request at a time): remove "
                                 "parallel, or set deterministic = false for this model")
        return self

    def families(self) -> dict[str, list[ModelEntry]]:
        """Each family's models, its base first (the stage named "base", else the first listed), then in order."""
        found: dict[str, list[ModelEntry]] = {}
        for entry in self.models:
            if entry.family is not None:
                found.setdefault(entry.family, []).append(entry)
        return {family: sorted(members, key=lambda entry: entry.stage != "base")
                for family, members in found.items() if len(members) >= 2}

    def is_deterministic(self, entry: ModelEntry) -> bool:
        """Whether a model of the study runs in deterministic mode: its own setting, else the study's."""
        return self.deterministic if entry.deterministic is None else entry.deterministic

    def task_specs(self) -> dict[str, TaskSpec]:
        """The study's task tables by task name, in registry order."""
        return {name: spec for name in task_types() if (spec := getattr(self, name, None)) is not None}

    def tasks(self) -> list[Task]:
        """The study's tasks, each bound to its table and the study's seed."""
        return [task_type(name)(spec, self.seed) for name, spec in self.task_specs().items()]

    def with_size(self, individuals: int | None = None, words: int | str | None = None) -> Study:
        """The same study at another colour size (the CLI's --individuals and --words)."""
        colour = getattr(self, "colour", None)
        if colour is None or (individuals is None and words is None):
            return self
        overrides = {k: v for k, v in (("individuals", individuals), ("words", words)) if v is not None}
        return parse_study({**self.model_dump(), "colour": {**colour.model_dump(), **overrides}},
                           source="--individuals/--words")


def _study_model() -> type[_StudyBase]:
    # One optional field per registered task, so pydantic validates each table with the task's own spec and
    # names the place of every problem ("colour.words: ...").
    fields: dict[str, Any] = {name: (Optional[kind.Spec], None) for name, kind in task_types().items()}
    return create_model("Study", __base__=_StudyBase, __module__=__name__, **fields)


Study = _study_model()
Study.__doc__ = """A whole study: models x conditions x tasks (one table per task); see the module docstring."""


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
    return ".".join(str(part) if isinstance(part, int) or _PLAIN_KEY.match(part) else quoted(part) for part in parts)


def _known_keys(loc: tuple[int | str, ...]) -> str:
    """The keys allowed where an unknown key was found, so the message names the fix."""
    tables: dict[str, type[BaseModel]] = {"models": ModelEntry, "conditions": ConditionEntry,
                                          "decoding": DecodingOverrides,
                                          **{name: kind.Spec for name, kind in task_types().items()}}
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


def parse_study(data: Any, *, source: str = "study", folder: Path | None = None) -> Study:
    """Validate a study given as a dict; a :class:`StudyFileError` names every problem on one line.

    ``folder`` is where the study's relative paths (a questions file) start: the study file's folder.
    """
    if not isinstance(data, dict):
        raise StudyFileError(f"{source}: a study is a table of keys (models, conditions, ...), "
                             f"not {type(data).__name__}")
    try:
        return Study.model_validate(data, context={"study_dir": folder})
    except ValidationError as error:
        raise StudyFileError(f"{source}: {_one_line(error)}") from None


def load_study(path: str | Path) -> Study:
    """Read and validate a TOML study file."""
    path = Path(path)
    shown = str(path) if str(path).isprintable() else quoted(str(path), limit=200)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyFileError(f"study file {shown} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise StudyFileError(f"{shown} is not valid TOML: {error}") from None
    except OSError as error:  # a folder, no permission, ...
        raise StudyFileError(f"cannot read study file {shown}: {error.strerror or error}") from None
    if not data:
        raise StudyFileError(f"{shown} is empty: a study needs models, conditions and a task table such as [colour]")
    return parse_study(data, source=shown, folder=path.parent)


def demo_study() -> Study:
    """The built-in demo study (``monoculture demo``)."""
    from importlib.resources import files

    text = files("monoculture").joinpath("studies/demo.toml").read_text(encoding="utf-8")
    return parse_study(tomllib.loads(text), source="demo study")
