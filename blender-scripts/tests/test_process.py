import os
import subprocess
import sys
import tempfile
import unittest

from synthline_bpy.core import assets, process


class ProcessTest(unittest.TestCase):
    def test_rss_bytes(self):
        self.assertGreater(process.rss_bytes(), 1 << 20)

    def test_private_index_dir_removes_dead_processes_dirs_only(self):
        with tempfile.TemporaryDirectory() as root:
            dead = subprocess.run(
                [sys.executable, "-c", "import os; print(os.getpid())"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            alive = str(os.getppid())
            for name in (dead, alive, "notes"):
                os.makedirs(os.path.join(root, name))
            mine = process.private_index_dir(root)
            self.assertEqual(mine, os.path.join(root, str(os.getpid())))
            self.assertTrue(os.path.isdir(mine))
            self.assertEqual(sorted(os.listdir(root)), sorted([alive, "notes", str(os.getpid())]))
            with open(os.path.join(mine, "stale.png"), "w") as f:
                f.write("x")
            self.assertEqual(os.listdir(process.private_index_dir(root)), [])


class AssetsTest(unittest.TestCase):
    def test_file_key(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m.glb")
            with open(p, "wb") as f:
                f.write(b"abc")
            key = assets.file_key(p)
            self.assertEqual(key[0], p)
            self.assertEqual(key[2], 3)
            with self.assertRaisesRegex(assets.BadAsset, "cannot read model file"):
                assets.file_key(os.path.join(d, "missing.glb"))
            with self.assertRaisesRegex(assets.BadAsset, "not a regular file"):
                assets.file_key(d)


if __name__ == "__main__":
    unittest.main()
