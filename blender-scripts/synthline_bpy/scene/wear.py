"""A phone's wear: a lit screen (a wallpaper), a cracked screen, a sticker or asset tag. Thin
overlays parented to a builtin phone's root, just off its screen or its back (or its case's
back), so they take the phone's pose; one of each per model, made on first use, their geometry
set from the plan each frame, hidden when a frame has none. Part of the product (its object
index): they lie inside its outline, so masks and boxes do not change.

After the render, `boxes` projects each shown crack and sticker through the camera: the image
box where it shows, or None when it faces away from the camera or lies outside the image.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import bpy
import numpy as np

from .. import compat
from ..core import annotate, colour
from ..core.annotate import PRODUCT_PASS_INDEX
from . import phones
from .cases import WALL_M

if TYPE_CHECKING:
    from ..core.plan import Product as PlanProduct

LIFT_M = 0.00012  # overlays float this far off the surface they lie on
CRACK_WIDTH_M = 0.0006
BEZEL_M = 0.0015
KINDS = ("screen", "crack", "sticker")


def _emission(name: str) -> Tuple[bpy.types.Material, bpy.types.NodeTree]:
    mat = bpy.data.materials.new(name)
    mat.use_fake_user = True
    mat.use_nodes = True
    tree = mat.node_tree
    for n in list(tree.nodes):
        tree.nodes.remove(n)
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    em = tree.nodes.new("ShaderNodeEmission")
    em.name = "emission"
    tree.links.new(em.outputs["Emission"], out.inputs["Surface"])
    compat.not_a_light(mat)
    return mat, tree


def _screen_material(name: str) -> bpy.types.Material:
    """Emission of a gradient between colours A and B (the wallpaper) across the screen."""
    mat, tree = _emission(name)
    coords = tree.nodes.new("ShaderNodeTexCoord")
    grad = tree.nodes.new("ShaderNodeTexGradient")
    mix = tree.nodes.new("ShaderNodeMixRGB")
    mix.name = "wallpaper"
    tree.links.new(coords.outputs["Generated"], grad.inputs["Vector"])
    tree.links.new(grad.outputs["Fac"], mix.inputs["Fac"])
    tree.links.new(mix.outputs["Color"], tree.nodes["emission"].inputs["Color"])
    tree.nodes["emission"].inputs["Strength"].default_value = 0.8
    return mat


def _crack_material(name: str) -> bpy.types.Material:
    """Broken glass scatters light: bright lines whatever the lighting."""
    mat, tree = _emission(name)
    tree.nodes["emission"].inputs["Color"].default_value = (0.85, 0.9, 1.0, 1.0)
    tree.nodes["emission"].inputs["Strength"].default_value = 1.2
    return mat


def _sticker_material(name: str) -> bpy.types.Material:
    """Paper in a colour, with barcode stripes (a thresholded wave) across it."""
    mat = bpy.data.materials.new(name)
    mat.use_fake_user = True
    mat.use_nodes = True
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = 0.7
    coords = tree.nodes.new("ShaderNodeTexCoord")
    wave = tree.nodes.new("ShaderNodeTexWave")
    wave.name = "wave"
    wave.wave_type = "BANDS"
    wave.bands_direction = "X"
    step = tree.nodes.new("ShaderNodeMath")
    step.name = "step"
    step.operation = "GREATER_THAN"
    mix = tree.nodes.new("ShaderNodeMixRGB")
    mix.name = "paper"
    mix.inputs["Color2"].default_value = (0.01, 0.01, 0.01, 1.0)
    tree.links.new(coords.outputs["Generated"], wave.inputs["Vector"])
    tree.links.new(wave.outputs["Fac"], step.inputs[0])
    tree.links.new(step.outputs["Value"], mix.inputs["Fac"])
    tree.links.new(mix.outputs["Color"], bsdf.inputs["Base Color"])
    return mat


_MAKE = {"screen": _screen_material, "crack": _crack_material, "sticker": _sticker_material}


class Wear:
    def __init__(self) -> None:
        # (model id, kind) -> overlay object
        self.built: Dict[Tuple[str, str], bpy.types.Object] = {}
        self.shown: List[bpy.types.Object] = []
        # kind -> (overlay, normal in the phone's frame) of this frame, for `boxes`
        self.frame: Dict[str, Tuple[bpy.types.Object, float]] = {}

    def _overlay(self, phone: phones.BuiltPhone, kind: str) -> bpy.types.Object:
        obj = self.built.get((phone.model_id, kind))
        if obj is None:
            name = f"{kind}:{phone.model_id}"
            mesh = bpy.data.meshes.new(name)
            mesh.materials.append(_MAKE[kind](name))
            obj = bpy.data.objects.new(name, mesh)
            obj.pass_index = PRODUCT_PASS_INDEX
            obj.hide_render = True
            phone.root.users_collection[0].objects.link(obj)
            obj.parent = phone.root
            self.built[(phone.model_id, kind)] = obj
        return obj

    @staticmethod
    def _set_mesh(obj: bpy.types.Object, verts, faces) -> None:
        mesh = obj.data
        mesh.clear_geometry()
        mesh.from_pydata(verts, [], faces)
        mesh.update()

    def apply(self, phone: Optional[phones.BuiltPhone], p: PlanProduct, cased: bool) -> None:
        """The plan's wear on `phone` (None: a library product), or none."""
        want: List[bpy.types.Object] = []
        self.frame = {}
        if phone is not None:
            lay = phone.layout
            top = lay.thickness / 2 + LIFT_M
            bottom = -lay.thickness / 2 - (WALL_M if cased else 0.0) - LIFT_M
            if p.wallpaper is not None:
                obj = self._overlay(phone, "screen")
                ring = lay.outline.outline(8, BEZEL_M)
                self._set_mesh(obj, [(x, y, top) for x, y in ring], [tuple(range(len(ring)))])
                mix = obj.active_material.node_tree.nodes["wallpaper"]
                for sock, srgb in zip(("Color1", "Color2"), p.wallpaper):
                    mix.inputs[sock].default_value = (*colour.srgb3_to_linear(srgb), 1.0)
                want.append(obj)
            if p.crack_lines is not None:
                obj = self._overlay(phone, "crack")
                verts, faces = _strips(p.crack_lines, lay.width, lay.height, top + LIFT_M)
                self._set_mesh(obj, verts, faces)
                want.append(obj)
                self.frame["crack"] = (obj, 1.0)
            if p.sticker_center is not None and p.sticker_size_m is not None:
                obj = self._overlay(phone, "sticker")
                front = p.sticker_side == "front"
                z = top + 2 * LIFT_M if front else bottom
                cx, cy = p.sticker_center[0] * lay.width, p.sticker_center[1] * lay.height
                hw, hh = p.sticker_size_m[0] / 2, p.sticker_size_m[1] / 2
                quad = [(cx - hw, cy - hh, z), (cx + hw, cy - hh, z)]
                quad += [(cx + hw, cy + hh, z), (cx - hw, cy + hh, z)]
                self._set_mesh(obj, quad, [(0, 1, 2, 3) if front else (3, 2, 1, 0)])
                nodes = obj.active_material.node_tree.nodes
                srgb = p.sticker_srgb or (1.0, 1.0, 1.0)
                nodes["paper"].inputs["Color1"].default_value = (*colour.srgb3_to_linear(srgb), 1.0)
                # Stripes: a wave of `stripes` bands across the sticker, none for a plain one.
                nodes["wave"].inputs["Scale"].default_value = float(p.sticker_stripes) / 2
                nodes["step"].inputs[1].default_value = 0.65 if p.sticker_stripes else 2.0
                want.append(obj)
                self.frame["sticker"] = (obj, 1.0 if front else -1.0)
        for old in self.shown:
            if not any(old is w for w in want):
                old.hide_render = True
        for w in want:
            if w.hide_render:
                w.hide_render = False
        self.shown = want

    def boxes(self, camera: dict, cam_location: Sequence[float], W: int, H: int) -> dict:
        """[x, y, w, h] in the image of this frame's crack and sticker (None: not seen)."""
        out: Dict[str, Optional[List[int]]] = {}
        for kind, (obj, normal_z) in self.frame.items():
            m = np.array(obj.matrix_world)
            local = np.array([v.co[:] for v in obj.data.vertices], dtype=np.float64)
            world = local @ m[:3, :3].T + m[:3, 3]
            normal = m[:3, :3] @ np.array([0.0, 0.0, normal_z])
            facing = float(np.dot(normal, np.asarray(cam_location) - world.mean(axis=0))) > 0
            uvz = annotate.project(world, camera["K"], camera["world_to_camera"])
            if not facing or not np.all(uvz[:, 2] > 0):
                out[kind] = None
                continue
            x0 = max(0, int(math.floor(uvz[:, 0].min())))
            y0 = max(0, int(math.floor(uvz[:, 1].min())))
            x1 = min(W, int(math.ceil(uvz[:, 0].max())))
            y1 = min(H, int(math.ceil(uvz[:, 1].max())))
            out[kind] = [x0, y0, x1 - x0, y1 - y0] if x1 > x0 and y1 > y0 else None
        return out


def _strips(lines, width: float, height: float, z: float):
    """Thin quads along each polyline (points as fractions of the phone's width and height)."""
    verts: List[Tuple[float, float, float]] = []
    faces: List[Tuple[int, int, int, int]] = []
    h = CRACK_WIDTH_M / 2
    for line in lines:
        pts = [(u * width, v * height) for u, v in line]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            dx, dy = x1 - x0, y1 - y0
            n = math.hypot(dx, dy)
            if n < 1e-9:
                continue
            px, py = -dy / n * h, dx / n * h
            k = len(verts)
            verts += [(x0 - px, y0 - py, z), (x1 - px, y1 - py, z)]
            verts += [(x1 + px, y1 + py, z), (x0 + px, y0 + py, z)]
            faces.append((k, k + 1, k + 2, k + 3))
    return verts, faces
