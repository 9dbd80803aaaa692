"""Library products: model files imported once per process (thin bpy adapter over product_fit.py).

An import keeps only mesh objects, bakes their modifiers and world transforms into new meshes,
and moves the bounding-box centre to the origin; the pristine (centred, unscaled) vertex
coordinates are kept in numpy so that a new scale is set exactly, never accumulated. The
product is one root empty (origin = bbox centre) with one mesh child per imported mesh, like a
builtin phone, so posing, hiding, the index pass and the measurements treat both alike.

Importers are run through compat.import_model; a .blend is appended with
bpy.data.libraries.load (Blender runs with -Y, so nothing in the file executes).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import bmesh
import bpy
import numpy as np

from . import colour, compat, product_fit
from .phones import PRODUCT_PASS_INDEX
from .plan import MODEL_FORMATS, Source


class BadAsset(ValueError):
    """A model file that is missing, unsupported, corrupt or holds no mesh."""


@dataclass
class Recolour:
    """One colour input the product colour drives (a BSDF base colour or a multiply node's B)."""
    socket: object


@dataclass
class Imported:
    """Meshes made from one import: baked in world space, centre at the origin, unscaled."""
    meshes: List[bpy.types.Mesh]
    material_names: List[str]            # as named in the file, in first-use order
    materials: List[bpy.types.Material]  # same order
    dims: Tuple[float, float, float]     # bbox as imported (model units)
    vertices: int
    faces: int
    textured: bool


@dataclass
class LibraryProduct:
    key: Tuple[str, int, int]  # path, mtime_ns, size
    model_id: str
    root: bpy.types.Object
    parts: List[bpy.types.Object]
    imported: Imported
    pristine: List[np.ndarray]  # per part (N, 3) float64, centred, unscaled
    colour_slots: Tuple[str, ...] = ()
    recolour: List[Recolour] = field(default_factory=list)
    scale: float = 1.0
    residual: Optional[float] = None
    visible: bool = True
    dimensions: Tuple[float, float, float] = (0.0, 0.0, 0.0)

    def set_visible(self, visible: bool) -> None:
        if visible == self.visible:
            return
        for o in self.parts:
            o.hide_render = not visible
        self.visible = visible

    def set_scale(self, s: float) -> bool:
        """Uniform scale from model units to metres, set exactly from the pristine coordinates."""
        if s == self.scale:
            return False
        for obj, co in zip(self.parts, self.pristine):
            me = obj.data
            me.vertices.foreach_set("co", (co * s).astype(np.float32).ravel())
            me.update()
        self.scale = s
        d = self.imported.dims
        self.dimensions = (d[0] * s, d[1] * s, d[2] * s)
        return True

    def set_colour(self, colour_name: str, srgb: Sequence[float]) -> None:
        lin = colour.srgb3_to_linear(srgb)
        new = (lin[0], lin[1], lin[2], 1.0)
        for r in self.recolour:
            sock = r.socket
            if tuple(sock.default_value) != new:  # type: ignore[attr-defined]
                sock.default_value = new  # type: ignore[attr-defined]


def file_key(path: str) -> Tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError as e:
        raise BadAsset(f"cannot read model file {path}: {e.strerror or e}") from None
    if not os.path.isfile(path):
        raise BadAsset(f"model file {path} is not a regular file")
    return (path, st.st_mtime_ns, st.st_size)


# ---------------------------------------------------------------------- import


def _ids(coll) -> set:
    return {b.as_pointer() for b in coll}


def _new(coll, before: set) -> list:
    return [b for b in coll if b.as_pointer() not in before]


def import_meshes(src: Source, scene: bpy.types.Scene, name: str) -> Imported:
    """Import src and bake its mesh objects; everything the import made is deleted again."""
    if src.format not in MODEL_FORMATS:
        raise BadAsset(f"unsupported model format {src.format!r} of {src.path} "
                       f"(supported: {', '.join(MODEL_FORMATS)})")
    file_key(src.path)
    objs_before = _ids(bpy.data.objects)
    mat_names_before = {m.name for m in bpy.data.materials}
    colls_before = _ids(bpy.data.collections)
    # Importers may touch scene state (frame, camera, active collection); put it back after.
    saved = (scene.frame_current, scene.camera, scene.world, scene.render.fps,
             scene.unit_settings.scale_length)
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
            raise BadAsset(f"cannot import {src.format} file {src.path}: "
                           f"{type(e).__name__}: {msg[-1] if msg else ''}"[:500]) from None
        finally:
            new_objs = _new(bpy.data.objects, objs_before)
            if scene.frame_current != saved[0]:
                scene.frame_set(saved[0])
            scene.camera, scene.world = saved[1], saved[2]
            scene.render.fps = saved[3]
            scene.unit_settings.scale_length = saved[4]
        meshes = [o for o in new_objs if o.type == "MESH" and o.data is not None
                  and len(o.data.polygons) > 0]
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
    return Imported(meshes=meshes, material_names=names, materials=mats,
                    dims=dims, vertices=nverts, faces=nfaces, textured=textured)  # type: ignore


def _textured(m: bpy.types.Material) -> bool:
    if not m.use_nodes or m.node_tree is None:
        return False
    return any(n.type == "TEX_IMAGE" and n.image is not None for n in m.node_tree.nodes)


def _colour_inputs(m: bpy.types.Material) -> list:
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
    return [n for n, m in zip(imp.material_names, imp.materials)
            if _colour_inputs(m) or not m.use_nodes]


def _colour_targets(m: bpy.types.Material) -> List[Recolour]:
    """Make a material take the product colour: a plain base colour is set directly; a linked
    one (a texture) is multiplied by the colour through one inserted multiply node."""
    if not m.use_nodes:
        m.use_nodes = True  # the default Principled BSDF then carries the colour
    nt = m.node_tree
    out: List[Recolour] = []
    for sock in _colour_inputs(m):
        if sock.is_linked:
            link = sock.links[0]
            node, a, b, res = compat.multiply_colour_node(nt)
            node.name = node.label = "synthline colour"
            nt.links.new(link.from_socket, a)
            nt.links.remove(link)
            nt.links.new(res, sock)
            out.append(Recolour(socket=b))
        else:
            out.append(Recolour(socket=sock))
    return out


# ---------------------------------------------------------------------- cache


class Library:
    """Library products of this process, cached by (path, mtime, size)."""

    def __init__(self, scene: bpy.types.Scene, collection: bpy.types.Collection):
        self.scene = scene
        self.collection = collection
        self.products: Dict[str, LibraryProduct] = {}
        self._serial = 0

    def product(self, model_id: str, src: Source) -> LibraryProduct:
        key = file_key(src.path)
        p = self.products.get(src.path)
        if p is not None and p.key != key:  # the file changed since: import it again
            self._drop(p)
            p = None
        if p is None:
            p = self._build(model_id, src, key)
            self.products[src.path] = p
        if p.colour_slots != src.color_slots:
            self._setup_colour(p, src.color_slots)
        try:
            s, residual = product_fit.fit_scale(p.imported.dims, src.dimensions_m, src.scale)
        except ValueError as e:
            raise BadAsset(f"{src.path}: {e}") from None
        p.set_scale(s)
        p.residual = residual
        return p

    def _build(self, model_id: str, src: Source, key) -> LibraryProduct:
        self._serial += 1
        name = f"lib{self._serial}"
        imp = import_meshes(src, self.scene, name)
        for m, orig in zip(imp.materials, imp.material_names):
            m.name = f"{name}:{orig}"  # this product's own materials: no other user
        if not imp.materials:
            m = bpy.data.materials.new(f"{name}:default")
            m.use_nodes = True
            compat.set_principled(m.node_tree.nodes["Principled BSDF"], Roughness=0.5)
            for me in imp.meshes:
                me.materials.append(m)
            imp.materials.append(m)
            imp.material_names.append("")  # made here: recoloured, never named by a slot
        root = bpy.data.objects.new(f"{name}:{model_id}", None)
        root.pass_index = PRODUCT_PASS_INDEX
        self.collection.objects.link(root)
        parts = []
        pristine = []
        for i, me in enumerate(imp.meshes):
            obj = bpy.data.objects.new(f"{name}:{model_id}:{i}", me)
            me.use_fake_user = False
            obj.pass_index = PRODUCT_PASS_INDEX
            self.collection.objects.link(obj)
            obj.parent = root
            obj.hide_render = True
            parts.append(obj)
            co = np.empty(len(me.vertices) * 3, dtype=np.float64)
            me.vertices.foreach_get("co", co)
            pristine.append(co.reshape(-1, 3))
        p = LibraryProduct(key=key, model_id=model_id, root=root, parts=parts, imported=imp,
                           pristine=pristine, visible=False, colour_slots=("\0",))
        p.dimensions = imp.dims
        compat.purge_orphans()
        return p

    def _setup_colour(self, p: LibraryProduct, slots: Tuple[str, ...]) -> None:
        """Which materials take the product colour: the named slots, or all when none named
        (also when none of the named slots exists, so the product colour still shows)."""
        imp = p.imported
        if p.recolour:
            return  # multiply nodes are in place; only the first set of slots is honoured
        chosen = [m for n, m in zip(imp.material_names, imp.materials) if n in slots or n == ""]
        if not slots or not any(n in slots for n in imp.material_names):
            chosen = list(imp.materials)
        for m in chosen:
            p.recolour.extend(_colour_targets(m))
        p.colour_slots = slots

    def _drop(self, p: LibraryProduct) -> None:
        for o in p.parts + [p.root]:
            bpy.data.objects.remove(o, do_unlink=True)
        self.products.pop(p.key[0], None)
        compat.purge_orphans()


def probe(src: Source, scene: bpy.types.Scene) -> dict:
    """Import, describe and delete a model file (nothing stays in the render scene)."""
    imp = import_meshes(src, scene, "probe")
    try:
        names = list(imp.material_names)
        warnings = product_fit.probe_warnings(imp.faces, imp.dims, names, src.color_slots,
                                              recolourable_names(imp))
        return {
            "meshes": len(imp.meshes),
            "vertices": imp.vertices,
            "faces": imp.faces,
            "dimensions_m": [round(v, 9) for v in imp.dims],
            "material_slots": names,
            "textured": imp.textured,
            "warnings": warnings,
        }
    finally:
        for me in imp.meshes:
            bpy.data.meshes.remove(me)
        for m in imp.materials:
            if m.users == 0:
                bpy.data.materials.remove(m)
        compat.purge_orphans()
