"""The products of a frame: builtin phones (built on first use) or library products, each
coloured and posed on the belt (core/camera_math.product_pose), with its instance id as object
pass index; every other product hidden.

One object per model serves every frame that shows the model once. A frame that shows a model
more than once takes further copies from a pool per model, made when a frame first needs that
many and reused after: single-product frames create exactly what they always did.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Dict, List, Sequence, Tuple, Union

import bpy

from ..core import camera_math
from ..core.plan import is_library, model_from_asset
from . import phones
from .library import Library, LibraryProduct

if TYPE_CHECKING:
    from ..core.plan import Product as PlanProduct

Product = Union[phones.BuiltPhone, LibraryProduct]


class Products:
    def __init__(
        self, scene: bpy.types.Scene, collection: bpy.types.Collection, models: Dict[str, dict]
    ):
        self.collection = collection
        self.models = models
        self.phones: Dict[str, phones.BuiltPhone] = {}
        self.library = Library(scene, collection)
        self.clones: Dict[str, List[phones.BuiltPhone]] = {}  # model id -> further copies
        self.shown: List[Product] = []
        # instance id -> (location, euler XYZ degrees) of its belt pose in the last show_all
        self.poses: Dict[int, Tuple[Tuple[float, float, float], Tuple[float, float, float]]] = {}

    def phone(self, model_id: str) -> phones.BuiltPhone:
        built = self.phones.get(model_id)
        if built is None:
            built = phones.build_phone(self.models[model_id], self.collection)
            built.set_visible(False)
            self.phones[model_id] = built
        return built

    def phone_copy(self, model_id: str, copy: int) -> phones.BuiltPhone:
        """The phone of this model (`copy` 0) or its further copy `copy`, built when needed."""
        if copy == 0:
            return self.phone(model_id)
        pool = self.clones.setdefault(model_id, [])
        while len(pool) < copy:
            built = phones.build_phone(self.models[model_id], self.collection)
            built.set_visible(False)
            pool.append(built)
        return pool[copy - 1]

    def show(self, p: PlanProduct) -> Product:
        """Make the plan's product the only visible one, in the plan's colour and pose."""
        return self.show_all([(1, p)])[0][1]

    def show_all(self, items: Sequence[Tuple[int, PlanProduct]]) -> List[Tuple[int, Product]]:
        """Make these products (instance id, plan product) the visible ones, each in its colour
        and pose with its id as pass index."""
        uses: Dict[str, int] = {}
        picked = []
        self.poses = {}
        for iid, p in items:
            copy = uses.get(p.asset, 0)
            uses[p.asset] = copy + 1
            if is_library(p):
                product: Product = self.library.product(
                    p.asset[len("library:") :], p.source, copy  # type: ignore[arg-type]
                )
                thickness, flip_axis = product.dimensions[2], "x"
            else:
                product = self.phone_copy(model_from_asset(p), copy)
                thickness, flip_axis = product.layout.thickness, "y"
            picked.append((iid, p, product, thickness, flip_axis))
        now = [x[2] for x in picked]
        for old in self.shown:
            if not any(old is n for n in now):
                old.set_visible(False)
        self.shown = now
        for iid, p, product, thickness, flip_axis in picked:
            product.set_visible(True)
            product.set_pass_index(iid)
            product.set_colour(p.color_name, p.color_srgb)
            loc, rot = camera_math.product_pose(
                p.side_up, p.yaw_deg, p.offset_m, thickness, flip_axis
            )
            product.root.location = loc
            product.root.rotation_mode = "XYZ"
            product.root.rotation_euler = tuple(math.radians(a) for a in rot)
            self.poses[iid] = (loc, rot)
        return [(iid, product) for iid, _, product, _, _ in picked]

    def box(self, product: Product) -> Tuple[float, float, float]:
        """A product's size along its own axes (metres): its box in a pile's simulation."""
        if isinstance(product, phones.BuiltPhone):
            lay = product.layout
            return (lay.width, lay.height, lay.thickness)
        return tuple(product.dimensions)  # type: ignore[return-value]
