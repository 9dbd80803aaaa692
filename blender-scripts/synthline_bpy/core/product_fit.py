"""Sizing and checking library products, with no bpy (docs/render-protocol.md, "Library products").

Scale fit: a model's proportions rarely match declared dimensions exactly (a camera bump, a
handle, rounding in a product sheet), so one uniform scale is chosen and the disagreement is
reported. The longest declared side is the one a datasheet gets right most reliably, so the scale
is declared / modelled along that axis; the residual is the largest relative disagreement of any
other axis after scaling (0.0 = exact fit).
"""
from __future__ import annotations

import re
from typing import Iterable, List, Optional, Sequence, Tuple

HIGH_POLY_FACES = 1_000_000
MIN_SIDE_M = 1e-3
MAX_SIDE_M = 10.0

_DUP_SUFFIX = re.compile(r"^(.*)\.\d{3}$")


def fit_scale(
    model_dims: Sequence[float], declared: Optional[Sequence[float]], scale: Optional[float]
) -> Tuple[float, Optional[float]]:
    """(uniform scale, residual) taking a model's bbox (model units) to metres.

    With `declared` dimensions: scale = declared[k] / model[k] on the axis k of the longest
    declared side (an axis the model is flat along is skipped); residual = max over the axes of
    |scale * model - declared| / declared. Without: `scale` (default 1) and residual None.
    """
    if declared is None:
        return (1.0 if scale is None else float(scale)), None
    order = sorted(range(3), key=lambda i: -declared[i])
    k = next((i for i in order if model_dims[i] > 1e-12), None)
    if k is None:
        raise ValueError("the model has no extent along any axis")
    s = declared[k] / model_dims[k]
    residual = max(abs(s * m - d) / d for m, d in zip(model_dims, declared))
    return s, residual


def original_name(name: str, existing_before: Iterable[str]) -> str:
    """The name a data-block had in its file: Blender appends .001 when the name was taken."""
    m = _DUP_SUFFIX.match(name)
    if m and m.group(1) in set(existing_before):
        return m.group(1)
    return name


def recoloured(material_names: Sequence[str], color_slots: Sequence[str]) -> List[int]:
    """Indices of the materials that take the product colour: the named slots (and a material
    made for a model without any, named ""), or all when none is named (also when none of the
    named slots exists, so the product colour still shows)."""
    chosen = [i for i, n in enumerate(material_names) if n in color_slots or n == ""]
    if not color_slots or not any(n in color_slots for n in material_names):
        chosen = list(range(len(material_names)))
    return chosen


def probe_warnings(
    faces: int,
    dims: Sequence[float],
    material_names: Sequence[str],
    color_slots: Sequence[str],
    recolourable: Sequence[str],
) -> List[str]:
    """Problems a user should hear about before rendering thousands of frames of a product.

    `recolourable`: material names that have a colour input we can drive (Principled or Diffuse
    BSDF base colour).
    """
    out: List[str] = []
    if not material_names:
        out.append(
            "the model has no materials: a plain material is made and takes the product " "colour"
        )
    elif color_slots:
        missing = [s for s in color_slots if s not in material_names]
        if missing:
            out.append(
                f"color_slots not found among the model's materials "
                f"({', '.join(material_names)}): {', '.join(missing)}"
            )
        if not any(s in recolourable for s in color_slots):
            out.append(
                "nothing to recolour: none of the declared color_slots has a Principled "
                "or Diffuse BSDF colour"
            )
    elif not recolourable:
        out.append("nothing to recolour: no material has a Principled or Diffuse BSDF colour")
    if faces > HIGH_POLY_FACES:
        out.append(
            f"very high polygon count: {faces} faces (> {HIGH_POLY_FACES}); frames "
            f"will render slowly"
        )
    longest = max(dims) if dims else 0.0
    if longest < MIN_SIDE_M:
        out.append(
            f"suspicious scale: the longest side is {longest:.3g} model units "
            f"(< 1 mm as metres); declare dimensions_mm or scale"
        )
    elif longest > MAX_SIDE_M:
        out.append(
            f"suspicious scale: the longest side is {longest:.3g} model units "
            f"(> 10 m as metres); declare dimensions_mm or scale"
        )
    return out
