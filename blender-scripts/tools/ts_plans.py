"""What the dev tools need of the TypeScript side: its plans, and the device handshake.

Plans come from the planner the service uses (scripts/plan-frames.ts), never from a copy of it,
so a tool renders what a job would. Node and the repository's node_modules must be there.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import List, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAN_FRAMES = os.path.join(REPO, "scripts", "plan-frames.ts")

# The tools render on the CPU. Which device a server uses is decided in TypeScript
# (packages/blender/src/devices.ts); this is that decision's answer for the CPU.
USE_CPU = {
    "op": "use_device",
    "kind": "cpu",
    "index": None,
    "compute_device_type": "NONE",
    "enable": [],
    "label": "cpu",
}


def spec_for(
    name: str, count: int, resolution: int, samples: int, seed: int = 1, mask: bool = False, **extra
) -> dict:
    """A job spec for the tools: the planner's default ranges, builtin phones."""
    spec = {
        "name": name,
        "seed": seed,
        "count": count,
        "render": {"resolution": [resolution, resolution], "samples": samples},
        "output": {"annotations": {"mask": mask}},
    }
    spec.update(extra)
    return spec


def plan_frames(spec: dict, out_dir: str, frames: Optional[Tuple[int, int]] = None) -> List[dict]:
    """The spec's FramePlans (with outputs under out_dir), as the driver would send them."""
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", prefix="synthline-spec-", delete=False
    ) as f:
        json.dump(spec, f)
    try:
        cmd = [
            "node",
            "--import",
            "tsx",
            PLAN_FRAMES,
            f.name,
            "--out-dir",
            os.path.abspath(out_dir),
        ]
        if frames:
            cmd += ["--frames", f"{frames[0]}:{frames[1]}"]
        out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    return [json.loads(line) for line in out.splitlines() if line.strip()]
