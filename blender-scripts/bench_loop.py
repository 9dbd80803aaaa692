"""The "plain Blender loop" baseline: render every FramePlan of a JSON-lines file in this one
Blender process with the same scene code as the render server (image + bbox), no protocol.
The plans come from the TypeScript planner (bench/render-throughput.ts, or
`node --import tsx scripts/plan-frames.ts spec.json --out-dir DIR > plans.jsonl`).

    blender -b --factory-startup -Y --python-exit-code 3 --python blender-scripts/bench_loop.py \
            -- --plans plans.jsonl --out DIR [--report FILE] [--per-frame]

Prints exactly one line of its own on stdout, `BENCH {"frames": N, "seconds": S}` (seconds of
rendering, from the first frame's start to the last frame's end, Blender start-up excluded), or
writes that JSON to --report. A one-line plans file gives the one-Blender-per-frame baseline;
time the whole process from outside for that one.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from synthline_bpy.core.plan import parse_plan  # noqa: E402
from synthline_bpy.scene import Scene  # noqa: E402


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    p = argparse.ArgumentParser(prog="bench_loop.py")
    p.add_argument("--plans", required=True)
    p.add_argument("--out", required=True, help="directory for the images (overrides the plans)")
    p.add_argument("--report")
    p.add_argument(
        "--persistent-data",
        action="store_true",
        help="experiment only: faster, but frames then depend on earlier frames",
    )
    p.add_argument("--per-frame", action="store_true", help="also report each frame's seconds")
    a = p.parse_args(argv)

    out_dir = os.path.abspath(a.out)
    os.makedirs(out_dir, exist_ok=True)
    plans = []
    with open(a.plans, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                raw = json.loads(line)
                key = raw.get("key", str(len(plans)))
                raw.setdefault("outputs", {})
                raw["outputs"]["image"] = os.path.join(out_dir, f"{key}.png")
                if raw["outputs"].get("mask"):
                    raw["outputs"]["mask"] = os.path.join(out_dir, f"{key}.mask.png")
                plans.append(parse_plan(raw))

    scene = Scene(persistent_data=a.persistent_data)
    per_frame = []
    c0 = _cpu()
    t0 = time.perf_counter()
    for plan in plans:
        t = time.perf_counter()
        result = scene.render(plan)
        per_frame.append(round(time.perf_counter() - t, 4))
        if result["bbox"] is None and result["visible_pixels"] != 0:
            raise RuntimeError("inconsistent bbox")
    seconds = time.perf_counter() - t0
    report = {"frames": len(plans), "seconds": round(seconds, 4)}
    if a.per_frame:
        report["per_frame"] = per_frame
        # CPU seconds of this process: less sensitive than wall time to other load.
        report["cpu_seconds"] = round(_cpu() - c0, 4)
    if a.report:
        with open(a.report, "w", encoding="utf-8") as f:
            json.dump(report, f)
            f.write("\n")
    else:
        sys.stdout.write("BENCH " + json.dumps(report) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
