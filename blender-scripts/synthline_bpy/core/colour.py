"""Colour maths with no bpy: sRGB transfer functions, hex parsing.

Blender's colour inputs (material base colour, light colour, world colour) are scene-linear, while
FramePlans and the catalog speak sRGB; every conversion goes through here. A light's colour
temperature is converted by the planner (packages/planner kelvinToRgb): plans carry its `rgb`.
"""
from __future__ import annotations

import re
from typing import Sequence, Tuple

RGB = Tuple[float, float, float]

_HEX_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")


def srgb_to_linear(c: float) -> float:
    """IEC 61966-2-1 sRGB decoding of one channel in [0, 1]."""
    if c <= 0.04045:
        return c / 12.92
    return ((c + 0.055) / 1.055) ** 2.4


def linear_to_srgb(c: float) -> float:
    """IEC 61966-2-1 sRGB encoding of one channel; negative input clamps to 0."""
    if c <= 0.0:
        return 0.0
    if c <= 0.0031308:
        return c * 12.92
    return 1.055 * c ** (1.0 / 2.4) - 0.055


def srgb3_to_linear(rgb: Sequence[float]) -> RGB:
    r, g, b = rgb
    return (srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b))


def linear3_to_srgb(rgb: Sequence[float]) -> RGB:
    r, g, b = rgb
    return (linear_to_srgb(r), linear_to_srgb(g), linear_to_srgb(b))


def is_hex(s: object) -> bool:
    return isinstance(s, str) and bool(_HEX_RE.match(s))


def hex_to_srgb(s: str) -> RGB:
    """'#RRGGBB' -> sRGB floats in [0, 1]."""
    if not is_hex(s):
        raise ValueError(f"not a #RRGGBB colour: {s!r}")
    return (int(s[1:3], 16) / 255.0, int(s[3:5], 16) / 255.0, int(s[5:7], 16) / 255.0)


def srgb_to_hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c * 255))):02X}" for c in rgb)


def hex_to_linear(s: str) -> RGB:
    return srgb3_to_linear(hex_to_srgb(s))


def relative_luminance(linear_rgb: Sequence[float]) -> float:
    """Rec. 709 luminance of a linear colour."""
    r, g, b = linear_rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def scale(rgb: Sequence[float], k: float) -> RGB:
    return (rgb[0] * k, rgb[1] * k, rgb[2] * k)


def mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)
