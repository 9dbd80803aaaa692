"""Mapping a background photo onto the belt, with no bpy (docs/render-protocol.md, "Backgrounds").

The crop [u0, v0, u1, v1] (fractions of the photo; u right, v down from the top edge, like image
rows) is laid on the belt centred at the world origin, turned by rotation_deg counter-clockwise
as seen from above, with square pixels, its longer side IMAGE_SPAN_M long. At the typical
camera distance of 0.25-0.45 m (35 mm lens on a 36 mm sensor) the view is 0.26-0.46 m wide, so
the crop roughly fills the view; outside the crop the rest of the photo continues (mirrored or
repeated beyond the photo's edges).
"""
from __future__ import annotations

import math
from typing import Sequence, Tuple

IMAGE_SPAN_M = 0.40
MAX_IMAGE_SIDE_PX = 2048


def crop_mapping(
    crop: Sequence[float],
    image_w: int,
    image_h: int,
    rotation_deg: float,
    span_m: float = IMAGE_SPAN_M,
) -> Tuple[float, Tuple[float, float], Tuple[float, float]]:
    """Parameters of "uv = location + scale * R(rotation) * (x, y)" from belt metres to Blender
    image coordinates (u right, v up from the bottom edge, both 0..1 over the whole photo).

    Returns (rotation_rad, scale_xy, location_xy): rotate the belt point by rotation_rad about
    +z, then scale per axis, then add the location (two Mapping nodes: the first rotates, the
    second scales and translates).
    """
    u0, v0, u1, v1 = crop
    cw = (u1 - u0) * image_w
    ch = (v1 - v0) * image_h
    if cw <= 0 or ch <= 0:
        raise ValueError(f"empty crop {list(crop)}")
    m_per_px = span_m / max(cw, ch)
    cu = (u0 + u1) / 2
    cv = 1.0 - (v0 + v1) / 2  # v measured from the bottom in Blender
    return (
        -math.radians(rotation_deg),
        (1.0 / (m_per_px * image_w), 1.0 / (m_per_px * image_h)),
        (cu, cv),
    )


def belt_to_uv(x: float, y: float, mapping) -> Tuple[float, float]:
    """Apply crop_mapping's result to one belt point (what the shader nodes compute)."""
    rot, (sx, sy), (lx, ly) = mapping
    c, s = math.cos(rot), math.sin(rot)
    rx, ry = c * x - s * y, s * x + c * y
    return lx + sx * rx, ly + sy * ry


def reduced_size(w: int, h: int, max_side: int = MAX_IMAGE_SIDE_PX) -> Tuple[int, int, int]:
    """(factor, w', h'): halve until the longer side fits max_side (box filter by `factor`)."""
    f = 1
    while max(w, h) // f > max_side:
        f *= 2
    return f, w // f, h // f
