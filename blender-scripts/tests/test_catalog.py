import itertools
import json
import unittest

from synthline_bpy.core import colour
from synthline_bpy.core import catalog, geometry

REQUIRED_MODELS = {
    "iphone-8",
    "iphone-x",
    "iphone-xr",
    "iphone-11",
    "iphone-11-pro",
    "iphone-13",
    "iphone-14-pro",
}
# Physically identical fronts (same display, notch and outline); only their colour palettes and
# the visible back tell them apart.
SAME_FRONT = {frozenset({"iphone-xr", "iphone-11"})}


class CatalogTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(catalog.CATALOG_PATH, encoding="utf-8") as f:
            cls.raw = json.load(f)
        cls.layouts = catalog.layouts(cls.raw)

    def test_top_level_shape(self):
        self.assertEqual(set(self.raw), {"version", "models"})
        self.assertEqual(self.raw["version"], 1)

    def test_valid(self):
        self.assertEqual(catalog.validate(self.raw), [])

    def test_models_present_and_fields(self):
        ids = [m["id"] for m in self.raw["models"]]
        self.assertGreaterEqual(len(ids), 7)
        self.assertEqual(len(ids), len(set(ids)))
        self.assertTrue(REQUIRED_MODELS <= set(ids))
        for m in self.raw["models"]:
            self.assertRegex(m["id"], r"^[a-z0-9]+(-[a-z0-9]+)*$")
            self.assertIsInstance(m["name"], str)
            self.assertIsInstance(m["year"], int)
            for k in ("width_mm", "height_mm", "thickness_mm", "corner_radius_mm"):
                self.assertIsInstance(m["body"][k], (int, float), (m["id"], k))
            self.assertGreaterEqual(len(m["colors"]), 2)
            for c in m["colors"]:
                self.assertTrue(colour.is_hex(c["srgb"]), c)
                self.assertIsInstance(c["name"], str)

    def test_real_dimensions(self):
        m = catalog.models_by_id(self.raw)
        self.assertEqual(m["iphone-13"]["body"]["width_mm"], 71.5)
        self.assertEqual(m["iphone-13"]["body"]["height_mm"], 146.7)
        self.assertEqual(m["iphone-8"]["body"]["height_mm"], 138.4)
        self.assertEqual(m["iphone-14-pro"]["body"]["thickness_mm"], 7.85)

    def test_marketed_colour_names(self):
        m = catalog.models_by_id(self.raw)

        def names(mid):
            return {c["name"] for c in m[mid]["colors"]}

        self.assertIn("Midnight Green", names("iphone-11-pro"))
        self.assertIn("Deep Purple", names("iphone-14-pro"))
        self.assertIn("(PRODUCT)RED", names("iphone-13"))
        self.assertIn("Space Gray", names("iphone-x"))
        self.assertEqual(
            colour.hex_to_srgb(
                [c for c in m["iphone-13"]["colors"] if c["name"] == "Blue"][0]["srgb"]
            ),
            colour.hex_to_srgb("#215E7C"),
        )

    def test_lens_layouts(self):
        arr = {k: geometry.lens_arrangement(v) for k, v in self.layouts.items()}
        self.assertEqual(arr["iphone-8"], "single")
        self.assertEqual(arr["iphone-xr"], "single")
        self.assertEqual(arr["iphone-x"], "vertical")
        self.assertEqual(arr["iphone-11"], "vertical")
        self.assertEqual(arr["iphone-13"], "diagonal")
        self.assertEqual(arr["iphone-11-pro"], "triangle")
        self.assertEqual(arr["iphone-14-pro"], "triangle")
        self.assertEqual(self.layouts["iphone-x"].module_shape, "pill")
        self.assertIsNotNone(self.layouts["iphone-14-pro"].lidar)

    def test_back_signatures_distinct(self):
        sigs = {k: geometry.back_signature(v) for k, v in self.layouts.items()}
        for a, b in itertools.combinations(sigs, 2):
            self.assertNotEqual(sigs[a], sigs[b], f"{a} and {b} look the same from the back")

    def test_front_signatures_distinct(self):
        sigs = {k: geometry.front_signature(v) for k, v in self.layouts.items()}
        for a, b in itertools.combinations(sigs, 2):
            if frozenset({a, b}) in SAME_FRONT:
                continue
            self.assertNotEqual(sigs[a], sigs[b], f"{a} and {b} look the same from the front")

    def test_front_styles(self):
        L = self.layouts
        self.assertIsNotNone(L["iphone-8"].home_button)
        self.assertIsNotNone(L["iphone-14-pro"].island)
        for mid in ("iphone-x", "iphone-xr", "iphone-11", "iphone-11-pro", "iphone-13"):
            self.assertIsNotNone(L[mid].notch, mid)
        self.assertEqual(L["iphone-13"].edge_style, "flat")
        self.assertEqual(L["iphone-11"].edge_style, "rounded")

    def test_validate_reports_problems(self):
        bad = json.loads(json.dumps(self.raw))
        bad["models"][1]["id"] = bad["models"][0]["id"]
        bad["models"][0]["colors"] = bad["models"][0]["colors"][:1]
        bad["models"][2]["colors"][0]["srgb"] = "#12"
        del bad["models"][3]["camera"]
        problems = catalog.validate(bad)
        self.assertTrue(any("duplicate id" in p for p in problems), problems)
        self.assertTrue(any("fewer than 2" in p for p in problems), problems)
        self.assertTrue(any("bad srgb" in p for p in problems), problems)
        self.assertTrue(any("missing camera" in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
