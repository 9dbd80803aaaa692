"""The render protocol's contract on the Python side, with no bpy.

protocol.schema.json is generated from the zod schemas in packages/spec/src/protocol.ts (`npm run
gen:protocol`; a TypeScript test fails while it is stale): every message under `$defs`, the
constants both sides share under `constants`. Nothing here restates them: the render server
checks what it reads against that file (jsonschema_lite) and takes its lists from it.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Tuple

from .jsonschema_lite import SchemaError, Validator

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocol.schema.json")

with open(SCHEMA_PATH, encoding="utf-8") as _f:
    DOCUMENT: Dict[str, Any] = json.load(_f)

CONSTANTS: Dict[str, Any] = DOCUMENT["constants"]
LIGHT_TYPES: Tuple[str, ...] = tuple(CONSTANTS["light_types"])
MAX_LIGHTS: int = int(CONSTANTS["max_lights"])
ENGINES: Tuple[str, ...] = tuple(CONSTANTS["engines"])
MODEL_FORMATS: Tuple[str, ...] = tuple(CONSTANTS["model_formats"])
SERVER_ERROR_CODES: Tuple[str, ...] = tuple(CONSTANTS["server_error_codes"])

_VALIDATOR = Validator(DOCUMENT)


def schema(name: str) -> Dict[str, Any]:
    """The JSON Schema of one message (`$defs[name]`)."""
    return DOCUMENT["$defs"][name]


def validate(name: str, value: Any, path: str = "", label: Optional[str] = None) -> Any:
    """Checks `value` against `$defs[name]`; returns it with numbers as float / int.

    Raises SchemaError naming the field below `path`; an error about the value itself is named
    `label` (e.g. "plan") when `path` is empty.
    """
    try:
        return _VALIDATOR.validate_def(name, value, path)
    except SchemaError as e:
        if not e.path and label:
            raise SchemaError(label, e.message) from None
        raise


__all__ = [
    "SchemaError",
    "schema",
    "validate",
    "LIGHT_TYPES",
    "MAX_LIGHTS",
    "ENGINES",
    "MODEL_FORMATS",
    "SERVER_ERROR_CODES",
]
