"""How each material role of a builtin phone looks, with no bpy (roles: geometry.ROLES).

scene/phones.py makes one Principled BSDF material per role from `look` and sets the
colour-driven roles from `part_colours` every frame.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

from . import colour
from .catalog import color_entry
from .geometry import PhoneLayout

RGB = Tuple[float, float, float]

# Fixed look of each material role: (base sRGB or None when set per frame, metallic, roughness,
# specular). Colour-driven roles are listed in COLOUR_SOURCE.
FIXED = {
    "display": ((0.11, 0.115, 0.13), 0.0, 0.04, 0.5),
    "ink": ((0.006, 0.006, 0.007), 0.0, 0.08, 0.5),
    "lens_glass": ((0.012, 0.013, 0.018), 0.0, 0.03, 0.8),
    "lens_pupil": ((0.05, 0.045, 0.12), 0.0, 0.08, 0.8),
    "flash": ((0.93, 0.88, 0.70), 0.0, 0.45, 0.5),
    "sensor": ((0.01, 0.01, 0.01), 0.0, 0.35, 0.3),
    "grille": ((0.16, 0.16, 0.17), 0.3, 0.6, 0.4),
}
# Colour-driven role -> which of part_colours' colours it takes.
COLOUR_SOURCE = {
    "back": "body",
    "module": "body",
    "frame": "frame",
    "lens_ring": "frame",
    "home_ring": "frame",
    "button": "frame",
    "bezel": "front",
    "home_button": "front",
}
FRONT_SRGB = {"black": (0.012, 0.012, 0.013), "white": (0.90, 0.90, 0.89)}


def look(role: str, layout: PhoneLayout) -> Tuple[RGB, float, float, float]:
    """(base sRGB, metallic, roughness, specular) a role's material is made with."""
    metallic, rough, spec = 0.0, 0.3, 0.5
    base = (0.5, 0.5, 0.5)
    if role in FIXED:
        base, metallic, rough, spec = FIXED[role]
    elif role == "back":
        rough, spec = layout.back_roughness, 0.5
    elif role == "module":
        rough = layout.module_roughness
    elif role in ("frame", "button", "home_ring", "lens_ring"):
        metallic = 1.0
        rough = 0.14 if layout.edge_material == "stainless" else 0.32
        if role == "lens_ring":
            rough = 0.2
    elif role == "bezel":
        rough, spec = 0.03, 0.5
    elif role == "home_button":
        rough = 0.12
    return base, metallic, rough, spec


def part_colours(entry: dict, colour_name: str, body_srgb: Sequence[float]) -> Dict[str, RGB]:
    """sRGB of "body", "frame" and "front": body colour from the plan; frame and front colours
    from the catalog entry of the model."""
    c = color_entry(entry, colour_name)
    if c is not None and "frame_srgb" in c:
        cat_body = colour.hex_to_srgb(c["srgb"])
        cat_frame = colour.hex_to_srgb(c["frame_srgb"])
        # Keep the catalog's frame/body relation when the planner jitters the body colour.
        frame_srgb = tuple(
            min(1.0, max(0.0, f + (b - cb))) for f, b, cb in zip(cat_frame, body_srgb, cat_body)
        )
    else:
        frame_srgb = colour.scale(body_srgb, 0.85)
    front = (c or {}).get("front", "black")
    return {
        "body": tuple(body_srgb),
        "frame": frame_srgb,  # type: ignore[dict-item]
        "front": FRONT_SRGB[front],
    }
