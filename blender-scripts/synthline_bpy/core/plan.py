"""FramePlan parsing with no bpy: JSON dict -> validated, typed plan.

The contract is the zod FramePlan (packages/spec/src/frame-plan.ts): a plan is first checked
against its generated JSON Schema (protocol.py), then read into the dataclasses below. Each field
reads the plan key of its own name, or the path in its `wire` metadata; tests/test_plan_schema.py
fails when a dataclass field and the schema's properties differ either way.

Any missing field, wrong kind or out-of-range value raises PlanError naming the field path; the
server maps it to BAD_PLAN. Checks that need the catalog or Blender's HDRIs are done by
`check_known`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional, Sequence, Tuple

from . import protocol
from .protocol import SchemaError

RGB = Tuple[float, float, float]

# What a plan may hold, from the protocol's constants (the scene's light pool is sized by them).
LIGHT_TYPES = protocol.LIGHT_TYPES
MAX_LIGHTS = protocol.MAX_LIGHTS


class PlanError(ValueError):
    """A FramePlan field is missing, of the wrong kind, or refers to something unknown."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def _wire(path: str, **kw: Any) -> Any:
    """A field read from `path` of its object in the plan rather than from its own name."""
    return field(metadata={"wire": path}, **kw)


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
    color_name: str = _wire("color.name")
    color_srgb: RGB = _wire("color.srgb")
    side_up: str = _wire("side_up")
    yaw_deg: float = _wire("yaw_deg")
    offset_m: Tuple[float, float] = _wire("offset_m")
    source: Optional[Source] = None  # library products only
    case_kind: Optional[str] = _wire("condition.case.kind", default=None)  # None: no case
    case_srgb: Optional[RGB] = _wire("condition.case.srgb", default=None)
    # Wear (scene/wear.py); None: not applied.
    wallpaper: Optional[Tuple[RGB, RGB]] = _wire("condition.screen.wallpaper", default=None)
    crack_impact: Optional[Tuple[float, float]] = _wire("condition.crack.impact", default=None)
    crack_lines: Optional[Tuple[Tuple[Tuple[float, float], ...], ...]] = _wire(
        "condition.crack.lines", default=None
    )
    sticker_side: Optional[str] = _wire("condition.sticker.side", default=None)
    sticker_center: Optional[Tuple[float, float]] = _wire("condition.sticker.center", default=None)
    sticker_size_m: Optional[Tuple[float, float]] = _wire("condition.sticker.size_m", default=None)
    sticker_srgb: Optional[RGB] = _wire("condition.sticker.srgb", default=None)
    sticker_stripes: int = _wire("condition.sticker.stripes", default=0)
    scratch_strength: Optional[float] = _wire("condition.scratches.strength", default=None)
    scratch_lines: Optional[Tuple[Tuple[Tuple[float, float], ...], ...]] = _wire(
        "condition.scratches.lines", default=None
    )
    dust_strength: Optional[float] = _wire("condition.dust.strength", default=None)
    dust_offset: Optional[Tuple[float, float]] = _wire(
        "condition.dust.pattern_offset", default=None
    )


@dataclass(frozen=True)
class Other(Product):
    """A further product of the frame (`others`): instance id 2, 3, ..."""

    id: int = 0


@dataclass(frozen=True)
class Camera:
    distance_m: float
    elevation_deg: float
    azimuth_deg: float
    roll_deg: float
    focal_length_mm: float
    sensor_width_mm: float
    look_at_m: Tuple[float, float, float]
    # Radial lens distortion (OpenCV k1, k2); None: none.
    distortion_k1: Optional[float] = _wire("distortion.k1", default=None)
    distortion_k2: Optional[float] = _wire("distortion.k2", default=None)


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
    color_temperature_k: float  # informative: `rgb` (the planner's kelvinToRgb) is what renders
    length_m: float = 0.0  # > 0: an area light this long across the belt (a line light)


@dataclass(frozen=True)
class World:
    hdri: str
    strength: float
    rotation_deg: float


@dataclass(frozen=True)
class Background:
    kind: str
    # kind "belt" only (kind "image" leaves these neutral):
    belt_srgb: RGB = (0.0, 0.0, 0.0)
    texture_scale: float = 1.0
    texture_offset: Tuple[float, float] = (0.0, 0.0)
    roughness: float = 0.0  # both kinds
    # kind "image" only:
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
    mask: Optional[str] = None
    depth: Optional[str] = None
    instances: Optional[str] = None


@dataclass(frozen=True)
class Distractor:
    """A piece of e-waste on the belt (never a class)."""

    kind: str
    offset_m: Tuple[float, float]
    yaw_deg: float
    scale: float
    srgb: RGB
    path_m: Tuple[Tuple[float, float], ...]
    screen_up: bool = False  # generic_phone only
    product: Optional[Product] = None  # kind "product": a product riding as clutter


@dataclass(frozen=True)
class BeltLine:
    """The belt's edges and side rails, a seam across it, worn streaks and dirt."""

    width_m: float
    centre_y_m: float
    rail_height_m: float
    seam_x_m: Optional[float]
    wear: float
    dirt: float
    pattern_offset_m: Tuple[float, float]


@dataclass(frozen=True)
class Motion:
    """The belt's travel while the shutter is open (motion blur along world x)."""

    belt_speed_m_s: float
    shutter_s: float
    travel_m: float


@dataclass(frozen=True)
class Drop:
    """How one instance of a pile is dropped before the settle."""

    id: int
    height_m: float
    tilt_deg: Tuple[float, float]


@dataclass(frozen=True)
class Pile:
    """A pile: the drops, settled by the rigid-body simulation in `frames` steps."""

    frames: int
    substeps: int
    solver_iterations: int
    drops: Tuple[Drop, ...]


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
    crash: bool = _wire("debug.crash")
    allocate_mb: int = _wire("debug.allocate_mb", default=0)
    others: Tuple[Other, ...] = ()  # instance ids 2, 3, ...
    motion: Optional[Motion] = None  # absent: a still frame
    belt: Optional[BeltLine] = None  # absent: an endless clean belt
    distractors: Tuple[Distractor, ...] = ()
    pile: Optional[Pile] = None  # absent: products lie where the plan puts them


# Plan fields the render server does not read, and why. Every other schema property must be a
# dataclass field (tests/test_plan_schema.py).
NOT_READ: Dict[str, str] = {
    "product.color.nominal_srgb": "the palette colour before jitter: for labels",
    "others.color.nominal_srgb": "the palette colour before jitter: for labels",
    "distractors.product.color.nominal_srgb": "the palette colour before jitter: for labels",
    "background.name": "the photo's file name: for labels (`image` is its path)",
    "sensor": "sensor effects are applied in TypeScript after the render",
}

_MISSING = object()


def _frozen(v: Any) -> Any:
    return tuple(_frozen(x) for x in v) if isinstance(v, list) else v


def _lookup(d: Any, keys: Tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return _MISSING
        d = d[key]
    return d


_WIRE: Dict[Any, Tuple[Tuple[str, Tuple[str, ...]], ...]] = {}


def build(cls: Any, d: Dict[str, Any], **given: Any) -> Any:
    """A dataclass from a validated plan object: each field from its wire path (lists become
    tuples), `given` values as they are; a field absent from `d` keeps its default."""
    wire = _WIRE.get(cls)
    if wire is None:
        wire = _WIRE[cls] = tuple(
            (f.name, tuple(f.metadata.get("wire", f.name).split("."))) for f in fields(cls)
        )
    kw: Dict[str, Any] = {}
    for name, keys in wire:
        if name in given:
            kw[name] = given[name]
            continue
        v = _lookup(d, keys)
        if v is not _MISSING:
            kw[name] = _frozen(v)
    return cls(**kw)


# ------------------------------------------------------------------ what a JSON Schema cannot say


def _abs_path(v: str, path: str) -> str:
    # The schema only says "a string": absolute, and the OS's notion of it, is checked here.
    if not os.path.isabs(v) or "\x00" in v:
        raise PlanError(path, f"expected an absolute path, got {v!r}")
    return v


def _distractor(d: Any, path: str) -> Distractor:
    prod = d.get("product")
    if (prod is None) != (d["kind"] != "product"):
        raise PlanError(f"{path}.product", "a distractor of kind product needs one, others none")
    if prod is None:
        return build(Distractor, d)
    product = build(Product, prod, source=_product_source(prod, f"{path}.product"))
    return build(Distractor, d, product=product)


def _pile(d: Dict[str, Any], instances: int) -> Pile:
    drops = tuple(build(Drop, x) for x in d["drops"])
    if [x.id for x in drops] != list(range(1, instances + 1)):
        raise PlanError("pile.drops", f"expected one drop per instance, ids 1..{instances}")
    return build(Pile, d, drops=drops)


def parse_plan(d: Any) -> FramePlan:
    try:
        p = protocol.validate("FramePlan", d, label="plan")
    except SchemaError as e:
        raise PlanError(e.path, e.message) from None

    prod = p["product"]
    source = _product_source(prod, "product")
    others = []
    for i, o in enumerate(p.get("others") or ()):
        if o["id"] != i + 2:
            raise PlanError(f"others[{i}].id", f"expected {i + 2}, got {o['id']}")
        others.append(build(Other, o, source=_product_source(o, f"others[{i}]")))
    bg = p["background"]
    if bg["kind"] == "image":
        _abs_path(bg["image"], "background.image")
        u0, v0, u1, v1 = bg["crop"]
        if not (u1 > u0 and v1 > v0):
            raise PlanError("background.crop", f"expected u0 < u1 and v0 < v1, got {bg['crop']}")
    out = p["outputs"]
    for key in ("image", "mask", "depth", "instances"):
        if out.get(key) is not None:
            _abs_path(out[key], f"outputs.{key}")

    return build(
        FramePlan,
        p,
        product=build(Product, prod, source=source),
        camera=build(Camera, p["camera"]),
        lights=tuple(build(Light, x) for x in p["lights"]),
        world=build(World, p["world"]),
        background=build(Background, bg),
        render=build(Render, p["render"]),
        outputs=build(Outputs, out),
        others=tuple(others),
        motion=build(Motion, p["motion"]) if p.get("motion") is not None else None,
        belt=build(BeltLine, p["belt"]) if p.get("belt") is not None else None,
        pile=_pile(p["pile"], 1 + len(others)) if p.get("pile") is not None else None,
        distractors=tuple(
            _distractor(x, f"distractors[{i}]") for i, x in enumerate(p.get("distractors") or ())
        ),
    )


def _product_source(prod: Dict[str, Any], path: str) -> Optional[Source]:
    if not prod["asset"].startswith("library:"):
        return None
    # Which assets need a source is not in the schema (it allows null for any).
    if prod["source"] is None:
        raise PlanError(f"{path}.source", "expected an object (a library product's source)")
    return _source(prod["source"], f"{path}.source")


def _source(s: Dict[str, Any], path: str) -> Source:
    # An unsupported `format` is refused by the schema's enum; an importer that then fails on
    # the file is the asset's fault (BAD_ASSET), not the plan's.
    _abs_path(s["path"], f"{path}.path")
    return build(Source, s)


def parse_source(s: Any, path: str = "source") -> Source:
    """A library product's `source` object (also the probe request's `source`)."""
    try:
        v = protocol.validate("ProductSource", s, path=path)
    except SchemaError as e:
        raise PlanError(e.path, e.message) from None
    return _source(v, path)


def model_from_asset(product: Product, where: str = "product") -> str:
    """The catalog id a builtin product refers to."""
    if not product.asset.startswith("builtin:"):
        raise PlanError(f"{where}.asset", f"unknown asset library in {product.asset!r}")
    aid = product.asset[len("builtin:") :]
    if aid != product.model:
        raise PlanError(
            f"{where}.model", f"{product.model!r} does not match asset {product.asset!r}"
        )
    return aid


def is_library(product: Product) -> bool:
    return product.asset.startswith("library:") and product.source is not None


def check_known(plan: FramePlan, models: Sequence[str], hdris: Sequence[str]) -> None:
    for where, product in (
        [("product", plan.product)]
        + [(f"others[{i}]", o) for i, o in enumerate(plan.others)]
        + [(f"distractors[{i}].product", d.product) for i, d in enumerate(plan.distractors)]
    ):
        if product is None:
            continue
        if not is_library(product):
            mid = model_from_asset(product, where)
            if mid not in models:
                raise PlanError(f"{where}.model", f"unknown model {mid!r}")
    if plan.world.hdri not in hdris:
        raise PlanError(
            "world.hdri",
            f"unknown HDRI {plan.world.hdri!r} " f"(known: {', '.join(sorted(hdris))})",
        )
