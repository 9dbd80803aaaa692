"""The bpy adapters, and `Scene`, which composes them: everything the render server asks of
Blender.

Everything is created once in Scene.__init__; a frame only changes values on existing
data-blocks (no per-frame meshes, materials, images or lights), so a long-lived process does not
grow. Phones, HDRI images and belt photos are made on first use and then reused. The order in
which data-blocks are created is part of the output (names, object order in a Cycles session):
keep it.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, List, Optional, Tuple

import bpy
import numpy as np

from .. import compat
from ..core import annotate, catalog, distortion, pngio
from ..core.process import rss_bytes
from ..core.plan import check_known
from .backgrounds import Backgrounds
from .cases import WALL_M, Cases
from .belt_line import BeltLine
from .clutter import Clutter
from .wear import Wear
from .measure import Measurements
from .passes import Passes
from . import phones, pile
from .products import Product, Products
from .render import render_still
from .rig import Rig
from .settings import FrameSettings, clear_default_scene, setup_render
from .world import World

if TYPE_CHECKING:
    from ..core.plan import FramePlan


class Scene:
    def __init__(self, catalog_data: Optional[dict] = None, persistent_data: bool = False):
        self.catalog = catalog_data or catalog.load()
        self.models = catalog.models_by_id(self.catalog)
        self.hdris = compat.studio_hdris()
        compat.restore_numpy_bool()

        self.scene = bpy.context.scene
        clear_default_scene()
        self.collection = self.scene.collection
        setup_render(self.scene, persistent_data)
        self.settings = FrameSettings(self.scene)
        self.backgrounds = Backgrounds(self.collection)
        self.belt_line = BeltLine(self.collection, self.backgrounds)  # made on first use
        self.rig = Rig(self.scene, self.collection)
        self.world = World(self.scene, self.hdris)
        self.passes = Passes(self.scene)
        self.products = Products(self.scene, self.collection, self.models)
        self.measure = Measurements(self.scene, self.rig.camera, self.passes)
        self.clutter = Clutter(self.collection)  # makes nothing until a plan has clutter
        self.cases = Cases()  # makes nothing until a plan has a case
        self.wear = Wear()  # makes nothing until a plan has wear
        self.settle_seconds: Optional[float] = None  # the last frame's pile settle
        # The factory-startup scene leaves orphans behind (its world, ...): drop them once.
        compat.purge_orphans()

    def apply(self, plan: FramePlan) -> List[Tuple[int, Product]]:
        """Set the scene up for the plan; the products shown, (instance id, product), the
        plan's product (id 1) first."""
        check_known(plan, list(self.models), list(self.hdris))
        self.settings.apply(plan.render)
        self.passes.set_depth(plan.outputs.depth is not None)
        # Products riding as clutter are shown and posed like products, with object index 0.
        riding = [(0, d.product) for d in plan.distractors if d.product is not None]
        shown = self.products.show_all(
            [(1, plan.product)] + [(o.id, o) for o in plan.others] + riding
        )
        shown = [x for x in shown if x[0] > 0]
        # Each phone's case and wear (library products have none).
        by_id = {1: plan.product, **{o.id: o for o in plan.others}}
        worn = [
            (iid, obj if isinstance(obj, phones.BuiltPhone) else None, by_id[iid])
            for iid, obj in shown
        ]
        self.cases.apply([(phone, p) for _, phone, p in worn])
        self.wear.apply(worn)
        self.rig.apply_camera(plan.camera)
        self.rig.apply_lights(plan.lights)
        self.rig.apply_motion(plan.motion)
        self.world.apply(plan.world)
        self.backgrounds.apply(plan.background)
        self.belt_line.apply(plan.belt)
        self.clutter.apply(plan.distractors)
        self.settle_seconds = self.settle(plan, shown) if plan.pile is not None else None
        return shown

    def settle(self, plan: FramePlan, shown: List[Tuple[int, Product]]) -> float:
        """Drop the plan's pile and leave each product at its settled pose; the seconds taken."""
        assert plan.pile is not None
        by_id = dict(shown)
        plans = {1: plan.product, **{o.id: o for o in plan.others}}
        items = []
        for d in plan.pile.drops:
            product = by_id[d.id]
            loc, rot = self.products.poses[d.id]
            m = pile.drop_matrix(loc, rot, d.height_m, d.tilt_deg)
            box = self.products.box(product)
            if plans[d.id].case_kind is not None and isinstance(product, phones.BuiltPhone):
                # A cased phone collides as its case: the wall around it and under it (the box
                # is centred: a shell's open front counts as covered too, a wallet's is).
                box = (box[0] + 2 * WALL_M, box[1] + 2 * WALL_M, box[2] + 2 * WALL_M)
            items.append((product.root, box, m))
        return pile.settle(
            self.scene, items, plan.pile.frames, plan.pile.substeps, plan.pile.solver_iterations
        )

    def render(self, plan: FramePlan) -> dict:
        t0 = time.perf_counter()
        shown = self.apply(plan)
        product = shown[0][1]
        render_still(self.scene, plan.outputs.image)

        W, H = plan.render.resolution
        camera = pinhole = self.measure.camera(W, H)
        ids = pinhole_ids = self.measure.id_map(shown, W, H)
        lens = _lens(plan, camera["K"], W, H)
        K_render = camera["K"]
        if lens is not None:
            camera = {**camera, "K": lens[2]}  # the distorted camera's, for the label
            # One mapping for the picture and every annotation: geometry stays exact.
            w, h, ch, px = pngio.read(plan.outputs.image)
            img = np.frombuffer(px, dtype=np.uint8).reshape(h, w, ch)
            warped = distortion.remap_bilinear(img, lens[0], lens[1])
            pngio.write(plan.outputs.image, w, h, ch, warped.tobytes())
            ids = distortion.remap_nearest(ids, lens[0], lens[1])
        # The mask is every product's pixels; bbox and visible pixels are the plan's product's.
        mask = ids > 0
        bbox, visible = annotate.mask_bbox(ids == 1)
        if plan.outputs.mask:
            os.makedirs(os.path.dirname(plan.outputs.mask), exist_ok=True)
            pngio.write(plan.outputs.mask, W, H, 1, (mask.astype(np.uint8) * 255).tobytes())
        if plan.outputs.depth:
            remap = (
                None if lens is None else (lambda z: distortion.remap_nearest(z, lens[0], lens[1]))
            )
            self.measure.write_depth(plan.outputs.depth, W, H, K_render, remap)
        if plan.outputs.instances:
            self.measure.write_ids(plan.outputs.instances, ids)

        result = {
            "index": plan.index,
            "image": plan.outputs.image,
            "mask": plan.outputs.mask,
            "bbox": bbox,
            "visible_pixels": visible,
            # Silhouettes are measured on the render (the pinhole camera), before any distortion.
            "visible_fraction": round(self.measure.visible_fraction(product, pinhole, W, H), 6),
            "depth": plan.outputs.depth,
            "depth_units": "mm",
            "camera": camera,
            "product": self.measure.product(product),
            "seconds": round(time.perf_counter() - t0, 6),
            "blender_version": compat.version_string(),
            "rss_bytes": rss_bytes(),
        }
        cam_at = tuple(self.measure.camera_obj.matrix_world.translation)
        c = plan.camera
        k = None if lens is None else (K_render, c.distortion_k1 or 0.0, c.distortion_k2 or 0.0)
        wear = self.wear.boxes(camera, cam_at, W, H, k)
        if 1 in wear:
            result["wear"] = wear[1]
        if self.settle_seconds is not None:
            result["settle_seconds"] = round(self.settle_seconds, 6)
        if plan.others or plan.outputs.instances:
            # Occlusion and visible fractions on the render; boxes and pixels where they show.
            result["instances"] = self.measure.instances(shown, pinhole_ids, pinhole, W, H)
            for inst in result["instances"]:
                if lens is not None:
                    inst["bbox"], inst["visible_pixels"] = annotate.mask_bbox(ids == inst["id"])
                if inst["id"] in wear:
                    inst["wear"] = wear[inst["id"]]
        return result

    def purge(self) -> int:
        return compat.purge_orphans()


def _lens(plan: FramePlan, K, W: int, H: int):
    """(su, sv, K of the distorted camera): where each pixel of the distorted picture samples
    the render, or None without distortion."""
    c = plan.camera
    if c.distortion_k1 is None and c.distortion_k2 is None:
        return None
    k1, k2 = c.distortion_k1 or 0.0, c.distortion_k2 or 0.0
    K_out = distortion.lens_K(K, k1, k2, W, H)
    su, sv = distortion.source_map(K, K_out, k1, k2, W, H)
    return su, sv, K_out
