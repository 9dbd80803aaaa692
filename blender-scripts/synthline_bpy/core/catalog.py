"""The builtin phone catalog (catalog/phones.json), with no bpy."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional

from . import colour
from .geometry import CatalogError, PhoneLayout, layout_from_entry

_BLENDER_SCRIPTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CATALOG_PATH = os.path.join(_BLENDER_SCRIPTS, "catalog", "phones.json")


def load(path: Optional[str] = None) -> dict:
    with open(path or CATALOG_PATH, "r", encoding="utf-8") as f:
        return json.load(f)


def models_by_id(catalog: dict) -> Dict[str, dict]:
    return {m["id"]: m for m in catalog["models"]}


def color_entry(model: dict, name: str) -> Optional[dict]:
    for c in model["colors"]:
        if c["name"] == name:
            return c
    return None


def validate(catalog: dict) -> List[str]:
    """All problems found in a catalog (empty when valid)."""
    problems: List[str] = []
    if catalog.get("version") != 1:
        problems.append("version must be 1")
    models = catalog.get("models")
    if not isinstance(models, list) or not models:
        return problems + ["models must be a non-empty list"]
    seen = set()
    for m in models:
        mid = m.get("id")
        if (
            not isinstance(mid, str)
            or not mid
            or "." in mid
            or mid != mid.lower()
            or not all(ch.isalnum() or ch == "-" for ch in mid)
        ):
            problems.append(f"bad id {mid!r}: lowercase kebab-case, no dots")
        if mid in seen:
            problems.append(f"duplicate id {mid!r}")
        seen.add(mid)
        for key in ("name", "year", "body", "colors", "edge", "back", "front", "camera", "buttons"):
            if key not in m:
                problems.append(f"{mid}: missing {key}")
        colors = m.get("colors", [])
        if len(colors) < 2:
            problems.append(f"{mid}: fewer than 2 colours")
        names = [c.get("name") for c in colors]
        if len(set(names)) != len(names):
            problems.append(f"{mid}: duplicate colour names")
        for c in colors:
            for k in ("srgb", "frame_srgb"):
                if k in c and not colour.is_hex(c[k]):
                    problems.append(f"{mid}/{c.get('name')}: bad {k} {c[k]!r}")
            if "srgb" not in c:
                problems.append(f"{mid}/{c.get('name')}: missing srgb")
            if c.get("front", "black") not in ("black", "white"):
                problems.append(f"{mid}/{c.get('name')}: front must be black|white")
        try:
            layout_from_entry(m)
        except CatalogError as e:
            problems.append(str(e))
    return problems


def layouts(catalog: dict) -> Dict[str, PhoneLayout]:
    return {m["id"]: layout_from_entry(m) for m in catalog["models"]}
