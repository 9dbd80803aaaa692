"""A frame's measurements from the scene as rendered: product mask, camera K and pose, depth in
millimetres, visible fraction, product pose (the maths is in core/annotate.py and
core/camera_math.py)."""
from __future__ import annotations

import math
import os
from typing import Dict, List, Sequence, Tuple

import bpy
import numpy as np

from ..core import annotate, camera_math, pngio
from .library import LibraryProduct
from .passes import Passes
from .products import Product

# Cycles' Z pass on 3.4.1, measured with a straight-down camera over the belt: see
# tools/protocol_check.py ("depth").
DEPTH_IS_RAY_DISTANCE = False


class Measurements:
    def __init__(self, scene: bpy.types.Scene, camera: bpy.types.Object, passes: Passes):
        self.scene = scene
        self.camera_obj = camera
        self.passes = passes
        self._geometry: Dict[int, tuple] = {}  # id(product) -> (scale, verts, tris, product)

    def id_map(self, shown: Sequence[Tuple[int, Product]], W: int, H: int) -> np.ndarray:
        """HxW int array (row 0 = top): 0 = no product, k = instance k."""
        if self.scene.render.engine == "CYCLES":
            return self.passes.read_ids(W, H)
        # EEVEE: projected hulls, the farthest from the camera first (nearer ones cover it).
        ids = np.zeros((H, W), dtype=np.int64)
        cam = np.array(self.camera_obj.matrix_world.translation)
        order = sorted(
            shown, key=lambda x: -float(np.linalg.norm(np.array(x[1].root.location) - cam))
        )
        for iid, product in order:
            ids[self._projected_mask(product, W, H)] = iid
        return ids

    def instances(
        self, shown: Sequence[Tuple[int, Product]], ids: np.ndarray, camera: dict, W: int, H: int
    ) -> List[dict]:
        """Each instance's box, visible pixels and fraction, occluders and pose."""
        out = []
        for iid, product in shown:
            V, T = self._product_geometry(product)
            m = np.array(product.root.matrix_world)
            uvz = annotate.project(
                V @ m[:3, :3].T + m[:3, 3], camera["K"], camera["world_to_camera"]
            )
            sil = annotate.silhouette_mask(uvz, T, W, H)
            in_image = annotate.visible_fraction(uvz, T, W, H) if V.size else 0.0
            bbox, visible, frac, occluded_by = annotate.instance_stats(ids, iid, sil, in_image)
            pose = self.product(product)
            out.append(
                {
                    "id": iid,
                    "bbox": bbox,
                    "visible_pixels": visible,
                    "visible_fraction": round(frac, 6),
                    "occluded_by": occluded_by,
                    "location_m": pose["location_m"],
                    "rotation_euler_deg": pose["rotation_euler_deg"],
                    "dimensions_m": pose["dimensions_m"],
                    "matrix_world": pose["matrix_world"],
                }
            )
        return out

    def write_ids(self, path: str, ids: np.ndarray) -> None:
        """The id map as a 16-bit grey PNG."""
        H, W = ids.shape
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pngio.write(path, W, H, 1, ids.astype(">u2").tobytes(), bit_depth=16)

    def _projected_mask(self, product: Product, W: int, H: int) -> np.ndarray:
        """EEVEE has no object-index pass: rasterise the convex hull of the projected product."""
        camera = self.camera(W, H)
        pts = []
        for obj in product.parts:
            m = np.array(obj.matrix_world)
            v = np.empty(len(obj.data.vertices) * 3, dtype=np.float64)
            obj.data.vertices.foreach_get("co", v)
            v = v.reshape(-1, 3)
            pts.append(v @ m[:3, :3].T + m[:3, 3])
        return annotate.projected_hull_mask(
            np.concatenate(pts), camera["K"], camera["world_to_camera"], W, H
        )

    def camera(self, W: int, H: int) -> dict:
        cam = self.camera_obj
        data = cam.data
        r = self.scene.render
        K = camera_math.intrinsics(
            data.lens,
            data.sensor_width,
            W,
            H,
            r.pixel_aspect_y / r.pixel_aspect_x,
            data.shift_x,
            data.shift_y,
        )
        mw = [list(row) for row in cam.matrix_world]
        return {
            "K": K,
            "world_to_camera": camera_math.opencv_world_to_camera(mw),
            "convention": "opencv",
        }

    def write_depth(self, path: str, W: int, H: int, K, remap=None) -> None:
        """The Z pass as a 16-bit PNG in millimetres (`remap`: the lens's mapping, if any)."""
        z = self.passes.read_depth(W, H)
        if DEPTH_IS_RAY_DISTANCE:
            z = annotate.ray_distance_to_z(z, K)
        if remap is not None:
            z = remap(z)
        mm = annotate.depth_mm(z)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pngio.write(path, W, H, 1, mm.astype(">u2").tobytes(), bit_depth=16)

    def _product_geometry(self, product: Product) -> Tuple[np.ndarray, np.ndarray]:
        """(vertices in the root's frame, triangles) of a product, cached per product + scale."""
        key = id(product)
        scale = getattr(product, "scale", 1.0)
        hit = self._geometry.get(key)
        if hit is not None and hit[0] == scale and hit[3] is product:
            return hit[1], hit[2]
        verts, tris, base = [], [], 0
        for obj in product.parts:
            me = obj.data
            co = np.empty(len(me.vertices) * 3, dtype=np.float64)
            me.vertices.foreach_get("co", co)
            co = co.reshape(-1, 3)
            m = np.array(obj.matrix_parent_inverse) @ np.array(obj.matrix_basis)
            verts.append(co @ m[:3, :3].T + m[:3, 3])
            me.calc_loop_triangles()
            t = np.empty(len(me.loop_triangles) * 3, dtype=np.int64)
            me.loop_triangles.foreach_get("vertices", t)
            tris.append(t.reshape(-1, 3) + base)
            base += co.shape[0]
        V = np.concatenate(verts) if verts else np.zeros((0, 3))
        T = np.concatenate(tris) if tris else np.zeros((0, 3), dtype=np.int64)
        self._geometry[key] = (scale, V, T, product)
        return V, T

    def visible_fraction(self, product: Product, camera: dict, W: int, H: int) -> float:
        V, T = self._product_geometry(product)
        if V.size == 0:
            return 0.0
        m = np.array(product.root.matrix_world)
        P = V @ m[:3, :3].T + m[:3, 3]
        return annotate.visible_fraction(
            annotate.project(P, camera["K"], camera["world_to_camera"]), T, W, H
        )

    def product(self, product: Product) -> dict:
        root = product.root
        mw = root.matrix_world
        if isinstance(product, LibraryProduct):
            dims, scale, residual = product.dimensions, product.scale, product.residual
        else:
            dims, scale, residual = product.layout.dimensions, 1.0, None
        return {
            "matrix_world": [list(row) for row in mw],
            "location_m": list(mw.translation),
            # The root has no parent, so its own XYZ Euler angles describe matrix_world; a
            # decomposition of the matrix could return an equivalent but different triple.
            "rotation_euler_deg": [math.degrees(a) for a in root.rotation_euler],
            "dimensions_m": list(dims),
            "scale": scale,
            "scale_residual": residual,
        }
