"""The product of a frame: a builtin phone (built on first use) or a library product, shown
alone, coloured and posed on the belt (core/camera_math.product_pose)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Dict, Optional, Union

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
        self.current: Optional[Product] = None

    def phone(self, model_id: str) -> phones.BuiltPhone:
        built = self.phones.get(model_id)
        if built is None:
            built = phones.build_phone(self.models[model_id], self.collection)
            built.set_visible(False)
            self.phones[model_id] = built
        return built

    def show(self, p: PlanProduct) -> Product:
        """Make the plan's product the only visible one, in the plan's colour and pose."""
        if is_library(p):
            product: Product = self.library.product(p.asset[len("library:") :], p.source)
            thickness, flip_axis = product.dimensions[2], "x"
        else:
            product = self.phone(model_from_asset(p))
            thickness, flip_axis = product.layout.thickness, "y"
        if self.current is not None and self.current is not product:
            self.current.set_visible(False)
        product.set_visible(True)
        self.current = product
        product.set_colour(p.color_name, p.color_srgb)
        loc, rot = camera_math.product_pose(p.side_up, p.yaw_deg, p.offset_m, thickness, flip_axis)
        product.root.location = loc
        product.root.rotation_mode = "XYZ"
        product.root.rotation_euler = tuple(math.radians(a) for a in rot)
        return product
