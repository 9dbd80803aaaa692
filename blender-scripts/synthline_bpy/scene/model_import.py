"""Importing a model file into baked, centred meshes (library products and the probe op).

An import keeps only mesh objects, bakes their modifiers and world transforms into new meshes,
and moves the bounding-box centre to the origin. Importers are run through compat.import_model;
a .blend is appended with bpy.data.libraries.load (Blender runs with -Y, so nothing in the file
executes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Tuple

import bmesh
import bpy
import numpy as np

from .. import compat
from ..core import product_fit
from ..core.assets import BadAsset, file_key

if TYPE_CHECKING:
    from ..core.plan import Source


@dataclass
class Imported:
    """Meshes made from one import: baked in world space, centre at the origin, unscaled."""

    meshes: List[bpy.types.Mesh]
    material_names: List[str]  # as named in the file, in first-use order
    materials: List[bpy.types.Material]  # same order
    dims: Tuple[float, float, float]  # bbox as imported (model units)
    vertices: int
    faces: int
    textured: bool


def _ids(coll) -> set:
    return {b.as_pointer() for b in coll}


def _new(coll, before: set) -> list:
    return [b for b in coll if b.as_pointer() not in before]


def import_meshes(src: Source, scene: bpy.types.Scene, name: str) -> Imported:
    """Import src and bake its mesh objects; everything the import made is deleted again.

    src.format is one of the protocol's model formats: plans and probe sources are checked
    against the schema before they get here."""
    file_key(src.path)
    objs_before = _ids(bpy.data.objects)
    mat_names_before = {m.name for m in bpy.data.materials}
    colls_before = _ids(bpy.data.collections)
    # Importers may touch scene state (frame, camera, active collection); put it back after.
    saved = (
        scene.frame_current,
        scene.camera,
        scene.world,
        scene.render.fps,
        scene.unit_settings.scale_length,
    )
    new_objs: list = []
    temp_link: List[bpy.types.Object] = []
    try:
        try:
            if src.format == "blend":
                with bpy.data.libraries.load(src.path, link=False) as (data_from, data_to):
                    data_to.objects = list(data_from.objects)
                for o in data_to.objects:
                    if o is not None and o.name not in scene.collection.objects:
                        scene.collection.objects.link(o)
                        temp_link.append(o)
            else:
                compat.import_model(src.path, src.format)
        except BadAsset:
            raise
        except Exception as e:  # importers raise RuntimeError, OSError, KeyError, ...
            msg = str(e).strip().splitlines()
            raise BadAsset(
                f"cannot import {src.format} file {src.path}: "
                f"{type(e).__name__}: {msg[-1] if msg else ''}"[:500]
            ) from None
        finally:
            new_objs = _new(bpy.data.objects, objs_before)
            if scene.frame_current != saved[0]:
                scene.frame_set(saved[0])
            scene.camera, scene.world = saved[1], saved[2]
            scene.render.fps = saved[3]
            scene.unit_settings.scale_length = saved[4]
        meshes = [
            o
            for o in new_objs
            if o.type == "MESH" and o.data is not None and len(o.data.polygons) > 0
        ]
        if not meshes:
            raise BadAsset(f"{src.format} file {src.path} holds no mesh with faces")
        return _bake(meshes, mat_names_before, name)
    finally:
        for o in new_objs:
            bpy.data.objects.remove(o, do_unlink=True)
        for c in _new(bpy.data.collections, colls_before):
            bpy.data.collections.remove(c)
        compat.purge_orphans()


def _bake(objs: List[bpy.types.Object], mat_names_before: set, name: str) -> Imported:
    bpy.context.view_layer.update()
    dg = bpy.context.evaluated_depsgraph_get()
    meshes: List[bpy.types.Mesh] = []
    mats: List[bpy.types.Material] = []
    for i, o in enumerate(objs):
        oe = o.evaluated_get(dg)
        me = bpy.data.meshes.new_from_object(oe, preserve_all_data_layers=False, depsgraph=dg)
        me.name = f"{name}:{i}"
        me.use_fake_user = True  # survives the purge of the import's leftovers; cleared later
        # Object-linked material slots are not part of the mesh: copy every slot's material.
        slot_mats = [s.material for s in o.material_slots]
        for k, m in enumerate(slot_mats):
            if k < len(me.materials):
                me.materials[k] = m
            else:
                me.materials.append(m)
        mw = o.matrix_world.copy()
        me.transform(mw)
        if mw.determinant() < 0:  # mirrored: transform() turned the faces inside out
            bm = bmesh.new()
            bm.from_mesh(me)
            bmesh.ops.reverse_faces(bm, faces=bm.faces[:])
            bm.to_mesh(me)
            bm.free()
        me.update()
        meshes.append(me)
        for m in me.materials:
            if m is not None and all(m is not x for x in mats):
                mats.append(m)
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    nverts = nfaces = 0
    for me in meshes:
        co = np.empty(len(me.vertices) * 3, dtype=np.float64)
        me.vertices.foreach_get("co", co)
        co = co.reshape(-1, 3)
        if co.size:
            lo = np.minimum(lo, co.min(axis=0))
            hi = np.maximum(hi, co.max(axis=0))
        nverts += len(me.vertices)
        nfaces += len(me.polygons)
    centre = (lo + hi) / 2
    for me in meshes:
        co = np.empty(len(me.vertices) * 3, dtype=np.float64)
        me.vertices.foreach_get("co", co)
        me.vertices.foreach_set("co", (co.reshape(-1, 3) - centre).astype(np.float32).ravel())
        me.update()
    names = [product_fit.original_name(m.name, mat_names_before) for m in mats]
    textured = any(_textured(m) for m in mats)
    dims = tuple(float(v) for v in (hi - lo))
    return Imported(
        meshes=meshes,
        material_names=names,
        materials=mats,
        dims=dims,
        vertices=nverts,
        faces=nfaces,
        textured=textured,
    )  # type: ignore


def _textured(m: bpy.types.Material) -> bool:
    if not m.use_nodes or m.node_tree is None:
        return False
    return any(n.type == "TEX_IMAGE" and n.image is not None for n in m.node_tree.nodes)


def colour_inputs(m: bpy.types.Material) -> list:
    """The base-colour inputs of a material's Principled / Diffuse BSDF nodes."""
    if not m.use_nodes or m.node_tree is None:
        return []
    out = []
    for n in m.node_tree.nodes:
        if n.type == "BSDF_PRINCIPLED":
            out.append(compat.principled_input(n, "Base Color"))
        elif n.type == "BSDF_DIFFUSE":
            out.append(n.inputs["Color"])
    return out


def recolourable_names(imp: Imported) -> List[str]:
    return [
        n for n, m in zip(imp.material_names, imp.materials) if colour_inputs(m) or not m.use_nodes
    ]
