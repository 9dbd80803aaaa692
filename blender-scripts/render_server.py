"""synthline render server: JSON lines over dedicated pipes (docs/render-protocol.md).

    blender -b --factory-startup -Y --python-exit-code 3 -t <threads> \
            --python blender-scripts/render_server.py -- --in-fd 3 --out-fd 4 [--max-frames N]

stdout/stderr stay Blender's own log; requests arrive on --in-fd, replies leave on --out-fd.
Every message is a schema of synthline_bpy/core/protocol.schema.json (generated from the zod schemas
in packages/spec). At start the server writes a `devices` line with every Cycles device Blender
found; the driver decides (packages/blender/src/devices.ts) and answers `use_device`; the server
switches Cycles to it, builds its scene and writes `ready`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bpy  # noqa: E402

from synthline_bpy import compat  # noqa: E402
from synthline_bpy.core import protocol  # noqa: E402
from synthline_bpy.core.devices import DeviceNotFound, parse_use_device  # noqa: E402
from synthline_bpy.core.assets import BadAsset  # noqa: E402
from synthline_bpy.core.process import rss_bytes  # noqa: E402
from synthline_bpy.core.plan import PlanError, parse_plan, parse_source  # noqa: E402
from synthline_bpy.scene import Scene, library  # noqa: E402
from synthline_bpy.scene.render import OutputMissing  # noqa: E402


def parse_args(argv):
    args = argv[argv.index("--") + 1 :] if "--" in argv else []
    p = argparse.ArgumentParser(prog="render_server.py")
    p.add_argument("--in-fd", type=int, required=True)
    p.add_argument("--out-fd", type=int, required=True)
    p.add_argument(
        "--max-frames",
        type=int,
        default=0,
        help="exit after answering this many render requests (0 = no limit)",
    )
    return p.parse_args(args)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL us when the parent process dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # best effort; EOF on the request pipe still ends us
        pass


class Replies:
    def __init__(self, fd: int):
        self.fd = fd

    def send(self, obj: dict) -> None:
        """One JSON line; raises ValueError before writing anything if obj is not valid JSON."""
        data = (json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def error(self, rid, code: str, message: str, tb: str = "") -> None:
        self.send({"id": rid, "ok": False, "error": server_error(code, message, tb)})


def server_error(code: str, message: str, tb: str = "") -> dict:
    # A code outside the protocol's enum would reach the driver as an unknown failure.
    assert code in protocol.SERVER_ERROR_CODES, code
    return {"code": code, "message": message, "traceback": tb}


def use_device(out: Replies, inp):
    """Lists the devices, reads the driver's `use_device` answer and applies it.

    Returns (UseDevice, the devices' JSON), or None when the driver closed the pipe (it decided
    the device asked for is not there) or after a start error line.
    """
    found = [d.to_json() for d in compat.cycles_devices()]
    out.send({"type": "devices", "blender_version": compat.version_string(), "devices": found})
    line = inp.readline()
    if not line:
        return None  # EOF: no device to render on, or the driver died
    try:
        use = parse_use_device(json.loads(line))
        compat.apply_cycles_device(bpy.context.scene, use)
        return use, found
    except ValueError as e:  # unparseable or not a valid use_device request
        err = server_error("BAD_REQUEST", str(e), traceback.format_exc())
    except DeviceNotFound as e:  # a device id Blender did not list
        err = server_error("START_FAILED", str(e), traceback.format_exc())
    except Exception as e:  # Blender refused a preference: still a start error, not a silent exit
        err = server_error("START_FAILED", f"{type(e).__name__}: {e}", traceback.format_exc())
    out.send({"type": "error", "error": err})
    # Wait for the driver to close the pipe (it kills us after reading the line), so the line
    # is read before the process is seen to exit.
    while inp.read(1 << 16):
        pass
    return None


def serve(opts) -> int:
    ppid = os.getppid()
    die_with_parent()
    if os.getppid() != ppid:  # parent died before prctl took effect
        return 0
    out = Replies(opts.out_fd)
    inp = os.fdopen(opts.in_fd, "rb", buffering=1 << 16)
    started = use_device(out, inp)
    if started is None:
        return 0
    use, found = started
    scene = Scene()
    compat.apply_cycles_device(scene.scene, use)  # the scene Scene() set up renders on it too
    device_info = {"device": use.label, "device_kind": use.kind, "devices": found}
    out.send(
        {
            "type": "ready",
            "blender_version": compat.version_string(),
            "pid": os.getpid(),
            "python": platform.python_version(),
            "device": use.label,
            "device_kind": use.kind,
        }
    )
    frames = 0
    while True:
        line = inp.readline()
        if not line:
            return 0  # EOF: the driver closed the pipe or died
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request is not a JSON object")
            rid = req.get("id")
        except ValueError as e:
            out.error(None, "BAD_REQUEST", f"unparseable request: {e}")
            continue
        op = req.get("op")
        if op == "ping":
            out.send({"id": rid, "ok": True, "result": {"rss_bytes": rss_bytes()}})
        elif op == "shutdown":
            out.send({"id": rid, "ok": True, "result": {"rss_bytes": rss_bytes()}})
            return 0
        elif op == "probe":
            handle_probe(scene, out, rid, req.get("source"))
        elif op == "devices":
            out.send({"id": rid, "ok": True, "result": device_info})
        elif op == "render":
            handle_render(scene, out, rid, req.get("plan"), use.label)
            frames += 1
            if opts.max_frames and frames >= opts.max_frames:
                return 0
        else:
            out.error(rid, "BAD_REQUEST", f"unknown op {op!r}")


def handle_render(scene: Scene, out: Replies, rid, raw_plan, device: str = "cpu") -> None:
    t0 = time.perf_counter()
    try:
        plan = parse_plan(raw_plan)
    except PlanError as e:
        out.error(rid, "BAD_PLAN", str(e), traceback.format_exc())
        return
    except Exception as e:  # a plan shape the parser did not foresee is still the plan's fault
        out.error(rid, "BAD_PLAN", f"{type(e).__name__}: {e}", traceback.format_exc())
        return
    if plan.crash:
        os.abort()  # test hook: the driver must survive a dying Blender
    try:
        if plan.allocate_mb:
            # Test hook: memory grabbed at once, as an exploding model would (MemoryError under
            # a cap); dropped at once.
            bytearray(plan.allocate_mb * 1024 * 1024)
        result = scene.render(plan)  # PlanError here: unknown model or HDRI
        result["seconds"] = round(time.perf_counter() - t0, 6)
        result["device"] = device
    except OutputMissing as e:
        out.error(rid, "OUTPUT_MISSING", str(e), traceback.format_exc())
        return
    except BadAsset as e:
        out.error(rid, "BAD_ASSET", str(e), traceback.format_exc())
        return
    except PlanError as e:
        out.error(rid, "BAD_PLAN", str(e), traceback.format_exc())
        return
    except Exception as e:
        out.error(rid, "RENDER_FAILED", f"{type(e).__name__}: {e}", traceback.format_exc())
        return
    try:
        out.send({"id": rid, "ok": True, "result": result})
    except ValueError as e:  # e.g. a non-finite number in the measurements
        out.error(rid, "RENDER_FAILED", f"unserialisable result: {e}", traceback.format_exc())


def handle_probe(scene: Scene, out: Replies, rid, raw_source) -> None:
    """Describe a model file for the asset scanner; nothing it imports stays in the scene."""
    t0 = time.perf_counter()
    try:
        src = parse_source(raw_source, "source")
    except PlanError as e:
        out.error(rid, "BAD_REQUEST", str(e), traceback.format_exc())
        return
    try:
        result = library.probe(src, scene.scene)
    except BadAsset as e:
        out.error(rid, "BAD_ASSET", str(e), traceback.format_exc())
        return
    except Exception as e:
        out.error(rid, "BAD_ASSET", f"{type(e).__name__}: {e}", traceback.format_exc())
        return
    result["seconds"] = round(time.perf_counter() - t0, 6)
    try:
        out.send({"id": rid, "ok": True, "result": result})
    except ValueError as e:
        out.error(rid, "BAD_ASSET", f"unserialisable probe result: {e}", traceback.format_exc())


def main() -> int:
    opts = parse_args(sys.argv)
    return serve(opts)


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
