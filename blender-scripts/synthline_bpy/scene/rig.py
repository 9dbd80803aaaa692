"""The camera and the light pool, posed from a frame's plan (core/camera_math.py)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

import bpy
from mathutils import Matrix, Vector

from ..core import colour
from .. import compat
from ..core import camera_math
from ..core.plan import LIGHT_TYPES, MAX_LIGHTS

if TYPE_CHECKING:
    from ..core.plan import Camera, Light, Motion


class Rig:
    def __init__(self, scene: bpy.types.Scene, collection: bpy.types.Collection):
        self.scene = scene
        self._build_camera(collection)
        self._build_lights(collection)

    def _build_camera(self, collection: bpy.types.Collection) -> None:
        cam = bpy.data.cameras.new("camera")
        cam.sensor_fit = "HORIZONTAL"
        cam.clip_start = 0.005
        cam.clip_end = 100.0
        obj = bpy.data.objects.new("camera", cam)
        collection.objects.link(obj)
        self.scene.camera = obj
        self.camera = obj

    def _build_lights(self, collection: bpy.types.Collection) -> None:
        """A fixed pool: MAX_LIGHTS lights of each type, hidden until a plan uses them.

        Pooled lights never change type, and are named so that their name order is their
        creation order (the order a fresh Cycles session lists them in). With persistent data,
        switching a light's type, setting an unused light's energy to 0, or showing lights out
        of that order changed the noise pattern of later frames: the same plan rendered to
        different bytes depending on the frames before it (measured on 3.4.1).
        """
        self.lights: Dict[str, List[bpy.types.Object]] = {}
        self._light_order: List[bpy.types.Object] = []
        for t in LIGHT_TYPES:
            self.lights[t] = []
            for i in range(MAX_LIGHTS):
                name = f"light_{len(self._light_order):02d}_{t}"
                data = bpy.data.lights.new(name, t.upper())
                obj = bpy.data.objects.new(name, data)
                obj.hide_render = True
                self._light_order.append(obj)
                collection.objects.link(obj)
                self.lights[t].append(obj)

    def apply_camera(self, c: Camera) -> None:
        cam = self.camera
        cam.data.lens = c.focal_length_mm
        cam.data.sensor_width = c.sensor_width_mm
        pos = camera_math.spherical_position(
            c.look_at_m, c.distance_m, c.elevation_deg, c.azimuth_deg
        )
        cam.matrix_world = Matrix(
            camera_math.blender_camera_matrix(pos, c.elevation_deg, c.azimuth_deg, c.roll_deg)
        )

    def apply_lights(self, lights: Sequence[Light]) -> None:
        """The k-th plan light of a type takes the k-th pooled light of that type."""
        used: Dict[str, int] = {t: 0 for t in LIGHT_TYPES}
        active = set()
        for light in lights:
            obj = self.lights[light.type][used[light.type]]
            used[light.type] += 1
            active.add(obj.name)
            data = obj.data
            data.energy = light.energy_w
            data.color = colour.srgb3_to_linear(light.rgb)
            p = camera_math.spherical_position(
                (0.0, 0.0, 0.0), light.distance_m, light.elevation_deg, light.azimuth_deg
            )
            direction = Vector((-p[0], -p[1], -p[2]))
            if light.type == "area" and light.length_m > 0:
                obj.matrix_world = Matrix.Translation(p) @ _across_belt(direction)
                data.shape = "RECTANGLE"
                data.size = max(light.size_m, 1e-4)
                data.size_y = light.length_m
            elif light.type == "area":
                rot_q = direction.to_track_quat("-Z", "Y")
                obj.matrix_world = Matrix.Translation(p) @ rot_q.to_matrix().to_4x4()
                data.shape = "SQUARE"
                data.size = max(light.size_m, 1e-4)
            else:
                rot_q = direction.to_track_quat("-Z", "Y")
                obj.matrix_world = Matrix.Translation(p) @ rot_q.to_matrix().to_4x4()
                compat.set_light_shadow_radius(data, light.size_m / 2)
            if light.type == "spot":
                data.spot_size = math.radians(light.spot_angle_deg)
                data.spot_blend = 0.15
        for obj in self._light_order:
            hide = obj.name not in active
            if obj.hide_render != hide:
                obj.hide_render = hide

    def apply_motion(self, motion: Optional[Motion]) -> None:
        """A moving belt: everything on it travels `travel_m` along world x while the shutter is
        open. Seen from the camera that is the camera and the lights moving back by as much
        together (the world's HDRI, at infinity, looks the same from anywhere), so the rig is
        animated and the belt, its products and its photos smear alike. Call after the camera and
        the lights are placed. Frame 1 is the shutter's opening, frame 2 its closing. A still
        frame has no animation on the rig and motion blur off, as before this existed."""
        rig = [self.camera] + [o for o in self._light_order if not o.hide_render]
        if motion is None or motion.travel_m <= 0:
            for obj in [self.camera] + self._light_order:
                if obj.animation_data is not None:
                    obj.animation_data_clear()
            compat.set_motion_blur(self.scene, False)
            return
        for obj in [self.camera] + self._light_order:
            if obj not in rig and obj.animation_data is not None:
                obj.animation_data_clear()
        for obj in rig:
            _travel(obj, motion.travel_m)
        compat.set_motion_blur(self.scene, True)
        self.scene.frame_set(1)


def _travel(obj: bpy.types.Object, travel_m: float) -> None:
    """Keys `obj` where it is at frame 1 and `travel_m` back along world x at frame 2, on an
    action of its own made once (a fake user keeps it) and reused."""
    start = obj.matrix_world.translation.copy()
    name = f"{obj.name}_motion"
    action = bpy.data.actions.get(name)
    if action is None:
        action = bpy.data.actions.new(name)
        action.use_fake_user = True
        for i in range(3):
            action.fcurves.new("location", index=i).keyframe_points.add(2)
    for i, curve in enumerate(action.fcurves):
        end = start[i] - (travel_m if i == 0 else 0.0)
        for point, (frame, value) in zip(curve.keyframe_points, ((1.0, start[i]), (2.0, end))):
            point.co = (frame, value)
            point.handle_left = (frame, value)
            point.handle_right = (frame, value)
            point.interpolation = "LINEAR"
        curve.update()
    if obj.animation_data is None:
        obj.animation_data_create()
    obj.animation_data.action = action


def _across_belt(direction: Vector) -> Matrix:
    """The rotation of a strip light shining along `direction` with its length (local Y) lying
    across the belt: world Y, made square to the direction (world X if it shines along Y)."""
    z = -direction.normalized()
    y = Vector((0.0, 1.0, 0.0))
    y = y - z * y.dot(z)
    if y.length < 1e-6:
        y = Vector((1.0, 0.0, 0.0)) - z * z.x
    y.normalize()
    x = y.cross(z)
    return Matrix((x, y, z)).transposed().to_4x4()
