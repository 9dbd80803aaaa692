"""A pile (plan.pile): products dropped on one spot and settled by Blender's rigid-body
simulation before the render.

The simulation runs on stand-ins, not on the products: one box per product with its size (the
belt a passive box whose top is z = 0), in a rigid-body world made for the frame. Boxes start at
the drop poses, the world steps `frames` scene frames of fixed substeps and solver iterations
from frame 1 (Bullet, single-threaded, no randomness: the same plan settles the same way), and
each product's root takes its box's final pose. Then the world, its collection, the boxes and
their meshes are removed and the scene frame is set back, so the scene holds nothing of the
pile: the next frame poses its products from its own plan as usual (Products.show_all), and a
frame after a pile renders as it would alone.
"""
from __future__ import annotations

import math
import time
from typing import List, Sequence, Tuple

import bmesh
import bpy
from mathutils import Euler, Matrix

from .. import compat

# Box of the belt: wide and thick enough that nothing falls off or through it.
BELT_SIZE_M = (4.0, 4.0, 0.2)
FRICTION = 0.6
RESTITUTION = 0.0
MASS_KG = 0.2
MARGIN_M = 0.0005


def drop_matrix(
    loc: Sequence[float], rot_deg: Sequence[float], height_m: float, tilt_deg: Sequence[float]
) -> Matrix:
    """World matrix of a dropped product: its belt pose (location, euler XYZ degrees) lifted
    to `height_m` and tilted about world x, then y."""
    pose = Euler(tuple(math.radians(a) for a in rot_deg), "XYZ").to_matrix()
    tilt = Euler((math.radians(tilt_deg[0]), math.radians(tilt_deg[1]), 0.0), "XYZ").to_matrix()
    m = (tilt @ pose).to_4x4()
    m.translation = (float(loc[0]), float(loc[1]), float(height_m))
    return m


def _box(scene: bpy.types.Scene, name: str, dims: Sequence[float]) -> bpy.types.Object:
    """A box mesh of these dimensions (centred on its origin, scale 1), linked to the scene."""
    mesh = bpy.data.meshes.new(name)
    bm = bmesh.new()
    bmesh.ops.create_cube(bm, size=1.0)
    for v in bm.verts:
        v.co.x *= dims[0]
        v.co.y *= dims[1]
        v.co.z *= dims[2]
    bm.to_mesh(mesh)
    bm.free()
    obj = bpy.data.objects.new(name, mesh)
    obj.hide_render = True
    scene.collection.objects.link(obj)
    return obj


def settle(
    scene: bpy.types.Scene,
    items: Sequence[Tuple[bpy.types.Object, Sequence[float], Matrix]],
    frames: int,
    substeps: int,
    solver_iterations: int,
) -> float:
    """Drop each (root, box dimensions, drop matrix) and settle them; each root ends at its
    settled pose (location and euler XYZ; its scale kept). Returns the seconds it took."""
    t0 = time.perf_counter()
    frame = scene.frame_current
    compat.rigidbody_world_add(scene)
    world = scene.rigidbody_world
    world.enabled = True
    world.time_scale = 1.0
    compat.rigidbody_substeps(world, substeps)
    world.solver_iterations = solver_iterations
    world.use_split_impulse = False
    world.point_cache.frame_start = 1
    world.point_cache.frame_end = frames + 1
    boxes: List[bpy.types.Object] = []
    try:
        belt = _box(scene, "synthline:pile:belt", BELT_SIZE_M)
        belt.location = (0.0, 0.0, -BELT_SIZE_M[2] / 2)
        boxes.append(belt)
        for i, (_, dims, m) in enumerate(items):
            b = _box(scene, f"synthline:pile:{i + 1}", dims)
            b.matrix_world = m
            boxes.append(b)
        for k, b in enumerate(boxes):
            compat.rigidbody_object_add(scene, b, "PASSIVE" if k == 0 else "ACTIVE")
            rb = b.rigid_body
            rb.collision_shape = "BOX"
            rb.friction = FRICTION
            rb.restitution = RESTITUTION
            rb.use_margin = True
            rb.collision_margin = MARGIN_M
            rb.mass = MASS_KG
            rb.use_deactivation = False
        # Frame 1 resets the simulation to the boxes' poses; each next frame steps it once.
        for f in range(1, frames + 2):
            scene.frame_set(f)
        for (root, _, _), b in zip(items, boxes[1:]):
            m = b.matrix_world.copy()
            root.location = m.translation
            root.rotation_mode = "XYZ"
            root.rotation_euler = m.to_euler("XYZ")
    finally:
        coll = world.collection
        compat.rigidbody_world_remove(scene)
        for b in boxes:
            mesh = b.data
            bpy.data.objects.remove(b)
            bpy.data.meshes.remove(mesh)
        if coll is not None:
            bpy.data.collections.remove(coll)
        scene.frame_set(frame)
    return time.perf_counter() - t0
