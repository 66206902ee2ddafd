"""Numbers and text as shown: a dash for what is missing, never a crash on None, NaN or a malformed value."""

from __future__ import annotations

import math
import re
from typing import Any

# Exactly "#RRGGBB": the only text from a result that may ever reach a CSS style attribute.
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MISSING = "—"


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


def interval(value: Any) -> tuple[float, float] | None:
    """A two-number interval, or None when it is missing or malformed."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = number(value[0]), number(value[1])
        if low is not None and high is not None:
            return (low, high)
    return None


def format_ci(value: Any, digits: int = 2) -> str:
    """``[low, high]`` or an empty string when the interval is missing or malformed."""
    bounds = interval(value)
    return "" if bounds is None else f"[{bounds[0]:.{digits}f}, {bounds[1]:.{digits}f}]"


def format_percent(value: Any) -> str:
    """A fraction in [0, 1] as a whole percentage, or a dash."""
    x = number(value)
    return MISSING if x is None else f"{100 * x:.0f}%"


def cut(value: Any, limit: int = 200) -> str:
    """Any value as display text, cut to ``limit`` characters (escaping is the template's job)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def valid_hex(value: Any) -> str | None:
    """``value`` if it is exactly ``#RRGGBB`` (lower-cased), else ``None``; nothing else reaches CSS."""
    if isinstance(value, str) and HEX_COLOUR.fullmatch(value):
        return value.lower()
    return None
