"""HDRI pixels prepared for the world shader, with numpy and no bpy.

World strength is normalised per HDRI: strength 1 gives every HDRI the same horizontal
irradiance. The pixels are reduced to the importance map's size and lightly blurred; the bpy side
(scene/world.py) only reads the EXR and packs the result into an image.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

# Horizontal irradiance (luminance-weighted, upper hemisphere) that an HDRI at strength 1 is
# scaled to. Raw studio HDRIs differ by 13x (night 0.53 .. city 7.06).
HDRI_REFERENCE_IRRADIANCE = 1.5
HDRI_MAX_WIDTH = 256  # importance map is 256 x 128 too: one map cell per pixel
HDRI_BLUR_PASSES = 2


def prepare(px: np.ndarray, w: int, h: int) -> Tuple[float, np.ndarray]:
    """(strength gain, reduced and blurred (h', w', 4) pixels) of flat equirectangular RGBA
    float32 pixels as Blender stores them (row 0 = bottom)."""
    gain = HDRI_REFERENCE_IRRADIANCE / max(1e-6, upper_irradiance(px, w, h))
    px = px.reshape(h, w, 4)
    # Half resolution (box filter): a quarter of the per-session copy, and still far
    # sharper than what a phone's back glass reflects at 256 px.
    while w > HDRI_MAX_WIDTH:
        px = 0.25 * (px[0::2, 0::2] + px[1::2, 0::2] + px[0::2, 1::2] + px[1::2, 1::2])
        h, w = px.shape[:2]
    # Spread point-like sources (lamps, sun; up to 3e4 in these files) over a few
    # importance-map cells: a source smaller than a map cell is found by BSDF sampling
    # only, and speckled the belt with fireflies at 16 samples.
    return gain, blur_equirect(px, HDRI_BLUR_PASSES)


def blur_equirect(px: np.ndarray, passes: int) -> np.ndarray:
    """3x3 box blur, repeated: wraps around in longitude, clamps at the poles."""
    out = px.astype(np.float32, copy=True)
    for _ in range(passes):
        out = (np.roll(out, 1, axis=1) + out + np.roll(out, -1, axis=1)) / 3.0
        up = np.concatenate([out[:1], out[:-1]], axis=0)
        down = np.concatenate([out[1:], out[-1:]], axis=0)
        out = (up + out + down) / 3.0
    return out


def upper_irradiance(px: np.ndarray, w: int, h: int) -> float:
    """Luminance irradiance on an upward-facing plane from equirectangular RGBA pixels."""
    px = px.reshape(h, w, 4)
    lum = 0.2126 * px[..., 0] + 0.7152 * px[..., 1] + 0.0722 * px[..., 2]
    lat = (np.arange(h) + 0.5) / h * np.pi - np.pi / 2  # row 0 is the bottom (nadir)
    weight = np.clip(np.sin(lat), 0.0, None) * np.cos(lat) * (np.pi / h) * (2 * np.pi / w)
    return float((lum.astype(np.float64) * weight[:, None]).sum())
