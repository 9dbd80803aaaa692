import unittest

from synthline_bpy.core import product_fit


class FitScaleTest(unittest.TestCase):
    def test_exact_proportions(self):
        s, r = product_fit.fit_scale((2.0, 1.0, 0.5), (0.12, 0.06, 0.03), None)
        self.assertAlmostEqual(s, 0.06)
        self.assertAlmostEqual(r, 0.0)

    def test_longest_declared_side_wins_and_residual_reports_the_rest(self):
        # Declared thickness includes a bump the model lacks: the length decides the scale.
        s, r = product_fit.fit_scale((150.0, 70.0, 8.0), (0.15, 0.07, 0.0096), None)
        self.assertAlmostEqual(s, 0.001)
        self.assertAlmostEqual(r, (0.0096 - 0.008) / 0.0096)

    def test_flat_axis_is_skipped(self):
        s, r = product_fit.fit_scale((0.0, 2.0, 1.0), (0.5, 0.2, 0.1), None)
        self.assertAlmostEqual(s, 0.1)
        self.assertAlmostEqual(r, 1.0)  # the x extent cannot be matched at all

    def test_no_dimensions_uses_scale_or_one(self):
        self.assertEqual(product_fit.fit_scale((1, 2, 3), None, None), (1.0, None))
        self.assertEqual(product_fit.fit_scale((1, 2, 3), None, 0.01), (0.01, None))

    def test_degenerate_model(self):
        with self.assertRaises(ValueError):
            product_fit.fit_scale((0.0, 0.0, 0.0), (0.1, 0.1, 0.1), None)


class NamesAndWarningsTest(unittest.TestCase):
    def test_original_name(self):
        self.assertEqual(product_fit.original_name("Material_0.001", {"Material_0"}), "Material_0")
        self.assertEqual(product_fit.original_name("Paint.002", {"belt"}), "Paint.002")
        self.assertEqual(product_fit.original_name("Body", {"Body"}), "Body")

    def test_warnings(self):
        ok = product_fit.probe_warnings(
            12, (1, 1, 1), ["Material_0"], ["Material_0"], ["Material_0"]
        )
        self.assertEqual(ok, [])
        w = product_fit.probe_warnings(12, (1, 1, 1), ["A"], ["B"], ["A"])
        self.assertTrue(any("not found" in x and "B" in x for x in w))
        self.assertTrue(any("nothing to recolour" in x for x in w))
        w = product_fit.probe_warnings(12, (1, 1, 1), [], [], [])
        self.assertTrue(any("no materials" in x for x in w))
        w = product_fit.probe_warnings(12, (1, 1, 1), ["A"], [], [])
        self.assertTrue(any("nothing to recolour" in x for x in w))
        w = product_fit.probe_warnings(2_000_000, (0.1, 0.1, 0.1), ["A"], [], ["A"])
        self.assertEqual(len(w), 1)
        self.assertIn("polygon", w[0])
        self.assertIn(
            "suspicious scale", product_fit.probe_warnings(1, (0.0005,) * 3, ["A"], [], ["A"])[0]
        )
        self.assertIn(
            "suspicious scale", product_fit.probe_warnings(1, (150, 70, 8), ["A"], [], ["A"])[0]
        )


class RecolouredTest(unittest.TestCase):
    def test_named_slots_and_made_materials(self):
        self.assertEqual(product_fit.recoloured(["Body", "Glass", ""], ("Body",)), [0, 2])

    def test_all_when_none_named_or_none_found(self):
        self.assertEqual(product_fit.recoloured(["Body", "Glass"], ()), [0, 1])
        self.assertEqual(product_fit.recoloured(["Body", "Glass"], ("Paint",)), [0, 1])
        self.assertEqual(product_fit.recoloured([], ("Paint",)), [])


if __name__ == "__main__":
    unittest.main()
