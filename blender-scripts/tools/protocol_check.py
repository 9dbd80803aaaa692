"""End-to-end check of render_server.py against docs/render-protocol.md with real Blender.

    python3 blender-scripts/tools/protocol_check.py [--blender blender] [--keep DIR]

Exits non-zero on the first failed expectation. Checks: ready message, ping, BAD_REQUEST for an
unparseable line and an unknown op, BAD_PLAN for a missing field / unknown model / unknown HDRI
(server stays up), pipelined renders answered in order, byte-identical PNGs for the same plan
(also after other frames), mask 0/255 matching bbox/visible_pixels, K and world_to_camera
projecting the product's corners onto its bbox, no data-block growth, debug.crash -> abort,
EOF -> exit, --max-frames.
"""
from __future__ import annotations

import argparse
import json
import math
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

from synthline_bpy import camera_math, pngio  # noqa: E402
from sample_plans import make_plan  # noqa: E402
from synthline_bpy import catalog  # noqa: E402
from drive_server import blender_env  # noqa: E402

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

        cmd = [blender, "-b", "--factory-startup", "-Y", "--python-exit-code", "3",
               "--python", SERVER, "--", "--in-fd", "3", "--out-fd", "4", *extra]
        self.log = tempfile.NamedTemporaryFile("w+", prefix="synthline-server-", suffix=".log")
        self.proc = subprocess.Popen(cmd, env=blender_env(), stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=child,
                                     pass_fds=(3, 4), close_fds=True)
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
        return json.loads(line)

    def tail(self) -> str:
        self.log.flush()
        with open(self.log.name) as f:
            return "".join(f.readlines()[-20:])


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
    print("ok  ", msg)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blender", default="blender")
    ap.add_argument("--keep")
    a = ap.parse_args()
    out = a.keep or tempfile.mkdtemp(prefix="synthline-check-")
    os.makedirs(out, exist_ok=True)
    import random
    models = catalog.load()["models"]
    plans = [make_plan(i, random.Random(i), models, out, 96, 4, mask=True) for i in range(4)]

    s = Server(a.blender)
    ready = s.recv()
    check(ready.get("type") == "ready" and ready["pid"] == s.proc.pid
          and ready["blender_version"].count(".") == 2, f"ready message {ready}")
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
    check(r["error"]["code"] == "BAD_PLAN" and "camera.distance_m" in r["error"]["message"],
          "missing field -> BAD_PLAN naming it")
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
    check(r["error"]["code"] == "BAD_PLAN" and "moon" in r["error"]["message"],
          "unknown HDRI -> BAD_PLAN")

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
        check(r["id"] == 100 + i and r["ok"], f"pipelined reply {i} in order "
              f"({r.get('error', {}).get('message', '')[:200]})")
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
            check([min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1] == res["bbox"],
                  "bbox matches the mask")
            # Project the product box corners with the measured K / world_to_camera.
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
            pu0, pu1 = max(0, min(us)), min(w - 1, max(us))
            pv0, pv1 = max(0, min(vs)), min(h - 1, max(vs))
            # The body box is a little larger than the rounded silhouette.
            check(abs(pu0 - x) < 3 and abs(pv0 - y) < 3 and abs(pu1 - (x + bw - 1)) < 3
                  and abs(pv1 - (y + bh - 1)) < 3,
                  f"projected body box {[round(pu0), round(pv0), round(pu1), round(pv1)]} ~ bbox "
                  f"{[x, y, x + bw - 1, y + bh - 1]}")
        check(abs(res["product"]["location_m"][2] - res["product"]["dimensions_m"][2] / 2) < 1e-6,
              "product rests on the belt (z = thickness / 2)")
    rss0 = results[1]["rss_bytes"]
    for i in range(6):
        p = json.loads(json.dumps(plans[i % 4]))
        s.send({"id": 200 + i, "op": "render", "plan": p})
    for i in range(6):
        r = s.recv()
    check(r["ok"] and r["result"]["rss_bytes"] < rss0 + 60 * 2**20,
          f"rss stable ({rss0 // 2**20} -> {r['result']['rss_bytes'] // 2**20} MiB)")

    crash = json.loads(json.dumps(plans[1]))
    crash["debug"] = {"crash": True}
    s.send({"id": 300, "op": "render", "plan": crash})
    code = s.proc.wait(timeout=30)
    check(code == -signal.SIGABRT, f"debug.crash aborts the process (exit {code})")

    s = Server(a.blender)
    s.recv()
    t = time.time()
    s.w.close()
    code = s.proc.wait(timeout=30)
    check(code == 0, f"EOF on requests -> exit 0 in {time.time() - t:.2f}s")

    s = Server(a.blender, ["--max-frames", "2"])
    s.recv()
    for i in range(3):
        s.send({"id": 400 + i, "op": "render", "plan": plans[i]})
    got = [s.recv()["id"], s.recv()["id"]]
    code = s.proc.wait(timeout=30)
    check(got == [400, 401] and code == 0, "--max-frames 2 -> two replies, then exit 0")

    s = Server(a.blender)
    s.recv()
    s.send({"id": 500, "op": "shutdown"})
    r = s.recv()
    code = s.proc.wait(timeout=30)
    check(r["id"] == 500 and r["ok"] and code == 0, "shutdown -> reply, exit 0")
    if not a.keep:
        shutil.rmtree(out, ignore_errors=True)
    print("all protocol checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
