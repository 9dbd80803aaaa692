"""Lists the Cycles devices Blender finds, without building a scene (packages/blender listDevices).

    blender -b --factory-startup -Y --python-exit-code 3 \
            --python blender-scripts/list_devices.py -- --out-fd 4

writes one JSON line to --out-fd and exits:
{"type":"devices","blender_version":"3.4.1","devices":[{"type":"CPU","name":"AMD EPYC","id":"CPU"}]}
Separate from render_server.py so it loads nothing but compat (no numpy, no scene code).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from synthline_bpy import compat  # noqa: E402


def main() -> int:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    p = argparse.ArgumentParser(prog="list_devices.py")
    p.add_argument("--out-fd", type=int, default=1)
    opts = p.parse_args(argv)
    line = (
        json.dumps(
            {
                "type": "devices",
                "blender_version": compat.version_string(),
                "devices": [d.to_json() for d in compat.cycles_devices()],
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    data = line.encode("utf-8")
    while data:
        data = data[os.write(opts.out_fd, data) :]
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
