"""Drive render_server.py by hand: spawn Blender with request/reply pipes on fds 3/4.

    node --import tsx scripts/plan-frames.ts spec.json --out-dir /tmp/f > plans.jsonl
    python3 blender-scripts/tools/drive_server.py plans.jsonl [--threads 2] [--raw]
                                                 [--device cpu|auto|cuda|... [--device-index N]]

Answers the server's device list as the driver would for --device (default cpu; the choice is
TypeScript's, see ts_plans.use_device), sends a ping, every plan line as a render request
(pipelined), then shutdown; prints one summary line per reply (or the raw reply with --raw) and
timing on stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from ts_plans import DeviceUnavailable, use_device

SERVER = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "render_server.py"
)


def blender_env() -> dict:
    """Environment without pyenv's bin dirs: Debian's Blender derives its Python prefix from the
    first python3 on PATH and would lose numpy under a pyenv-launched harness."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".pyenv" not in p
    )
    return env


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("plans")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--raw", action="store_true")
    p.add_argument("--blender", default="blender")
    p.add_argument("--extra", default="", help="raw request lines to send first (file)")
    p.add_argument("--device", default="cpu", help="a spec's render.device (default cpu)")
    p.add_argument("--device-index", type=int, default=None, help="which GPU of the kind")
    a = p.parse_args()

    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    cmd = [a.blender, "-b", "--factory-startup", "-Y", "--python-exit-code", "3"]
    if a.threads:
        cmd += ["-t", str(a.threads)]
    cmd += ["--python", SERVER, "--", "--in-fd", "3", "--out-fd", "4"]

    def child_fds():
        # Move the pipe ends to 3 and 4 without clobbering each other, keep them across exec.
        a, b = os.dup(req_r), os.dup(rep_w)
        os.dup2(a, 3)
        os.dup2(b, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=blender_env(),
        stdout=open("/tmp/drive_server.log", "w"),
        stderr=subprocess.STDOUT,
        preexec_fn=child_fds,
        pass_fds=(3, 4),
        close_fds=True,
    )
    os.close(req_r)
    os.close(rep_w)
    reqs = os.fdopen(req_w, "w", buffering=1)
    reps = os.fdopen(rep_r, "r")

    devices = reps.readline()
    print(f"devices: {devices.strip()}", file=sys.stderr)
    try:
        use = use_device(json.loads(devices), a.device, a.device_index)
    except DeviceUnavailable as e:
        reqs.close()  # as the driver does: the server exits without building its scene
        proc.wait()
        print(f"no device to render on: {e}", file=sys.stderr)
        return 1
    reqs.write(json.dumps(use) + "\n")
    reqs.flush()
    ready = reps.readline()
    t_ready = time.perf_counter()
    print(f"ready after {t_ready - t0:.3f}s: {ready.strip()}", file=sys.stderr)
    lines = []
    if a.extra:
        lines += [x.rstrip("\n") for x in open(a.extra) if x.strip()]
    rid = 0
    reqs.write(json.dumps({"id": 0, "op": "ping"}) + "\n")
    n_render = 0
    for line in open(a.plans):
        if line.strip():
            rid += 1
            reqs.write(json.dumps({"id": rid, "op": "render", "plan": json.loads(line)}) + "\n")
            n_render += 1
    for line in lines:
        reqs.write(line + "\n")
    reqs.write(json.dumps({"id": 999999, "op": "shutdown"}) + "\n")
    reqs.flush()
    t_first = None
    n = 0
    for line in reps:
        msg = json.loads(line)
        if a.raw:
            print(line.rstrip())
        elif msg.get("ok") and "index" in msg.get("result", {}):
            r = msg["result"]
            print(
                f"id={msg['id']} bbox={r['bbox']} vis={r['visible_pixels']} "
                f"sec={r['seconds']:.3f} rss={r['rss_bytes'] // 2**20}MiB"
            )
        else:
            print(json.dumps(msg)[:600])
        if msg.get("id") == 0:
            t_first = time.perf_counter()
        n += 1
    t_end = time.perf_counter()
    code = proc.wait()
    t_exit = time.perf_counter()
    print(
        f"{n_render} renders in {t_end - (t_first or t_ready):.3f}s "
        f"({(t_end - (t_first or t_ready)) / max(1, n_render):.3f}s/frame); "
        f"exit code {code} after {t_exit - t_end:.3f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
