import unittest

from synthline_bpy.core import colour


class ColourTest(unittest.TestCase):
    def test_round_trip(self):
        for i in range(256):
            c = i / 255
            self.assertAlmostEqual(colour.linear_to_srgb(colour.srgb_to_linear(c)), c, places=9)

    def test_known_values(self):
        self.assertEqual(colour.srgb_to_linear(0.0), 0.0)
        self.assertAlmostEqual(colour.srgb_to_linear(1.0), 1.0)
        self.assertAlmostEqual(colour.srgb_to_linear(0.5), 0.21404, places=4)
        self.assertAlmostEqual(colour.linear_to_srgb(0.18), 0.46135, places=4)

    def test_hex(self):
        self.assertEqual(colour.hex_to_srgb("#FF0080"), (1.0, 0.0, 128 / 255))
        self.assertEqual(colour.srgb_to_hex((1.0, 0.0, 128 / 255)), "#FF0080")
        for bad in ("FF0080", "#FF008", "#GG0000", "#ff00801", 123, None):
            self.assertFalse(colour.is_hex(bad))
        with self.assertRaises(ValueError):
            colour.hex_to_srgb("#12345")


if __name__ == "__main__":
    unittest.main()
