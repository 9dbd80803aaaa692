import copy
import json
import unittest

from synthline_bpy.plan import PlanError, check_known, parse_plan

EXAMPLE = {
    "index": 17, "key": "00000017",
    "product": {"asset": "builtin:iphone-13", "model": "iphone-13",
                "color": {"name": "Blue", "srgb": [0.02, 0.24, 0.38]},
                "side_up": "back", "yaw_deg": 123.4, "offset_m": [0.01, -0.02]},
    "camera": {"distance_m": 0.38, "elevation_deg": 72.0, "azimuth_deg": 40.0, "roll_deg": 4.0,
               "focal_length_mm": 35.0, "sensor_width_mm": 36.0,
               "look_at_m": [0.005, -0.003, 0.0]},
    "lights": [{"type": "area", "energy_w": 40.0, "color_temperature_k": 5200,
                "rgb": [1.0, 0.93, 0.87], "distance_m": 0.8, "elevation_deg": 60.0,
                "azimuth_deg": 200.0, "size_m": 0.3, "spot_angle_deg": 45.0}],
    "world": {"hdri": "studio", "strength": 0.8, "rotation_deg": 120.0},
    "background": {"kind": "belt", "belt_srgb": [0.03, 0.03, 0.035], "texture_scale": 1.0,
                   "texture_offset": [0.3, 0.7], "roughness": 0.7},
    "render": {"engine": "cycles", "samples": 16, "resolution": [256, 256], "seed": 912837,
               "denoise": False},
    "outputs": {"image": "/abs/dir/00000017.png", "mask": None},
    "debug": {"crash": False},
}


class PlanTest(unittest.TestCase):
    def test_example_parses(self):
        p = parse_plan(copy.deepcopy(EXAMPLE))
        self.assertEqual(p.index, 17)
        self.assertEqual(p.product.side_up, "back")
        self.assertEqual(p.render.resolution, (256, 256))
        self.assertEqual(p.lights[0].type, "area")
        self.assertIsNone(p.outputs.mask)
        self.assertFalse(p.crash)
        check_known(p, ["iphone-13"], ["studio"])

    def test_json_round_trip(self):
        parse_plan(json.loads(json.dumps(EXAMPLE)))

    def expect_error(self, mutate, path_fragment):
        d = copy.deepcopy(EXAMPLE)
        mutate(d)
        with self.assertRaises(PlanError) as cm:
            parse_plan(d)
        self.assertIn(path_fragment, str(cm.exception))

    def test_errors_name_the_field(self):
        self.expect_error(lambda d: d.pop("camera"), "camera")
        self.expect_error(lambda d: d["camera"].pop("distance_m"), "camera.distance_m")
        self.expect_error(lambda d: d["product"].update(side_up="up"), "product.side_up")
        self.expect_error(lambda d: d["product"]["color"].update(srgb=[1, 2, 0]),
                          "product.color.srgb[1]")
        self.expect_error(lambda d: d["render"].update(samples="16"), "render.samples")
        self.expect_error(lambda d: d["render"].update(resolution=[0, 5]), "render.resolution")
        self.expect_error(lambda d: d["render"].update(engine="luxcore"), "render.engine")
        self.expect_error(lambda d: d["render"].update(denoise=1), "render.denoise")
        self.expect_error(lambda d: d["outputs"].update(image="rel/x.png"), "outputs.image")
        self.expect_error(lambda d: d["outputs"].update(mask="x.png"), "outputs.mask")
        self.expect_error(lambda d: d["lights"][0].update(type="laser"), "lights[0].type")
        self.expect_error(lambda d: d.update(lights=[EXAMPLE["lights"][0]] * 5), "lights")
        self.expect_error(lambda d: d["world"].update(hdri="../../etc/passwd"), "world.hdri")
        self.expect_error(lambda d: d["camera"].update(roll_deg=float("nan")), "camera.roll_deg")
        self.expect_error(lambda d: d["camera"].update(look_at_m=[0, 0]), "camera.look_at_m")
        self.expect_error(lambda d: d.update(index=True), "index")

    def test_unknown_model_and_hdri(self):
        p = parse_plan(copy.deepcopy(EXAMPLE))
        with self.assertRaises(PlanError) as cm:
            check_known(p, ["iphone-8"], ["studio"])
        self.assertIn("product.model", str(cm.exception))
        with self.assertRaises(PlanError) as cm:
            check_known(p, ["iphone-13"], ["city"])
        self.assertIn("world.hdri", str(cm.exception))
        d = copy.deepcopy(EXAMPLE)
        d["product"]["asset"] = "lib:iphone-13"
        with self.assertRaises(PlanError):
            check_known(parse_plan(d), ["iphone-13"], ["studio"])
        d["product"]["asset"] = "builtin:iphone-11"
        with self.assertRaises(PlanError):
            check_known(parse_plan(d), ["iphone-13", "iphone-11"], ["studio"])

    def test_optional_fields(self):
        d = copy.deepcopy(EXAMPLE)
        del d["debug"]
        d["lights"] = [{"type": "point", "energy_w": 10, "rgb": [1, 1, 1], "distance_m": 1,
                        "elevation_deg": 45, "azimuth_deg": 0}]
        p = parse_plan(d)
        self.assertEqual(p.lights[0].size_m, 0.0)
        d["debug"] = {"crash": True}
        self.assertTrue(parse_plan(d).crash)
        d["debug"] = {"crash": False, "allocate_mb": 64}
        self.assertEqual(parse_plan(d).allocate_mb, 64)
        d["debug"] = {"crash": False, "allocate_mb": -1}
        with self.assertRaises(PlanError):
            parse_plan(d)


if __name__ == "__main__":
    unittest.main()
