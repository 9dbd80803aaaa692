import math
import unittest

from synthline_bpy.core import belt_image


class CropMappingTest(unittest.TestCase):
    def test_centre_of_crop_at_origin(self):
        m = belt_image.crop_mapping((0.2, 0.1, 0.6, 0.5), 1000, 500, 0.0)
        u, v = belt_image.belt_to_uv(0.0, 0.0, m)
        self.assertAlmostEqual(u, 0.4)
        self.assertAlmostEqual(v, 1.0 - 0.3)  # v counted from the bottom in Blender

    def test_longer_side_spans_the_view_square_pixels(self):
        # Crop 400 x 200 px: the 400 px side covers IMAGE_SPAN_M, pixels stay square.
        span = belt_image.IMAGE_SPAN_M
        m = belt_image.crop_mapping((0.2, 0.1, 0.6, 0.5), 1000, 500, 0.0)
        u0, _ = belt_image.belt_to_uv(-span / 2, 0.0, m)
        u1, _ = belt_image.belt_to_uv(span / 2, 0.0, m)
        self.assertAlmostEqual(u0, 0.2)
        self.assertAlmostEqual(u1, 0.6)
        _, va = belt_image.belt_to_uv(0.0, 0.0, m)
        _, vb = belt_image.belt_to_uv(0.0, span / 4, m)  # 100 px of photo up the belt
        self.assertAlmostEqual((vb - va) * 500, 100.0)

    def test_rotation_turns_the_photo_counter_clockwise(self):
        # Rotated by 90 degrees, the photo's +u direction points along world +y.
        m = belt_image.crop_mapping((0.0, 0.0, 1.0, 1.0), 100, 100, 90.0)
        u0, v0 = belt_image.belt_to_uv(0.0, 0.0, m)
        u1, v1 = belt_image.belt_to_uv(0.0, 0.1, m)
        self.assertAlmostEqual(u1 - u0, 0.1 / belt_image.IMAGE_SPAN_M)
        self.assertAlmostEqual(v1 - v0, 0.0)
        m2 = belt_image.crop_mapping((0.0, 0.0, 1.0, 1.0), 100, 100, 0.0)
        self.assertAlmostEqual(m[0], -math.pi / 2)
        self.assertAlmostEqual(m2[0], 0.0)

    def test_reduced_size(self):
        self.assertEqual(belt_image.reduced_size(4000, 3000), (2, 2000, 1500))
        self.assertEqual(belt_image.reduced_size(5000, 300), (4, 1250, 75))
        self.assertEqual(belt_image.reduced_size(640, 480), (1, 640, 480))


if __name__ == "__main__":
    unittest.main()
