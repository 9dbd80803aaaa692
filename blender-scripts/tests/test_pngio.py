import os
import tempfile
import unittest

from synthline_bpy.core import pngio


class PngTest(unittest.TestCase):
    def test_round_trip_16_bit_grey(self):
        import struct

        with tempfile.TemporaryDirectory() as d:
            vals = [0, 1, 255, 256, 350, 65535, 1234, 40000]
            p = os.path.join(d, "d.png")
            pngio.write(p, 4, 2, 1, struct.pack(">8H", *vals), bit_depth=16)
            self.assertEqual(pngio.read16(p), (4, 2, 1, vals))
            with self.assertRaises(ValueError):
                pngio.read(p)  # the 8-bit reader refuses 16-bit files

    def test_round_trip_grey_and_rgb(self):
        with tempfile.TemporaryDirectory() as d:
            grey = bytes((x * 7 + y * 3) % 256 for y in range(5) for x in range(9))
            p = os.path.join(d, "g.png")
            pngio.write(p, 9, 5, 1, grey)
            self.assertEqual(pngio.read(p), (9, 5, 1, grey))
            rgb = bytes(range(256)) * 3
            p = os.path.join(d, "c.png")
            pngio.write(p, 16, 16, 3, rgb)
            self.assertEqual(pngio.read(p), (16, 16, 3, rgb))
            self.assertEqual(
                os.listdir(d),
                ["c.png", "g.png"] if os.listdir(d)[0] == "c.png" else ["g.png", "c.png"],
            )

    def test_bad_size(self):
        with self.assertRaises(ValueError):
            pngio.encode(2, 2, 1, b"\x00" * 3)

    def test_strip_metadata(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "a.png")
            png = pngio.encode(2, 1, 1, b"\x10\x20")
            text = pngio._chunk(b"tEXt", b"cycles.ViewLayer.render_time\x0000:00.12")
            with open(src, "wb") as f:  # insert a text chunk after IHDR (8 + 25 bytes)
                f.write(png[:33] + text + png[33:])
            self.assertEqual(pngio.text_chunks(src), ["cycles.ViewLayer.render_time"])
            dst = os.path.join(d, "b.png")
            pngio.strip_metadata(src, dst)
            self.assertEqual(pngio.text_chunks(dst), [])
            with open(dst, "rb") as f:
                self.assertEqual(f.read(), png)
            self.assertEqual(pngio.read(dst), (2, 1, 1, b"\x10\x20"))


if __name__ == "__main__":
    unittest.main()
