"""The summary's types: frozen pydantic models, serialised to ``summary.json`` (docs/summary-schema.md).

A task's numbers are its own :class:`~monoculture.tasks.TaskResult` subclass; everything around them
(accounting, sampling checks, alarms, provenance) is the same for every task and typed here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializeAsAny

from monoculture.tasks import TaskResult


class Frozen(BaseModel):
    """A summary part: unknown keys are errors, nothing changes after it is made."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Example(Frozen):
    """One invalid answer, as the model wrote it (cut to 300 characters)."""

    individual: int
    item: str
    replicate: int
    output: str
    reason: str | None


class Accounting(Frozen):
    """What one population's estimate rests on, for one elicitation mode."""

    planned: int
    stored: int
    missing: int
    valid: int
    valid_fraction: float | None
    refusals: int
    parse_failures: int
    refusal_examples: list[Example]
    parse_failure_examples: list[Example]
    model_calls: int  # one per sample; one per distinct prompt in exact mode
    parse_notes: dict[str, int] = {}  # valid answers read other than literally, by how (e.g. alpha dropped)
    # Exact mode: the model's own probability (T = 1, no truncation) of leaving the answer set before an answer
    # is decided, per distinct prompt; the stored distributions renormalise it away (docs/methods.md).
    outside_mass_mean: float | None = None
    outside_mass_max: float | None = None


class Repeat(Frozen):
    """A text drawn more than once from one request, with the probability the model gave it."""

    output: str
    count: int
    draws: int
    model_probability: float


class Repeats(Frozen):
    """Identical draws of one request against what the draws' own probabilities expect."""

    checked: bool
    reason: str | None = None  # why not checked
    groups: int | None = None
    draws: int | None = None
    identical_pairs: int | None = None
    expected_identical_pairs: float | None = None
    ratio: float | None = None
    alarm: bool = False
    most_unlikely_repeats: list[Repeat] = []


AlarmKind = Literal["probe", "repeats", "shortfall", "mixed_versions", "data"]


class Alarm(Frozen):
    """A reason not to trust a number, with its evidence."""

    kind: AlarmKind
    model: str | None  # None: the whole run (the human data)
    condition: str | None
    task: str | None
    message: str
    evidence: dict[str, Any]


class ProbeCheck(Frozen):
    """One check of the sampling probe."""

    name: str
    passed: bool
    alarm: str
    texts: list[str]


class Probe(Frozen):
    """The sampling probe a run made of a model before sampling it."""

    requests: int
    temperature: float
    max_tokens: int
    checks: list[ProbeCheck]
    latency_s: float | None = None  # mean time of one probe request, alone (the runner's estimate uses it)


class DataProvenance(Frozen):
    """The human data a run used: its folder, each file's sha256, and what did not match the manifest."""

    root: str
    sha256: dict[str, str]
    problems: list[str]
    unverified_allowed: bool = False  # the user set MONOCULTURE_UNVERIFIED_DATA to use data that does not match


class Environment(Frozen):
    """Library versions and data checksums of the run, so that it can be reproduced."""

    monoculture: str | None = None
    python: str | None = None
    platform: str | None = None
    libraries: dict[str, str | None] = {}
    data: DataProvenance | None = None


class ModelRecord(Frozen):
    """What a run recorded about one version of a model (``version`` is its id in the store)."""

    version: int
    spec: str
    kind: str
    backend: str
    file: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    licence: str | None = None
    runtime: str | None = None
    default_decoding: dict[str, float | int] = {}
    max_concurrency: int = 1


class TaskPopulation(Frozen):
    """One task in one model × condition: the task's result, and per sampled mode what it rests on."""

    result: SerializeAsAny[TaskResult]
    settings: str  # the settings hash of the samples it rests on
    accounting: dict[str, Accounting]
    repeats: dict[str, Repeats]
    model_versions: list[int]  # the model versions that drew its samples (more than one raises an alarm)


class Cell(Frozen):
    """One model × condition: its resolved decoding and each task's population."""

    model: str
    condition: str
    kind: str | None
    context: str
    temperature: float | None
    decoding: dict[str, float | int | str]  # the sampled modes' (exact mode stores its own, untruncated)
    tasks: dict[str, TaskPopulation]


class PairedDifference(Frozen):
    """One measure of a later stage against its base: the mean over items of later − base, a bootstrap interval
    over items, a grouped-jackknife interval over individuals (items held fixed) and a two-sided sign-flip
    permutation p-value."""

    measure: str
    mean: float | None
    ci: tuple[float, float] | None  # 95% bootstrap over items
    # 95% over individuals: both populations summarised again without each group of their individuals (None: a
    # population has fewer than 3 individuals, or an item has no value without one of its groups)
    ci_individuals: tuple[float, float] | None = None
    p_value: float | None
    n_items: int


class StageComparison(Frozen):
    """A later stage of a family: its share of the people's diversity and its paired differences from the base."""

    stage: str
    model: str
    share_of_people: float | None  # the headline measure's mean over the people's, on the same items
    share_of_people_ci: tuple[float, float] | None
    differences: list[PairedDifference]


class FamilyComparison(Frozen):
    """One family in one condition and task: its base and each later stage, and the sentences the report opens with."""

    family: str
    condition: str
    task: str
    measure: str  # the headline diversity measure
    base_stage: str
    base_model: str
    base_share_of_people: float | None
    base_share_of_people_ci: tuple[float, float] | None
    stages: list[StageComparison]
    sentences: list[str]


class ModelAgreement(Frozen):
    """Two models in one condition and task: how often their answers coincide (docs/methods.md, section 12)."""

    condition: str
    task: str
    model_a: str
    model_b: str
    n_items: int
    answer_agreement: float  # the chance an answer of each is the same answer, mean over items
    modal_agreement: float  # the share of items whose most frequent answers are the same


class MixedModelFit(Frozen):
    """measure ~ stage + (1 | family) + (1 | item) across families, for one later stage against the bases."""

    task: str
    condition: str
    measure: str
    comparison: str  # "base -> STAGE"
    effect: float  # the later stage's fixed effect on the measure
    ci: tuple[float, float]
    p_value: float
    n_families: int
    n_items: int
    n_observations: int
    converged: bool


class Summary(Frozen):
    """Everything a run measured, recomputed from the store alone."""

    monoculture_version: str
    created: str
    study: dict[str, Any]
    environment: Environment
    n_samples_planned: int
    n_samples_stored: int
    # Stored samples this summary does not use: drawn under other settings, or beyond the study's size.
    n_samples_not_in_study: int
    # Pairs of planned samples of one model that share a seed (0.4 expected in 59,700 at 32 bits), by model.
    seed_collisions: dict[str, int] = {}
    # By model: True when every sample of it in this summary was drawn by a run in deterministic mode (each
    # request decoded alone, no cached prompt reused), so running the study again stores the same outputs.
    deterministic: dict[str, bool] = {}
    alarms: list[Alarm]
    probes: dict[str, Probe]
    model_info: dict[str, ModelRecord]  # the latest version of each model that drew a sample of this study
    model_versions: list[ModelRecord]  # every version that drew a sample of this study
    models: dict[str, dict[str, Cell]]  # model spec -> condition label -> cell
    human: dict[str, SerializeAsAny[TaskResult]]  # task -> the people's result on the study's items
    families: list[FamilyComparison] = []  # each family's later stages against its base (models with family/stage)
    mixed_models: list[MixedModelFit] = []  # across families (two or more), with the stats extra
    families_note: str | None = None  # why a mixed model is missing (statsmodels not installed, a failed fit)
    agreement: list[ModelAgreement] = []  # every two models of a condition, categorical tasks
    people_agreement: dict[str, float] = {}  # task -> the chance two different people give the same answer

    def cells(self) -> list[Cell]:
        """Every model × condition, in study order."""
        return [cell for conditions in self.models.values() for cell in conditions.values()]

    def to_json(self) -> str:
        """``summary.json``: NaN and infinity as null."""
        import json

        return json.dumps(_json_safe(self.model_dump(mode="json")), indent=2, allow_nan=False)


def _json_safe(value: object) -> object:
    import math

    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
