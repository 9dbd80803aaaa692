"""Camera and pose maths with no bpy (plain lists, row-major matrices).

Conventions
  world      +z up, belt = plane z = 0, metres.
  spherical  camera at look_at + d * (cos(el) cos(az), cos(el) sin(az), sin(el)); azimuth 0 puts
             the camera on the +x side, elevation 90 looks straight down.
  image up   at roll 0 the image's right-hand direction is the horizontal vector
             (-sin az, cos az, 0), so the frame is well defined even straight overhead; positive
             roll turns the camera about its local +Z as Blender does (counter-clockwise as seen
             from behind the camera), so the scene appears turned clockwise in the image.
  Blender    camera looks along its local -Z with +Y up.
  OpenCV     camera x right, y down, z forward; K with the principal point at ((W-1)/2, (H-1)/2)
             for an unshifted lens, i.e. pixel centres at integer coordinates.
"""
from __future__ import annotations

import math
from typing import List, Sequence, Tuple

Mat = List[List[float]]
Vec3 = Tuple[float, float, float]


def _norm(v: Sequence[float]) -> Vec3:
    n = math.sqrt(sum(c * c for c in v))
    if n == 0:
        raise ValueError("zero-length vector")
    return (v[0] / n, v[1] / n, v[2] / n)


def _cross(a: Sequence[float], b: Sequence[float]) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def spherical_position(
    look_at: Sequence[float], distance: float, elevation_deg: float, azimuth_deg: float
) -> Vec3:
    el = math.radians(elevation_deg)
    az = math.radians(azimuth_deg)
    return (
        look_at[0] + distance * math.cos(el) * math.cos(az),
        look_at[1] + distance * math.cos(el) * math.sin(az),
        look_at[2] + distance * math.sin(el),
    )


def camera_axes(
    elevation_deg: float, azimuth_deg: float, roll_deg: float
) -> Tuple[Vec3, Vec3, Vec3]:
    """(right, up, forward) unit vectors in world coordinates."""
    el = math.radians(elevation_deg)
    az = math.radians(azimuth_deg)
    forward = _norm((-math.cos(el) * math.cos(az), -math.cos(el) * math.sin(az), -math.sin(el)))
    right = (-math.sin(az), math.cos(az), 0.0)
    up = _cross(right, forward)
    ro = math.radians(roll_deg)
    c, s = math.cos(ro), math.sin(ro)
    # Rotate right/up about the camera's backward axis (Blender local +Z) by +roll.
    r2 = tuple(c * right[i] + s * up[i] for i in range(3))
    u2 = tuple(-s * right[i] + c * up[i] for i in range(3))
    return _norm(r2), _norm(u2), forward


def blender_camera_matrix(
    position: Sequence[float], elevation_deg: float, azimuth_deg: float, roll_deg: float
) -> Mat:
    """4x4 matrix_world of a Blender camera (columns: right, up, backward, position)."""
    r, u, f = camera_axes(elevation_deg, azimuth_deg, roll_deg)
    b = (-f[0], -f[1], -f[2])
    return [
        [r[0], u[0], b[0], position[0]],
        [r[1], u[1], b[1], position[1]],
        [r[2], u[2], b[2], position[2]],
        [0.0, 0.0, 0.0, 1.0],
    ]


def opencv_world_to_camera(blender_matrix_world: Sequence[Sequence[float]]) -> Mat:
    """World -> OpenCV camera, from a Blender camera's matrix_world (rigid, no scale)."""
    m = blender_matrix_world
    r = [m[0][0], m[1][0], m[2][0]]  # camera +x in world
    u = [m[0][1], m[1][1], m[2][1]]  # camera +y (up)
    b = [m[0][2], m[1][2], m[2][2]]  # camera +z (backward)
    p = [m[0][3], m[1][3], m[2][3]]
    rows = [_norm(r), tuple(-c for c in _norm(u)), tuple(-c for c in _norm(b))]
    out = []
    for row in rows:
        out.append([row[0], row[1], row[2], -(row[0] * p[0] + row[1] * p[1] + row[2] * p[2])])
    out.append([0.0, 0.0, 0.0, 1.0])
    return out


def intrinsics(
    focal_mm: float,
    sensor_width_mm: float,
    width_px: int,
    height_px: int,
    pixel_aspect: float = 1.0,
    shift_x: float = 0.0,
    shift_y: float = 0.0,
) -> Mat:
    """K for a horizontal sensor fit (Blender's sensor_fit='HORIZONTAL')."""
    fx = focal_mm / sensor_width_mm * width_px
    fy = fx / pixel_aspect
    cx = (width_px - 1) / 2.0 - shift_x * width_px
    cy = (height_px - 1) / 2.0 + shift_y * width_px / pixel_aspect
    return [[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]


def project(
    K: Sequence[Sequence[float]], w2c: Sequence[Sequence[float]], p: Sequence[float]
) -> Tuple[float, float, float]:
    """World point -> (u, v, depth) in OpenCV pixels."""
    x = [sum(w2c[i][j] * (list(p) + [1.0])[j] for j in range(4)) for i in range(3)]
    if x[2] <= 0:
        return (float("nan"), float("nan"), x[2])
    return (K[0][0] * x[0] / x[2] + K[0][2], K[1][1] * x[1] / x[2] + K[1][2], x[2])


def matmul(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> Mat:
    return [
        [sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))]
        for i in range(len(a))
    ]


def rot_x(deg: float) -> Mat:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return [[1, 0, 0], [0, c, -s], [0, s, c]]


def rot_y(deg: float) -> Mat:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return [[c, 0, s], [0, 1, 0], [-s, 0, c]]


def rot_z(deg: float) -> Mat:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return [[c, -s, 0], [s, c, 0], [0, 0, 1]]


def product_pose(
    side_up: str, yaw_deg: float, offset: Sequence[float], thickness: float, flip_axis: str = "y"
) -> Tuple[Vec3, Vec3]:
    """(location, euler XYZ degrees) of a phone lying on the belt.

    "front" = screen up (identity); "back" = back up, i.e. turned over about the phone's long
    axis (y) so the screen faces the belt (flip_axis "x": turned over about x). Then yaw about
    world +z. The body-frame origin is the
    body's bounding-box centre, so resting on the belt puts it at z = T/2.
    """
    if side_up not in ("front", "back"):
        raise ValueError(f"side_up must be 'front' or 'back', not {side_up!r}")
    flip = 180.0 if side_up == "back" else 0.0
    loc = (float(offset[0]), float(offset[1]), thickness / 2)
    # Euler XYZ applies X, then Y, then Z: flip about local y (phones) or x (library products,
    # whose "front" is simply +z up as modelled) first, then yaw about world z.
    if flip_axis == "x":
        return loc, (flip, 0.0, float(yaw_deg))
    return loc, (0.0, flip, float(yaw_deg))
