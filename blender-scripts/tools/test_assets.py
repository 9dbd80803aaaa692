"""Small model files for the protocol check, written with plain Python (no Blender).

    python3 blender-scripts/tools/test_assets.py DIR
    # writes box.obj, box.stl, box.ply, empty.obj, corrupt.glb into DIR

A box with sides BOX = (x, y, z) in Blender's frame (+z up). OBJ is y-up by convention, so the
OBJ file stores (x, z, -y) and Blender's OBJ importer turns it back; STL and PLY are stored z-up.
FBX and .blend files come from export_cube_bpy.py, which runs inside Blender.
"""
from __future__ import annotations

import os
import sys

BOX = (2.0, 1.0, 0.5)
_QUADS = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]


def box_vertices(size=BOX):
    hx, hy, hz = (s / 2 for s in size)
    return [
        (-hx, -hy, -hz),
        (hx, -hy, -hz),
        (hx, hy, -hz),
        (-hx, hy, -hz),
        (-hx, -hy, hz),
        (hx, -hy, hz),
        (hx, hy, hz),
        (-hx, hy, hz),
    ]


def write_obj(path: str, size=BOX, material: str = "Body") -> None:
    v = box_vertices(size)
    with open(path, "w") as f:
        f.write(f"# box {size}\nmtllib {os.path.basename(path)[:-4]}.mtl\no box\n")
        for x, y, z in v:
            f.write(f"v {x} {z} {-y}\n")  # Blender (x, y, z) -> OBJ y-up (x, z, -y)
        f.write(f"usemtl {material}\n")
        for q in _QUADS:
            f.write("f " + " ".join(str(i + 1) for i in q) + "\n")
    with open(path[:-4] + ".mtl", "w") as f:
        f.write(f"newmtl {material}\nKd 0.8 0.8 0.8\n")


def write_stl(path: str, size=BOX) -> None:
    v = box_vertices(size)
    with open(path, "w") as f:
        f.write("solid box\n")
        for a, b, c, d in _QUADS:
            for tri in ((a, b, c), (a, c, d)):
                f.write("facet normal 0 0 0\n outer loop\n")
                for i in tri:
                    f.write(f"  vertex {v[i][0]} {v[i][1]} {v[i][2]}\n")
                f.write(" endloop\nendfacet\n")
        f.write("endsolid box\n")


def write_ply(path: str, size=BOX) -> None:
    v = box_vertices(size)
    with open(path, "w") as f:
        f.write("ply\nformat ascii 1.0\n")
        f.write(f"element vertex {len(v)}\nproperty float x\nproperty float y\nproperty float z\n")
        f.write(f"element face {len(_QUADS)}\nproperty list uchar int vertex_indices\nend_header\n")
        for x, y, z in v:
            f.write(f"{x} {y} {z}\n")
        for q in _QUADS:
            f.write("4 " + " ".join(map(str, q)) + "\n")


def write_all(d: str) -> dict:
    os.makedirs(d, exist_ok=True)
    paths = {
        k: os.path.join(d, n)
        for k, n in (
            ("obj", "box.obj"),
            ("stl", "box.stl"),
            ("ply", "box.ply"),
            ("empty", "empty.obj"),
            ("corrupt", "corrupt.glb"),
        )
    }
    write_obj(paths["obj"])
    write_stl(paths["stl"])
    write_ply(paths["ply"])
    with open(paths["empty"], "w") as f:
        f.write("# nothing here\n")
    with open(paths["corrupt"], "wb") as f:
        f.write(bytes((i * 73 + 11) % 256 for i in range(4096)))
    return paths


if __name__ == "__main__":
    print(write_all(sys.argv[1]))
