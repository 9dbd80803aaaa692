"""Lists the Cycles devices Blender finds, without building a scene (packages/blender listDevices).

    blender -b --factory-startup -Y --python-exit-code 3 \
            --python blender-scripts/list_devices.py -- --out-fd 4

writes one JSON line to --out-fd and exits:
{"type":"devices","blender_version":"3.4.1","devices":[{"type":"CPU","name":"AMD EPYC","id":"CPU"}]}
Separate from render_server.py so it loads nothing but compat (no numpy, no scene code).

With --report (`synthline doctor`) the line also carries a `report`: Blender's Python, whether
numpy imports (the glTF importer and the masks need it), the importer operator each model format
would use (null: none registered), and the render engines this build has.
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
from synthline_bpy.core.protocol import ENGINES, MODEL_FORMATS  # noqa: E402


def report() -> dict:
    """What `synthline doctor` checks beyond the devices: Python, numpy, importers, engines."""
    try:
        import numpy

        numpy_version, numpy_error = numpy.__version__, None
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        numpy_version, numpy_error = None, f"{type(e).__name__}: {e}"
    importers = []
    for fmt in MODEL_FORMATS:
        if fmt == "blend":
            op = "bpy.data.libraries.load"  # built in: appending needs no add-on
        else:
            try:
                op = compat.model_importer(fmt)
            except ValueError:
                op = None
        importers.append({"format": fmt, "operator": op})
    engines = [{"engine": e, "id": compat.engine_id(e)} for e in ENGINES]
    return {
        "python": sys.version.split()[0],
        "numpy": numpy_version,
        "numpy_error": numpy_error,
        "importers": importers,
        "engines": engines,
    }


def main() -> int:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    p = argparse.ArgumentParser(prog="list_devices.py")
    p.add_argument("--out-fd", type=int, default=1)
    p.add_argument("--report", action="store_true")
    opts = p.parse_args(argv)
    msg = {
        "type": "devices",
        "blender_version": compat.version_string(),
        "devices": [d.to_json() for d in compat.cycles_devices()],
    }
    if opts.report:
        msg["report"] = report()
    line = json.dumps(msg, separators=(",", ":")) + "\n"
    data = line.encode("utf-8")
    while data:
        data = data[os.write(opts.out_fd, data) :]
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
