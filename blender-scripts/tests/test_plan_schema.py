"""The dataclasses the render server reads and the generated protocol schema agree, both ways.

A field added to the zod schema only (and regenerated) fails here until Python reads it or lists
it in plan.NOT_READ; a dataclass field the schema lacks fails here too.
"""
import dataclasses
import typing
import unittest

from synthline_bpy.core import plan, protocol
from synthline_bpy.core.devices import UseDevice


def schema_leaves(schema, prefix=""):
    schema = protocol._VALIDATOR.resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        out = set()
        for b in branches:
            out |= schema_leaves(b, prefix)
        return out
    if schema.get("type") == "null":
        return set()
    if schema.get("type") == "object":
        out = set()
        for key, sub in schema.get("properties", {}).items():
            out |= schema_leaves(sub, f"{prefix}.{key}" if prefix else key)
        return out
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict):
        inner = protocol._VALIDATOR.resolve(items)
        if inner.get("type") == "object" or "anyOf" in inner or "oneOf" in inner:
            return schema_leaves(inner, prefix)
    return {prefix}


def _dataclass_in(t):
    if dataclasses.is_dataclass(t):
        return t
    for a in typing.get_args(t):
        found = _dataclass_in(a)
        if found:
            return found
    return None


def dataclass_leaves(cls, prefix=""):
    hints = typing.get_type_hints(cls)
    out = set()
    for f in dataclasses.fields(cls):
        path = f.metadata.get("wire", f.name)
        path = f"{prefix}.{path}" if prefix else path
        inner = _dataclass_in(hints[f.name])
        out |= dataclass_leaves(inner, path) if inner else {path}
    return out


def under(leaves, roots):
    return {x for x in leaves if any(x == r or x.startswith(r + ".") for r in roots)}


class PlanSchemaTest(unittest.TestCase):
    def assert_match(self, cls, name, not_read=()):
        wire = schema_leaves(protocol.schema(name))
        read = dataclass_leaves(cls)
        self.assertEqual(
            sorted(read - wire),
            [],
            f"{cls.__name__} reads fields the {name} schema does not have: change "
            "the zod schema in packages/spec and run npm run gen:protocol",
        )
        self.assertEqual(
            sorted(wire - read - under(wire, not_read)),
            [],
            f"the {name} schema has fields {cls.__name__} does not read: read them, "
            "or list them in plan.NOT_READ with the reason",
        )
        for r in not_read:
            self.assertTrue(under(wire, [r]), f"NOT_READ names {r}, which the schema lacks")
            self.assertFalse(under(read, [r]), f"NOT_READ names {r}, which Python reads")

    def test_frame_plan(self):
        self.assert_match(plan.FramePlan, "FramePlan", plan.NOT_READ)

    def test_product_source(self):
        self.assert_match(plan.Source, "ProductSource")

    def test_use_device(self):
        self.assert_match(UseDevice, "UseDeviceRequest", ["op"])

    def test_leaves(self):
        wire = schema_leaves(protocol.schema("FramePlan"))
        self.assertIn("lights.spot_angle_deg", wire)
        self.assertIn("background.tint_srgb", wire)
        self.assertIn("product.source.color_slots", wire)
        self.assertIn("product.color_name".replace("_", "."), wire)
        self.assertIn("product.color.name", dataclass_leaves(plan.FramePlan))
        self.assertIn("debug.allocate_mb", dataclass_leaves(plan.FramePlan))


if __name__ == "__main__":
    unittest.main()
