import copy
import json
import os
import unittest

from synthline_bpy.core.plan import PlanError, check_known, parse_plan

# A plan as the driver sends it; packages/spec/src/protocol.test.ts checks it against zod too.
with open(os.path.join(os.path.dirname(__file__), "fixtures", "plan.json"), encoding="utf-8") as f:
    EXAMPLE = json.load(f)


class PlanTest(unittest.TestCase):
    def test_example_parses(self):
        p = parse_plan(copy.deepcopy(EXAMPLE))
        self.assertEqual(p.index, 17)
        self.assertEqual(p.product.side_up, "back")
        self.assertEqual(p.product.color_name, "Blue")
        self.assertEqual(p.product.color_srgb, (0.02, 0.24, 0.38))
        self.assertIsNone(p.product.source)
        self.assertEqual(p.render.resolution, (256, 256))
        self.assertEqual(p.lights[0].type, "area")
        self.assertEqual(p.lights[0].color_temperature_k, 5200.0)
        self.assertIsNone(p.outputs.mask)
        self.assertIsNone(p.outputs.depth)
        self.assertFalse(p.crash)
        self.assertEqual(p.allocate_mb, 0)
        check_known(p, ["iphone-13"], ["studio"])

    def test_numbers_get_their_schema_types(self):
        # `0` and `0.0` are the same JSON number: Python sees floats for numbers, ints for integers.
        p = parse_plan(copy.deepcopy(EXAMPLE))
        self.assertEqual([type(v) for v in p.camera.look_at_m], [float, float, float])
        self.assertIs(type(p.lights[0].color_temperature_k), float)
        d = copy.deepcopy(EXAMPLE)
        d["render"]["resolution"] = [256.0, 128]
        self.assertEqual([type(v) for v in parse_plan(d).render.resolution], [int, int])

    def test_json_round_trip(self):
        parse_plan(json.loads(json.dumps(EXAMPLE)))

    def expect_error(self, mutate, path_fragment):
        d = copy.deepcopy(EXAMPLE)
        mutate(d)
        with self.assertRaises(PlanError) as cm:
            parse_plan(d)
        self.assertIn(path_fragment, str(cm.exception))
        return str(cm.exception)

    def test_errors_name_the_field(self):
        self.expect_error(lambda d: d.pop("camera"), "camera")
        self.assertEqual(
            self.expect_error(lambda d: d["camera"].pop("distance_m"), "camera.distance_m"),
            "camera.distance_m: missing",
        )
        self.expect_error(lambda d: d["product"].update(side_up="up"), "product.side_up")
        self.assertEqual(
            self.expect_error(
                lambda d: d["product"]["color"].update(srgb=[1, 2, 0]), "product.color.srgb[1]"
            ),
            "product.color.srgb[1]: 2 outside [0, 1]",
        )
        self.expect_error(lambda d: d["render"].update(samples="16"), "render.samples")
        self.expect_error(lambda d: d["render"].update(resolution=[0, 5]), "render.resolution")
        self.expect_error(lambda d: d["render"].update(engine="luxcore"), "render.engine")
        self.expect_error(lambda d: d["render"].update(denoise=1), "render.denoise")
        self.expect_error(lambda d: d["outputs"].update(image="rel/x.png"), "outputs.image")
        self.expect_error(lambda d: d["outputs"].update(image="/abs/x.jpg"), "outputs.image")
        self.expect_error(lambda d: d["outputs"].update(mask="x.png"), "outputs.mask")
        self.expect_error(lambda d: d["lights"][0].update(type="laser"), "lights[0].type")
        self.assertIn(
            "at most 4",
            self.expect_error(lambda d: d.update(lights=[EXAMPLE["lights"][0]] * 5), "lights"),
        )
        self.expect_error(lambda d: d["world"].update(hdri="../../etc/passwd"), "world.hdri")
        self.expect_error(lambda d: d["camera"].update(roll_deg=float("nan")), "camera.roll_deg")
        self.expect_error(lambda d: d["camera"].update(look_at_m=[0, 0]), "camera.look_at_m")
        self.expect_error(lambda d: d["camera"].update(distance_m=0), "camera.distance_m")
        self.expect_error(lambda d: d.update(index=True), "index")
        self.expect_error(
            lambda d: d["camera"].update(shift_x=0.1), "camera.shift_x: unknown field"
        )
        with self.assertRaisesRegex(PlanError, "^plan: expected an object"):
            parse_plan([])

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
        d = copy.deepcopy(EXAMPLE)
        d["world"]["hdri"] = "moon"
        with self.assertRaisesRegex(PlanError, "world.hdri: expected one of city, .* got 'moon'"):
            parse_plan(d)

    def test_debug_hooks(self):
        d = copy.deepcopy(EXAMPLE)
        d["debug"] = {"crash": True}
        self.assertTrue(parse_plan(d).crash)
        d["debug"] = {"crash": False, "allocate_mb": 64}
        self.assertEqual(parse_plan(d).allocate_mb, 64)
        for bad in (-1, 1.5, 2_000_000):
            d["debug"] = {"crash": False, "allocate_mb": bad}
            with self.assertRaisesRegex(PlanError, "debug.allocate_mb"):
                parse_plan(d)
        del d["debug"]
        with self.assertRaisesRegex(PlanError, "debug: missing"):
            parse_plan(d)


if __name__ == "__main__":
    unittest.main()


class PilePlanTest(unittest.TestCase):
    def _pile_plan(self):
        d = copy.deepcopy(EXAMPLE)
        other = dict(copy.deepcopy(d["product"]), id=2, offset_m=[0.01, -0.02])
        d["others"] = [other]
        d["pile"] = {
            "frames": 96,
            "substeps": 10,
            "solver_iterations": 10,
            "drops": [
                {"id": 1, "height_m": 0.1, "tilt_deg": [5.5, -12.0]},
                {"id": 2, "height_m": 0.3, "tilt_deg": [0, 20]},
            ],
        }
        return d

    def test_without_pile(self):
        self.assertIsNone(parse_plan(copy.deepcopy(EXAMPLE)).pile)

    def test_pile_parses(self):
        p = parse_plan(self._pile_plan())
        self.assertIsNotNone(p.pile)
        self.assertEqual((p.pile.frames, p.pile.substeps, p.pile.solver_iterations), (96, 10, 10))
        self.assertEqual([x.id for x in p.pile.drops], [1, 2])
        self.assertEqual(p.pile.drops[0].tilt_deg, (5.5, -12.0))
        self.assertEqual(p.pile.drops[1].height_m, 0.3)

    def test_a_drop_per_instance(self):
        d = self._pile_plan()
        d["pile"]["drops"] = d["pile"]["drops"][:1]
        with self.assertRaises(PlanError) as e:
            parse_plan(d)
        self.assertEqual(e.exception.path, "pile.drops")
        d = self._pile_plan()
        d["pile"]["drops"][1]["tilt_deg"] = [0, 95]
        with self.assertRaises(PlanError):
            parse_plan(d)
