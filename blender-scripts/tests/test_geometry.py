import math
import unittest

from synthline_bpy.core import catalog, geometry
from synthline_bpy.core.geometry import MM, RoundedRect


class RoundedRectTest(unittest.TestCase):
    def test_outline_bounds_and_orientation(self):
        rr = RoundedRect(0.01, -0.02, 0.07, 0.14, 0.01)
        pts = rr.outline(8)
        self.assertEqual(len(pts), 36)
        xs, ys = zip(*pts)
        self.assertAlmostEqual(min(xs), 0.01 - 0.035)
        self.assertAlmostEqual(max(ys), -0.02 + 0.07)
        area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1])) / 2
        self.assertGreater(area, 0)  # counter-clockwise
        exact = 0.07 * 0.14 - (4 - math.pi) * 0.01**2
        self.assertAlmostEqual(area, exact, delta=exact * 0.01)

    def test_inset_keeps_correspondence(self):
        rr = RoundedRect(0, 0, 0.07, 0.14, 0.01)
        self.assertEqual(len(rr.outline(5, 0.002)), len(rr.outline(5)))

    def test_contains(self):
        rr = RoundedRect(0, 0, 0.02, 0.02, 0.005)
        self.assertTrue(rr.contains(0, 0))
        self.assertTrue(rr.contains(0.0099, 0))
        self.assertFalse(rr.contains(0.0099, 0.0099))  # cut corner
        self.assertFalse(rr.contains(0.011, 0))


class LayoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cat = catalog.load()
        cls.layouts = catalog.layouts(cls.cat)

    def test_back_view_mapping(self):
        # Camera modules sit top-left seen from the back = top-right seen from the front (+x, +y).
        for mid, L in self.layouts.items():
            for lens in L.lenses:
                self.assertGreater(lens.glass.cx, 0, mid)
                self.assertGreater(lens.glass.cy, 0, mid)
        L = self.layouts["iphone-13"]
        self.assertAlmostEqual(L.lenses[0].glass.cx, 71.5 / 2 * MM - 10.8 * MM)
        self.assertAlmostEqual(L.lenses[0].glass.cy, 146.7 / 2 * MM - 10.8 * MM)

    def test_parts_inside_outline(self):
        for mid, L in self.layouts.items():
            body = L.outline
            for lens in L.lenses:
                o = lens.outer
                if L.module is not None:
                    for x, y in o.outline(16):
                        self.assertTrue(L.module.contains(x, y), f"{mid} lens leaves module")
                for x, y in o.outline(16):
                    self.assertTrue(body.contains(x, y), mid)
            for a, b in zip(L.lenses, L.lenses[1:]):
                d = math.hypot(a.glass.cx - b.glass.cx, a.glass.cy - b.glass.cy)
                self.assertGreater(d, a.outer.r + b.outer.r, f"{mid}: lenses overlap")
            for c in (L.flash, L.lidar):
                if c is None:
                    continue
                for lens in L.lenses:
                    d = math.hypot(c.cx - lens.glass.cx, c.cy - lens.glass.cy)
                    self.assertGreater(d, c.r + lens.outer.r, f"{mid}: flash/lidar hits a lens")
            self.assertLess(L.display.w, L.width)
            self.assertLess(L.display.h, L.height)
            if L.notch is not None:
                self.assertAlmostEqual(
                    L.notch.cy + L.notch.h / 2 - L.notch.r, L.display.cy + L.display.h / 2
                )
            if L.island is not None:
                self.assertLess(L.island.cy + L.island.h / 2, L.display.cy + L.display.h / 2)
            if L.home_button is not None:
                self.assertLess(L.home_button.cy + L.home_button.r, L.display.cy - L.display.h / 2)

    def test_mesh_parts(self):
        for mid, L in self.layouts.items():
            parts = {p.name: p for p in geometry.build_parts(L)}
            self.assertEqual(set(parts), {"body", "front", "camera", "buttons"})
            lo, hi = parts["body"].bounds()
            self.assertAlmostEqual(hi[0] - lo[0], L.width, places=6)
            self.assertAlmostEqual(hi[1] - lo[1], L.height, places=6)
            self.assertAlmostEqual(hi[2] - lo[2], L.thickness, places=6)
            for i in range(3):
                self.assertAlmostEqual(lo[i] + hi[i], 0.0, places=6)  # origin = bbox centre
            clo, _ = parts["camera"].bounds()
            self.assertAlmostEqual(clo[2], -L.thickness / 2 - L.rear_extent, delta=0.3 * MM)
            _, fhi = parts["front"].bounds()
            self.assertLess(fhi[2] - L.thickness / 2, 0.5 * MM)
            for p in parts.values():
                self.assertEqual(len(p.faces), len(p.roles))
                n = len(p.verts)
                for f in p.faces:
                    self.assertGreaterEqual(len(f), 3)
                    self.assertEqual(len(set(f)), len(f))
                    self.assertTrue(all(0 <= i < n for i in f))
                for r in p.roles:
                    self.assertIn(r, geometry.ROLES)

    def test_outward_normals(self):
        # Newell normal of each side-wall face points away from the z axis.
        L = self.layouts["iphone-11"]
        body = geometry.build_parts(L)[0]
        for f, role in zip(body.faces, body.roles):
            pts = [body.verts[i] for i in f]
            n = [0.0, 0.0, 0.0]
            for (x0, y0, z0), (x1, y1, z1) in zip(pts, pts[1:] + pts[:1]):
                n[0] += (y0 - y1) * (z0 + z1)
                n[1] += (z0 - z1) * (x0 + x1)
                n[2] += (x0 - x1) * (y0 + y1)
            cx = sum(p[0] for p in pts) / len(pts)
            cy = sum(p[1] for p in pts) / len(pts)
            cz = sum(p[2] for p in pts) / len(pts)
            if role == "frame":
                self.assertGreater(n[0] * cx + n[1] * cy + n[2] * cz, 0)
            elif role == "bezel":
                self.assertGreater(n[2], 0)
            elif role == "back":
                self.assertLess(n[2], 0)

    def test_layout_errors(self):
        entry = dict(catalog.models_by_id(self.cat)["iphone-13"])
        entry["front"] = dict(entry["front"], style="hologram")
        with self.assertRaises(geometry.CatalogError):
            geometry.layout_from_entry(entry)


if __name__ == "__main__":
    unittest.main()
