"""Phone geometry with no bpy: catalog entry -> part layout -> triangle-free polygon meshes.

Glossary
  body frame   The phone's own coordinates, in metres. Origin at the centre of the body's
               bounding box (camera bump excluded); +x to the right and +y to the top as seen
               looking at the screen; +z out of the screen. The screen is at z = +T/2, the back
               glass at z = -T/2.
  back view    How the catalog places rear features (camera module, lenses, flash): millimetres
               from the top-left corner of the phone as seen looking at its back, x to the right,
               y down. This is how one measures on a photo of the back with a ruler.
  front view   How the catalog places front features: x in millimetres from the vertical centre
               line (+ to the right, looking at the screen), y in millimetres down from the top
               edge of the body.
  role         The material a face gets (see ROLES); phone_materials.py says how each looks.

Everything here is deterministic and cheap, so scene/phones.py only turns MeshPart lists into
bmesh data, and the unit tests can check sizes and positions without Blender.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

MM = 0.001

Vec2 = Tuple[float, float]
Vec3 = Tuple[float, float, float]

# Material roles. Colour-driven roles take their colour from the FramePlan every frame.
ROLES = (
    "back",  # back glass in the product colour
    "frame",  # the edge band (aluminium or stainless), frame colour
    "bezel",  # front cover glass over the black (or white) ink border
    "display",  # the switched-off display under the glass
    "ink",  # notch / Dynamic Island: black ink or black cut-out
    "module",  # raised camera module surface
    "lens_ring",  # metal ring around each lens
    "lens_glass",  # dark lens glass
    "lens_pupil",  # the coated inner element seen through the lens glass
    "flash",  # True Tone flash window
    "sensor",  # LiDAR, microphone holes, front camera: black
    "home_ring",  # Touch ID ring, frame colour metal
    "home_button",  # Touch ID button glass, front colour
    "grille",  # earpiece grille
    "button",  # side buttons, frame colour
)


@dataclass(frozen=True)
class RoundedRect:
    """An axis-aligned rounded rectangle in the body frame's xy plane (metres)."""

    cx: float
    cy: float
    w: float
    h: float
    r: float

    def outline(self, segments: int = 8, inset: float = 0.0) -> List[Vec2]:
        """Counter-clockwise outline (seen from +z), 4 * (segments + 1) points.

        With the same `segments`, outlines of different insets correspond point for point, so
        they can be lofted into a wall.
        """
        w = self.w - 2 * inset
        h = self.h - 2 * inset
        r = max(0.0, min(self.r - inset, w / 2, h / 2))
        pts: List[Vec2] = []
        corners = (
            (self.cx + w / 2 - r, self.cy - h / 2 + r, -90.0),  # bottom right
            (self.cx + w / 2 - r, self.cy + h / 2 - r, 0.0),  # top right
            (self.cx - w / 2 + r, self.cy + h / 2 - r, 90.0),  # top left
            (self.cx - w / 2 + r, self.cy - h / 2 + r, 180.0),  # bottom left
        )
        for ccx, ccy, a0 in corners:
            for i in range(segments + 1):
                a = math.radians(a0 + 90.0 * i / segments)
                pts.append((ccx + r * math.cos(a), ccy + r * math.sin(a)))
        return pts

    def contains(self, x: float, y: float) -> bool:
        dx = max(abs(x - self.cx) - (self.w / 2 - self.r), 0.0)
        dy = max(abs(y - self.cy) - (self.h / 2 - self.r), 0.0)
        if abs(x - self.cx) > self.w / 2 or abs(y - self.cy) > self.h / 2:
            return False
        return dx * dx + dy * dy <= self.r * self.r + 1e-12


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float

    def outline(self, segments: int = 24) -> List[Vec2]:
        return [
            (
                self.cx + self.r * math.cos(2 * math.pi * i / segments),
                self.cy + self.r * math.sin(2 * math.pi * i / segments),
            )
            for i in range(segments)
        ]


@dataclass(frozen=True)
class Lens:
    glass: Circle  # the dark glass disc
    ring_w: float  # width of the metal ring around it
    protrusion: float  # height of the ring above the surface it sits on

    @property
    def outer(self) -> Circle:
        return Circle(self.glass.cx, self.glass.cy, self.glass.r + self.ring_w)


@dataclass(frozen=True)
class Button:
    side: str  # "left" | "right" as seen looking at the screen
    kind: str
    cy: float  # centre along the long axis (body frame y)
    length: float
    depth: float  # extent across the thickness (z)
    protrude: float  # how far it stands out of the edge


@dataclass
class PhoneLayout:
    """Every part's shape and position, in metres, body frame."""

    model_id: str
    width: float
    height: float
    thickness: float
    corner_radius: float
    edge_style: str
    edge_material: str
    edge_radius: float
    back_roughness: float
    front_style: str
    display: RoundedRect
    notch: Optional[RoundedRect] = None
    island: Optional[RoundedRect] = None
    home_button: Optional[Circle] = None
    home_ring_w: float = 0.0
    earpiece: Optional[RoundedRect] = None
    front_camera: Optional[Circle] = None
    module: Optional[RoundedRect] = None
    module_shape: str = "none"
    module_bump: float = 0.0
    module_finish: str = "body"
    module_roughness: float = 0.1
    lenses: List[Lens] = field(default_factory=list)
    flash: Optional[Circle] = None
    lidar: Optional[Circle] = None
    mic: Optional[Circle] = None
    buttons: List[Button] = field(default_factory=list)

    @property
    def outline(self) -> RoundedRect:
        return RoundedRect(0.0, 0.0, self.width, self.height, self.corner_radius)

    @property
    def dimensions(self) -> Vec3:
        """Body bounding box size (x, y, z); the camera bump is not included."""
        return (self.width, self.height, self.thickness)

    def rear_surface_z(self, x: float, y: float) -> float:
        """z of the outermost rear surface at (x, y): module top if inside the module."""
        z = -self.thickness / 2
        if self.module is not None and self.module.contains(x, y):
            z -= self.module_bump
        return z

    @property
    def rear_extent(self) -> float:
        """How far below the back glass the lowest part (lens rings) reaches, metres."""
        deepest = 0.0
        for lens in self.lenses:
            depth = -self.thickness / 2 - self.rear_surface_z(lens.glass.cx, lens.glass.cy)
            deepest = max(deepest, depth + lens.protrusion)
        return max(deepest, self.module_bump)


# --------------------------------------------------------------------------- catalog -> layout


class CatalogError(ValueError):
    pass


def _req(d: dict, key: str, where: str):
    if not isinstance(d, dict) or key not in d:
        raise CatalogError(f"{where}: missing field {key!r}")
    return d[key]


def _num(d: dict, key: str, where: str) -> float:
    v = _req(d, key, where)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise CatalogError(f"{where}.{key}: expected a number, got {v!r}")
    return float(v)


def _pair(d: dict, key: str, where: str) -> Vec2:
    v = _req(d, key, where)
    if (
        not isinstance(v, list)
        or len(v) != 2
        or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in v)
    ):
        raise CatalogError(f"{where}.{key}: expected [x, y], got {v!r}")
    return (float(v[0]), float(v[1]))


def back_to_body(layout_w: float, layout_h: float, x_mm: float, y_mm: float) -> Vec2:
    """Back-view millimetres -> body-frame metres (looking at the back flips x)."""
    return (layout_w / 2 - x_mm * MM, layout_h / 2 - y_mm * MM)


def front_to_body(layout_h: float, x_mm: float, y_from_top_mm: float) -> Vec2:
    return (x_mm * MM, layout_h / 2 - y_from_top_mm * MM)


def layout_from_entry(entry: dict) -> PhoneLayout:
    """Validate one catalog model and place all of its parts. Raises CatalogError."""
    mid = _req(entry, "id", "model")
    where = f"model {mid}"
    body = _req(entry, "body", where)
    W = _num(body, "width_mm", where + ".body") * MM
    H = _num(body, "height_mm", where + ".body") * MM
    T = _num(body, "thickness_mm", where + ".body") * MM
    R = _num(body, "corner_radius_mm", where + ".body") * MM
    if not (0 < T < W < H) or not (0 < R < W / 2):
        raise CatalogError(f"{where}.body: implausible dimensions")

    edge = _req(entry, "edge", where)
    edge_style = _req(edge, "style", where + ".edge")
    if edge_style not in ("rounded", "flat"):
        raise CatalogError(f"{where}.edge.style: expected rounded|flat")
    edge_material = _req(edge, "material", where + ".edge")
    if edge_material not in ("aluminum", "stainless"):
        raise CatalogError(f"{where}.edge.material: expected aluminum|stainless")
    edge_radius = min(_num(edge, "radius_mm", where + ".edge") * MM, T / 2 * 0.98)

    back = _req(entry, "back", where)
    back_roughness = _num(back, "roughness", where + ".back")

    front = _req(entry, "front", where)
    fw = where + ".front"
    style = _req(front, "style", fw)
    if style not in ("home_button", "notch", "island"):
        raise CatalogError(f"{fw}.style: expected home_button|notch|island")
    disp = _req(front, "display", fw)
    dw = _num(disp, "width_mm", fw + ".display") * MM
    dh = _num(disp, "height_mm", fw + ".display") * MM
    doff = _num(disp, "center_offset_mm", fw + ".display") * MM
    dr = _num(disp, "corner_radius_mm", fw + ".display") * MM
    if dw >= W - 2 * edge_radius or dh >= H:
        raise CatalogError(f"{fw}.display: larger than the flat front")
    display = RoundedRect(0.0, doff, dw, dh, min(dr, dw / 2))
    display_top = doff + dh / 2

    layout = PhoneLayout(
        model_id=mid,
        width=W,
        height=H,
        thickness=T,
        corner_radius=R,
        edge_style=edge_style,
        edge_material=edge_material,
        edge_radius=edge_radius,
        back_roughness=back_roughness,
        front_style=style,
        display=display,
    )

    if style == "notch":
        n = _req(front, "notch", fw)
        nw = _num(n, "width_mm", fw + ".notch") * MM
        nh = _num(n, "height_mm", fw + ".notch") * MM
        nr = _num(n, "corner_radius_mm", fw + ".notch") * MM
        # The notch hangs from the display's top edge; extend it upward by its corner radius
        # so only its lower corners show as rounded.
        layout.notch = RoundedRect(0.0, display_top - nh / 2 + nr / 2, nw, nh + nr, nr)
    elif style == "island":
        isl = _req(front, "island", fw)
        iw = _num(isl, "width_mm", fw + ".island") * MM
        ih = _num(isl, "height_mm", fw + ".island") * MM
        top = _num(isl, "top_from_display_top_mm", fw + ".island") * MM
        layout.island = RoundedRect(0.0, display_top - top - ih / 2, iw, ih, ih / 2)
    else:
        hb = _req(front, "home_button", fw)
        d = _num(hb, "diameter_mm", fw + ".home_button") * MM
        fb = _num(hb, "center_from_bottom_mm", fw + ".home_button") * MM
        layout.home_button = Circle(0.0, -H / 2 + fb, d / 2)
        layout.home_ring_w = _num(hb, "ring_mm", fw + ".home_button") * MM

    ear = front.get("earpiece")
    if ear:
        ew = _num(ear, "width_mm", fw + ".earpiece") * MM
        eh = _num(ear, "height_mm", fw + ".earpiece") * MM
        ey = H / 2 - _num(ear, "center_from_top_mm", fw + ".earpiece") * MM
        layout.earpiece = RoundedRect(0.0, ey, ew, eh, eh / 2)
    fc = front.get("front_camera")
    if fc:
        x, y = front_to_body(H, *_pair(fc, "center_mm", fw + ".front_camera"))
        layout.front_camera = Circle(x, y, _num(fc, "diameter_mm", fw + ".front_camera") * MM / 2)

    cam = _req(entry, "camera", where)
    cw = where + ".camera"
    mod = _req(cam, "module", cw)
    shape = _req(mod, "shape", cw + ".module")
    if shape not in ("none", "pill", "squircle"):
        raise CatalogError(f"{cw}.module.shape: expected none|pill|squircle")
    layout.module_shape = shape
    if shape != "none":
        cx, cy = back_to_body(W, H, *_pair(mod, "center_mm", cw + ".module"))
        sw, sh = _pair(mod, "size_mm", cw + ".module")
        mr = _num(mod, "corner_radius_mm", cw + ".module") * MM
        layout.module = RoundedRect(cx, cy, sw * MM, sh * MM, min(mr, sw * MM / 2, sh * MM / 2))
        layout.module_bump = _num(mod, "bump_mm", cw + ".module") * MM
        finish = _req(mod, "finish", cw + ".module")
        if finish not in ("body", "black"):
            raise CatalogError(f"{cw}.module.finish: expected body|black")
        layout.module_finish = finish
        layout.module_roughness = _num(mod, "roughness", cw + ".module")

    lenses = _req(cam, "lenses", cw)
    if not isinstance(lenses, list) or not lenses:
        raise CatalogError(f"{cw}.lenses: expected a non-empty list")
    for i, ln in enumerate(lenses):
        lw = f"{cw}.lenses[{i}]"
        x, y = back_to_body(W, H, *_pair(ln, "center_mm", lw))
        layout.lenses.append(
            Lens(
                glass=Circle(x, y, _num(ln, "diameter_mm", lw) * MM / 2),
                ring_w=_num(ln, "ring_mm", lw) * MM,
                protrusion=_num(ln, "protrusion_mm", lw) * MM,
            )
        )
    for key in ("flash", "lidar", "mic"):
        c = cam.get(key)
        if c:
            x, y = back_to_body(W, H, *_pair(c, "center_mm", f"{cw}.{key}"))
            setattr(layout, key, Circle(x, y, _num(c, "diameter_mm", f"{cw}.{key}") * MM / 2))

    for i, b in enumerate(_req(entry, "buttons", where)):
        bw = f"{where}.buttons[{i}]"
        side = _req(b, "side", bw)
        if side not in ("left", "right"):
            raise CatalogError(f"{bw}.side: expected left|right")
        length = _num(b, "length_mm", bw) * MM
        cy = H / 2 - _num(b, "from_top_mm", bw) * MM - length / 2
        kind = _req(b, "kind", bw)
        depth = min(T * 0.42, 3.0 * MM) if kind != "mute_switch" else min(T * 0.3, 2.0 * MM)
        layout.buttons.append(Button(side, kind, cy, length, depth, 0.45 * MM))
    return layout


# --------------------------------------------------------------------------- signatures


def lens_arrangement(layout: PhoneLayout) -> str:
    """Coarse name of how the rear lenses are arranged: what a classifier must see."""
    pts = [(lens.glass.cx, lens.glass.cy) for lens in layout.lenses]
    if len(pts) == 1:
        return "single"
    if len(pts) == 2:
        dx = abs(pts[0][0] - pts[1][0])
        dy = abs(pts[0][1] - pts[1][1])
        if dx < 0.25 * dy:
            return "vertical"
        if dy < 0.25 * dx:
            return "horizontal"
        return "diagonal"
    if len(pts) == 3:
        return "triangle"
    return f"{len(pts)}-lens"


def back_signature(layout: PhoneLayout) -> tuple:
    """What tells models apart from the back; must differ between catalog models."""
    size = round(layout.module.w / MM / 4) * 4 if layout.module else 0
    return (
        layout.module_shape,
        lens_arrangement(layout),
        layout.lidar is not None,
        layout.flash is not None
        and layout.module is not None
        and layout.module.contains(layout.flash.cx, layout.flash.cy),
        size,
    )


def front_signature(layout: PhoneLayout) -> tuple:
    """What tells models apart from the front (style, outline to 0.5 mm, edge style)."""
    return (
        layout.front_style,
        layout.edge_style,
        round(layout.width / MM * 2) / 2,
        round(layout.height / MM * 2) / 2,
    )


# --------------------------------------------------------------------------- meshes


@dataclass
class MeshPart:
    """Polygons of one object of the phone, with a material role and smoothing per face."""

    name: str
    verts: List[Vec3] = field(default_factory=list)
    faces: List[Tuple[int, ...]] = field(default_factory=list)
    roles: List[str] = field(default_factory=list)
    smooth: List[bool] = field(default_factory=list)

    def add_ring(self, pts: Sequence[Vec3]) -> List[int]:
        base = len(self.verts)
        self.verts.extend(pts)
        return list(range(base, base + len(pts)))

    def face(self, idx: Sequence[int], role: str, smooth: bool = False) -> None:
        assert role in ROLES, role
        self.faces.append(tuple(idx))
        self.roles.append(role)
        self.smooth.append(smooth)

    def loft(self, rings: Sequence[Sequence[int]], role: str, smooth: bool) -> None:
        """Quads between consecutive closed rings. Rings CCW (from +z) and bottom to top give
        outward normals."""
        for a, b in zip(rings, rings[1:]):
            n = len(a)
            for i in range(n):
                j = (i + 1) % n
                self.face((a[i], a[j], b[j], b[i]), role, smooth)

    def cap(self, ring: Sequence[int], role: str, up: bool) -> None:
        self.face(ring if up else list(reversed(ring)), role, False)

    def bounds(self) -> Tuple[Vec3, Vec3]:
        xs, ys, zs = zip(*self.verts)
        return (min(xs), min(ys), min(zs)), (max(xs), max(ys), max(zs))


def _at_z(pts: Sequence[Vec2], z: float) -> List[Vec3]:
    return [(x, y, z) for x, y in pts]


def edge_profile(layout: PhoneLayout, steps: int = 5) -> List[Tuple[float, float]]:
    """(z, inset) pairs from the back (z = -T/2) to the front (z = +T/2) for the side wall."""
    T = layout.thickness
    re = layout.edge_radius
    out: List[Tuple[float, float]] = []
    if layout.edge_style == "flat":
        steps = 1  # a small 45 degree chamfer
    for i in range(steps + 1):  # back rounding: inset re -> 0
        a = math.pi / 2 * i / steps
        out.append((-T / 2 + re * (1 - math.cos(a)), re * (1 - math.sin(a))))
    for i in range(steps + 1):  # front rounding: inset 0 -> re
        a = math.pi / 2 * i / steps
        out.append((T / 2 - re * (1 - math.sin(a)), re * (1 - math.cos(a))))
    return out


def _prism(
    part: MeshPart,
    outline: Sequence[Vec2],
    z0: float,
    z1: float,
    side_role: str,
    top_role: str,
    smooth_sides: bool = True,
) -> None:
    """Extrude a CCW outline from z0 to z1 (either direction); cap the far end only."""
    lo, hi = (z0, z1) if z1 > z0 else (z1, z0)
    r0 = part.add_ring(_at_z(outline, lo))
    r1 = part.add_ring(_at_z(outline, hi))
    part.loft([r0, r1], side_role, smooth_sides)
    top = part.add_ring(_at_z(outline, z1))  # own vertices: sharp rim without auto-smooth
    part.cap(top, top_role, up=z1 > z0)


def _disc(part: MeshPart, outline: Sequence[Vec2], z: float, role: str, up: bool) -> None:
    part.cap(part.add_ring(_at_z(outline, z)), role, up)


def build_parts(
    layout: PhoneLayout, corner_segments: int = 10, circle_segments: int = 32
) -> List[MeshPart]:
    """All meshes of a phone: body, front, camera, buttons (body frame, metres)."""
    T = layout.thickness
    eps = 0.05 * MM  # stacking gap between layered front parts

    body = MeshPart("body")
    rings = []
    for z, inset in edge_profile(layout):
        rings.append(body.add_ring(_at_z(layout.outline.outline(corner_segments, inset), z)))
    body.loft(rings, "frame", smooth=True)
    re = layout.edge_radius
    flat = layout.outline.outline(corner_segments, re)
    body.cap(body.add_ring(_at_z(flat, T / 2)), "bezel", up=True)
    body.cap(body.add_ring(_at_z(flat, -T / 2)), "back", up=False)

    front = MeshPart("front")
    ztop = T / 2
    _disc(front, layout.display.outline(corner_segments), ztop + eps, "display", True)
    if layout.notch is not None:
        _disc(front, layout.notch.outline(6), ztop + 2 * eps, "ink", True)
    if layout.island is not None:
        _disc(front, layout.island.outline(8), ztop + 2 * eps, "ink", True)
    if layout.home_button is not None:
        hb = layout.home_button
        _disc(front, hb.outline(circle_segments), ztop + eps, "home_ring", True)
        _disc(
            front,
            Circle(hb.cx, hb.cy, hb.r - layout.home_ring_w).outline(circle_segments),
            ztop + 2 * eps,
            "home_button",
            True,
        )
    if layout.earpiece is not None:
        _disc(front, layout.earpiece.outline(4), ztop + 3 * eps, "grille", True)
    if layout.front_camera is not None:
        _disc(front, layout.front_camera.outline(16), ztop + 3 * eps, "sensor", True)

    cam = MeshPart("camera")
    zb = -T / 2
    if layout.module is not None:
        role = "module" if layout.module_finish == "body" else "ink"
        _prism(
            cam,
            layout.module.outline(corner_segments),
            zb + 0.2 * MM,
            zb - layout.module_bump,
            role,
            role,
        )
    for lens in layout.lenses:
        base = layout.rear_surface_z(lens.glass.cx, lens.glass.cy)
        top = base - lens.protrusion
        _prism(
            cam, lens.outer.outline(circle_segments), base + 0.1 * MM, top, "lens_ring", "lens_ring"
        )
        _disc(cam, lens.glass.outline(circle_segments), top - eps, "lens_glass", False)
        pupil = Circle(lens.glass.cx, lens.glass.cy, lens.glass.r * 0.45)
        _disc(cam, pupil.outline(circle_segments), top - 2 * eps, "lens_pupil", False)
    for key, role in (("flash", "flash"), ("lidar", "sensor"), ("mic", "sensor")):
        c = getattr(layout, key)
        if c is not None:
            base = layout.rear_surface_z(c.cx, c.cy)
            _prism(
                cam,
                c.outline(circle_segments if c.r > 1 * MM else 12),
                base + 0.1 * MM,
                base - 0.12 * MM,
                "lens_ring" if key != "mic" else "sensor",
                role,
            )

    buttons = MeshPart("buttons")
    for b in layout.buttons:
        # A pill in the yz plane, extruded outward along x from just inside the edge.
        pill = RoundedRect(b.cy, 0.0, b.length, b.depth, b.depth / 2).outline(6)
        sign = -1.0 if b.side == "left" else 1.0
        x_in = sign * (layout.width / 2 - 0.3 * MM)
        x_out = sign * (layout.width / 2 + b.protrude)
        # Map (u, v) = (y, z) outline onto the side; keep CCW as seen from outside.
        ordered = pill if sign > 0 else list(reversed(pill))
        r_in = buttons.add_ring([(x_in, u, v) for u, v in ordered])
        r_out = buttons.add_ring([(x_out, u, v) for u, v in ordered])
        buttons.loft([r_in, r_out], "button", True)
        buttons.face(buttons.add_ring([(x_out, u, v) for u, v in ordered]), "button", False)
    return [p for p in (body, front, cam, buttons) if p.faces]
