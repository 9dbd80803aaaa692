"""Per-frame annotations with numpy and no bpy: mask and bbox, depth in millimetres, visible
fraction.

Mask: the product's pixels, from the object-index pass (Cycles) or the convex hull of its
projected vertices (EEVEE has no index pass). Depth: OpenCV z (distance along the optical axis)
in mm, rounded, clamped to 1..65535, 0 where the ray hit nothing. visible_fraction:
the share of the product's silhouette that lies inside the image, measured by rasterising its
projected triangles on an overscanned grid.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

# Object index of every product object (root and parts); everything else keeps 0. The 8-bit
# index pass then shows product pixels as 255.
PRODUCT_PASS_INDEX = 1
NO_HIT_M = 1e9  # Cycles writes 1e10 for rays that leave the scene
FRACTION_GRID = 256  # cells along the longer side of the overscanned raster
CHUNK = 1 << 21


def mask_bbox(mask: np.ndarray) -> Tuple[Optional[List[int]], int]:
    """(bbox [x, y, w, h] of pixel indices or None when empty, visible pixel count) of an
    H x W boolean mask (row 0 = top)."""
    ys, xs = np.nonzero(mask)
    visible = int(xs.size)
    bbox = None
    if visible:
        x0, x1 = int(xs.min()), int(xs.max())
        y0, y1 = int(ys.min()), int(ys.max())
        bbox = [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
    return bbox, visible


def projected_hull_mask(points_w: np.ndarray, K, w2c, W: int, H: int) -> np.ndarray:
    """Boolean H x W mask (row 0 = top) of the convex hull of world points projected through
    K and the OpenCV world-to-camera matrix; points behind the camera are left out."""
    K = np.array(K)
    w2c = np.array(w2c)
    cam = points_w @ w2c[:3, :3].T + w2c[:3, 3]
    cam = cam[cam[:, 2] > 1e-6]
    if cam.size == 0:
        return np.zeros((H, W), dtype=bool)
    u = K[0, 0] * cam[:, 0] / cam[:, 2] + K[0, 2]
    v = K[1, 1] * cam[:, 1] / cam[:, 2] + K[1, 2]
    hull = convex_hull(np.stack([u, v], axis=1))
    gx, gy = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    inside = np.ones((H, W), dtype=bool)
    for (ax, ay), (bx, by) in zip(hull, np.roll(hull, -1, axis=0)):
        inside &= (bx - ax) * (gy - ay) - (by - ay) * (gx - ax) >= 0
    return inside


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain; counter-clockwise in image coordinates (y down)."""
    pts = sorted(set(map(tuple, np.round(points, 4))))
    if len(pts) < 3:
        return np.array(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def ray_distance_to_z(dist: np.ndarray, K) -> np.ndarray:
    """Distance along each pixel's ray (H x W, row 0 = top) -> OpenCV z for a pinhole K."""
    H, W = dist.shape
    fx, fy, cx, cy = K[0][0], K[1][1], K[0][2], K[1][2]
    u = (np.arange(W, dtype=np.float64) - cx) / fx
    v = (np.arange(H, dtype=np.float64) - cy) / fy
    norm = np.sqrt(1.0 + u[None, :] ** 2 + v[:, None] ** 2)
    return dist / norm


def depth_mm(z_m: np.ndarray) -> np.ndarray:
    """Metres (H x W) -> uint16 millimetres: rounded, clamped to 1..65535, 0 for no hit."""
    z = np.asarray(z_m, dtype=np.float64)
    hit = np.isfinite(z) & (z < NO_HIT_M) & (z > 0)
    mm = np.clip(np.rint(np.where(hit, z, 0.0) * 1000.0), 1, 65535)
    return np.where(hit, mm, 0).astype(np.uint16)


def project(points_w: np.ndarray, K, w2c) -> np.ndarray:
    """(N, 3) world points -> (N, 3) of (u, v, z) in OpenCV pixels."""
    w2c = np.asarray(w2c, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    c = points_w @ w2c[:3, :3].T + w2c[:3, 3]
    z = c[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = K[0, 0] * c[:, 0] / z + K[0, 2]
        v = K[1, 1] * c[:, 1] / z + K[1, 2]
    return np.stack([u, v, z], axis=1)


def visible_fraction(
    uvz: np.ndarray, tris: np.ndarray, W: int, H: int, grid: int = FRACTION_GRID
) -> float:
    """Fraction of the silhouette (union of projected triangles) inside the image.

    The image covers [-0.5, W - 0.5] x [-0.5, H - 0.5] in pixel coordinates (pixel centres at
    integers). 1.0 at once when every vertex projects inside the image; otherwise the triangles
    are rasterised at cell centres of a grid over the union of the image and the silhouette's
    bounding box (at most `grid` cells along its longer side), and the fraction is the share of
    covered cells whose centre is inside the image. Triangles with a vertex behind the camera
    are left out. 0.0 when nothing projects in front of the camera.
    """
    u, v, z = uvz[:, 0], uvz[:, 1], uvz[:, 2]
    front = z > 1e-6
    lo_x, hi_x, lo_y, hi_y = -0.5, W - 0.5, -0.5, H - 0.5
    if front.all() and u.min() >= lo_x and u.max() <= hi_x and v.min() >= lo_y and v.max() <= hi_y:
        return 1.0
    t = tris[front[tris].all(axis=1)]
    if t.size == 0:
        return 0.0
    pu, pv = u[t], v[t]  # (T, 3)
    x0, x1 = min(lo_x, pu.min()), max(hi_x, pu.max())
    y0, y1 = min(lo_y, pv.min()), max(hi_y, pv.max())
    cell = max(x1 - x0, y1 - y0) / grid
    gw = int(np.ceil((x1 - x0) / cell)) + 1
    gh = int(np.ceil((y1 - y0) / cell)) + 1
    # Triangle corners in grid units; cell (i, j) has its centre at (i + 0.5, j + 0.5).
    gx = (pu - x0) / cell
    gy = (pv - y0) / cell
    covered = _raster(gx, gy, gw, gh)
    covered = covered.reshape(gh, gw)
    total = int(covered.sum())
    if total == 0:  # silhouette smaller than a cell: count vertices instead
        ins = front & (u >= lo_x) & (u <= hi_x) & (v >= lo_y) & (v <= hi_y)
        return float(ins.sum()) / float(max(1, front.sum()))
    cxs = x0 + (np.arange(gw) + 0.5) * cell
    cys = y0 + (np.arange(gh) + 0.5) * cell
    in_x = (cxs >= lo_x) & (cxs <= hi_x)
    in_y = (cys >= lo_y) & (cys <= hi_y)
    inside_img = int(covered[np.ix_(in_y, in_x)].sum())
    return inside_img / total


def _raster(gx: np.ndarray, gy: np.ndarray, gw: int, gh: int) -> np.ndarray:
    """Flat (gh * gw) boolean array of the grid cells whose centres lie in any triangle
    (corners (T, 3) in grid units; cell (i, j) has its centre at (i + 0.5, j + 0.5))."""
    covered = np.zeros(gh * gw, dtype=bool)
    if gx.size == 0:
        return covered
    i0 = np.clip(np.ceil(gx.min(axis=1) - 0.5), 0, gw - 1).astype(np.int64)
    i1 = np.clip(np.floor(gx.max(axis=1) - 0.5), -1, gw - 1).astype(np.int64)
    j0 = np.clip(np.ceil(gy.min(axis=1) - 0.5), 0, gh - 1).astype(np.int64)
    j1 = np.clip(np.floor(gy.max(axis=1) - 0.5), -1, gh - 1).astype(np.int64)
    counts = np.maximum(i1 - i0 + 1, 0) * np.maximum(j1 - j0 + 1, 0)
    # Candidate cells of all triangles at once, in chunks of about CHUNK cells (a few long
    # slivers across the grid must not allocate grid^2 cells each in one go).
    idx = np.nonzero(counts)[0]
    csum = np.cumsum(counts[idx])
    lo = 0
    while lo < idx.size:
        base = csum[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(csum, base + CHUNK, side="right")))
        sel = idx[lo:hi]
        _cover(covered, gw, gx[sel], gy[sel], i0[sel], i1[sel], j0[sel], counts[sel])
        lo = hi
    return covered


def silhouette_mask(uvz: np.ndarray, tris: np.ndarray, W: int, H: int) -> np.ndarray:
    """Boolean H x W mask (row 0 = top) of the pixels whose centre lies in one of the projected
    triangles: a product's whole silhouette in the image, ignoring anything in front of it.
    Triangles with a vertex behind the camera are left out."""
    front = uvz[:, 2] > 1e-6
    t = tris[front[tris].all(axis=1)] if tris.size else tris
    if t.size == 0:
        return np.zeros((H, W), dtype=bool)
    # Grid cells are pixels: cell i's centre (i + 0.5) is pixel centre i.
    gx = uvz[:, 0][t] + 0.5
    gy = uvz[:, 1][t] + 0.5
    return _raster(gx, gy, W, H).reshape(H, W)


def instance_stats(
    ids: np.ndarray, iid: int, silhouette: np.ndarray, in_image: float
) -> Tuple[Optional[List[int]], int, float, List[int]]:
    """(bbox, visible pixels, visible fraction, occluded_by) of instance `iid` in an id map.

    visible fraction = visible pixels / pixels of its silhouette in the image (at most 1), times
    the share of its silhouette inside the image (`in_image`, from visible_fraction): what is
    left of it after occlusion and the image's edges. occluded_by: the other ids found on its
    silhouette's pixels, ascending."""
    bbox, visible = mask_bbox(ids == iid)
    sil = int(silhouette.sum())
    if sil == 0:
        frac = in_image if visible else 0.0
    else:
        frac = min(1.0, visible / sil) * in_image
    others = np.unique(ids[silhouette])
    occluded_by = [int(j) for j in others if j != 0 and j != iid]
    return bbox, visible, float(frac), occluded_by


def _cover(
    covered: np.ndarray,
    gw: int,
    gx: np.ndarray,
    gy: np.ndarray,
    i0: np.ndarray,
    i1: np.ndarray,
    j0: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Mark the grid cells whose centres lie in any of these triangles (corners in grid units)."""
    nw = i1 - i0 + 1
    tid = np.repeat(np.arange(counts.size), counts)
    start = np.cumsum(counts) - counts
    k = np.arange(tid.size) - start[tid]
    nwk = nw[tid]
    ci = i0[tid] + k % nwk
    cj = j0[tid] + k // nwk
    px = ci + 0.5
    py = cj + 0.5
    ax, ay = gx[tid, 0], gy[tid, 0]
    bx, by = gx[tid, 1], gy[tid, 1]
    cx, cy = gx[tid, 2], gy[tid, 2]
    e0 = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    e1 = (cx - bx) * (py - by) - (cy - by) * (px - bx)
    e2 = (ax - cx) * (py - cy) - (ay - cy) * (px - cx)
    inside = ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))
    covered[cj[inside] * gw + ci[inside]] = True
