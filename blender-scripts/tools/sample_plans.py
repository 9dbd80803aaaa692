"""Write FramePlan JSON lines for dev renders and benchmarks (stand-in for the TS planner).

    python3 blender-scripts/tools/sample_plans.py --count 20 --out-dir /tmp/frames \
        --resolution 128 --samples 16 > plans.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from synthline_bpy import catalog, colour  # noqa: E402

HDRIS = ["studio", "city", "courtyard", "forest", "interior", "night", "sunrise", "sunset"]


def make_plan(i: int, rng: random.Random, models: list, out_dir: str, res: int, samples: int,
              mask: bool, model: str = None, side: str = None, color: str = None) -> dict:
    m = next(x for x in models if x["id"] == model) if model else rng.choice(models)
    c = next(x for x in m["colors"] if x["name"] == color) if color else rng.choice(m["colors"])
    key = f"{i:08d}"
    n_lights = rng.randint(1, 3)
    lights = []
    for _ in range(n_lights):
        k = rng.uniform(4000, 6500)
        lights.append({
            "type": rng.choice(["point", "area", "spot"]),
            "energy_w": rng.uniform(15, 60),
            "color_temperature_k": round(k),
            "rgb": list(colour.kelvin_to_srgb(k)),
            "distance_m": rng.uniform(0.5, 1.0),
            "elevation_deg": rng.uniform(35, 85),
            "azimuth_deg": rng.uniform(0, 360),
            "size_m": rng.uniform(0.1, 0.4),
            "spot_angle_deg": rng.uniform(35, 70),
        })
    return {
        "index": i,
        "key": key,
        "product": {
            "asset": f"builtin:{m['id']}",
            "model": m["id"],
            "color": {"name": c["name"], "srgb": list(colour.hex_to_srgb(c["srgb"]))},
            "side_up": side or rng.choice(["front", "back"]),
            "yaw_deg": rng.uniform(0, 360),
            "offset_m": [rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02)],
        },
        "camera": {
            "distance_m": rng.uniform(0.3, 0.4),
            "elevation_deg": rng.uniform(60, 90),
            "azimuth_deg": rng.uniform(0, 360),
            "roll_deg": rng.uniform(-10, 10),
            "focal_length_mm": 35.0,
            "sensor_width_mm": 36.0,
            "look_at_m": [rng.uniform(-0.01, 0.01), rng.uniform(-0.01, 0.01), 0.0],
        },
        "lights": lights,
        "world": {"hdri": rng.choice(HDRIS), "strength": rng.uniform(0.5, 1.2),
                  "rotation_deg": rng.uniform(0, 360)},
        "background": {
            "kind": "belt",
            "belt_srgb": [rng.uniform(0.03, 0.08)] * 2 + [rng.uniform(0.035, 0.09)],
            "texture_scale": rng.uniform(0.7, 1.5),
            "texture_offset": [rng.uniform(0, 100), rng.uniform(0, 100)],
            "roughness": rng.uniform(0.55, 0.9),
        },
        "render": {"engine": "cycles", "samples": samples, "resolution": [res, res],
                   "seed": rng.randint(0, 2**31 - 1), "denoise": False},
        "outputs": {"image": os.path.join(out_dir, key + ".png"),
                    "mask": os.path.join(out_dir, key + ".mask.png") if mask else None},
        "debug": {"crash": False},
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--mask", action="store_true")
    p.add_argument("--model")
    p.add_argument("--side", choices=["front", "back"])
    p.add_argument("--color")
    a = p.parse_args()
    models = catalog.load()["models"]
    out_dir = os.path.abspath(a.out_dir)
    for i in range(a.count):
        rng = random.Random(a.seed * 1000003 + i)
        print(json.dumps(make_plan(i, rng, models, out_dir, a.resolution, a.samples, a.mask,
                                   a.model, a.side, a.color)))


if __name__ == "__main__":
    main()
