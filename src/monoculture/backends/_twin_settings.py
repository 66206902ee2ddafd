"""An aligned twin's settings, written into its spec so the spec alone names the twin (README, "Aligned twins").

A study entry ``{ spec = "aligned:embedded:gemma-3-270m", reward = "consensus", beta = 0.3 }`` becomes the spec
``aligned:embedded:gemma-3-270m [reward=consensus beta=0.3]``: two twins of one base with different settings are
two models in the store, and the stored study re-parses to the same spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from monoculture.errors import ModelSpecError

SETTINGS = ("reward", "beta", "raters", "alpha", "rounds", "samples_per_round", "smoothing", "sampling_temperature",
            "sampling_min_p")
DEFAULT_RATERS = 10
# The typicality bias measured by the Verbalized Sampling authors (Zhang et al. 2025).
DEFAULT_ALPHA = 0.57
MAX_ROUNDS = 10_000


@dataclass(frozen=True)
class TwinSettings:
    """What alignment pressure a twin computes (see :mod:`monoculture.alignment`)."""

    base: str
    reward: str  # consensus | typicality | preference_matching | judge:MODEL | module:function
    beta: float
    raters: int = DEFAULT_RATERS
    alpha: float = DEFAULT_ALPHA
    rounds: int = 1
    samples_per_round: int | None = None
    smoothing: float = 1.0
    # Decoding the aligned model (a mitigation): its policy tempered, p^(1/T), then min-p truncated.
    sampling_temperature: float = 1.0
    sampling_min_p: float = 0.0

    def suffix(self) -> str:
        """The settings as written after the base spec: the defaults left out."""
        parts = [f"reward={self.reward}", f"beta={_number(self.beta)}"]
        if self.reward == "consensus" and self.raters != DEFAULT_RATERS:
            parts.append(f"raters={self.raters}")
        if self.reward == "typicality" and self.alpha != DEFAULT_ALPHA:
            parts.append(f"alpha={_number(self.alpha)}")
        if self.rounds != 1:
            parts.append(f"rounds={self.rounds}")
        if self.samples_per_round is not None:
            parts.append(f"samples_per_round={self.samples_per_round}")
        if self.smoothing != 1.0:
            parts.append(f"smoothing={_number(self.smoothing)}")
        if self.sampling_temperature != 1.0:
            parts.append(f"sampling_temperature={_number(self.sampling_temperature)}")
        if self.sampling_min_p != 0.0:
            parts.append(f"sampling_min_p={_number(self.sampling_min_p)}")
        return "[" + " ".join(parts) + "]"

    def spec(self) -> str:
        """The twin's full spec."""
        return f"aligned:{self.base} {self.suffix()}"


def _number(value: float) -> str:
    return format(float(value), "g")


def _check(settings: TwinSettings, shown: str) -> TwinSettings:
    from monoculture.backends._registry import split_spec

    if settings.base.startswith("aligned:"):
        raise ModelSpecError(f"{shown}: the base of an aligned twin is a model, not another twin")
    split_spec(settings.base)
    reward = settings.reward
    known = ("consensus", "typicality", "preference_matching")
    if reward not in known and not reward.startswith("judge:") and ":" not in reward:
        raise ModelSpecError(f"{shown}: unknown reward {reward!r}: use consensus, typicality, preference_matching, "
                             "judge:MODEL or module:function")
    if reward.startswith("judge:"):
        judge = reward.removeprefix("judge:")
        if judge.startswith("aligned:"):
            raise ModelSpecError(f"{shown}: the judge must be a model, not a twin")
        split_spec(judge)
    if not (math.isfinite(settings.beta) and settings.beta > 0):
        raise ModelSpecError(f"{shown}: beta must be a number above 0, got {settings.beta!r}")
    if not 1 <= settings.raters <= 100_000:
        raise ModelSpecError(f"{shown}: raters must be between 1 and 100000, got {settings.raters}")
    if not 1 <= settings.rounds <= MAX_ROUNDS:
        raise ModelSpecError(f"{shown}: rounds must be between 1 and {MAX_ROUNDS}, got {settings.rounds}")
    if settings.samples_per_round is not None and not 1 <= settings.samples_per_round <= 10**7:
        raise ModelSpecError(f"{shown}: samples_per_round must be between 1 and 10000000")
    if not (math.isfinite(settings.sampling_temperature) and 0 <= settings.sampling_temperature <= 10) or not (
            0 <= settings.sampling_min_p < 1):
        raise ModelSpecError(f"{shown}: sampling_temperature must be between 0 and 10 and sampling_min_p in [0, 1)")
    if not (math.isfinite(settings.alpha) and settings.alpha >= 0) or not (
            math.isfinite(settings.smoothing) and settings.smoothing > 0):
        raise ModelSpecError(f"{shown}: alpha must be 0 or more and smoothing above 0")
    return settings


def twin_from_entry(base: str, values: dict[str, Any]) -> TwinSettings:
    """Settings from a study entry's keys (typed as TOML gives them)."""
    shown = f"aligned:{base}"
    if "reward" not in values or "beta" not in values:
        raise ModelSpecError(f"{shown}: an aligned twin needs reward and beta, e.g. "
                             "{ spec = \"aligned:embedded:gemma-3-270m\", reward = \"consensus\", beta = 0.3 }")
    try:
        settings = TwinSettings(base=base, reward=str(values["reward"]), beta=float(values["beta"]),
                                raters=int(values.get("raters", DEFAULT_RATERS)),
                                alpha=float(values.get("alpha", DEFAULT_ALPHA)), rounds=int(values.get("rounds", 1)),
                                samples_per_round=(None if values.get("samples_per_round") is None
                                                   else int(values["samples_per_round"])),
                                smoothing=float(values.get("smoothing", 1.0)),
                                sampling_temperature=float(values.get("sampling_temperature", 1.0)),
                                sampling_min_p=float(values.get("sampling_min_p", 0.0)))
    except (TypeError, ValueError):
        raise ModelSpecError(f"{shown}: beta, alpha and smoothing are numbers, raters, rounds and samples_per_round "
                             "whole numbers") from None
    return _check(settings, shown)


def parse_twin(rest: str) -> TwinSettings:
    """The settings of a spec's part after ``aligned:``: ``BASE [reward=... beta=... ...]``."""
    base, bracket, written = rest.partition(" [")
    shown = f"aligned:{rest}"
    if not bracket or not written.endswith("]"):
        raise ModelSpecError(f"{shown}: an aligned twin needs reward and beta: in a study file write "
                             "{ spec = \"aligned:embedded:gemma-3-270m\", reward = \"consensus\", beta = 0.3 }")
    values: dict[str, Any] = {}
    for part in written[:-1].split():
        key, equals, value = part.partition("=")
        if not equals or key not in SETTINGS:
            raise ModelSpecError(f"{shown}: unknown twin setting {part!r} (known: {', '.join(SETTINGS)})")
        values[key] = value
    return twin_from_entry(base, values)
