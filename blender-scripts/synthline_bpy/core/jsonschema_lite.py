"""A JSON Schema validator for the subset protocol.schema.json uses, with no bpy and no pip package.

The Python inside official Blender builds has the standard library only, so the render server
cannot use the `jsonschema` package; the generated schema (packages/spec/src/protocol.ts, zod's
draft 2020-12 output) needs only the keywords in SUPPORTED. A schema using any other keyword is
refused when it is loaded, so a new zod feature fails a test instead of passing unchecked.

`validate` returns the value with every "number" as a float and every "integer" as an int, so
the same plan gives the same Python types whether its JSON wrote `40` or `40.0`. Errors name the
field as the protocol's messages do: `camera.distance_m`, `lights[0].type`.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, List, Optional

SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "anyOf",
        "oneOf",
        "$ref",
    }
)
ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "description", "default", "title", "examples"}
)

_JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


class SchemaError(ValueError):
    """A value does not match its schema; `path` names the field ('' for the value itself)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this validator does not implement."""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_type(value: Any, t: str) -> bool:
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer()
        )
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, (list, tuple))
    if t == "object":
        return isinstance(value, dict)
    raise UnsupportedSchema(f"unknown type {t!r}")


def _num(v: float) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e16 else str(v)


Check = Callable[[Any, str], Any]


class Validator:
    """Validates values against the `$defs` of one schema document.

    Each schema is compiled once into a function (a plan is checked per frame, on the render
    server's critical path): no keyword lookups per value, and child paths are only built when
    they name an error.
    """

    def __init__(self, document: Dict[str, Any]):
        self.document = document
        self.defs: Dict[str, Any] = document.get("$defs", {})
        check_supported(document)
        self._compiled: Dict[int, Check] = {}

    def validate_def(self, name: str, value: Any, path: str = "") -> Any:
        """Checks `value` against `$defs[name]`; returns it with numbers normalised."""
        return self.validate(self.defs[name], value, path)

    def validate(self, schema: Any, value: Any, path: str = "") -> Any:
        return self.compile(schema)(value, path)

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/$defs/"):
                raise UnsupportedSchema(f"$ref {ref!r}: only #/$defs/<name> is supported")
            schema = self.defs[ref[len("#/$defs/") :]]
        return schema

    def compile(self, schema: Any) -> Check:
        schema = self.resolve(schema)
        key = id(schema)
        fn = self._compiled.get(key)
        if fn is None:
            # A placeholder first: a schema that refers to itself compiles to a late lookup.
            self._compiled[key] = lambda v, p: self._compiled[key](v, p)
            fn = self._compiled[key] = self._build(schema)
        return fn

    def _build(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda v, p: v
        if schema is False:

            def never(v: Any, p: str) -> Any:
                raise SchemaError(p, "not allowed")

            return never
        if "anyOf" in schema or "oneOf" in schema:
            return self._union(schema.get("anyOf") or schema["oneOf"])
        checks: List[Check] = []
        types = schema.get("type")
        if types is not None:
            checks.append(self._type(schema, types if isinstance(types, list) else [types]))
        if "const" in schema:
            c = schema["const"]

            def const(v: Any, p: str) -> Any:
                if v != c:
                    raise SchemaError(p, f"expected {c!r}, got {v!r}")
                return v

            checks.append(const)
        if "enum" in schema:
            options = schema["enum"]
            listed = ", ".join(map(str, options))

            def enum(v: Any, p: str) -> Any:
                if v not in options:
                    raise SchemaError(p, f"expected one of {listed}, got {v!r}")
                return v

            checks.append(enum)
        kinds = {t for t in (types if isinstance(types, list) else [types])} if types else set()
        if not kinds or kinds & {"number", "integer"}:
            checks.append(self._range(schema))
        if not kinds or "string" in kinds:
            checks.append(self._string(schema))
        if not kinds or "array" in kinds:
            checks.append(self._array(schema))
        if not kinds or "object" in kinds:
            checks.append(self._object(schema))
        checks = [c for c in checks if c is not _PASS]
        if len(checks) == 1:
            return checks[0]

        def all_of(v: Any, p: str) -> Any:
            for c in checks:
                v = c(v, p)
            return v

        return all_of

    def _type(self, schema: Dict[str, Any], types: List[str]) -> Check:
        def check(value: Any, path: str) -> Any:
            for t in types:
                if _is_type(value, t):
                    if t == "number":
                        if not math.isfinite(value):
                            # JSON has no NaN or Infinity, but Python's json module reads them.
                            raise SchemaError(path, f"expected a finite number, got {value!r}")
                        return float(value)
                    if t == "integer":
                        return int(value)
                    return value
            raise SchemaError(path, self._type_message(schema, types, value))

        return check

    def _type_message(self, schema: Dict[str, Any], types: List[str], value: Any) -> str:
        if types == ["object"]:
            return "expected an object"
        if types == ["number"]:
            return f"expected a finite number, got {value!r}"
        if types == ["string"] and schema.get("minLength") == 1:
            return f"expected a non-empty string, got {value!r}"
        if types == ["array"] and "prefixItems" in schema:
            return f"{self._tuple(schema)}, got {value!r}"
        names = {
            "integer": "an integer",
            "number": "a finite number",
            "string": "a string",
            "boolean": "a boolean",
            "array": "an array",
            "object": "an object",
            "null": "null",
        }
        return f"expected {' or '.join(names[t] for t in types)}, got {value!r}"

    def _tuple(self, schema: Dict[str, Any]) -> str:
        n = len(schema["prefixItems"])
        what = (
            "numbers"
            if all(
                self.resolve(s).get("type") in ("number", "integer") for s in schema["prefixItems"]
            )
            else "items"
        )
        return f"expected an array of {n} {what}"

    def _range(self, schema: Dict[str, Any]) -> Check:
        lo, hi = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
        xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if lo == -math.inf and hi == math.inf and xlo is None and xhi is None:
            return _PASS

        def check(v: Any, path: str) -> Any:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return v
            if not lo <= v <= hi:
                raise SchemaError(path, f"{_num(v)} outside [{_num(lo)}, {_num(hi)}]")
            if xlo is not None and not v > xlo:
                raise SchemaError(path, f"{_num(v)} is not above {_num(xlo)}")
            if xhi is not None and not v < xhi:
                raise SchemaError(path, f"{_num(v)} is not below {_num(xhi)}")
            return v

        return check

    def _string(self, schema: Dict[str, Any]) -> Check:
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", math.inf)
        # zod writes ECMAScript patterns; the generated ones use only syntax Python reads alike.
        # ECMAScript's `$` ends the string; Python's also matches before a final newline, so a
        # trailing `$` becomes `\Z` (a path "x.png\n" must not pass a pattern ending in "png$").
        src = schema.get("pattern")
        if src is not None and src.endswith("$") and not src.endswith("\\$"):
            src = src[:-1] + r"\Z"
        pattern = re.compile(src) if src is not None else None
        if lo == 0 and hi == math.inf and pattern is None:
            return _PASS

        def check(v: Any, path: str) -> Any:
            if not isinstance(v, str):
                return v
            if len(v) < lo:
                raise SchemaError(
                    path,
                    f"expected a non-empty string, got {v!r}"
                    if lo == 1
                    else f"expected at least {lo} characters, got {v!r}",
                )
            if len(v) > hi:
                raise SchemaError(path, f"expected at most {hi} characters")
            if pattern is not None and not pattern.search(v):
                raise SchemaError(
                    path, f"expected a string matching {schema['pattern']!r}, " f"got {v!r}"
                )
            return v

        return check

    def _array(self, schema: Dict[str, Any]) -> Check:
        if not any(k in schema for k in ("prefixItems", "items", "minItems", "maxItems")):
            return _PASS
        prefix = [self.compile(s) for s in schema.get("prefixItems", [])]
        closed = schema.get("items", True) is False
        items = self.compile(schema.get("items", True))
        lo, hi = schema.get("minItems", 0), schema.get("maxItems", math.inf)
        tuple_message = self._tuple(schema) if prefix else ""

        def check(v: Any, path: str) -> Any:
            if not isinstance(v, (list, tuple)):
                return v
            if prefix and closed and len(v) != len(prefix):
                raise SchemaError(path, f"{tuple_message}, got {len(v)}")
            if len(v) < lo:
                raise SchemaError(path, f"at least {lo} items, got {len(v)}")
            if len(v) > hi:
                raise SchemaError(path, f"at most {hi} items, got {len(v)}")
            n = len(prefix)
            return [(prefix[i] if i < n else items)(x, f"{path}[{i}]") for i, x in enumerate(v)]

        return check

    def _object(self, schema: Dict[str, Any]) -> Check:
        if not any(k in schema for k in ("properties", "required", "additionalProperties")):
            return _PASS
        props = {k: self.compile(s) for k, s in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        closed = schema.get("additionalProperties", True) is False
        extra = self.compile(schema.get("additionalProperties", True))

        def check(v: Any, path: str) -> Any:
            if not isinstance(v, dict):
                return v
            for key in required:
                if key not in v:
                    raise SchemaError(_join(path, key), "missing")
            out = {}
            for key, item in v.items():
                fn = props.get(key)
                if fn is None:
                    if closed:
                        raise SchemaError(_join(path, key), "unknown field")
                    fn = extra
                out[key] = fn(item, f"{path}.{key}" if path else key)
            return out

        return check

    def _union(self, branches: List[Any]) -> Check:
        resolved = [self.resolve(b) for b in branches]
        tag = _discriminator(resolved)
        if tag is not None:
            consts = [b["properties"][tag]["const"] for b in resolved]
            by_tag = {c: self.compile(b) for c, b in zip(consts, resolved)}
            listed = ", ".join(consts)

            def tagged(value: Any, path: str) -> Any:
                if not isinstance(value, dict):
                    raise SchemaError(path, "expected an object")
                if tag not in value:
                    raise SchemaError(_join(path, tag), "missing")
                fn = by_tag.get(value[tag]) if isinstance(value[tag], str) else None
                if fn is None:
                    raise SchemaError(
                        _join(path, tag), f"expected one of {listed}, " f"got {value[tag]!r}"
                    )
                return fn(value, path)

            return tagged
        compiled = [(b, self.compile(b)) for b in resolved]

        def any_of(value: Any, path: str) -> Any:
            # Branches of the value's own JSON type; the first that passes, else the first error.
            fits = [
                fn
                for b, fn in compiled
                if "type" not in b
                or any(
                    _is_type(value, t)
                    for t in (b["type"] if isinstance(b["type"], list) else [b["type"]])
                )
            ]
            if not fits:
                raise SchemaError(
                    path,
                    f"expected {' or '.join(_describe(b) for b in resolved)}, " f"got {value!r}",
                )
            first: Optional[SchemaError] = None
            for fn in fits:
                try:
                    return fn(value, path)
                except SchemaError as e:
                    first = first or e
            assert first is not None
            raise first

        return any_of


def _pass(v: Any, p: str) -> Any:
    return v


_PASS: Check = _pass


def _discriminator(branches: List[Any]) -> Optional[str]:
    """The property every branch pins with a `const` (a zod discriminated union), if any."""
    if not branches or not all(isinstance(b, dict) and b.get("type") == "object" for b in branches):
        return None
    common = None
    for b in branches:
        keys = {
            k
            for k, s in b.get("properties", {}).items()
            if isinstance(s, dict) and "const" in s and k in b.get("required", ())
        }
        common = keys if common is None else common & keys
    return sorted(common)[0] if common else None


def _describe(schema: Any) -> str:
    t = schema.get("type") if isinstance(schema, dict) else None
    return " or ".join(t) if isinstance(t, list) else (t or "a value")


def check_supported(schema: Any, where: str = "#") -> None:
    """Raises UnsupportedSchema naming the first keyword this validator would silently ignore."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise UnsupportedSchema(f"{where}: a schema must be an object or a boolean")
    for key, sub in schema.items():
        if key in ANNOTATIONS and key != "$defs":
            continue
        if key == "$defs":
            for name, s in sub.items():
                check_supported(s, f"{where}/$defs/{name}")
        elif key == "constants" and where == "#":
            continue  # the protocol file's shared constants: data, not a schema
        elif key not in SUPPORTED:
            raise UnsupportedSchema(
                f"{where}: keyword {key!r} is not supported by "
                "jsonschema_lite (extend it, with a test)"
            )
        elif key == "properties":
            for name, s in sub.items():
                check_supported(s, f"{where}/properties/{name}")
        elif key in ("items", "additionalProperties"):
            check_supported(sub, f"{where}/{key}")
        elif key in ("prefixItems", "anyOf", "oneOf"):
            for i, s in enumerate(sub):
                check_supported(s, f"{where}/{key}/{i}")
        elif key == "type":
            for t in sub if isinstance(sub, list) else [sub]:
                if t not in _JSON_TYPES:
                    raise UnsupportedSchema(f"{where}: unknown type {t!r}")
    if "oneOf" in schema:
        # oneOf is read as anyOf: sound only when the branches cannot both match, as in zod's
        # discriminated unions (the only place zod writes oneOf).
        branches = schema["oneOf"]
        if (
            not all(isinstance(b, dict) and "$ref" not in b for b in branches)
            or _discriminator(branches) is None
        ):
            raise UnsupportedSchema(f"{where}: oneOf is supported for discriminated unions only")
