import math
import unittest

import numpy as np

from synthline_bpy.core import hdri


def sky(h, w, value=1.0):
    px = np.zeros((h, w, 4), dtype=np.float32)
    px[..., :3] = value
    px[..., 3] = 1.0
    return px


class HdriTest(unittest.TestCase):
    def test_uniform_sky_irradiance_is_pi_times_radiance(self):
        # Cosine-weighted upper hemisphere: E = pi * L for a uniform radiance L.
        h, w = 128, 256
        self.assertAlmostEqual(
            hdri.upper_irradiance(sky(h, w, 2.0).ravel(), w, h), 2.0 * math.pi, delta=2e-3
        )

    def test_light_below_the_horizon_does_not_count(self):
        h, w = 64, 128
        px = sky(h, w, 0.0)
        px[: h // 2, :, :3] = 5.0  # row 0 is the bottom (nadir)
        self.assertAlmostEqual(hdri.upper_irradiance(px.ravel(), w, h), 0.0, places=9)

    def test_blur_wraps_in_longitude_and_keeps_the_mean(self):
        px = sky(8, 16, 0.0)
        px[4, 0, :3] = 9.0
        out = hdri.blur_equirect(px, 1)
        self.assertGreater(out[4, 15, 0], 0.0)  # spread across the seam
        self.assertAlmostEqual(float(out[..., 0].sum()), 9.0, places=4)
        self.assertEqual(out.dtype, np.float32)

    def test_prepare_reduces_and_normalises(self):
        h, w = 512, 1024
        gain, px = hdri.prepare(sky(h, w, 3.0).ravel(), w, h)
        self.assertEqual(px.shape, (hdri.HDRI_MAX_WIDTH // 2, hdri.HDRI_MAX_WIDTH, 4))
        self.assertAlmostEqual(gain * 3.0 * math.pi, hdri.HDRI_REFERENCE_IRRADIANCE, delta=1e-3)
        np.testing.assert_allclose(px[..., 0], 3.0, rtol=1e-6)


if __name__ == "__main__":
    unittest.main()
