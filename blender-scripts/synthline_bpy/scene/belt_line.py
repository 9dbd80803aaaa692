"""The belt as a line has it: metal side rails along the travel (world x) at the belt's edges,
a seam across the belt, worn streaks and dirt in the belt's own material.

Made on first use: a process whose plans never have `belt` makes nothing and leaves the belt
material as it was, so other datasets render exactly as before. Once made, a frame without
`belt` hides the rails and the seam and sets the wear and dirt to 0 (the mix then passes the
belt's colour through unchanged).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional

import bpy

from .backgrounds import BELT_SIZE_M, Backgrounds

if TYPE_CHECKING:
    from ..core.plan import BeltLine as PlanBelt

RAIL_THICKNESS_M = 0.025
SEAM_WIDTH_M = 0.004
_RAIL_SRGB = (0.62, 0.63, 0.64)  # brushed aluminium, linear-ish grey
_SEAM_RGB = (0.16, 0.16, 0.16)
_WEAR_RGB = (0.32, 0.31, 0.29)  # lighter, dusty grey of worn rubber
_DIRT_RGB = (0.03, 0.025, 0.02)


def _box(name: str, rgb, roughness: float, metallic: float) -> bpy.types.Object:
    mesh = bpy.data.meshes.new(name)
    h = 0.5
    verts = [(x, y, z) for z in (0, 1) for y in (-h, h) for x in (-h, h)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    mesh.from_pydata(verts, [], faces)
    mat = bpy.data.materials.new(name)
    mat.use_fake_user = True
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    mesh.materials.append(mat)
    obj = bpy.data.objects.new(name, mesh)
    obj.pass_index = 0
    obj.hide_render = True
    return obj


class BeltLine:
    def __init__(self, collection: bpy.types.Collection, backgrounds: Backgrounds):
        self.collection = collection
        self.backgrounds = backgrounds
        self.objects: Dict[str, bpy.types.Object] = {}
        self.nodes: Optional[Dict[str, bpy.types.Node]] = None

    def _build(self) -> None:
        for name in ("rail_left", "rail_right"):
            self.objects[name] = _box(f"belt_{name}", _RAIL_SRGB, 0.35, 1.0)
        self.objects["seam"] = _box("belt_seam", _SEAM_RGB, 0.6, 0.0)
        for obj in self.objects.values():
            self.collection.objects.link(obj)
        self.nodes = self._patterns()

    def _patterns(self) -> Dict[str, bpy.types.Node]:
        """Wear (streaks along the travel) and dirt (spots) mixed into the belt's colour."""
        mat = self.backgrounds._belt_material
        nt = mat.node_tree
        ramp = self.backgrounds._belt_nodes["ramp"]
        bsdf = nt.nodes["Principled BSDF"]
        base = bsdf.inputs["Base Color"]
        texco = nt.nodes.new("ShaderNodeTexCoord")
        nodes: Dict[str, bpy.types.Node] = {}
        prev = ramp.outputs["Color"]
        # (name, stretch of the pattern's coordinates, noise scale, threshold gain, offset, colour)
        for name, stretch, scale, gain, offset, rgb in (
            ("wear", (0.15, 6.0, 1.0), 2.5, 4.0, -2.2, _WEAR_RGB),
            ("dirt", (1.0, 1.0, 1.0), 18.0, 10.0, -6.3, _DIRT_RGB),
        ):
            mapping = nt.nodes.new("ShaderNodeMapping")
            mapping.vector_type = "POINT"
            mapping.inputs["Scale"].default_value = stretch
            noise = nt.nodes.new("ShaderNodeTexNoise")
            noise.inputs["Scale"].default_value = scale
            step = nt.nodes.new("ShaderNodeMath")
            step.operation = "MULTIPLY_ADD"
            step.use_clamp = True
            step.inputs[1].default_value = gain
            step.inputs[2].default_value = offset
            amount = nt.nodes.new("ShaderNodeMath")
            amount.operation = "MULTIPLY"
            amount.inputs[1].default_value = 0.0
            mix = nt.nodes.new("ShaderNodeMixRGB")
            mix.blend_type = "MIX"
            mix.inputs["Color2"].default_value = (*rgb, 1.0)
            nt.links.new(texco.outputs["Object"], mapping.inputs["Vector"])
            nt.links.new(mapping.outputs["Vector"], noise.inputs["Vector"])
            nt.links.new(noise.outputs["Fac"], step.inputs[0])
            nt.links.new(step.outputs["Value"], amount.inputs[0])
            nt.links.new(amount.outputs["Value"], mix.inputs["Fac"])
            nt.links.new(prev, mix.inputs["Color1"])
            prev = mix.outputs["Color"]
            nodes[f"{name}_amount"] = amount
            nodes[f"{name}_mapping"] = mapping
        nt.links.new(prev, base)
        return nodes

    def apply(self, b: Optional[PlanBelt]) -> None:
        if b is None:
            if self.nodes is None:
                return  # never built: nothing to undo
            for obj in self.objects.values():
                if not obj.hide_render:
                    obj.hide_render = True
            for name in ("wear", "dirt"):
                self.nodes[f"{name}_amount"].inputs[1].default_value = 0.0
            return
        if self.nodes is None:
            self._build()
        assert self.nodes is not None
        length = BELT_SIZE_M
        for side, name in ((-1.0, "rail_left"), (1.0, "rail_right")):
            rail = self.objects[name]
            y = b.centre_y_m + side * (b.width_m / 2 + RAIL_THICKNESS_M / 2)
            rail.location = (0.0, y, 0.0)
            rail.scale = (length, RAIL_THICKNESS_M, max(b.rail_height_m, 0.001))
            rail.hide_render = b.rail_height_m <= 0
        seam = self.objects["seam"]
        if b.seam_x_m is not None:
            seam.location = (b.seam_x_m, b.centre_y_m, 0.0)
            seam.scale = (SEAM_WIDTH_M, b.width_m, 0.0004)
            seam.hide_render = False
        else:
            seam.hide_render = True
        ox, oy = b.pattern_offset_m
        for name, amount in (("wear", b.wear), ("dirt", b.dirt)):
            self.nodes[f"{name}_amount"].inputs[1].default_value = amount
            self.nodes[f"{name}_mapping"].inputs["Location"].default_value = (ox, oy, 0.0)
