"""The fixed render settings of the scene, and a frame's render settings (engine, resolution,
samples, seed, denoising), set only when they change."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Tuple

import bpy

from .. import compat

if TYPE_CHECKING:
    from ..core.plan import Render

# Fixed camera exposure, in stops, like an industrial camera over a belt. Calibrated so that a
# white phone under the normalised HDRI at strength 1 plus one 40 W point light at 0.75 m
# renders at about sRGB 210, and a 0.2 sRGB belt at about 45 (see dev_render_examples.py).
EXPOSURE_EV = -1.3


def clear_default_scene() -> None:
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)
    for coll in (bpy.data.meshes, bpy.data.lights, bpy.data.cameras, bpy.data.materials):
        for block in list(coll):
            coll.remove(block)


def setup_render(s: bpy.types.Scene, persistent_data: bool) -> None:
    r = s.render
    r.engine = "CYCLES"
    compat.configure_cycles_fast(s)
    r.resolution_percentage = 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    r.film_transparent = False
    # Off by default: with persistent data Cycles keeps its scene between renders and the
    # noise pattern of a frame then depends on the frames before it (24 random plans in
    # three orders: 5 of 24 frames differed), which breaks "any frame re-renders
    # identically on any worker". It would save ~0.03-0.05 s per 128 px frame.
    r.use_persistent_data = persistent_data
    r.use_compositing = True
    r.use_sequencer = False
    r.dither_intensity = 0.0  # dithering adds noise that is not in the plan
    compat.disable_stamps(r)
    compat.png_settings(r.image_settings)
    compat.set_view_transform(s, EXPOSURE_EV)
    compat.enable_object_index_pass(bpy.context.view_layer)
    s.frame_set(1)


class FrameSettings:
    """A frame's render settings; each setter runs only when its value changed (fewer
    depsgraph updates per frame)."""

    def __init__(self, scene: bpy.types.Scene):
        self.scene = scene
        self._state: Dict[str, object] = {}

    def _set(self, key: str, value, setter: Callable) -> None:
        if self._state.get(key) != value:
            setter(value)
            self._state[key] = value

    def apply(self, render: Render) -> None:
        s = self.scene
        r = s.render
        self._set("engine", render.engine, lambda v: setattr(r, "engine", compat.engine_id(v)))
        self._set("res", render.resolution, self._set_resolution)
        self._set("samples", render.samples, self._set_samples)
        self._set("seed", render.seed, lambda v: setattr(s.cycles, "seed", v))
        self._set("denoise", render.denoise, lambda v: compat.set_denoise(s, v))
        if render.engine == "eevee" and hasattr(s, "eevee"):
            self._set(
                "eevee_samples", render.samples, lambda v: setattr(s.eevee, "taa_render_samples", v)
            )

    def _set_samples(self, n: int) -> None:
        self.scene.cycles.samples = n
        # With persistent data Cycles keeps the sample count its session was created with and
        # only re-reads the view layer's override on each render (measured on 3.4.1).
        bpy.context.view_layer.samples = n

    def _set_resolution(self, res: Tuple[int, int]) -> None:
        self.scene.render.resolution_x = res[0]
        self.scene.render.resolution_y = res[1]
