"""Phone cases: a shell around a builtin phone, parented to its root so that it takes the
phone's pose. One per model, made on first use and reused; hidden when a frame has no case. Part
of the product (its object index), so masks and boxes take the case in, as they would on a belt.

The shell is a closed slab, the phone's outline grown by the wall, from below the back to just
under the screen: seen from the front it is a rim around the screen, from the back it hides the
phone's back. No camera cut-out (yet).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional, Tuple

import bpy

from ..core import colour
from .. import compat
from ..core.annotate import PRODUCT_PASS_INDEX
from . import phones

if TYPE_CHECKING:
    from ..core.plan import Product as PlanProduct

WALL_M = 0.0014
# Roughness, transmission, specular of each kind.
_LOOK = {"silicone": (0.55, 0.0, 0.3), "clear": (0.08, 1.0, 0.5), "leather": (0.65, 0.0, 0.25)}


class Cases:
    def __init__(self) -> None:
        self.built: Dict[str, Tuple[bpy.types.Object, bpy.types.Node]] = {}
        self.shown: Optional[bpy.types.Object] = None

    def _build(self, phone: phones.BuiltPhone) -> Tuple[bpy.types.Object, bpy.types.Node]:
        lay = phone.layout
        t = lay.thickness
        outline = lay.outline.outline(8, -WALL_M)
        z0, z1 = -t / 2 - WALL_M, t / 2 - 0.0003
        n = len(outline)
        verts = [(x, y, z0) for x, y in outline] + [(x, y, z1) for x, y in outline]
        faces = [(i, (i + 1) % n, n + (i + 1) % n, n + i) for i in range(n)]
        faces += [tuple(reversed(range(n))), tuple(range(n, 2 * n))]
        name = f"case:{phone.model_id}"
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(verts, [], faces)
        mat = bpy.data.materials.new(name)
        mat.use_fake_user = True
        mat.use_nodes = True
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        mesh.materials.append(mat)
        obj = bpy.data.objects.new(name, mesh)
        obj.pass_index = PRODUCT_PASS_INDEX
        obj.hide_render = True
        phone.root.users_collection[0].objects.link(obj)
        obj.parent = phone.root
        self.built[phone.model_id] = (obj, bsdf)
        return obj, bsdf

    def apply(self, phone: Optional[phones.BuiltPhone], p: PlanProduct) -> None:
        """The plan's case on `phone` (None: a library product), or no case."""
        want = None
        if phone is not None and p.case_kind is not None and p.case_srgb is not None:
            obj, bsdf = self.built.get(phone.model_id) or self._build(phone)
            rough, transmission, spec = _LOOK[p.case_kind]
            lin = colour.srgb3_to_linear(p.case_srgb)
            compat.set_principled(
                bsdf,
                Base_Color=(lin[0], lin[1], lin[2], 1.0),
                Roughness=rough,
                Transmission=transmission,
                Specular=spec,
            )
            want = obj
        if self.shown is not None and self.shown is not want:
            self.shown.hide_render = True
        if want is not None and want.hide_render:
            want.hide_render = False
        self.shown = want
