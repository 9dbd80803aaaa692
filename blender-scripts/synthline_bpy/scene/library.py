"""Library products: model files imported once per process and cached (thin bpy adapter over
core/product_fit.py), and the probe op's describe-and-delete.

The pristine (centred, unscaled) vertex coordinates of an import are kept in numpy so that a
new scale is set exactly, never accumulated. The product is one root empty (origin = bbox
centre) with one mesh child per imported mesh, like a builtin phone, so posing, hiding, the
index pass and the measurements treat both alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import bpy
import numpy as np

from ..core import colour
from .. import compat
from ..core import product_fit
from ..core.annotate import PRODUCT_PASS_INDEX
from ..core.assets import BadAsset, file_key
from .model_import import Imported, colour_inputs, import_meshes, recolourable_names

if TYPE_CHECKING:
    from ..core.plan import Source


@dataclass
class Recolour:
    """One colour input the product colour drives (a BSDF base colour or a multiply node's B)."""

    socket: object


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


def _colour_targets(m: bpy.types.Material) -> List[Recolour]:
    """Make a material take the product colour: a plain base colour is set directly; a linked
    one (a texture) is multiplied by the colour through one inserted multiply node."""
    if not m.use_nodes:
        m.use_nodes = True  # the default Principled BSDF then carries the colour
    nt = m.node_tree
    out: List[Recolour] = []
    for sock in colour_inputs(m):
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


class Library:
    """Library products of this process, cached by (path, mtime, size)."""

    def __init__(self, scene: bpy.types.Scene, collection: bpy.types.Collection):
        self.scene = scene
        self.collection = collection
        self.products: Dict[str, LibraryProduct] = {}
        self._serial = 0

    def product(self, model_id: str, src: Source, copy: int = 0) -> LibraryProduct:
        """The product of this file; `copy` k > 0: its k-th further copy (an import of its own,
        for frames that show the same product more than once)."""
        key = file_key(src.path)
        cache = src.path if copy == 0 else f"{src.path}\0{copy}"
        p = self.products.get(cache)
        if p is not None and p.key != key:  # the file changed since: import it again
            self._drop(p, cache)
            p = None
        if p is None:
            p = self._build(model_id, src, key)
            self.products[cache] = p
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
        p = LibraryProduct(
            key=key,
            model_id=model_id,
            root=root,
            parts=parts,
            imported=imp,
            pristine=pristine,
            visible=False,
            colour_slots=("\0",),
        )
        p.dimensions = imp.dims
        compat.purge_orphans()
        return p

    def _setup_colour(self, p: LibraryProduct, slots: Tuple[str, ...]) -> None:
        """Which materials take the product colour: product_fit.recoloured."""
        imp = p.imported
        if p.recolour:
            return  # multiply nodes are in place; only the first set of slots is honoured
        for i in product_fit.recoloured(imp.material_names, slots):
            p.recolour.extend(_colour_targets(imp.materials[i]))
        p.colour_slots = slots

    def _drop(self, p: LibraryProduct, cache: str) -> None:
        for o in p.parts + [p.root]:
            bpy.data.objects.remove(o, do_unlink=True)
        self.products.pop(cache, None)
        compat.purge_orphans()


def probe(src: Source, scene: bpy.types.Scene) -> dict:
    """Import, describe and delete a model file (nothing stays in the render scene)."""
    imp = import_meshes(src, scene, "probe")
    try:
        names = list(imp.material_names)
        warnings = product_fit.probe_warnings(
            imp.faces, imp.dims, names, src.color_slots, recolourable_names(imp)
        )
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
