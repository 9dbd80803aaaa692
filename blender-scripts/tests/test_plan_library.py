import copy
import unittest

from synthline_bpy.core.plan import PlanError, check_known, is_library, parse_plan, parse_source
from tests.test_plan import EXAMPLE

SOURCE = {
    "path": "/lib/products/mug/model.glb",
    "format": "glb",
    "dimensions_m": [0.08, 0.08, 0.1],
    "scale": None,
    "color_slots": ["Glaze"],
}


def library_plan():
    d = copy.deepcopy(EXAMPLE)
    d["product"].update({"asset": "library:mug", "model": "mug", "source": copy.deepcopy(SOURCE)})
    return d


class LibraryPlanTest(unittest.TestCase):
    def test_library_product(self):
        p = parse_plan(library_plan())
        self.assertTrue(is_library(p.product))
        self.assertEqual(p.product.source.dimensions_m, (0.08, 0.08, 0.1))
        self.assertEqual(p.product.source.color_slots, ("Glaze",))
        check_known(p, ["iphone-13"], ["studio"])  # no catalog lookup for library products
        self.assertIsNone(parse_plan(copy.deepcopy(EXAMPLE)).product.source)

    def test_source_errors_name_the_field(self):
        d = library_plan()
        del d["product"]["source"]
        with self.assertRaisesRegex(PlanError, "product.source: missing"):
            parse_plan(d)
        d["product"]["source"] = None
        with self.assertRaisesRegex(PlanError, "product.source: expected an object"):
            parse_plan(d)
        for key, value in (
            ("path", "relative/model.glb"),
            ("dimensions_m", [0.1, 0.1]),
            ("dimensions_m", [0.1, 0.0, 0.1]),
            ("color_slots", "Glaze"),
            ("color_slots", [""]),
            ("scale", -1),
            ("scale", 0),
            ("format", "dae"),
        ):
            d = library_plan()
            d["product"]["source"][key] = value
            with self.assertRaisesRegex(PlanError, f"product.source.{key}"):
                parse_plan(d)

    def test_probe_source(self):
        s = parse_source(dict(SOURCE, dimensions_m=None, scale=0.001, color_slots=[]))
        self.assertIsNone(s.dimensions_m)
        self.assertEqual(s.scale, 0.001)
        self.assertEqual(s.color_slots, ())
        with self.assertRaisesRegex(PlanError, r"^source\.path: expected an absolute path"):
            parse_source(dict(SOURCE, path="model.glb"))
        with self.assertRaisesRegex(PlanError, r"^source: expected an object"):
            parse_source(None)
        # The contract's formats only: an unsupported one is a malformed request, refused
        # before Blender imports anything.
        with self.assertRaisesRegex(PlanError, r"^source\.format: expected one of blend, glb"):
            parse_source(dict(SOURCE, format="dae"))

    def test_image_background(self):
        d = copy.deepcopy(EXAMPLE)
        d["background"] = {
            "kind": "image",
            "name": "belt1.jpg",
            "image": "/lib/backgrounds/belt1.jpg",
            "crop": [0.1, 0.2, 0.6, 0.7],
            "rotation_deg": 30,
            "tint_srgb": [1.1, 1.0, 0.9],
            "roughness": 0.6,
        }
        b = parse_plan(d).background
        self.assertEqual(
            (b.kind, b.image, b.crop, b.rotation_deg, b.roughness),
            ("image", "/lib/backgrounds/belt1.jpg", (0.1, 0.2, 0.6, 0.7), 30.0, 0.6),
        )
        self.assertEqual(
            (b.belt_srgb, b.texture_scale, b.texture_offset), ((0.0, 0.0, 0.0), 1.0, (0.0, 0.0))
        )
        d["background"]["crop"] = [0.6, 0.2, 0.1, 0.7]
        with self.assertRaisesRegex(PlanError, "background.crop"):
            parse_plan(d)
        d["background"]["crop"] = [0.1, 0.2, 0.6, 0.7]
        d["background"]["image"] = "belt1.jpg"
        with self.assertRaisesRegex(PlanError, "background.image: expected an absolute path"):
            parse_plan(d)
        d["background"]["kind"] = "carpet"
        with self.assertRaisesRegex(PlanError, "background.kind: expected one of belt, image"):
            parse_plan(d)
        d["background"]["kind"] = "belt"
        with self.assertRaisesRegex(PlanError, "background.belt_srgb: missing"):
            parse_plan(d)

    def test_depth_output(self):
        d = copy.deepcopy(EXAMPLE)
        self.assertIsNone(parse_plan(d).outputs.depth)
        d["outputs"]["depth"] = "/abs/dir/00000017.depth.png"
        self.assertEqual(parse_plan(d).outputs.depth, "/abs/dir/00000017.depth.png")
        d["outputs"]["depth"] = "depth.png"
        with self.assertRaisesRegex(PlanError, "outputs.depth"):
            parse_plan(d)


if __name__ == "__main__":
    unittest.main()
