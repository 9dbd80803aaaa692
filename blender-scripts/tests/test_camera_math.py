import unittest

from synthline_bpy.core import camera_math as cm


def close(a, b, tol=1e-9):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


class CameraMathTest(unittest.TestCase):
    def test_spherical_position(self):
        p = cm.spherical_position((0.1, 0.2, 0.0), 2.0, 90.0, 37.0)
        self.assertTrue(close(p, (0.1, 0.2, 2.0)))
        p = cm.spherical_position((0, 0, 0), 1.0, 0.0, 0.0)
        self.assertTrue(close(p, (1.0, 0.0, 0.0)))
        p = cm.spherical_position((0, 0, 0), 1.0, 0.0, 90.0)
        self.assertTrue(close(p, (0.0, 1.0, 0.0)))

    def test_axes_orthonormal_and_forward_hits_look_at(self):
        for el in (10.0, 45.0, 72.0, 90.0):
            for az in (0.0, 40.0, 200.0):
                for roll in (0.0, 4.0, -30.0):
                    r, u, f = cm.camera_axes(el, az, roll)
                    for v in (r, u, f):
                        self.assertAlmostEqual(sum(c * c for c in v), 1.0)
                    self.assertAlmostEqual(sum(a * b for a, b in zip(r, u)), 0.0)
                    self.assertAlmostEqual(sum(a * b for a, b in zip(r, f)), 0.0)
                    # right-handed: r x u = -f (Blender camera looks along -Z)
                    c = cm._cross(r, u)
                    self.assertTrue(close(c, tuple(-x for x in f), 1e-9))
                    pos = cm.spherical_position((0, 0, 0), 1.0, el, az)
                    self.assertTrue(close(tuple(-x for x in pos), f, 1e-9))

    def test_roll_zero_keeps_horizon_level(self):
        r, u, f = cm.camera_axes(60.0, 30.0, 0.0)
        self.assertAlmostEqual(r[2], 0.0)
        self.assertGreater(u[2], 0.0)

    def test_positive_roll_turns_scene_clockwise_in_image(self):
        # A point to the right of centre moves down in the image (OpenCV v grows) with roll.
        K = cm.intrinsics(35.0, 36.0, 100, 100)
        pos = cm.spherical_position((0, 0, 0), 1.0, 90.0, 0.0)
        r0, _, _ = cm.camera_axes(90.0, 0.0, 0.0)
        target = tuple(0.1 * c for c in r0)
        uv = []
        for roll in (0.0, 10.0):
            w2c = cm.opencv_world_to_camera(cm.blender_camera_matrix(pos, 90.0, 0.0, roll))
            uv.append(cm.project(K, w2c, target))
        self.assertGreater(uv[0][0], 49.5)
        self.assertAlmostEqual(uv[0][1], 49.5)
        self.assertGreater(uv[1][1], uv[0][1])

    def test_opencv_projection(self):
        pos = cm.spherical_position((0, 0, 0), 0.5, 90.0, 0.0)
        m = cm.blender_camera_matrix(pos, 90.0, 0.0, 0.0)
        w2c = cm.opencv_world_to_camera(m)
        K = cm.intrinsics(35.0, 36.0, 256, 256)
        u, v, z = cm.project(K, w2c, (0.0, 0.0, 0.0))
        self.assertAlmostEqual(u, 127.5)
        self.assertAlmostEqual(v, 127.5)
        self.assertAlmostEqual(z, 0.5)
        # Azimuth 0, straight down: image right = world +y, image down = world +x.
        u, v, _ = cm.project(K, w2c, (0.0, 0.05, 0.0))
        self.assertGreater(u, 127.5)
        u, v, _ = cm.project(K, w2c, (0.05, 0.0, 0.0))
        self.assertGreater(v, 127.5)
        self.assertEqual(w2c[3], [0.0, 0.0, 0.0, 1.0])

    def test_intrinsics(self):
        K = cm.intrinsics(35.0, 36.0, 128, 96)
        self.assertAlmostEqual(K[0][0], 35.0 / 36.0 * 128)
        self.assertAlmostEqual(K[1][1], K[0][0])
        self.assertEqual((K[0][2], K[1][2]), (63.5, 47.5))

    def test_product_pose_library_flips_about_x(self):
        loc, rot = cm.product_pose("back", 30.0, (0.01, 0.0), 0.08, flip_axis="x")
        self.assertEqual(loc, (0.01, 0.0, 0.04))
        self.assertEqual(rot, (180.0, 0.0, 30.0))
        self.assertEqual(
            cm.product_pose("front", 0.0, (0, 0), 0.08, flip_axis="x")[1], (0.0, 0.0, 0.0)
        )

    def test_product_pose(self):
        loc, rot = cm.product_pose("front", 30.0, (0.01, -0.02), 0.0074)
        self.assertEqual(loc, (0.01, -0.02, 0.0037))
        self.assertEqual(rot, (0.0, 0.0, 30.0))
        _, rot = cm.product_pose("back", 30.0, (0, 0), 0.0074)
        self.assertEqual(rot, (0.0, 180.0, 30.0))
        # Flipping about y sends the screen normal (+z) down and keeps the long axis.
        R = cm.matmul(cm.rot_z(rot[2]), cm.rot_y(rot[1]))
        self.assertAlmostEqual(R[2][2], -1.0)
        with self.assertRaises(ValueError):
            cm.product_pose("side", 0, (0, 0), 0.007)


if __name__ == "__main__":
    unittest.main()
