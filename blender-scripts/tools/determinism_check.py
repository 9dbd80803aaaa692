"""Check that a frame's PNG bytes do not depend on the frames rendered before it.

    python3 blender-scripts/tools/determinism_check.py [--count 16] [--persistent-data]

Renders the same plans (from the TypeScript planner, scripts/plan-frames.ts) with bench_loop.py
in plan order and in a shuffled order (two Blender processes) and compares every PNG byte for
byte. Exit 1 on any difference.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tools"))

from drive_server import blender_env  # noqa: E402
from ts_plans import plan_frames, spec_for  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--blender", default="blender")
    ap.add_argument("--persistent-data", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="synthline-det-")
    plans = plan_frames(spec_for("determinism", a.count, 64, 4, seed=1000), work)
    shuffled = plans[:]
    random.Random(7).shuffle(shuffled)
    dirs = []
    for name, seq in (("ordered", plans), ("shuffled", shuffled)):
        path = os.path.join(work, f"{name}.jsonl")
        with open(path, "w") as f:
            for p in seq:
                f.write(json.dumps(p) + "\n")
        out = os.path.join(work, name)
        cmd = [
            a.blender,
            "-b",
            "--factory-startup",
            "-Y",
            "--python-exit-code",
            "3",
            "--python",
            os.path.join(HERE, "bench_loop.py"),
            "--",
            "--plans",
            path,
            "--out",
            out,
            "--report",
            os.path.join(work, f"{name}.json"),
        ]
        if a.persistent_data:
            cmd.append("--persistent-data")
        subprocess.run(
            cmd, env=blender_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        dirs.append(out)
    bad = [
        p["key"]
        for p in plans
        if not filecmp.cmp(
            os.path.join(dirs[0], p["key"] + ".png"),
            os.path.join(dirs[1], p["key"] + ".png"),
            shallow=False,
        )
    ]
    print(
        f"{a.count - len(bad)}/{a.count} frames byte-identical across orders"
        + (f"; differing: {bad}" if bad else ""),
        f"({work})",
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
