"""Phone cases: a shell around a builtin phone, parented to its root so that it takes the
phone's pose. One per phone (each copy of a model its own), made on first use and reused; hidden
when a frame has no case on it. Part of the product (its object index), so masks and boxes take
the case in, as they would on a belt.

The shell is a closed slab, the phone's outline grown by the wall, from below the back to just
under the screen: seen from the front it is a rim around the screen, from the back it hides the
phone's back. No camera cut-out (yet). A wallet (folio) case is closed: a slab from below the back
to above the screen, hiding both.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import bpy

from ..core import colour
from .. import compat
from ..core.annotate import PRODUCT_PASS_INDEX
from . import phones

if TYPE_CHECKING:
    from ..core.plan import Product as PlanProduct

WALL_M = 0.0014
# Roughness, transmission, specular of each kind.
_LOOK = {
    "silicone": (0.55, 0.0, 0.3),
    "clear": (0.08, 1.0, 0.5),
    "leather": (0.65, 0.0, 0.25),
    "wallet": (0.7, 0.0, 0.2),
}


def cover_m(kind: Optional[str]) -> float:
    """How far a case of this kind stands over the screen (0: the screen is open)."""
    return WALL_M if kind == "wallet" else 0.0


def tag(phone: phones.BuiltPhone) -> str:
    """The phone's name without its prefix: the model id, or the model id and a copy suffix."""
    return phone.root.name[len("phone:") :]


class Cases:
    def __init__(self) -> None:
        # (phone, shape) -> the case object and its shader
        self.built: Dict[Tuple[str, str], Tuple[bpy.types.Object, bpy.types.Node]] = {}
        self.shown: List[bpy.types.Object] = []

    def _build(
        self, phone: phones.BuiltPhone, folio: bool
    ) -> Tuple[bpy.types.Object, bpy.types.Node]:
        lay = phone.layout
        t = lay.thickness
        outline = lay.outline.outline(8, -WALL_M)
        z0, z1 = -t / 2 - WALL_M, (t / 2 + WALL_M if folio else t / 2 - 0.0003)
        n = len(outline)
        verts = [(x, y, z0) for x, y in outline] + [(x, y, z1) for x, y in outline]
        faces = [(i, (i + 1) % n, n + (i + 1) % n, n + i) for i in range(n)]
        faces += [tuple(reversed(range(n))), tuple(range(n, 2 * n))]
        name = f"{'wallet' if folio else 'case'}:{tag(phone)}"
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
        self.built[(phone.root.name, "folio" if folio else "shell")] = (obj, bsdf)
        return obj, bsdf

    def apply(self, items: Sequence[Tuple[Optional[phones.BuiltPhone], PlanProduct]]) -> None:
        """Each plan product's case on its phone (None: a library product); no other case shown."""
        want: List[bpy.types.Object] = []
        for phone, p in items:
            if phone is None or p.case_kind is None or p.case_srgb is None:
                continue
            folio = p.case_kind == "wallet"
            built = self.built.get((phone.root.name, "folio" if folio else "shell"))
            obj, bsdf = built or self._build(phone, folio)
            rough, transmission, spec = _LOOK[p.case_kind]
            lin = colour.srgb3_to_linear(p.case_srgb)
            compat.set_principled(
                bsdf,
                Base_Color=(lin[0], lin[1], lin[2], 1.0),
                Roughness=rough,
                Transmission=transmission,
                Specular=spec,
            )
            # The phone's instance id, so its case is part of it in the index pass.
            if obj.pass_index != phone.root.pass_index:
                obj.pass_index = phone.root.pass_index
            want.append(obj)
        self.shown = show_only(self.shown, want)


def show_only(shown: List[bpy.types.Object], want: List[bpy.types.Object]):
    """Hide what was shown and is not wanted, show what is wanted (touching nothing else,
    so unchanged objects stay unchanged); the new list of shown objects."""
    for old in shown:
        if not any(old is w for w in want):
            old.hide_render = True
    for w in want:
        if w.hide_render:
            w.hide_render = False
    return want
