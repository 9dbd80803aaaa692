"""A phone's wear: a lit screen (a wallpaper), a cracked screen, a sticker or asset tag,
scratches on the back, dust and smudges over both faces. Thin overlays parented to a builtin
phone's root, just off its screen or its back (or its case's), so they take the phone's pose;
one of each per phone (each copy of a model its own), made on first use, their geometry set
from the plan each frame, hidden when a frame has none. Part of the product (its object index):
they lie inside its outline, so masks and boxes do not change.

After the render, `boxes` projects each shown crack and sticker through the camera: the image
box where it shows, or None when it faces away from the camera or lies outside the image, per
instance.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import bpy
import numpy as np

from .. import compat
from ..core import annotate, colour, distortion
from ..core.annotate import PRODUCT_PASS_INDEX
from . import phones
from .cases import WALL_M, cover_m, show_only, tag

if TYPE_CHECKING:
    from ..core.plan import Product as PlanProduct

LIFT_M = 0.00012  # overlays float this far off the surface they lie on
CRACK_WIDTH_M = 0.0006
SCRATCH_WIDTH_M = 0.0007
BEZEL_M = 0.0015
KINDS = ("screen", "crack", "sticker", "scratches", "dust")


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


def _see_through(mat: bpy.types.Material, shader: bpy.types.Node) -> bpy.types.Node:
    """`shader` over what is under it, by a factor (the returned node's Fac input)."""
    tree = mat.node_tree
    out = tree.nodes["Material Output"]
    clear = tree.nodes.new("ShaderNodeBsdfTransparent")
    mix = tree.nodes.new("ShaderNodeMixShader")
    mix.name = "cover"
    tree.links.new(clear.outputs["BSDF"], mix.inputs[1])
    tree.links.new(shader.outputs["BSDF"], mix.inputs[2])
    tree.links.new(mix.outputs["Shader"], out.inputs["Surface"])
    if hasattr(mat, "blend_method"):  # EEVEE before 4.2 blends only when told
        mat.blend_method = "HASHED"
    return mix


def _scratch_material(name: str) -> bpy.types.Material:
    """Light, glossy lines where the finish is scratched through, showing by a strength."""
    mat = bpy.data.materials.new(name)
    mat.use_fake_user = True
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (0.75, 0.75, 0.76, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.3
    bsdf.inputs["Metallic"].default_value = 0.6
    _see_through(mat, bsdf)
    return mat


def _dust_material(name: str) -> bpy.types.Material:
    """Grey-brown dust in blotches (a thresholded noise), showing by a strength."""
    mat = bpy.data.materials.new(name)
    mat.use_fake_user = True
    mat.use_nodes = True
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (0.35, 0.32, 0.28, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.95
    mix = _see_through(mat, bsdf)
    coords = tree.nodes.new("ShaderNodeTexCoord")
    mapping = tree.nodes.new("ShaderNodeMapping")
    mapping.name = "mapping"
    mapping.vector_type = "POINT"
    mapping.inputs["Scale"].default_value = (350.0, 350.0, 350.0)
    noise = tree.nodes.new("ShaderNodeTexNoise")
    noise.inputs["Scale"].default_value = 1.0
    step = tree.nodes.new("ShaderNodeMath")
    step.operation = "MULTIPLY_ADD"
    step.use_clamp = True
    step.inputs[1].default_value = 4.0
    step.inputs[2].default_value = -2.2
    amount = tree.nodes.new("ShaderNodeMath")
    amount.name = "amount"
    amount.operation = "MULTIPLY"
    tree.links.new(coords.outputs["Object"], mapping.inputs["Vector"])
    tree.links.new(mapping.outputs["Vector"], noise.inputs["Vector"])
    tree.links.new(noise.outputs["Fac"], step.inputs[0])
    tree.links.new(step.outputs["Value"], amount.inputs[0])
    tree.links.new(amount.outputs["Value"], mix.inputs["Fac"])
    return mat


_MAKE = {
    "screen": _screen_material,
    "crack": _crack_material,
    "sticker": _sticker_material,
    "scratches": _scratch_material,
    "dust": _dust_material,
}


class Wear:
    def __init__(self) -> None:
        # (phone, kind) -> overlay object
        self.built: Dict[Tuple[str, str], bpy.types.Object] = {}
        self.shown: List[bpy.types.Object] = []
        # instance id -> kind -> (overlay, normal in the phone's frame) of this frame, for `boxes`
        self.frame: Dict[int, Dict[str, Tuple[bpy.types.Object, float]]] = {}

    def _overlay(self, phone: phones.BuiltPhone, kind: str) -> bpy.types.Object:
        obj = self.built.get((phone.root.name, kind))
        if obj is None:
            name = f"{kind}:{tag(phone)}"
            mesh = bpy.data.meshes.new(name)
            mesh.materials.append(_MAKE[kind](name))
            obj = bpy.data.objects.new(name, mesh)
            obj.pass_index = PRODUCT_PASS_INDEX
            obj.hide_render = True
            phone.root.users_collection[0].objects.link(obj)
            obj.parent = phone.root
            self.built[(phone.root.name, kind)] = obj
        # The phone's instance id, so the overlay is part of it in the index pass.
        if obj.pass_index != phone.root.pass_index:
            obj.pass_index = phone.root.pass_index
        return obj

    @staticmethod
    def _set_mesh(obj: bpy.types.Object, verts, faces) -> None:
        mesh = obj.data
        mesh.clear_geometry()
        mesh.from_pydata(verts, [], faces)
        mesh.update()

    def apply(self, items: Sequence[Tuple[int, Optional[phones.BuiltPhone], PlanProduct]]) -> None:
        """Each plan product's wear on its phone (instance id, phone or None for a library
        product, plan product); no other wear shown."""
        want: List[bpy.types.Object] = []
        self.frame = {}
        for iid, phone, p in items:
            if phone is not None:
                self.frame[iid] = self._apply_one(phone, p, want)
        self.shown = show_only(self.shown, want)

    def _apply_one(
        self, phone: phones.BuiltPhone, p: PlanProduct, want: List[bpy.types.Object]
    ) -> Dict[str, Tuple[bpy.types.Object, float]]:
        frame: Dict[str, Tuple[bpy.types.Object, float]] = {}
        lay = phone.layout
        # A closed wallet case stands over the screen: what lies on the front lies on its flap.
        top = lay.thickness / 2 + cover_m(p.case_kind) + LIFT_M
        bottom = -lay.thickness / 2 - (WALL_M if p.case_kind is not None else 0.0) - LIFT_M
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
            frame["crack"] = (obj, 1.0)
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
            frame["sticker"] = (obj, 1.0 if front else -1.0)
        if p.scratch_lines is not None and p.scratch_strength is not None:
            obj = self._overlay(phone, "scratches")
            lines = [tuple(line) for line in p.scratch_lines]
            under = bottom + LIFT_M / 2  # under a sticker, over the back
            verts, faces = _strips(lines, lay.width, lay.height, under, SCRATCH_WIDTH_M)
            self._set_mesh(obj, verts, faces)
            cover = obj.active_material.node_tree.nodes["cover"]
            cover.inputs["Fac"].default_value = p.scratch_strength
            want.append(obj)
        if p.dust_strength is not None and p.dust_offset is not None:
            obj = self._overlay(phone, "dust")
            ring = lay.outline.outline(8, 0.0005)
            n = len(ring)
            # Over the screen (wound up) and under the back (wound down), just off each.
            verts = [(x, y, top + 3 * LIFT_M) for x, y in ring]
            verts += [(x, y, bottom - LIFT_M) for x, y in ring]
            faces = [tuple(range(n)), tuple(reversed(range(n, 2 * n)))]
            self._set_mesh(obj, verts, faces)
            nodes = obj.active_material.node_tree.nodes
            nodes["amount"].inputs[1].default_value = 0.7 * p.dust_strength
            ox, oy = p.dust_offset
            nodes["mapping"].inputs["Location"].default_value = (ox, oy, 0.0)
            want.append(obj)
        return frame

    def boxes(
        self,
        camera: dict,
        cam_location: Sequence[float],
        W: int,
        H: int,
        lens: Optional[Tuple[list, float, float]] = None,
    ) -> Dict[int, Dict[str, Optional[List[int]]]]:
        """Instance id -> [x, y, w, h] in the image of its crack and sticker (None: not seen),
        for the instances that have either; `camera` the distorted camera's, `lens` (the
        render's K, k1, k2) when distorted."""
        return {
            iid: {
                kind: _box(obj, z, camera, cam_location, W, H, lens) for kind, (obj, z) in f.items()
            }
            for iid, f in self.frame.items()
            if f
        }


def _box(obj, normal_z: float, camera: dict, cam_location, W: int, H: int, lens):
    """[x, y, w, h] of an overlay in the image; None when it faces away or is not in front."""
    m = np.array(obj.matrix_world)
    local = np.array([v.co[:] for v in obj.data.vertices], dtype=np.float64)
    world = local @ m[:3, :3].T + m[:3, 3]
    normal = m[:3, :3] @ np.array([0.0, 0.0, normal_z])
    facing = float(np.dot(normal, np.asarray(cam_location) - world.mean(axis=0))) > 0
    K = camera["K"] if lens is None else lens[0]
    uvz = annotate.project(world, K, camera["world_to_camera"])
    if not facing or not np.all(uvz[:, 2] > 0):
        return None
    if lens is not None:
        uvz[:, :2] = distortion.distort_pixels(uvz[:, :2], lens[0], camera["K"], *lens[1:])
    x0 = max(0, int(math.floor(uvz[:, 0].min())))
    y0 = max(0, int(math.floor(uvz[:, 1].min())))
    x1 = min(W, int(math.ceil(uvz[:, 0].max())))
    y1 = min(H, int(math.ceil(uvz[:, 1].max())))
    return [x0, y0, x1 - x0, y1 - y0] if x1 > x0 and y1 > y0 else None


def _strips(lines, width: float, height: float, z: float, line_width: float = CRACK_WIDTH_M):
    """Thin quads along each polyline (points as fractions of the phone's width and height)."""
    verts: List[Tuple[float, float, float]] = []
    faces: List[Tuple[int, int, int, int]] = []
    h = line_width / 2
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
