"""A simulated individual: one model, one condition, one context, its own random draws."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Condition:
    """How a population's individuals differ: the kind of context and the sampling temperature.

    ``temperature`` is ``None`` for "default", 1.0 on every backend (``monoculture.backends.DEFAULT_DECODING``),
    stored with every sample as the number it was.
    """

    context: str  # none | random | nonsense | persona
    temperature: float | None = None
    # Truncation of this condition alone (None: the study's [decoding], else none): a grid axis.
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None

    @property
    def label(self) -> str:
        """A stable name such as ``none@default``, ``persona@1.5`` or ``none@default+top_p=0.9``, used as the
        condition's key."""
        temperature = "default" if self.temperature is None else f"{self.temperature:g}"
        truncation = "".join(f"+{name}={value:g}" for name, value in (
            ("top_k", self.top_k), ("top_p", self.top_p), ("min_p", self.min_p)) if value is not None)
        return f"{self.context}@{temperature}{truncation}"


@dataclass(frozen=True)
class Individual:
    """One simulated individual.

    ``index`` is its number within the (model, condition, task) population; ``context`` is the text
    prepended to every prompt ("" for the none condition). ``target`` is set by tasks that give each
    individual one target (the concept task).
    """

    model: str
    condition: Condition
    index: int
    context: str
    target: str | None = None
