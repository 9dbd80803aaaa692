"""core/ is the scene model with no bpy: every module imports only the standard library, numpy
and other core modules, and imports with no Blender present."""
import ast
import os
import subprocess
import sys
import unittest

BLENDER_SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(BLENDER_SCRIPTS, "synthline_bpy", "core")
THIRD_PARTY = {"numpy"}


def core_modules():
    return sorted(f[:-3] for f in os.listdir(CORE) if f.endswith(".py"))


def imported_modules(path: str, package: str):
    """(line, absolute module name) of every import in a file of `package`."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, node.module
                continue
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            if node.module:
                yield node.lineno, ".".join(base + [node.module])
            else:  # from . import a, b: each name is a module of that package
                for a in node.names:
                    yield node.lineno, ".".join(base + [a.name])


class CoreImportsTest(unittest.TestCase):
    def test_core_imports_only_stdlib_numpy_and_core(self):
        bad = []
        for mod in core_modules():
            path = os.path.join(CORE, mod + ".py")
            for line, name in imported_modules(path, "synthline_bpy.core"):
                top = name.split(".")[0]
                if name.startswith("synthline_bpy.core.") or name == "synthline_bpy.core":
                    continue
                if top == "synthline_bpy" or top not in sys.stdlib_module_names | THIRD_PARTY:
                    bad.append(f"core/{mod}.py:{line} imports {name}")
        self.assertEqual(bad, [])

    def test_the_scan_sees_a_forbidden_import(self):
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.py")
            with open(p, "w") as f:
                f.write(
                    "import bpy\nfrom mathutils import Matrix\nfrom ..scene import rig\n"
                    "from . import hdri\n"
                )
            got = [n for _, n in imported_modules(p, "synthline_bpy.core")]
        self.assertEqual(
            got, ["bpy", "mathutils", "synthline_bpy.scene", "synthline_bpy.core.hdri"]
        )

    def test_every_core_module_imports_without_blender(self):
        # A fresh interpreter in which bpy, bmesh and mathutils cannot be imported at all.
        code = (
            "import importlib, sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('bpy', 'bmesh', 'mathutils'):\n"
            "            raise ImportError('no Blender here: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            f"for m in {core_modules()!r}:\n"
            "    importlib.import_module('synthline_bpy.core.' + m)\n"
            "print('ok')\n"
        )
        r = subprocess.run(
            [sys.executable, "-c", code],
            cwd=BLENDER_SCRIPTS,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ok")


if __name__ == "__main__":
    unittest.main()
