"""Radial lens distortion (Brown-Conrady, OpenCV's k1 and k2) applied to a rendered frame and
its annotations with one mapping, so that geometry stays exact (no bpy).

Blender renders an ideal pinhole picture. A pixel of the distorted picture at (u, v) shows
what the pinhole picture has at undistort(u, v): the point whose distorted image is (u, v). In
normalised camera coordinates x = (u - cx) / fx, y = (v - cy) / fy, a point at radius r moves
to r (1 + k1 r^2 + k2 r^4); undistorting inverts that by fixed-point iteration. Pixel centres
are at integer coordinates (OpenCV). The picture is sampled bilinearly; masks, instance ids and
depth by the nearest pixel, so ids stay ids. The distorted camera's K is the render's zoomed
in just enough that no pixel maps outside the render (`lens_K`); labels carry that K.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

ITERATIONS = 20


def distort_points(xy: np.ndarray, k1: float, k2: float) -> np.ndarray:
    """(N, 2) normalised undistorted -> distorted."""
    r2 = np.sum(xy * xy, axis=1, keepdims=True)
    return xy * (1.0 + k1 * r2 + k2 * r2 * r2)


def undistort_points(xy: np.ndarray, k1: float, k2: float) -> np.ndarray:
    """(N, 2) normalised distorted -> undistorted (fixed-point iteration)."""
    und = xy.copy()
    for _ in range(ITERATIONS):
        r2 = np.sum(und * und, axis=1, keepdims=True)
        und = xy / (1.0 + k1 * r2 + k2 * r2 * r2)
    return und


def _fc(K: Sequence[Sequence[float]]) -> Tuple[float, float, float, float]:
    return float(K[0][0]), float(K[1][1]), float(K[0][2]), float(K[1][2])


def zoomed(K, s: float) -> list:
    """K with its focal lengths times `s` (same principal point)."""
    fx, fy, cx, cy = _fc(K)
    return [[fx * s, 0.0, cx], [0.0, fy * s, cy], [0.0, 0.0, 1.0]]


def lens_K(K_render, k1: float, k2: float, W: int, H: int) -> list:
    """The distorted camera's K: the render's, zoomed in just enough that every pixel of the
    distorted picture shows something the render has (barrel distortion pulls the pinhole
    picture's edges inwards, which would leave black corners). Pincushion needs no zoom."""
    fx, fy, cx, cy = _fc(K_render)
    u = np.concatenate([np.arange(W), np.arange(W), np.zeros(H), np.full(H, W - 1)])
    v = np.concatenate([np.zeros(W), np.full(W, H - 1), np.arange(H), np.arange(H)])
    border = np.stack([u, v], axis=1).astype(np.float64)
    s = 1.0
    for _ in range(50):
        p = undistort_to_render(border, zoomed(K_render, s), K_render, k1, k2)
        over = max(
            np.max(np.abs(p[:, 0] - cx)) / max(cx, W - 1 - cx, 1e-9),
            np.max(np.abs(p[:, 1] - cy)) / max(cy, H - 1 - cy, 1e-9),
        )
        if over <= 1.0 + 1e-9:
            break
        s *= over * 1.0001
    return zoomed(K_render, s)


def undistort_to_render(uv: np.ndarray, K_out, K_render, k1: float, k2: float) -> np.ndarray:
    """(N, 2) pixels of the distorted picture -> the render's pixels they show."""
    fx, fy, cx, cy = _fc(K_out)
    rx, ry, rcx, rcy = _fc(K_render)
    xy = np.stack([(uv[:, 0] - cx) / fx, (uv[:, 1] - cy) / fy], axis=1)
    und = undistort_points(xy, k1, k2)
    return np.stack([und[:, 0] * rx + rcx, und[:, 1] * ry + rcy], axis=1)


def distort_pixels(uv: np.ndarray, K_render, K_out, k1: float, k2: float) -> np.ndarray:
    """(N, 2) pixels of the render -> where they show in the distorted picture."""
    rx, ry, rcx, rcy = _fc(K_render)
    fx, fy, cx, cy = _fc(K_out)
    xy = np.stack([(uv[:, 0] - rcx) / rx, (uv[:, 1] - rcy) / ry], axis=1)
    d = distort_points(xy, k1, k2)
    return np.stack([d[:, 0] * fx + cx, d[:, 1] * fy + cy], axis=1)


def source_map(K_render, K_out, k1: float, k2: float, W: int, H: int):
    """(H, W) float arrays: the render's (u, v) that each distorted pixel shows."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    p = undistort_to_render(np.stack([u.ravel(), v.ravel()], axis=1), K_out, K_render, k1, k2)
    return p[:, 0].reshape(H, W), p[:, 1].reshape(H, W)


def remap_nearest(img: np.ndarray, su: np.ndarray, sv: np.ndarray) -> np.ndarray:
    """img (H, W[, C]) sampled at the nearest pixel of (su, sv); 0 outside."""
    H, W = img.shape[:2]
    iu = np.rint(su).astype(np.int64)
    iv = np.rint(sv).astype(np.int64)
    inside = (iu >= 0) & (iu < W) & (iv >= 0) & (iv < H)
    out = np.zeros(su.shape + img.shape[2:], dtype=img.dtype)
    out[inside] = img[iv[inside], iu[inside]]
    return out


def remap_bilinear(img: np.ndarray, su: np.ndarray, sv: np.ndarray) -> np.ndarray:
    """img (H, W, C) of uint8 sampled bilinearly at (su, sv); 0 outside, rounded to uint8."""
    H, W = img.shape[:2]
    f = img.astype(np.float64)
    u0 = np.floor(su).astype(np.int64)
    v0 = np.floor(sv).astype(np.int64)
    au = (su - u0)[..., None]
    av = (sv - v0)[..., None]
    acc = np.zeros(su.shape + img.shape[2:], dtype=np.float64)
    for du, dv, w in (
        (0, 0, (1 - au) * (1 - av)),
        (1, 0, au * (1 - av)),
        (0, 1, (1 - au) * av),
        (1, 1, au * av),
    ):
        uu, vv = u0 + du, v0 + dv
        inside = (uu >= 0) & (uu < W) & (vv >= 0) & (vv < H)
        px = np.zeros_like(acc)
        px[inside] = f[vv[inside], uu[inside]]
        acc += w * px
    return np.clip(np.rint(acc), 0, 255).astype(np.uint8)
