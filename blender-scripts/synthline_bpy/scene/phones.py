"""Build a phone in Blender from a catalog entry (thin adapter over core/geometry.py and
core/phone_materials.py).

One root empty per model (origin = body bounding-box centre) with mesh children body, front,
camera, buttons. Built once per process and cached; frames only toggle visibility, set colours
and move the root.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import bmesh
import bpy

from ..core import colour
from .. import compat
from ..core import geometry, phone_materials
from ..core.annotate import PRODUCT_PASS_INDEX


@dataclass
class BuiltPhone:
    model_id: str
    root: bpy.types.Object
    parts: List[bpy.types.Object]
    layout: geometry.PhoneLayout
    entry: dict
    # role -> (material, Principled BSDF node)
    materials: Dict[str, Tuple[bpy.types.Material, bpy.types.Node]] = field(default_factory=dict)
    visible: bool = True

    def set_pass_index(self, index: int) -> None:
        """The object index of the root and every part (the instance id in the index pass)."""
        if self.root.pass_index == index:
            return
        for o in [self.root] + list(self.parts):
            o.pass_index = index

    def set_visible(self, visible: bool) -> None:
        if visible == self.visible:
            return
        for o in self.parts:
            o.hide_render = not visible  # hide_viewport would also rebuild depsgraph relations
        self.visible = visible

    def set_colour(self, colour_name: str, body_srgb: Sequence[float]) -> None:
        """Body colour from the plan; frame and front colours from the catalog entry."""
        srgb = phone_materials.part_colours(self.entry, colour_name, body_srgb)
        for role, (mat, bsdf) in self.materials.items():
            src = phone_materials.COLOUR_SOURCE.get(role)
            if src is None:
                continue
            lin = colour.srgb3_to_linear(srgb[src])
            sock = compat.principled_input(bsdf, "Base Color")
            new = (lin[0], lin[1], lin[2], 1.0)
            if tuple(sock.default_value) != new:
                sock.default_value = new


def _material(
    name: str, role: str, layout: geometry.PhoneLayout
) -> Tuple[bpy.types.Material, bpy.types.Node]:
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    base, metallic, rough, spec = phone_materials.look(role, layout)
    lin = colour.srgb3_to_linear(base)
    compat.set_principled(
        bsdf,
        Base_Color=(lin[0], lin[1], lin[2], 1.0),
        Metallic=metallic,
        Roughness=rough,
        Specular=spec,
    )
    mat.diffuse_color = (lin[0], lin[1], lin[2], 1.0)
    return mat, bsdf


def _mesh_object(
    name: str,
    part: geometry.MeshPart,
    slot_of: Dict[str, int],
    materials: Sequence[bpy.types.Material],
) -> bpy.types.Object:
    mesh = bpy.data.meshes.new(name)
    bm = bmesh.new()
    verts = [bm.verts.new(v) for v in part.verts]
    for idx, role, smooth in zip(part.faces, part.roles, part.smooth):
        f = bm.faces.new([verts[i] for i in idx])
        f.material_index = slot_of[role]
        f.smooth = smooth
    bm.normal_update()
    bm.to_mesh(mesh)
    bm.free()
    for m in materials:
        mesh.materials.append(m)
    obj = bpy.data.objects.new(name, mesh)
    obj.pass_index = PRODUCT_PASS_INDEX
    return obj


def build_phone(entry: dict, collection: bpy.types.Collection) -> BuiltPhone:
    layout = geometry.layout_from_entry(entry)
    mid = layout.model_id
    parts = geometry.build_parts(layout)
    roles = sorted({r for p in parts for r in p.roles}, key=geometry.ROLES.index)
    built = BuiltPhone(
        model_id=mid, root=None, parts=[], layout=layout, entry=entry  # type: ignore
    )
    for role in roles:
        built.materials[role] = _material(f"{mid}:{role}", role, layout)
    mats = [built.materials[r][0] for r in roles]
    slot_of = {r: i for i, r in enumerate(roles)}

    root = bpy.data.objects.new(f"phone:{mid}", None)
    root.empty_display_size = layout.height / 2
    root.pass_index = PRODUCT_PASS_INDEX
    collection.objects.link(root)
    built.root = root
    for part in parts:
        obj = _mesh_object(f"phone:{mid}:{part.name}", part, slot_of, mats)
        collection.objects.link(obj)
        obj.parent = root
        built.parts.append(obj)
    first = built.entry["colors"][0]
    built.set_colour(first["name"], colour.hex_to_srgb(first["srgb"]))
    return built
