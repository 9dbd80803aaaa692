import unittest

try:
    import numpy as np
except ImportError:  # the texture is made inside Blender, which ships numpy
    np = None


@unittest.skipIf(np is None, "numpy not installed")
class TextureTest(unittest.TestCase):
    def test_belt_texture_is_deterministic_and_in_range(self):
        from synthline_bpy.core import texture

        a = texture.belt_texture(64)
        b = texture.belt_texture(64)
        self.assertEqual(a.shape, (64, 64, 4))
        self.assertTrue(np.array_equal(a, b))
        self.assertGreaterEqual(a.min(), 0.0)
        self.assertLessEqual(a.max(), 1.0)
        self.assertGreater(a[..., 0].std(), 0.05)  # visible mottling

    def test_tileable(self):
        from synthline_bpy.core import texture

        n = texture.fractal_noise(64, 1.5, np.random.default_rng(1))
        # Wrap-around steps are no larger than ordinary neighbour steps.
        inner = np.abs(np.diff(n, axis=1)).mean()
        wrap = np.abs(n[:, 0] - n[:, -1]).mean()
        self.assertLess(wrap, inner * 2.5)


if __name__ == "__main__":
    unittest.main()
