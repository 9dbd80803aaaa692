"""Packed in-memory images made from numpy pixels (belt texture, HDRIs, belt photos)."""
from __future__ import annotations

import bpy
import numpy as np


def packed_image(
    name: str, rgba: np.ndarray, colorspace: str = "Non-Color", float_buffer: bool = True
) -> bpy.types.Image:
    h, w = rgba.shape[:2]
    img = bpy.data.images.new(name, w, h, alpha=True, float_buffer=float_buffer)
    img.colorspace_settings.name = colorspace
    img.pixels.foreach_set(np.ascontiguousarray(rgba, dtype=np.float32).ravel())
    img.pack()  # keep the pixels with the data-block; there is no file behind it
    return img
