import json
import math
import unittest

from synthline_bpy.core import protocol
from synthline_bpy.core.jsonschema_lite import (
    SchemaError,
    UnsupportedSchema,
    Validator,
    check_supported,
)

DOC = {
    "$defs": {
        "Vec": {
            "type": "array",
            "prefixItems": [{"type": "number"}, {"type": "number"}],
            "items": False,
            "minItems": 2,
            "maxItems": 2,
        },
        "Thing": {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 0, "maximum": 10},
                "x": {"type": "number", "exclusiveMinimum": 0},
                "s": {"type": "string", "minLength": 1, "pattern": "^[a-z]+$"},
                "e": {"type": "string", "enum": ["a", "b"]},
                "v": {"$ref": "#/$defs/Vec"},
                "opt": {"anyOf": [{"$ref": "#/$defs/Vec"}, {"type": "null"}]},
                "nul": {"type": ["string", "null"]},
                "list": {"type": "array", "items": {"type": "boolean"}, "maxItems": 2},
                "u": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "k": {"type": "string", "const": "p"},
                                "p": {"type": "number"},
                            },
                            "required": ["k", "p"],
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "properties": {"k": {"type": "string", "const": "q"}},
                            "required": ["k"],
                            "additionalProperties": False,
                        },
                    ]
                },
            },
            "required": ["n"],
            "additionalProperties": False,
        },
    }
}


class ValidatorTest(unittest.TestCase):
    def setUp(self):
        self.v = Validator(DOC)

    def ok(self, value):
        return self.v.validate_def("Thing", value)

    def err(self, value, text):
        with self.assertRaises(SchemaError) as cm:
            self.ok(value)
        self.assertEqual(str(cm.exception), text)

    def test_valid_values_are_normalised(self):
        out = self.ok(
            {
                "n": 3.0,
                "x": 2,
                "v": [1, 2.5],
                "opt": None,
                "nul": None,
                "u": {"k": "p", "p": 1},
                "list": [True],
            }
        )
        self.assertEqual(
            out,
            {
                "n": 3,
                "x": 2.0,
                "v": [1.0, 2.5],
                "opt": None,
                "nul": None,
                "u": {"k": "p", "p": 1.0},
                "list": [True],
            },
        )
        self.assertIs(type(out["n"]), int)
        self.assertIs(type(out["x"]), float)
        self.assertIs(type(out["v"][0]), float)

    def test_errors_name_the_path(self):
        self.err([], "expected an object")
        self.err({}, "n: missing")
        self.err({"n": 11}, "n: 11 outside [0, 10]")
        self.err({"n": 1.5}, "n: expected an integer, got 1.5")
        self.err({"n": True}, "n: expected an integer, got True")
        self.err({"n": 1, "x": 0}, "x: 0 is not above 0")
        self.err({"n": 1, "x": math.nan}, "x: expected a finite number, got nan")
        self.err({"n": 1, "x": math.inf}, "x: expected a finite number, got inf")
        self.err({"n": 1, "x": "1"}, "x: expected a finite number, got '1'")
        self.err({"n": 1, "s": ""}, "s: expected a non-empty string, got ''")
        self.err({"n": 1, "s": "A"}, "s: expected a string matching '^[a-z]+$', got 'A'")
        self.err({"n": 1, "e": "c"}, "e: expected one of a, b, got 'c'")
        self.err({"n": 1, "v": [1]}, "v: expected an array of 2 numbers, got 1")
        self.err({"n": 1, "v": "1,2"}, "v: expected an array of 2 numbers, got '1,2'")
        self.err({"n": 1, "v": [1, "2"]}, "v[1]: expected a finite number, got '2'")
        self.err({"n": 1, "opt": [1, None]}, "opt[1]: expected a finite number, got None")
        self.err({"n": 1, "opt": 3}, "opt: expected array or null, got 3")
        self.err({"n": 1, "nul": 3}, "nul: expected a string or null, got 3")
        self.err({"n": 1, "list": [True, 1]}, "list[1]: expected a boolean, got 1")
        self.err({"n": 1, "list": [True] * 3}, "list: at most 2 items, got 3")
        self.err({"n": 1, "zz": 1}, "zz: unknown field")
        self.err({"n": 1, "u": {"k": "r"}}, "u.k: expected one of p, q, got 'r'")
        self.err({"n": 1, "u": {"p": 1}}, "u.k: missing")
        self.err({"n": 1, "u": {"k": "p"}}, "u.p: missing")
        self.err({"n": 1, "u": {"k": "q", "p": 1}}, "u.p: unknown field")
        self.err({"n": 1, "u": 1}, "u: expected an object")

    def test_pattern_end_is_the_end_of_the_string(self):
        # Python's `$` also matches before a final newline; ECMAScript's (zod's) does not.
        v = Validator({"$defs": {"P": {"type": "string", "pattern": "\\.png$"}}})
        self.assertEqual(v.validate_def("P", "/tmp/x.png"), "/tmp/x.png")
        with self.assertRaisesRegex(SchemaError, "matching"):
            v.validate_def("P", "/tmp/x.png\n")

    def test_path_prefix(self):
        with self.assertRaisesRegex(SchemaError, r"^source\.n: missing$"):
            self.v.validate_def("Thing", {}, "source")

    def test_unsupported_keywords_are_refused(self):
        for bad in (
            {"type": "object", "patternProperties": {}},
            {"type": "string", "format": "uri"},
            {"allOf": [{"type": "string"}]},
            {"type": "decimal"},
            {"oneOf": [{"type": "string"}, {"type": "number"}]},
            {"$ref": "http://example.com/x.json"},
        ):
            with self.assertRaises(UnsupportedSchema, msg=json.dumps(bad)):
                Validator({"$defs": {"X": bad}}).validate_def("X", "x")

    def test_the_generated_protocol_schema_is_supported(self):
        check_supported(protocol.DOCUMENT)  # also done at import; here so a failure names it
        self.assertIn("FramePlan", protocol.DOCUMENT["$defs"])


if __name__ == "__main__":
    unittest.main()
