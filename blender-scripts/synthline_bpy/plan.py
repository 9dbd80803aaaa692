"""FramePlan parsing with no bpy: JSON dict -> typed, validated plan (docs/render-protocol.md).

Any missing field or wrong kind raises PlanError naming the field path; the server maps it to
BAD_PLAN. Checks that need the catalog or the HDRI list are done by `check_known`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

RGB = Tuple[float, float, float]

LIGHT_TYPES = ("point", "area", "spot")
MODEL_FORMATS = ("glb", "gltf", "fbx", "obj", "stl", "ply", "blend")
BACKGROUND_KINDS = ("belt", "image")
ENGINES = ("cycles", "eevee")
MAX_LIGHTS = 4


class PlanError(ValueError):
    """A FramePlan field is missing, of the wrong kind, or refers to something unknown."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def _get(d: Any, key: str, path: str) -> Any:
    if not isinstance(d, dict):
        raise PlanError(path, "expected an object")
    if key not in d:
        raise PlanError(f"{path}.{key}" if path else key, "missing")
    return d[key]


def _num(d: Any, key: str, path: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    v = _get(d, key, path)
    p = f"{path}.{key}" if path else key
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise PlanError(p, f"expected a finite number, got {v!r}")
    if not lo <= v <= hi:
        raise PlanError(p, f"{v} outside [{lo}, {hi}]")
    return float(v)


def _int(d: Any, key: str, path: str, lo: int, hi: int) -> int:
    v = _get(d, key, path)
    p = f"{path}.{key}" if path else key
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            raise PlanError(p, f"expected an integer, got {v!r}")
    if not lo <= v <= hi:
        raise PlanError(p, f"{v} outside [{lo}, {hi}]")
    return v


def _str(d: Any, key: str, path: str, choices: Optional[Sequence[str]] = None) -> str:
    v = _get(d, key, path)
    p = f"{path}.{key}" if path else key
    if not isinstance(v, str) or not v:
        raise PlanError(p, f"expected a non-empty string, got {v!r}")
    if choices is not None and v not in choices:
        raise PlanError(p, f"expected one of {', '.join(choices)}, got {v!r}")
    return v


def _vec(d: Any, key: str, path: str, n: int, lo: float = -math.inf,
         hi: float = math.inf) -> Tuple[float, ...]:
    v = _get(d, key, path)
    p = f"{path}.{key}" if path else key
    if not isinstance(v, list) or len(v) != n:
        raise PlanError(p, f"expected an array of {n} numbers")
    out = []
    for i, c in enumerate(v):
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c):
            raise PlanError(f"{p}[{i}]", f"expected a finite number, got {c!r}")
        if not lo <= c <= hi:
            raise PlanError(f"{p}[{i}]", f"{c} outside [{lo}, {hi}]")
        out.append(float(c))
    return tuple(out)


def _abs_path(v: Any, path: str) -> str:
    if not isinstance(v, str) or not os.path.isabs(v) or "\x00" in v:
        raise PlanError(path, f"expected an absolute path, got {v!r}")
    return v


@dataclass(frozen=True)
class Source:
    """Where a library product's model file is and how to size and colour it."""
    path: str
    format: str
    dimensions_m: Optional[Tuple[float, float, float]]
    scale: Optional[float]
    color_slots: Tuple[str, ...]


@dataclass(frozen=True)
class Product:
    asset: str
    model: str
    color_name: str
    color_srgb: RGB
    side_up: str
    yaw_deg: float
    offset_m: Tuple[float, float]
    source: Optional[Source] = None  # library products only


@dataclass(frozen=True)
class Camera:
    distance_m: float
    elevation_deg: float
    azimuth_deg: float
    roll_deg: float
    focal_length_mm: float
    sensor_width_mm: float
    look_at_m: Tuple[float, float, float]


@dataclass(frozen=True)
class Light:
    type: str
    energy_w: float
    rgb: RGB
    distance_m: float
    elevation_deg: float
    azimuth_deg: float
    size_m: float
    spot_angle_deg: float
    color_temperature_k: Optional[float]


@dataclass(frozen=True)
class World:
    hdri: str
    strength: float
    rotation_deg: float


@dataclass(frozen=True)
class Background:
    kind: str
    belt_srgb: RGB
    texture_scale: float
    texture_offset: Tuple[float, float]
    roughness: float
    # kind "image" only (the belt fields above then hold neutral placeholders):
    image: Optional[str] = None
    crop: Tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    rotation_deg: float = 0.0
    tint_srgb: RGB = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Render:
    engine: str
    samples: int
    resolution: Tuple[int, int]
    seed: int
    denoise: bool


@dataclass(frozen=True)
class Outputs:
    image: str
    mask: Optional[str]
    depth: Optional[str] = None


@dataclass(frozen=True)
class FramePlan:
    index: int
    key: str
    product: Product
    camera: Camera
    lights: Tuple[Light, ...]
    world: World
    background: Background
    render: Render
    outputs: Outputs
    crash: bool
    allocate_mb: int = 0


def parse_plan(d: Any) -> FramePlan:
    if not isinstance(d, dict):
        raise PlanError("plan", "expected an object")
    index = _int(d, "index", "", 0, 2**53)
    key = _str(d, "key", "")

    p = _get(d, "product", "")
    color = _get(p, "color", "product")
    asset = _str(p, "asset", "product")
    source = None
    if asset.startswith("library:"):
        source = parse_source(_get(p, "source", "product"), "product.source")
    product = Product(
        asset=asset,
        model=_str(p, "model", "product"),
        color_name=_str(color, "name", "product.color"),
        color_srgb=_vec(color, "srgb", "product.color", 3, 0.0, 1.0),  # type: ignore[arg-type]
        side_up=_str(p, "side_up", "product", ("front", "back")),
        yaw_deg=_num(p, "yaw_deg", "product"),
        offset_m=_vec(p, "offset_m", "product", 2, -10.0, 10.0),  # type: ignore[arg-type]
        source=source,
    )

    c = _get(d, "camera", "")
    camera = Camera(
        distance_m=_num(c, "distance_m", "camera", 1e-3, 1e3),
        elevation_deg=_num(c, "elevation_deg", "camera", -90.0, 90.0),
        azimuth_deg=_num(c, "azimuth_deg", "camera"),
        roll_deg=_num(c, "roll_deg", "camera"),
        focal_length_mm=_num(c, "focal_length_mm", "camera", 1.0, 5000.0),
        sensor_width_mm=_num(c, "sensor_width_mm", "camera", 1.0, 200.0),
        look_at_m=_vec(c, "look_at_m", "camera", 3, -100.0, 100.0),  # type: ignore[arg-type]
    )

    raw_lights = _get(d, "lights", "")
    if not isinstance(raw_lights, list):
        raise PlanError("lights", "expected an array")
    if len(raw_lights) > MAX_LIGHTS:
        raise PlanError("lights", f"at most {MAX_LIGHTS} lights, got {len(raw_lights)}")
    lights: List[Light] = []
    for i, l in enumerate(raw_lights):
        lp = f"lights[{i}]"
        ltype = _str(l, "type", lp, LIGHT_TYPES)
        temp = l.get("color_temperature_k") if isinstance(l, dict) else None
        lights.append(Light(
            type=ltype,
            energy_w=_num(l, "energy_w", lp, 0.0, 1e6),
            rgb=_vec(l, "rgb", lp, 3, 0.0, 1.0),  # type: ignore[arg-type]
            distance_m=_num(l, "distance_m", lp, 1e-3, 1e3),
            elevation_deg=_num(l, "elevation_deg", lp, -90.0, 90.0),
            azimuth_deg=_num(l, "azimuth_deg", lp),
            size_m=_num(l, "size_m", lp, 0.0, 100.0) if ltype != "point" or "size_m" in l else 0.0,
            spot_angle_deg=(_num(l, "spot_angle_deg", lp, 1.0, 180.0)
                            if ltype == "spot" or "spot_angle_deg" in l else 45.0),
            color_temperature_k=float(temp) if isinstance(temp, (int, float))
            and not isinstance(temp, bool) else None,
        ))

    w = _get(d, "world", "")
    world = World(
        hdri=_str(w, "hdri", "world"),
        strength=_num(w, "strength", "world", 0.0, 1e3),
        rotation_deg=_num(w, "rotation_deg", "world"),
    )
    if not all(ch.isalnum() or ch in "-_." for ch in world.hdri) or world.hdri.startswith("."):
        raise PlanError("world.hdri", f"not a file stem: {world.hdri!r}")

    b = _get(d, "background", "")
    kind = _str(b, "kind", "background", BACKGROUND_KINDS)
    background = parse_image_background(b) if kind == "image" else Background(
        kind=kind,
        belt_srgb=_vec(b, "belt_srgb", "background", 3, 0.0, 1.0),  # type: ignore[arg-type]
        texture_scale=_num(b, "texture_scale", "background", 1e-3, 1e3),
        texture_offset=_vec(b, "texture_offset", "background", 2, -1e4, 1e4),  # type: ignore
        roughness=_num(b, "roughness", "background", 0.0, 1.0),
    )

    r = _get(d, "render", "")
    res = _get(r, "resolution", "render")
    if (not isinstance(res, list) or len(res) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in res)
            or not all(1 <= v <= 16384 for v in res)):
        raise PlanError("render.resolution", f"expected [width, height] in 1..16384, got {res!r}")
    denoise = _get(r, "denoise", "render")
    if not isinstance(denoise, bool):
        raise PlanError("render.denoise", "expected a boolean")
    render = Render(
        engine=_str(r, "engine", "render", ENGINES),
        samples=_int(r, "samples", "render", 1, 1 << 24),
        resolution=(res[0], res[1]),
        seed=_int(r, "seed", "render", -(2**31), 2**31 - 1),
        denoise=denoise,
    )

    o = _get(d, "outputs", "")
    image = _abs_path(_get(o, "image", "outputs"), "outputs.image")
    if not image.lower().endswith(".png"):
        raise PlanError("outputs.image", "expected a .png path")
    mask_raw = o.get("mask") if isinstance(o, dict) else None
    mask = None if mask_raw is None else _abs_path(mask_raw, "outputs.mask")
    depth_raw = o.get("depth") if isinstance(o, dict) else None
    depth = None if depth_raw is None else _abs_path(depth_raw, "outputs.depth")
    if depth is not None and not depth.lower().endswith(".png"):
        raise PlanError("outputs.depth", "expected a .png path")
    outputs = Outputs(image=image, mask=mask, depth=depth)

    crash = False
    allocate_mb = 0
    dbg = d.get("debug")
    if dbg is not None:
        if not isinstance(dbg, dict):
            raise PlanError("debug", "expected an object")
        crash = dbg.get("crash") is True
        alloc = dbg.get("allocate_mb", 0)
        if not isinstance(alloc, int) or isinstance(alloc, bool) or not 0 <= alloc <= 1_000_000:
            raise PlanError("debug.allocate_mb", "expected an integer from 0 to 1000000")
        allocate_mb = alloc

    return FramePlan(index=index, key=key, product=product, camera=camera, lights=tuple(lights),
                     world=world, background=background, render=render, outputs=outputs,
                     crash=crash, allocate_mb=allocate_mb)


def parse_source(s: Any, path: str = "source") -> Source:
    """A library product's `source` object (also the probe request's `source`)."""
    fpath = _abs_path(_get(s, "path", path), f"{path}.path")
    # Not checked against MODEL_FORMATS here: an unsupported format is the asset's fault
    # (BAD_ASSET, raised when it is imported), not a malformed plan.
    fmt = _str(s, "format", path)
    dims_raw = s.get("dimensions_m")
    dims = None
    if dims_raw is not None:
        dims = _vec(s, "dimensions_m", path, 3, 1e-6, 1e3)
        if not all(v > 0 for v in dims):
            raise PlanError(f"{path}.dimensions_m", "expected positive lengths")
    scale = None if s.get("scale") is None else _num(s, "scale", path, 1e-9, 1e9)
    if scale is not None and scale <= 0:
        raise PlanError(f"{path}.scale", "expected a positive number")
    slots_raw = s.get("color_slots", [])
    if slots_raw is None:
        slots_raw = []
    if not isinstance(slots_raw, list) or not all(isinstance(x, str) and x for x in slots_raw):
        raise PlanError(f"{path}.color_slots", "expected an array of material names")
    return Source(path=fpath, format=fmt, dimensions_m=dims,  # type: ignore[arg-type]
                  scale=scale, color_slots=tuple(slots_raw))


def parse_image_background(b: Any) -> Background:
    """`background` of kind "image": a photo textures the belt (docs/render-protocol.md)."""
    crop = _vec(b, "crop", "background", 4, 0.0, 1.0)
    if not (crop[2] > crop[0] and crop[3] > crop[1]):
        raise PlanError("background.crop", f"expected u0 < u1 and v0 < v1, got {list(crop)}")
    return Background(
        kind="image",
        belt_srgb=(0.0, 0.0, 0.0),
        texture_scale=1.0,
        texture_offset=(0.0, 0.0),
        roughness=_num(b, "roughness", "background", 0.0, 1.0),
        image=_abs_path(_get(b, "image", "background"), "background.image"),
        crop=crop,  # type: ignore[arg-type]
        rotation_deg=_num(b, "rotation_deg", "background"),
        tint_srgb=_vec(b, "tint_srgb", "background", 3, 0.0, 16.0),  # type: ignore[arg-type]
    )


def model_from_asset(product: Product) -> str:
    """The catalog id a builtin product refers to."""
    if not product.asset.startswith("builtin:"):
        raise PlanError("product.asset", f"unknown asset library in {product.asset!r}")
    aid = product.asset[len("builtin:"):]
    if aid != product.model:
        raise PlanError("product.model", f"{product.model!r} does not match asset {product.asset!r}")
    return aid


def is_library(product: Product) -> bool:
    return product.asset.startswith("library:") and product.source is not None


def check_known(plan: FramePlan, models: Sequence[str], hdris: Sequence[str]) -> None:
    if not is_library(plan.product):
        mid = model_from_asset(plan.product)
        if mid not in models:
            raise PlanError("product.model", f"unknown model {mid!r}")
    if plan.world.hdri not in hdris:
        raise PlanError("world.hdri", f"unknown HDRI {plan.world.hdri!r} "
                                      f"(known: {', '.join(sorted(hdris))})")
