"""End-to-end check of render_server.py against docs/render-protocol.md with real Blender.

    python3 blender-scripts/tools/protocol_check.py [--blender blender] [--keep DIR]

Exits non-zero on the first failed expectation. Every line the server writes must match its schema
in synthline_bpy/core/protocol.schema.json (generated from the zod schemas: the RenderResult, probe
and error replies, the devices and ready lines). Plans come from the TypeScript planner
(scripts/plan-frames.ts). Checks: the device handshake (devices line, use_device, ready; a bad
use_device, a device Blender did not list, and a closed pipe), ping, BAD_REQUEST for an unparseable
line and an unknown op, BAD_PLAN for a missing field / unknown model / unknown HDRI (server stays
up), pipelined renders answered in order, byte-identical PNGs for the same plan (also after other
frames), mask 0/255 matching bbox/visible_pixels, K and world_to_camera projecting the product's
corners onto its bbox, no data-block growth, debug.crash -> abort, EOF -> exit, --max-frames.
Library products (check_library): glTF (plain and textured), OBJ, STL, PLY, FBX and .blend boxes
probed and rendered at declared sizes and recoloured, corrupt / empty / missing files -> BAD_ASSET,
a format outside the protocol -> BAD_REQUEST / BAD_PLAN, a product cut by the frame edge
(visible_fraction), the 16-bit depth map, a photo background, and builtin phones unchanged by all
of it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tools"))

from synthline_bpy.core import protocol  # noqa: E402
from synthline_bpy.core import camera_math, pngio  # noqa: E402
from drive_server import blender_env  # noqa: E402
from ts_plans import plan_frames, spec_for, use_device  # noqa: E402
import test_assets  # noqa: E402

SERVER = os.path.join(HERE, "render_server.py")


class Server:
    def __init__(self, blender: str, extra=()):
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()

        def child():
            a, b = os.dup(req_r), os.dup(rep_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        cmd = [
            blender,
            "-b",
            "--factory-startup",
            "-Y",
            "--python-exit-code",
            "3",
            "--python",
            SERVER,
            "--",
            "--in-fd",
            "3",
            "--out-fd",
            "4",
            *extra,
        ]
        self.log = tempfile.NamedTemporaryFile("w+", prefix="synthline-server-", suffix=".log")
        self.proc = subprocess.Popen(
            cmd,
            env=blender_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=child,
            pass_fds=(3, 4),
            close_fds=True,
        )
        os.close(req_r)
        os.close(rep_w)
        self.w = os.fdopen(req_w, "w", buffering=1)
        self.r = os.fdopen(rep_r, "r")

    def send(self, obj) -> None:
        self.w.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        self.w.flush()

    def recv(self) -> dict:
        line = self.r.readline()
        if not line:
            raise AssertionError("server closed its reply pipe; log tail:\n" + self.tail())
        msg = json.loads(line)
        conform(msg)
        return msg

    def start(self, **override) -> dict:
        """The handshake: the devices line, the driver's use_device answer for the CPU (fields
        replaced by `override`), then `ready` (or an error)."""
        devices = self.recv()
        if devices.get("type") != "devices":
            raise AssertionError(f"expected the devices line first, got {devices}")
        self.devices = devices
        self.send(dict(use_device(devices, "cpu"), **override))
        return self.recv()

    def tail(self) -> str:
        self.log.flush()
        with open(self.log.name) as f:
            return "".join(f.readlines()[-20:])


CONFORMED = {"n": 0}


def conform(msg: dict) -> None:
    """Every line the server writes matches its protocol schema (closed objects: a field the zod
    schema lacks fails here)."""
    kind = msg.get("type")
    name = (
        {"devices": "DevicesLine", "ready": "ReadyLine", "error": "StartErrorLine"}.get(kind)
        if kind
        else "OkReply"
        if msg.get("ok")
        else "ErrorReply"
    )
    if name is None:
        raise AssertionError(f"a line of no known kind: {msg}")
    try:
        protocol.validate(name, msg)
        if name == "OkReply" and "index" in msg["result"]:
            protocol.validate("RenderResult", msg["result"], "result")
        elif name == "OkReply" and "meshes" in msg["result"]:
            protocol.validate("ProbeReplyResult", msg["result"], "result")
    except protocol.SchemaError as e:
        raise AssertionError(
            f"the server's {name} line does not match protocol.schema.json "
            f"({e}): {json.dumps(msg)[:400]}"
        ) from None
    CONFORMED["n"] += 1


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
    print("ok  ", msg)


SHARED_ASSETS = "/work/shared/assets"


def _project_box(res, w, h):
    """Projected corners of the product's measured box: (u0, v0, u1, v1) clipped to the image."""
    K = res["camera"]["K"]
    w2c = res["camera"]["world_to_camera"]
    M = res["product"]["matrix_world"]
    dx, dy, dz = (d / 2 for d in res["product"]["dimensions_m"])
    us, vs = [], []
    for sx in (-1, 1):
        for sy in (-1, 1):
            for sz in (-1, 1):
                lp = (sx * dx, sy * dy, sz * dz, 1.0)
                wp = [sum(M[i][j] * lp[j] for j in range(4)) for i in range(3)]
                u, v, _ = camera_math.project(K, w2c, wp)
                us.append(u)
                vs.append(v)
    return max(0, min(us)), max(0, min(vs)), min(w - 1, max(us)), min(h - 1, max(vs))


def _mean_rgb(image, mask_px, want):
    w, h, ch, px = pngio.read(image)
    acc, n = [0, 0, 0], 0
    for i, m in enumerate(mask_px):
        if (m == 255) == want:
            for c in range(3):
                acc[c] += px[3 * i + c]
            n += 1
    return [v / max(1, n) for v in acc]


def library_plan(base, out, name, path, fmt, dims, slots, srgb=(0.85, 0.1, 0.1), **over):
    p = json.loads(json.dumps(base))
    p["key"] = f"lib-{name}"
    p["product"].update(
        {
            "asset": f"library:{name}",
            "model": name,
            "color": {"name": "Red", "srgb": list(srgb), "nominal_srgb": list(srgb)},
            "side_up": "front",
            "yaw_deg": 30.0,
            "offset_m": [0.0, 0.0],
            "source": {
                "path": path,
                "format": fmt,
                "dimensions_m": dims,
                "scale": None,
                "color_slots": slots,
            },
        }
    )
    p["camera"].update(
        {
            "distance_m": 0.35,
            "elevation_deg": 90.0,
            "azimuth_deg": 0.0,
            "roll_deg": 0.0,
            "look_at_m": [0.0, 0.0, 0.0],
        }
    )
    # Fixed light, whatever the planner drew for the base plan: the colour checks need it moderate.
    p["world"] = {"hdri": "studio", "strength": 1.0, "rotation_deg": 0.0}
    p["lights"] = []
    p["outputs"] = {
        "image": os.path.join(out, f"lib-{name}.png"),
        "mask": os.path.join(out, f"lib-{name}.mask.png"),
        "depth": None,
    }
    for k, v in over.items():
        p[k] = v
    return p


def check_library(s, blender, out, phone_plan, phone_png) -> None:
    adir = os.path.join(out, "assets")
    paths = test_assets.write_all(adir)
    subprocess.run(
        [
            blender,
            "-b",
            "--factory-startup",
            "-Y",
            "--python-exit-code",
            "3",
            "--python",
            os.path.join(HERE, "tools", "export_cube_bpy.py"),
            "--",
            adir,
        ],
        env=blender_env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    box = list(test_assets.BOX)
    cases = [  # name, path, format, dims as imported, slots, textured
        (
            "box-gltf",
            os.path.join(SHARED_ASSETS, "Box.gltf"),
            "gltf",
            [1, 1, 1],
            ["Material_0"],
            False,
        ),
        (
            "box-textured",
            os.path.join(SHARED_ASSETS, "BoxTextured.gltf"),
            "gltf",
            [1, 1, 1],
            ["Material_0"],
            True,
        ),
        ("box-obj", paths["obj"], "obj", box, ["Body"], False),
        ("box-stl", paths["stl"], "stl", box, [], False),
        ("box-ply", paths["ply"], "ply", box, [], False),
        ("box-fbx", os.path.join(adir, "box.fbx"), "fbx", box, [], False),
        ("box-blend", os.path.join(adir, "box.blend"), "blend", box, ["Body"], False),
    ]
    rid = 600
    for name, path, fmt, dims, slots, textured in cases:
        rid += 1
        s.send(
            {
                "id": rid,
                "op": "probe",
                "source": {
                    "path": path,
                    "format": fmt,
                    "dimensions_m": None,
                    "scale": None,
                    "color_slots": slots,
                },
            }
        )
        r = s.recv()
        check(r["id"] == rid and r["ok"], f"probe {name} ok ({r.get('error')})")
        res = r["result"]
        check(
            res["meshes"] == 1
            and res["faces"] in (6, 12)
            and res["vertices"] >= 8
            and all(abs(a - b) < 1e-4 for a, b in zip(res["dimensions_m"], dims))
            and res["textured"] == textured,
            f"probe {name}: {res['meshes']} mesh, {res['faces']} faces, dims "
            f"{res['dimensions_m']}, textured {res['textured']}",
        )
        if slots:
            check(
                res["material_slots"] == slots and res["warnings"] == [],
                f"probe {name}: material slots {res['material_slots']}, no warnings",
            )
        elif fmt in ("stl", "ply"):
            check(
                res["material_slots"] == [] and any("no materials" in w for w in res["warnings"]),
                f"probe {name}: no materials -> warning {res['warnings']}",
            )
    rid += 1
    s.send(
        {
            "id": rid,
            "op": "probe",
            "source": {
                "path": os.path.join(SHARED_ASSETS, "Box.gltf"),
                "format": "gltf",
                "dimensions_m": None,
                "scale": None,
                "color_slots": ["Paint"],
            },
        }
    )
    r = s.recv()
    check(
        r["ok"]
        and any("Paint" in w for w in r["result"]["warnings"])
        and any("suspicious" not in w for w in r["result"]["warnings"]),
        f"probe with an unknown colour slot warns: {r['result']['warnings']}",
    )
    tiny = os.path.join(adir, "tiny.stl")
    test_assets.write_stl(tiny, (0.0002, 0.0001, 0.0001))
    rid += 1
    s.send(
        {
            "id": rid,
            "op": "probe",
            "source": {
                "path": tiny,
                "format": "stl",
                "dimensions_m": None,
                "scale": None,
                "color_slots": [],
            },
        }
    )
    r = s.recv()
    check(
        r["ok"] and any("suspicious scale" in w for w in r["result"]["warnings"]),
        "probe of a 0.2 mm model warns about its scale",
    )
    rid += 1
    s.send(
        {
            "id": rid,
            "op": "probe",
            "source": {
                "path": paths["obj"],
                "format": "dae",
                "dimensions_m": None,
                "scale": None,
                "color_slots": [],
            },
        }
    )
    r = s.recv()
    check(
        not r["ok"]
        and r["error"]["code"] == "BAD_REQUEST"
        and r["error"]["message"].startswith("source.format: expected one of"),
        f"probe of a format outside the protocol -> BAD_REQUEST ({r['error']['message'][:60]})",
    )
    rid += 1
    s.send(
        {
            "id": rid,
            "op": "render",
            "plan": library_plan(phone_plan, out, "bad", paths["obj"], "dae", None, []),
        }
    )
    r = s.recv()
    check(
        not r["ok"]
        and r["error"]["code"] == "BAD_PLAN"
        and r["error"]["message"].startswith("product.source.format:"),
        f"render of a format outside the protocol -> BAD_PLAN ({r['error']['message'][:60]})",
    )
    bad = [
        ("corrupt glb", paths["corrupt"], "glb", "cannot import"),
        ("empty obj", paths["empty"], "obj", "no mesh"),
        ("missing file", os.path.join(adir, "nope.glb"), "glb", "cannot read"),
    ]
    for what, path, fmt, words in bad:
        rid += 1
        s.send(
            {
                "id": rid,
                "op": "probe",
                "source": {
                    "path": path,
                    "format": fmt,
                    "dimensions_m": None,
                    "scale": None,
                    "color_slots": [],
                },
            }
        )
        r = s.recv()
        check(
            not r["ok"] and r["error"]["code"] == "BAD_ASSET" and words in r["error"]["message"],
            f"probe {what} -> BAD_ASSET ({r['error']['message'][:90]})",
        )
        rid += 1
        s.send(
            {
                "id": rid,
                "op": "render",
                "plan": library_plan(phone_plan, out, "bad", path, fmt, None, []),
            }
        )
        r = s.recv()
        check(
            not r["ok"] and r["error"]["code"] == "BAD_ASSET",
            f"render of {what} -> BAD_ASSET, server stays up",
        )

    # Renders at declared sizes, straight down from 0.35 m, recoloured red.
    for name, path, fmt, dims, slots, textured in cases:
        declared = (
            [0.08, 0.08, 0.08] if "gltf" in name or "textured" in name else [0.12, 0.06, 0.03]
        )
        plan = library_plan(phone_plan, out, name, path, fmt, declared, slots)
        if name == "box-obj":
            plan["outputs"]["depth"] = os.path.join(out, f"lib-{name}.depth.png")
        rid += 1
        s.send({"id": rid, "op": "render", "plan": plan})
        r = s.recv()
        check(r["ok"], f"render {name} ok ({r.get('error', {}).get('message', '')[:300]})")
        res = r["result"]
        pr = res["product"]
        check(
            all(abs(a - b) < 1e-5 for a, b in zip(pr["dimensions_m"], declared))
            and abs(pr["location_m"][2] - declared[2] / 2) < 1e-5
            and pr["scale_residual"] is not None
            and pr["scale_residual"] < 1e-4,
            f"{name}: dimensions {[round(v, 4) for v in pr['dimensions_m']]} at scale "
            f"{pr['scale']:.4g}, resting at z = {pr['location_m'][2]:.4f}",
        )
        w, h, _, mpx = pngio.read(plan["outputs"]["mask"])
        x, y, bw, bh = res["bbox"]
        cx, cy = x + (bw - 1) / 2, y + (bh - 1) / 2
        check(
            abs(cx - (w - 1) / 2) <= 1.5
            and abs(cy - (h - 1) / 2) <= 1.5
            and res["visible_fraction"] == 1.0,
            f"{name}: centred in the image (bbox centre {cx:.1f}, {cy:.1f}), fully visible",
        )
        u0, v0, u1, v1 = _project_box(res, w, h)
        check(
            abs(u0 - x) < 2
            and abs(v0 - y) < 2
            and abs(u1 - (x + bw - 1)) < 2
            and abs(v1 - (y + bh - 1)) < 2,
            f"{name}: projected box ~ bbox {res['bbox']}",
        )
        rgb = _mean_rgb(plan["outputs"]["image"], mpx, True)
        check(
            rgb[0] > 2 * rgb[1] + 10 and rgb[0] > 2 * rgb[2] + 10,
            f"{name}: product pixels are red (mean {[round(c) for c in rgb]})",
        )
        if plan["outputs"]["depth"]:
            dw, dh, dch, d = pngio.read16(plan["outputs"]["depth"])
            corner = d[0]
            centre = d[(dh // 2) * dw + dw // 2]
            check(
                res["depth"] == plan["outputs"]["depth"]
                and res["depth_units"] == "mm"
                and dch == 1
                and (dw, dh) == (w, h)
                and abs(corner - 350) <= 1
                and abs(centre - (350 - declared[2] * 1000)) <= 1
                and 0 not in d,
                f"depth: 16-bit grey mm, belt corner {corner} ~ 350, box top {centre} ~ "
                f"{350 - declared[2] * 1000:.0f}",
            )

    # Cut by the frame edge; upside down; photo background.
    photo = os.path.join(adir, "belt.png")
    pw, ph = 64, 48
    px = bytearray()
    for yy in range(ph):
        for xx in range(pw):
            px += bytes((40 + xx, 150, 60 + yy))  # green, so the belt cannot pass for rubber
    pngio.write(photo, pw, ph, 3, bytes(px))
    plan = library_plan(
        phone_plan, out, "box-cut", cases[0][1], "gltf", [0.08, 0.08, 0.08], ["Material_0"]
    )
    plan["product"].update({"offset_m": [0.0, 0.17], "side_up": "back", "yaw_deg": 0.0})
    plan["background"] = {
        "kind": "image",
        "name": "belt.png",
        "image": photo,
        "crop": [0.1, 0.2, 0.8, 0.9],
        "rotation_deg": 30.0,
        "tint_srgb": [1.0, 1.0, 1.0],
        "roughness": 0.6,
    }
    rid += 1
    s.send({"id": rid, "op": "render", "plan": plan})
    r = s.recv()
    check(r["ok"], f"cut-off product on a photo background ok ({r.get('error')})")
    res = r["result"]
    # The box spans y = 0.13..0.21 m; the image's edge is at y = 0.175 m on the belt (0.35 m
    # straight down, 35 mm on 36 mm) and nearer the centre on the box's top face.
    check(
        0.05 < res["visible_fraction"] < 0.95 and res["bbox"] is not None,
        f"box cut by the frame edge: visible_fraction {res['visible_fraction']}",
    )
    abs_rot = res["product"]["rotation_euler_deg"]
    check(
        abs(abs_rot[0] - 180.0) < 1e-3 and abs(abs_rot[1]) < 1e-6,
        "side_up back = turned over about x",
    )
    _, _, _, mpx = pngio.read(plan["outputs"]["mask"])
    belt = _mean_rgb(plan["outputs"]["image"], mpx, False)
    check(
        belt[1] > 1.5 * belt[0] and belt[1] > 1.5 * belt[2],
        f"photo background shows (belt mean {[round(c) for c in belt]})",
    )
    rid += 1
    plan["background"]["tint_srgb"] = [1.0, 0.2, 1.0]
    plan["outputs"]["image"] = os.path.join(out, "lib-box-cut-tint.png")
    s.send({"id": rid, "op": "render", "plan": plan})
    r = s.recv()
    tinted = _mean_rgb(plan["outputs"]["image"], mpx, False)
    check(
        r["ok"] and tinted[1] < 0.6 * belt[1],
        f"tint applies (belt mean {[round(c) for c in tinted]})",
    )

    # Builtin phones are unchanged by all of the above, and by asking for depth.
    again = json.loads(json.dumps(phone_plan))
    again["outputs"]["image"] = os.path.join(out, "phone-after-library.png")
    again["outputs"]["mask"] = None
    again["outputs"]["depth"] = os.path.join(out, "phone-after-library.depth.png")
    rid += 1
    s.send({"id": rid, "op": "render", "plan": again})
    r = s.recv()
    check(r["ok"] and r["result"]["visible_fraction"] > 0, "phone with depth ok")
    with open(phone_png, "rb") as f1, open(again["outputs"]["image"], "rb") as f2:
        check(
            f1.read() == f2.read(),
            "builtin phone after library products, probes, a photo belt and with depth -> "
            "byte-identical PNG",
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blender", default="blender")
    ap.add_argument("--keep")
    a = ap.parse_args()
    out = a.keep or tempfile.mkdtemp(prefix="synthline-check-")
    os.makedirs(out, exist_ok=True)
    plans = plan_frames(spec_for("protocol-check", 4, 96, 4, seed=3, mask=True), out)

    # The device handshake: a request the protocol refuses, and a driver that closes the pipe
    # (it found no device to use) both end the server before it builds its scene.
    s = Server(a.blender)
    r = s.start(kind="gpu")
    check(
        r.get("type") == "error"
        and r["error"]["code"] == "BAD_REQUEST"
        and "use_device.kind" in r["error"]["message"],
        f"a bad use_device -> start error line BAD_REQUEST ({r['error']['message'][:70]})",
    )
    s.w.close()
    code = s.proc.wait(timeout=30)
    check(code == 0, f"... and the server exits once the driver closes the pipe (exit {code})")
    s = Server(a.blender)
    s.recv()
    s.w.close()
    code = s.proc.wait(timeout=30)
    check(code == 0, f"EOF instead of use_device -> exit {code}")
    # A well-formed request naming a device Blender did not list: refused, never a render on
    # whatever happens to be switched on.
    s = Server(a.blender)
    r = s.start(kind="cuda", index=9, compute_device_type="CUDA", enable=["CUDA_9"], label="x")
    check(
        r.get("type") == "error"
        and r["error"]["code"] == "START_FAILED"
        and r["error"]["message"].startswith("use_device asks for CUDA CUDA_9, but Blender found:")
        and "(CPU)" in r["error"]["message"],
        f"a device Blender did not find -> START_FAILED ({r['error']['message'][:90]})",
    )
    s.w.close()
    code = s.proc.wait(timeout=30)
    check(code == 0, f"... and the server exits once the driver closes the pipe (exit {code})")

    s = Server(a.blender)
    ready = s.start()
    check(
        any(d["type"] == "CPU" for d in s.devices["devices"]),
        f"devices line lists the CPU: {s.devices['devices']}",
    )
    check(
        ready.get("type") == "ready"
        and ready["pid"] == s.proc.pid
        and ready["blender_version"].count(".") == 2
        and (ready["device"], ready["device_kind"]) == ("cpu", "cpu"),
        f"ready message {ready}",
    )
    s.send({"id": 6, "op": "devices"})
    r = s.recv()
    check(
        r["ok"]
        and r["result"]["device"] == "cpu"
        and r["result"]["devices"] == s.devices["devices"],
        "devices request -> the same list",
    )
    s.send({"id": 1, "op": "ping"})
    r = s.recv()
    check(r["id"] == 1 and r["ok"] and r["result"]["rss_bytes"] > 10**7, "ping -> rss_bytes")
    s.send("{not json")
    r = s.recv()
    check(not r["ok"] and r["error"]["code"] == "BAD_REQUEST", "unparseable line -> BAD_REQUEST")
    s.send({"id": 2, "op": "dance"})
    r = s.recv()
    check(r["id"] == 2 and r["error"]["code"] == "BAD_REQUEST", "unknown op -> BAD_REQUEST")
    bad = json.loads(json.dumps(plans[0]))
    del bad["camera"]["distance_m"]
    s.send({"id": 3, "op": "render", "plan": bad})
    r = s.recv()
    check(
        r["error"]["code"] == "BAD_PLAN" and "camera.distance_m" in r["error"]["message"],
        "missing field -> BAD_PLAN naming it",
    )
    bad = json.loads(json.dumps(plans[0]))
    bad["product"]["model"] = bad["product"]["asset"] = "builtin:nokia-3310"
    bad["product"]["model"] = "nokia-3310"
    s.send({"id": 4, "op": "render", "plan": bad})
    r = s.recv()
    check(r["error"]["code"] == "BAD_PLAN", "unknown model -> BAD_PLAN")
    bad = json.loads(json.dumps(plans[0]))
    bad["world"]["hdri"] = "moon"
    s.send({"id": 5, "op": "render", "plan": bad})
    r = s.recv()
    check(
        r["error"]["code"] == "BAD_PLAN" and "moon" in r["error"]["message"],
        "unknown HDRI -> BAD_PLAN",
    )

    # Pipelined: all requests first, replies in order.
    first = json.loads(json.dumps(plans[0]))
    again = json.loads(json.dumps(plans[0]))
    again["outputs"]["image"] = os.path.join(out, "again.png")
    again["outputs"]["mask"] = os.path.join(out, "again.mask.png")
    seq = [first] + plans[1:] + [again]
    for i, p in enumerate(seq):
        s.send({"id": 100 + i, "op": "render", "plan": p})
    results = []
    for i in range(len(seq)):
        r = s.recv()
        check(
            r["id"] == 100 + i and r["ok"],
            f"pipelined reply {i} in order " f"({r.get('error', {}).get('message', '')[:200]})",
        )
        results.append(r["result"])
    with open(first["outputs"]["image"], "rb") as f1, open(again["outputs"]["image"], "rb") as f2:
        check(f1.read() == f2.read(), "same plan after other frames -> byte-identical PNG")
    check(pngio.text_chunks(first["outputs"]["image"]) == [], "no PNG text metadata")
    w, h, ch, _ = pngio.read(first["outputs"]["image"])
    check((w, h, ch) == (96, 96, 3), "image is 8-bit RGB at the plan's resolution")
    for res, p in zip(results, seq):
        w, h, ch, px = pngio.read(p["outputs"]["mask"])
        vals = set(px)
        check(ch == 1 and vals <= {0, 255}, "mask is 8-bit grey 0/255")
        n = sum(1 for v in px if v == 255)
        check(n == res["visible_pixels"], f"mask pixel count {n} == visible_pixels")
        if res["bbox"]:
            x, y, bw, bh = res["bbox"]
            xs = [i % w for i, v in enumerate(px) if v]
            ys = [i // w for i, v in enumerate(px) if v]
            check(
                [min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1] == res["bbox"],
                "bbox matches the mask",
            )
            # Project the product box corners with the measured K / world_to_camera.
            pu0, pv0, pu1, pv1 = _project_box(res, w, h)
            # The body box is a little larger than the rounded silhouette.
            check(
                abs(pu0 - x) < 3
                and abs(pv0 - y) < 3
                and abs(pu1 - (x + bw - 1)) < 3
                and abs(pv1 - (y + bh - 1)) < 3,
                f"projected body box {[round(pu0), round(pv0), round(pu1), round(pv1)]} ~ bbox "
                f"{[x, y, x + bw - 1, y + bh - 1]}",
            )
        check(
            abs(res["product"]["location_m"][2] - res["product"]["dimensions_m"][2] / 2) < 1e-6,
            "product rests on the belt (z = thickness / 2)",
        )
    rss0 = results[1]["rss_bytes"]
    for i in range(6):
        p = json.loads(json.dumps(plans[i % 4]))
        s.send({"id": 200 + i, "op": "render", "plan": p})
    for i in range(6):
        r = s.recv()
    check(
        r["ok"] and r["result"]["rss_bytes"] < rss0 + 60 * 2**20,
        f"rss stable ({rss0 // 2**20} -> {r['result']['rss_bytes'] // 2**20} MiB)",
    )

    check_library(s, a.blender, out, plans[0], first["outputs"]["image"])

    crash = json.loads(json.dumps(plans[1]))
    crash["debug"] = {"crash": True}
    s.send({"id": 300, "op": "render", "plan": crash})
    code = s.proc.wait(timeout=30)
    check(code == -signal.SIGABRT, f"debug.crash aborts the process (exit {code})")

    s = Server(a.blender)
    s.start()
    t = time.time()
    s.w.close()
    code = s.proc.wait(timeout=30)
    check(code == 0, f"EOF on requests -> exit 0 in {time.time() - t:.2f}s")

    s = Server(a.blender, ["--max-frames", "2"])
    s.start()
    for i in range(3):
        s.send({"id": 400 + i, "op": "render", "plan": plans[i]})
    got = [s.recv()["id"], s.recv()["id"]]
    code = s.proc.wait(timeout=30)
    check(got == [400, 401] and code == 0, "--max-frames 2 -> two replies, then exit 0")

    s = Server(a.blender)
    s.start()
    s.send({"id": 500, "op": "shutdown"})
    r = s.recv()
    code = s.proc.wait(timeout=30)
    check(r["id"] == 500 and r["ok"] and code == 0, "shutdown -> reply, exit 0")
    if not a.keep:
        shutil.rmtree(out, ignore_errors=True)
    print(f"all protocol checks passed; {CONFORMED['n']} server lines matched protocol.schema.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
