"""What the dev tools need of the TypeScript side: its plans, and the device handshake.

Plans come from the planner the service uses (scripts/plan-frames.ts), never from a copy of it,
so a tool renders what a job would; the `use_device` answer to a render server's devices line
comes from the device choice the driver makes (packages/blender/src/devices.ts), never from a
copy of its rule. Node and the repository's node_modules must be there.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from typing import List, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAN_FRAMES = os.path.join(REPO, "scripts", "plan-frames.ts")

# What RenderServer.onDevices does with the devices line: chooseDevice, then useDeviceRequest.
# argv: the devices line (JSON), the device kind, the GPU index ("" for none).
_CHOOSE_DEVICE = """
import { chooseDevice, useDeviceRequest } from '@synthline/blender';
import { DEVICE_KINDS } from '@synthline/spec';
const [line, kind, index] = process.argv.slice(1);
try {
  if (!DEVICE_KINDS.includes(kind))
    throw new Error(`device: expected one of ${DEVICE_KINDS.join(', ')}, got "${kind}"`);
  const at = index === '' ? undefined : Number(index);
  const choice = chooseDevice(JSON.parse(line).devices, kind, at);
  process.stdout.write(JSON.stringify(useDeviceRequest(choice)));
} catch (e) {
  process.stderr.write(`${e.code ? `${e.code}: ` : ''}${e.message}`);
  process.exitCode = 1;
}
"""


class DeviceUnavailable(RuntimeError):
    """The device asked for is not among those the render server listed (or not a device kind)."""


def use_device(devices_line: dict, device: str = "cpu", index: Optional[int] = None) -> dict:
    """The `use_device` request the driver answers `devices_line` (a render server's first line)
    with, for the spec's `render.device` (auto, cpu, cuda, optix, hip, metal) and GPU index.

    Raises DeviceUnavailable with the driver's message (`DEVICE_UNAVAILABLE: requested cuda, but
    Blender found: ...`) where it would refuse to start the server.
    """
    return json.loads(_use_device(json.dumps(devices_line["devices"]), device, index))


@functools.lru_cache(maxsize=None)  # one Node start per devices list and choice, per process
def _use_device(devices: str, device: str, index: Optional[int]) -> str:
    r = subprocess.run(
        [
            "node",
            "--import",
            "tsx",
            "--input-type=module",
            "--eval",
            _CHOOSE_DEVICE,
            json.dumps({"devices": json.loads(devices)}),
            device,
            "" if index is None else str(index),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise DeviceUnavailable(r.stderr.strip() or f"node exited {r.returncode}")
    return r.stdout


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
