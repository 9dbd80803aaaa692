"""Rendering one frame to a PNG whose bytes depend only on the pixels."""
from __future__ import annotations

import os

import bpy

from ..core import pngio


class OutputMissing(RuntimeError):
    """Blender reported success but the image file is not there."""


def render_still(scene: bpy.types.Scene, out: str) -> None:
    """Render the scene as it stands to `out` (PNG), without Blender's text metadata."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = f"{out[:-4]}.tmp-{os.getpid()}.png"
    bpy.ops.render.render(write_still=False)
    bpy.data.images["Render Result"].save_render(tmp, scene=scene)
    if not os.path.isfile(tmp) or os.path.getsize(tmp) == 0:
        raise OutputMissing(f"render finished but {tmp} was not written")
    try:
        pngio.strip_metadata(tmp, out)
    finally:
        os.remove(tmp)
