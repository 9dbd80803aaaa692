"""synthline render server: JSON lines over dedicated pipes (docs/render-protocol.md).

    blender -b --factory-startup -Y --python-exit-code 3 -t <threads> \
            --python blender-scripts/render_server.py -- --in-fd 3 --out-fd 4 [--max-frames N] \
            [--device auto|cpu|cuda|optix|hip|metal|oneapi] [--device-index I] [--allow-cpu-fallback]

stdout/stderr stay Blender's own log; requests arrive on --in-fd, replies leave on --out-fd.
The device is chosen once at start (synthline_bpy/devices.py) and reported in the `ready` line;
a GPU asked for but absent is a start error line (code DEVICE_UNAVAILABLE) naming every device
Blender found (list_devices.py lists them without starting a server).
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
from synthline_bpy import devices as devices_mod  # noqa: E402
from synthline_bpy import library  # noqa: E402
from synthline_bpy.library import BadAsset  # noqa: E402
from synthline_bpy.plan import PlanError, parse_plan, parse_source  # noqa: E402
from synthline_bpy.scene import OutputMissing, Scene, rss_bytes  # noqa: E402


def parse_args(argv):
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    p = argparse.ArgumentParser(prog="render_server.py")
    p.add_argument("--in-fd", type=int, required=True)
    p.add_argument("--out-fd", type=int, required=True)
    p.add_argument("--max-frames", type=int, default=0,
                   help="exit after answering this many render requests (0 = no limit)")
    p.add_argument("--device", default="auto", choices=devices_mod.KINDS,
                   help="Cycles device kind; auto = best GPU kind present, else the CPU")
    p.add_argument("--device-index", type=int, default=None,
                   help="render on this one GPU of the kind (0 = first); default: all of them")
    p.add_argument("--allow-cpu-fallback", action="store_true",
                   help="render on the CPU when the GPU asked for is absent")
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
        self.send({"id": rid, "ok": False,
                   "error": {"code": code, "message": message, "traceback": tb}})


def choose_device(opts, out: Replies, inp):
    """Applies the requested device; on failure sends a start error line and returns None."""
    try:
        return compat.use_cycles_device(bpy.context.scene, opts.device, opts.device_index,
                                        opts.allow_cpu_fallback)
    except devices_mod.DeviceUnavailable as e:
        code, msg, tb = "DEVICE_UNAVAILABLE", str(e), ""
    except ValueError as e:
        code, msg, tb = "BAD_REQUEST", str(e), traceback.format_exc()
    except Exception as e:  # Blender refused a preference: still a start error, not a silent exit
        code, msg, tb = "START_FAILED", f"{type(e).__name__}: {e}", traceback.format_exc()
    out.send({"type": "error", "error": {"code": code, "message": msg, "traceback": tb}})
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
    chosen = choose_device(opts, out, inp)
    if chosen is None:
        return 0
    choice, found = chosen
    scene = Scene()
    compat.apply_cycles_device(scene.scene, choice)  # the scene Scene() set up renders on it too
    device_info = {"device": choice.label, "device_kind": choice.kind,
                   "device_fallback": choice.fallback, "device_note": choice.note,
                   "devices": [d.to_json() for d in found]}
    out.send({"type": "ready", "blender_version": compat.version_string(), "pid": os.getpid(),
              "python": platform.python_version(), **device_info})
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
            handle_render(scene, out, rid, req.get("plan"), choice.label)
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
            # test hook: memory grabbed at once, as an exploding model would (MemoryError under a cap)
            hog = bytearray(plan.allocate_mb * 1024 * 1024)
            del hog
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
