"""Clutter on the belt: procedural e-waste (cables, chargers, screws, cardboard scraps, earbud
cases, other makers' phones) placed from a frame's plan. Never a class, never in the product's
mask (object index 0).

Objects are made on first use, per kind, as many as a frame has asked for so far, and then
reused; a frame hides those it does not use. A process that never renders clutter makes none, so
other datasets render exactly as before.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Dict, List, Sequence

import bpy

from ..core import colour

if TYPE_CHECKING:
    from ..core.plan import Distractor

# Nominal sizes (metres) and surface of each kind: (x, y, z, roughness, metallic).
_SIZES = {
    "charger": (0.045, 0.045, 0.028, 0.35, 0.0),
    "screw": (0.012, 0.004, 0.004, 0.3, 1.0),
    "cardboard": (0.09, 0.06, 0.002, 0.9, 0.0),
    "earbuds_case": (0.06, 0.05, 0.024, 0.25, 0.0),
    "generic_phone": (0.074, 0.158, 0.0085, 0.35, 0.0),
}
# A generic phone's screen: black glass over the top face (material slot 1).
_GLASS_SRGB = (0.015, 0.015, 0.018)
CABLE_RADIUS_M = 0.0022


class Clutter:
    def __init__(self, collection: bpy.types.Collection):
        self.collection = collection
        self.pool: Dict[str, List[bpy.types.Object]] = {}

    def _make(self, kind: str) -> bpy.types.Object:
        name = f"clutter_{kind}_{len(self.pool.get(kind, [])):02d}"
        mat = bpy.data.materials.new(name)
        mat.use_fake_user = True
        mat.use_nodes = True
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        if kind == "cable":
            curve = bpy.data.curves.new(name, "CURVE")
            curve.dimensions = "3D"
            curve.bevel_depth = CABLE_RADIUS_M
            curve.bevel_resolution = 2
            spline = curve.splines.new("POLY")
            spline.points.add(7)
            curve.materials.append(mat)
            obj = bpy.data.objects.new(name, curve)
            bsdf.inputs["Roughness"].default_value = 0.45
        else:
            mesh = bpy.data.meshes.new(name)
            h = 0.5
            verts = [(x, y, z) for z in (0, 1) for y in (-h, h) for x in (-h, h)]
            faces = [
                (0, 1, 3, 2),
                (4, 6, 7, 5),
                (0, 4, 5, 1),
                (2, 3, 7, 6),
                (0, 2, 6, 4),
                (1, 5, 7, 3),
            ]
            mesh.from_pydata(verts, [], faces)
            mesh.materials.append(mat)
            if kind == "generic_phone":
                mesh.materials.append(_glass(name))
                mesh.polygons[1].material_index = 1  # the top face (z = 1)
            obj = bpy.data.objects.new(name, mesh)
            if kind != "cardboard":  # a scrap keeps its torn square edges
                bevel = obj.modifiers.new("bevel", "BEVEL")
                bevel.segments = 3
                bevel.offset_type = "PERCENT"
                widths = {"charger": 25, "earbuds_case": 25, "generic_phone": 8}
                bevel.width_pct = widths.get(kind, 45)
            _, _, _, rough, metal = _SIZES[kind]
            bsdf.inputs["Roughness"].default_value = rough
            bsdf.inputs["Metallic"].default_value = metal
        obj.pass_index = 0
        obj.hide_render = True
        self.collection.objects.link(obj)
        self.pool.setdefault(kind, []).append(obj)
        return obj

    def apply(self, distractors: Sequence[Distractor]) -> None:
        used: Dict[str, int] = {}
        shown = set()
        for d in distractors:
            if d.product is not None:  # shown by scene/products.py
                continue
            k = used.get(d.kind, 0)
            used[d.kind] = k + 1
            objs = self.pool.get(d.kind, [])
            obj = objs[k] if k < len(objs) else self._make(d.kind)
            self._pose(obj, d)
            shown.add(obj.name)
        for objs in self.pool.values():
            for obj in objs:
                hide = obj.name not in shown
                if obj.hide_render != hide:
                    obj.hide_render = hide

    def _pose(self, obj: bpy.types.Object, d: Distractor) -> None:
        mat = obj.active_material
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (*colour.srgb3_to_linear(d.srgb), 1.0)
        obj.rotation_mode = "XYZ"
        obj.rotation_euler = (0.0, 0.0, math.radians(d.yaw_deg))
        if d.kind == "cable":
            spline = obj.data.splines[0]
            for p, (x, y) in zip(spline.points, d.path_m):
                p.co = (x, y, CABLE_RADIUS_M, 1.0)
            obj.location = (d.offset_m[0], d.offset_m[1], 0.0)
            obj.scale = (1.0, 1.0, 1.0)
            return
        sx, sy, sz, _, _ = _SIZES[d.kind]
        k = d.scale
        obj.scale = (sx * k, sy * k, sz * k if d.kind != "cardboard" else sz)
        obj.location = (d.offset_m[0], d.offset_m[1], 0.0)
        if d.kind == "generic_phone" and not d.screen_up:
            # Face down: turned over about its long axis, lifted by its thickness onto the belt.
            obj.rotation_euler = (0.0, math.pi, math.radians(d.yaw_deg))
            obj.location = (d.offset_m[0], d.offset_m[1], sz * k)


def _glass(name: str) -> bpy.types.Material:
    mat = bpy.data.materials.new(f"{name}_glass")
    mat.use_fake_user = True
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*colour.srgb3_to_linear(_GLASS_SRGB), 1.0)
    bsdf.inputs["Roughness"].default_value = 0.08
    return mat
