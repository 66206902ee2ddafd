"""Colour space conversions and colour differences: hex -> sRGB (0-255) -> CIELAB (D65) -> ΔE.

``colour-science`` (the field's reference implementation) does the conversions. Importing it takes
about two seconds, so it is imported inside the functions that need it: importing this module stays
cheap and ``monoculture --help`` stays fast.
"""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["delta_e_76", "delta_e_2000", "hex_to_srgb", "srgb_to_hex", "srgb_to_lab"]

_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


def hex_to_srgb(hex_code: str) -> tuple[int, int, int]:
    """The sRGB triple (each 0-255) of a 6-digit hex code such as ``"#1a2B3c"`` (the ``#`` is optional).

    Raises :class:`ValueError` for anything that is not exactly six hex digits: finding a hex code in
    free text is the colour task's parser's job, not this function's.
    """
    match = _HEX.fullmatch(hex_code.strip())
    if match is None:
        raise ValueError(f"not a 6-digit hex colour: {hex_code!r}")
    digits = match.group(1)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def srgb_to_hex(red: int, green: int, blue: int) -> str:
    """The lower-case ``#rrggbb`` code of an sRGB triple (each 0-255)."""
    for channel in (red, green, blue):
        if not 0 <= int(channel) <= 255:
            raise ValueError(f"sRGB channel out of range 0-255: {channel}")
    return f"#{int(red):02x}{int(green):02x}{int(blue):02x}"


def srgb_to_lab(srgb: ArrayLike) -> NDArray[np.float64]:
    """CIELAB (L* 0-100, a*, b*) of sRGB colours given as 0-255 values, shape ``(..., 3)``.

    sRGB is decoded with its transfer function, converted to CIE XYZ and then to CIELAB relative to
    the D65 white point of the CIE 1931 2° observer (IEC 61966-2-1 and CIE 15), via colour-science.
    """
    import colour  # lazy: slow to import

    values = np.asarray(srgb, dtype=np.float64)
    if values.shape[-1:] != (3,):
        raise ValueError(f"sRGB colours need a last axis of length 3, got shape {values.shape}")
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    xyz = colour.sRGB_to_XYZ(values / 255.0, illuminant=d65)
    return np.asarray(colour.XYZ_to_Lab(xyz, illuminant=d65), dtype=np.float64)


def delta_e_76(lab1: ArrayLike, lab2: ArrayLike) -> NDArray[np.float64]:
    """CIE 1976 colour difference: the Euclidean distance between CIELAB colours, broadcast over ``(..., 3)``.

    Range 0 (identical) upward; about 2.3 is a just-noticeable difference and black to white is 100.
    This is the ΔE of Murthy, Ullman & Hu (2025).
    """
    import colour  # lazy: slow to import

    return np.asarray(colour.delta_E(np.asarray(lab1, float), np.asarray(lab2, float), method="CIE 1976"))


def delta_e_2000(lab1: ArrayLike, lab2: ArrayLike) -> NDArray[np.float64]:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005 formulae), broadcast over ``(..., 3)`` CIELAB arrays.

    Range 0 (identical) upward; more perceptually uniform than ΔE76, with smaller values for the
    same pair (about 1 is a just-noticeable difference). Used by Murthy, Griffiths & Hawkins (2022).
    """
    import colour  # lazy: slow to import

    return np.asarray(colour.delta_E(np.asarray(lab1, float), np.asarray(lab2, float), method="CIE 2000"))
