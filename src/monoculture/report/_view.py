"""Tolerant readers over a ``summary.json`` dict, shared by the HTML report and the terminal table.

A summary may come from an older version, a colour-only or concept-only study, or a model that never
answered validly, so every reader here accepts missing keys, ``None`` and NaN and never raises on them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Condition",
    "HEX_COLOUR",
    "conditions",
    "format_ci",
    "format_number",
    "format_percent",
    "has_valid_answers",
    "number",
    "valid_hex",
]

# Exactly "#RRGGBB": the only text from a summary that may ever reach a CSS style attribute.
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

MISSING = "—"


@dataclass(frozen=True)
class Condition:
    """One (model, condition) cell of a study: its spec, condition label and summary dict."""

    model: str
    label: str
    data: dict[str, Any]

    @property
    def name(self) -> str:
        """``model · condition``, the label used in tables and plot legends."""
        return f"{self.model} · {self.label}"

    def block(self, task: str) -> dict[str, Any] | None:
        """The task's block (``"colour"`` or ``"concepts"``), or ``None`` when the study lacks it."""
        value = self.data.get(task)
        return value if isinstance(value, dict) else None


def conditions(summary: dict[str, Any]) -> list[Condition]:
    """Every (model, condition) in the summary, in the order the summary lists them."""
    found: list[Condition] = []
    models = summary.get("models")
    if not isinstance(models, dict):
        return found
    for model, by_condition in models.items():
        if not isinstance(by_condition, dict):
            continue
        for label, data in by_condition.items():
            if isinstance(data, dict):
                found.append(Condition(str(model), str(label), data))
    return found


def number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` for missing, non-numeric, NaN or infinite values."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def format_number(value: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals, an integer as is, or a dash when it is missing."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    x = number(value)
    return MISSING if x is None else f"{x:.{digits}f}"


def format_ci(interval: Any, digits: int = 2) -> str:
    """``[low, high]`` or an empty string when the interval is missing or malformed."""
    if not isinstance(interval, (list, tuple)) or len(interval) != 2:
        return ""
    low, high = number(interval[0]), number(interval[1])
    if low is None or high is None:
        return ""
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def format_percent(value: Any) -> str:
    """A fraction in [0, 1] as a whole percentage, or a dash."""
    x = number(value)
    return MISSING if x is None else f"{100 * x:.0f}%"


def has_valid_answers(block: dict[str, Any] | None) -> bool:
    """Whether a task block holds at least one valid answer (an all-invalid model gets a note, not a plot)."""
    if not block:
        return False
    n_valid = number(block.get("n_valid"))
    if n_valid is not None:
        return n_valid > 0
    valid_fraction = number(block.get("valid_fraction"))
    if valid_fraction is not None:
        return valid_fraction > 0
    return True


def valid_hex(value: Any) -> str | None:
    """``value`` if it is exactly ``#RRGGBB`` (lower-cased), else ``None``; nothing else reaches CSS."""
    if isinstance(value, str) and HEX_COLOUR.fullmatch(value):
        return value.lower()
    return None
