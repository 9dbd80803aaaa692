import unittest

import numpy as np

from synthline_bpy.core import distortion


class DistortionTest(unittest.TestCase):
    K = [[200.0, 0.0, 79.5], [0.0, 200.0, 59.5], [0.0, 0.0, 1.0]]

    def test_undistort_inverts_distort(self):
        xy = np.random.default_rng(1).uniform(-0.5, 0.5, (200, 2))
        for k1, k2 in ((-0.3, 0.05), (0.2, 0.0), (-0.1, -0.05)):
            back = distortion.undistort_points(distortion.distort_points(xy, k1, k2), k1, k2)
            self.assertLess(np.max(np.abs(back - xy)), 1e-9)

    def test_barrel_lens_zooms_in_until_every_pixel_shows_the_render(self):
        W, H = 160, 120
        Kd = distortion.lens_K(self.K, -0.3, 0.0, W, H)
        self.assertGreater(Kd[0][0], self.K[0][0])
        su, sv = distortion.source_map(self.K, Kd, -0.3, 0.0, W, H)
        self.assertGreaterEqual(su.min(), -1e-6)
        self.assertLessEqual(su.max(), W - 1 + 1e-6)
        self.assertGreaterEqual(sv.min(), -1e-6)
        self.assertLessEqual(sv.max(), H - 1 + 1e-6)
        # A render pixel goes where distort_pixels says, and the map brings it back.
        p = np.array([[20.0, 30.0], [140.0, 100.0]])
        d = distortion.distort_pixels(p, self.K, Kd, -0.3, 0.0)
        back = distortion.undistort_to_render(d, Kd, self.K, -0.3, 0.0)
        self.assertLess(np.max(np.abs(back - p)), 1e-6)

    def test_pincushion_needs_no_zoom(self):
        self.assertEqual(
            distortion.lens_K(self.K, 0.2, 0.0, 160, 120), distortion.zoomed(self.K, 1.0)
        )

    def test_nearest_keeps_ids(self):
        ids = np.arange(12, dtype=np.int64).reshape(3, 4)
        su, sv = np.meshgrid(np.arange(4.0) + 0.2, np.arange(3.0) - 0.2)
        out = distortion.remap_nearest(ids, su, sv)
        self.assertTrue(np.array_equal(out, ids))


if __name__ == "__main__":
    unittest.main()
