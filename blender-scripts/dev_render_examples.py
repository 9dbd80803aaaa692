"""Render example frames for a visual check and tile them into one contact sheet.

    blender -b --factory-startup -Y --python-exit-code 3 \
        --python blender-scripts/dev_render_examples.py -- --out /tmp/examples [--res 256]
        [--samples 16] [--distance 0.3] [--energy 40] [--strength 1.0] [--hdri studio]

Renders every catalog model face up and face down (one colour each, cycling through the
palette), writes DIR/<model>-<side>.png and DIR/sheet.png (rows: models; columns: front, back,
mask of the back frame).
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from synthline_bpy.core import colour  # noqa: E402
from synthline_bpy.core import catalog, pngio  # noqa: E402
from synthline_bpy.core.plan import parse_plan  # noqa: E402
from synthline_bpy.scene import Scene  # noqa: E402


# The planner's kelvinToRgb(5200) (packages/planner), as plans carry it: colour temperature is
# converted in TypeScript only.
RGB_5200K = [1.0, 0.909, 0.834]


def plan_for(model: dict, ci: int, side: str, out: str, a, i: int) -> dict:
    """A fixed plan for one model and side (a visual check, not a dataset: the planner's
    randomisation is off here), complete as protocol.schema.json wants it."""
    c = model["colors"][ci % len(model["colors"])]
    key = f"{model['id']}-{side}"
    lights = [
        {
            "type": a.light,
            "energy_w": a.energy,
            "color_temperature_k": 5200,
            "rgb": RGB_5200K,
            "distance_m": 0.75,
            "elevation_deg": 60.0,
            "azimuth_deg": 210.0 + 40 * i,
            "size_m": 0.2,
            "spot_angle_deg": 45.0,
        }
    ]
    if a.two_lights:
        lights.append(
            {
                "type": "point",
                "energy_w": a.energy * 0.5,
                "color_temperature_k": 6500,
                "rgb": [1.0, 1.0, 1.0],
                "distance_m": 0.8,
                "elevation_deg": 40.0,
                "azimuth_deg": 20.0 + 40 * i,
                "size_m": 0.1,
                "spot_angle_deg": 45.0,
            }
        )
    srgb = list(colour.hex_to_srgb(c["srgb"]))
    return {
        "index": i,
        "key": key,
        "product": {
            "asset": f"builtin:{model['id']}",
            "model": model["id"],
            "color": {"name": c["name"], "srgb": srgb, "nominal_srgb": srgb},
            "side_up": side,
            "source": None,
            "yaw_deg": a.yaw + 7 * i,
            "offset_m": [0.0, 0.0],
        },
        "camera": {
            "distance_m": a.distance,
            "elevation_deg": a.elevation,
            "azimuth_deg": 30.0 + 20 * i,
            "roll_deg": 0.0,
            "focal_length_mm": 35.0,
            "sensor_width_mm": 36.0,
            "look_at_m": [0.0, 0.0, 0.0],
        },
        "lights": lights,
        "world": {"hdri": a.hdri, "strength": a.strength, "rotation_deg": 40.0 * i},
        "background": {
            "kind": "belt",
            "belt_srgb": [a.belt, a.belt, a.belt * 1.05],
            "texture_scale": 1.0,
            "texture_offset": [0.1 * i, 0.3 * i],
            "roughness": 0.75,
        },
        "render": {
            "engine": "cycles",
            "samples": a.samples,
            "resolution": [a.res, a.res],
            "seed": 1000 + i,
            "denoise": False,
        },
        "sensor": {
            "noise_sigma": 0.0,
            "grain_strength": 0.0,
            "grain_size_px": 1.0,
            "blur_sigma_px": 0.0,
            "exposure_ev": 0.0,
            "seed": 0,
        },
        "debug": {"crash": False},
        "outputs": {
            "image": os.path.join(out, key + ".png"),
            "mask": os.path.join(out, key + ".mask.png"),
        },
    }


def main() -> int:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--res", type=int, default=256)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--distance", type=float, default=0.3)
    p.add_argument("--elevation", type=float, default=80.0)
    p.add_argument("--energy", type=float, default=40.0)
    p.add_argument("--light", default="point", choices=["point", "area", "spot"])
    p.add_argument("--strength", type=float, default=1.0)
    p.add_argument("--hdri", default="studio")
    p.add_argument("--belt", type=float, default=0.15, help="belt sRGB grey level")
    p.add_argument("--yaw", type=float, default=15.0)
    p.add_argument("--colour", type=int, default=0)
    p.add_argument("--two-lights", action="store_true")
    p.add_argument("--models", default="")
    a = p.parse_args(argv)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    models = catalog.load()["models"]
    if a.models:
        models = [m for m in models if m["id"] in a.models.split(",")]
    scene = Scene()
    rows = []
    for i, m in enumerate(models):
        row = []
        for side in ("front", "back"):
            plan = parse_plan(plan_for(m, a.colour + i, side, out, a, i))
            r = scene.render(plan)
            print(
                f"EXAMPLE {m['id']} {side} bbox={r['bbox']} vis={r['visible_pixels']} "
                f"{r['seconds']:.3f}s",
                flush=True,
            )
            w, h, ch, px = pngio.read(plan.outputs.image)
            row.append(np.frombuffer(px, np.uint8).reshape(h, w, ch))
        w, h, ch, px = pngio.read(plan.outputs.mask)
        row.append(np.repeat(np.frombuffer(px, np.uint8).reshape(h, w, 1), 3, axis=2))
        rows.append(np.concatenate(row, axis=1))
    sheet = np.ascontiguousarray(np.concatenate(rows, axis=0))
    pngio.write(os.path.join(out, "sheet.png"), sheet.shape[1], sheet.shape[0], 3, sheet.tobytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
