import unittest

from synthline_bpy.core import colour
from synthline_bpy.core import catalog, geometry, phone_materials


class PhoneMaterialsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.models = catalog.models_by_id(catalog.load())

    def test_every_role_has_a_look(self):
        layout = geometry.layout_from_entry(self.models["iphone-13"])
        for role in geometry.ROLES:
            base, metallic, rough, spec = phone_materials.look(role, layout)
            self.assertEqual(len(base), 3)
            for v in (metallic, rough, spec):
                self.assertTrue(0.0 <= v <= 1.0, (role, v))

    def test_edge_metal_follows_the_layout(self):
        looks = {}
        for m in self.models.values():
            layout = geometry.layout_from_entry(m)
            looks[layout.edge_material] = phone_materials.look("frame", layout)
        self.assertEqual(looks["stainless"][1:3], (1.0, 0.14))
        self.assertEqual(looks["aluminum"][1:3], (1.0, 0.32))
        self.assertEqual(phone_materials.look("lens_ring", layout)[2], 0.2)

    def test_part_colours_keep_the_catalog_frame_relation(self):
        entry = next(m for m in self.models.values() if any("frame_srgb" in c for c in m["colors"]))
        c = next(c for c in entry["colors"] if "frame_srgb" in c)
        body = colour.hex_to_srgb(c["srgb"])
        frame = colour.hex_to_srgb(c["frame_srgb"])
        got = phone_materials.part_colours(entry, c["name"], body)
        self.assertEqual(got["body"], tuple(body))
        for a, b in zip(got["frame"], frame):
            self.assertAlmostEqual(a, min(1.0, max(0.0, b)))
        jittered = tuple(min(1.0, v + 0.01) for v in body)
        got = phone_materials.part_colours(entry, c["name"], jittered)
        for a, b, j, cb in zip(got["frame"], frame, jittered, body):
            self.assertAlmostEqual(a, min(1.0, max(0.0, b + (j - cb))))

    def test_unknown_colour_scales_the_body_and_front_is_black(self):
        entry = self.models["iphone-13"]
        got = phone_materials.part_colours(entry, "No Such Colour", (0.5, 0.4, 0.2))
        self.assertEqual(got["frame"], colour.scale((0.5, 0.4, 0.2), 0.85))
        self.assertEqual(got["front"], phone_materials.FRONT_SRGB["black"])

    def test_colour_sources_are_roles(self):
        self.assertLessEqual(set(phone_materials.COLOUR_SOURCE), set(geometry.ROLES))
        self.assertLessEqual(set(phone_materials.FIXED), set(geometry.ROLES))
        self.assertFalse(set(phone_materials.FIXED) & set(phone_materials.COLOUR_SOURCE))


if __name__ == "__main__":
    unittest.main()
