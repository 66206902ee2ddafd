"""The concept task's settings: the study file's ``[concepts]`` table."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from monoculture.tasks._contract import TaskSpec, quoted, require_distinct
from monoculture.tasks.concepts._items import PROMPT_VERSIONS, TARGETS

Mode = Literal["free", "constrained", "exact"]


class ConceptSpec(TaskSpec):
    """The concept task's size, elicitation mode and clustering settings."""

    NOT_IN_SAMPLE: ClassVar[frozenset[str]] = frozenset(
        {"individuals_per_target", "targets", "sweeps", "burn_in", "chains"})

    individuals_per_target: int = Field(default=10, ge=1, le=10_000)
    targets: list[str] | Literal["all"] = "all"
    # exact: each prompt's answer distribution from log-probabilities, individuals drawn from it
    mode: Mode = "free"
    # a second mode sampled on the same prompts, to report how far the two answer distributions are apart
    compare_with: Mode | None = None
    prompt_version: Literal[PROMPT_VERSIONS] = "v1"  # type: ignore[valid-type]
    # Room for a chat model's short sentence ("The robin is more similar to a finch."); 8 cut them off.
    max_tokens: int = Field(default=32, ge=4, le=512)
    sweeps: int = Field(default=500, ge=10, le=100_000)
    burn_in: int = Field(default=100, ge=0)
    chains: int = Field(default=3, ge=1, le=32)

    @field_validator("targets", mode="before")
    @classmethod
    def _known_targets(cls, value: object) -> object:
        if isinstance(value, str) and value == "all":
            return value
        if not isinstance(value, list):
            # pydantic reports ValueError as a validation error; a TypeError would escape as a bug
            raise ValueError(f"must be \"all\" or a list of targets, got {quoted(value)}")  # noqa: TRY004
        if not value:
            raise ValueError("the target list is empty")
        for target in value:
            if target not in TARGETS:
                raise ValueError(f"unknown target {quoted(target)}; the targets are {', '.join(TARGETS)}")
        require_distinct(value, "target")
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

    @property
    def chosen_targets(self) -> tuple[str, ...]:
        """The study's targets, in protocol order when all."""
        return TARGETS if self.targets == "all" else tuple(self.targets)
