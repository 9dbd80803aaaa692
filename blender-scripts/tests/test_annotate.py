import unittest

import numpy as np

from synthline_bpy.core import annotate, camera_math


class DepthTest(unittest.TestCase):
    def test_depth_mm_rounding_clamping_and_misses(self):
        z = np.array([[0.35, 0.3504], [1e10, 0.0001], [100.0, np.inf]])
        mm = annotate.depth_mm(z)
        self.assertEqual(mm.dtype, np.uint16)
        self.assertEqual(mm.tolist(), [[350, 350], [0, 1], [65535, 0]])

    def test_ray_distance_to_z(self):
        K = camera_math.intrinsics(35.0, 36.0, 5, 3)
        # A plane at z = 0.4 seen by a pinhole: ray length = z * |(x/z, y/z, 1)|.
        u = (np.arange(5) - K[0][2]) / K[0][0]
        v = (np.arange(3) - K[1][2]) / K[1][1]
        dist = 0.4 * np.sqrt(1 + u[None, :] ** 2 + v[:, None] ** 2)
        np.testing.assert_allclose(annotate.ray_distance_to_z(dist, K), 0.4)


class VisibleFractionTest(unittest.TestCase):
    def square(self, x0, y0, x1, y1):
        uvz = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], dtype=float)
        tris = np.array([[0, 1, 2], [0, 2, 3]])
        return uvz, tris

    def test_inside_is_one(self):
        uvz, t = self.square(10, 10, 20, 20)
        self.assertEqual(annotate.visible_fraction(uvz, t, 100, 100), 1.0)

    def test_half_cut_by_the_right_edge(self):
        # Image spans x in [-0.5, 99.5]; the square spans [79.5, 119.5]: half inside.
        uvz, t = self.square(79.5, 10, 119.5, 50)
        self.assertAlmostEqual(annotate.visible_fraction(uvz, t, 100, 100), 0.5, delta=0.01)

    def test_corner_cut_and_outside(self):
        uvz, t = self.square(-20.5, -20.5, 19.5, 19.5)  # a quarter inside
        self.assertAlmostEqual(annotate.visible_fraction(uvz, t, 100, 100), 0.25, delta=0.01)
        uvz, t = self.square(200, 200, 220, 220)
        self.assertEqual(annotate.visible_fraction(uvz, t, 100, 100), 0.0)

    def test_overlapping_triangles_count_once(self):
        # A closed box seen from above has front and back faces on top of each other.
        uvz, t = self.square(79.5, 10, 119.5, 50)
        both = np.concatenate([t, t[:, ::-1]])
        self.assertAlmostEqual(annotate.visible_fraction(uvz, both, 100, 100), 0.5, delta=0.01)

    def test_behind_camera_is_left_out(self):
        uvz, t = self.square(79.5, 10, 119.5, 50)
        uvz[:, 2] = -1
        self.assertEqual(annotate.visible_fraction(uvz, t, 100, 100), 0.0)

    def test_project(self):
        K = camera_math.intrinsics(35.0, 36.0, 64, 64)
        w2c = np.eye(4)
        p = annotate.project(np.array([[0.0, 0.0, 2.0], [0.1, -0.1, 1.0]]), K, w2c)
        self.assertAlmostEqual(p[0, 0], K[0][2])
        self.assertAlmostEqual(p[1, 0], K[0][2] + 0.1 * K[0][0])
        self.assertAlmostEqual(p[1, 1], K[1][2] - 0.1 * K[1][1])
        self.assertAlmostEqual(p[1, 2], 1.0)


class MaskTest(unittest.TestCase):
    def test_mask_bbox(self):
        mask = np.zeros((6, 8), dtype=bool)
        self.assertEqual(annotate.mask_bbox(mask), (None, 0))
        mask[2:4, 3:7] = True
        mask[5, 1] = True
        self.assertEqual(annotate.mask_bbox(mask), ([1, 2, 6, 4], 9))

    def test_convex_hull_drops_inner_and_collinear_points(self):
        pts = np.array([[0, 0], [4, 0], [4, 4], [0, 4], [2, 2], [2, 0], [0, 0]], dtype=float)
        hull = annotate.convex_hull(pts)
        self.assertEqual(
            sorted(map(tuple, hull.tolist())), [(0.0, 0.0), (0.0, 4.0), (4.0, 0.0), (4.0, 4.0)]
        )
        self.assertEqual(len(annotate.convex_hull(np.array([[1.0, 1.0], [2.0, 2.0]]))), 2)

    def test_projected_hull_mask_of_a_square_under_the_camera(self):
        W, H = 40, 30
        K = camera_math.intrinsics(35.0, 36.0, W, H)
        w2c = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
        # A square 1 m in front of the camera; fx = 35 / 36 * 40 px per metre at z = 1.
        s = 0.1
        pts = np.array([[-s, -s, 1.0], [s, -s, 1.0], [s, s, 1.0], [-s, s, 1.0]])
        mask = annotate.projected_hull_mask(pts, K, w2c, W, H)
        self.assertEqual(mask.shape, (H, W))
        bbox, visible = annotate.mask_bbox(mask)
        half = s * K[0][0]
        self.assertEqual(bbox[2], int(np.floor(K[0][2] + half)) - int(np.ceil(K[0][2] - half)) + 1)
        self.assertGreater(visible, 0)
        behind = pts * np.array([1, 1, -1])
        self.assertFalse(annotate.projected_hull_mask(behind, K, w2c, W, H).any())


if __name__ == "__main__":
    unittest.main()


class InstanceTest(unittest.TestCase):
    @staticmethod
    def square(x0, y0, x1, y1):
        """A pixel-space square (two triangles) in front of the camera."""
        uvz = np.array([[x0, y0, 1.0], [x1, y0, 1.0], [x1, y1, 1.0], [x0, y1, 1.0]])
        return uvz, np.array([[0, 1, 2], [0, 2, 3]])

    def test_silhouette_covers_pixel_centres_inside(self):
        uvz, tris = self.square(1.5, 2.5, 4.5, 5.5)  # pixels 2..4 x 3..5
        sil = annotate.silhouette_mask(uvz, tris, 8, 8)
        self.assertEqual(annotate.mask_bbox(sil), ([2, 3, 3, 3], 9))

    def test_silhouette_clipped_at_the_image_and_behind_camera(self):
        uvz, tris = self.square(-10.5, -10.5, 1.5, 1.5)
        self.assertEqual(int(annotate.silhouette_mask(uvz, tris, 4, 4).sum()), 4)
        uvz[:, 2] = -1.0
        self.assertFalse(annotate.silhouette_mask(uvz, tris, 4, 4).any())

    def test_instance_stats_with_an_occluder(self):
        ids = np.zeros((6, 6), dtype=np.int64)
        ids[1:5, 1:5] = 1
        ids[1:3, 1:5] = 2  # instance 2 covers the top half of 1
        sil = np.zeros((6, 6), dtype=bool)
        sil[1:5, 1:5] = True
        bbox, visible, frac, occ = annotate.instance_stats(ids, 1, sil, 1.0)
        self.assertEqual((bbox, visible, occ), ([1, 3, 4, 2], 8, [2]))
        self.assertAlmostEqual(frac, 0.5)
        bbox, visible, frac, occ = annotate.instance_stats(ids, 3, np.zeros_like(sil), 1.0)
        self.assertEqual((bbox, visible, frac, occ), (None, 0, 0.0, []))
