"""Checking a request body against the Agent Platform API's published schema (the aiplatform discovery documents).

The documents ship inside google-api-python-client (``googleapiclient/discovery_cache/documents/``). A body
is valid when every field it sends exists in the named schema (recursively, through ``$ref``), with a value of
the declared type; enum values must be listed. int64 fields are strings in the schema but JSON numbers are
accepted by the service, so both are allowed here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def discovery(version: str) -> dict[str, Any]:
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / f"aiplatform.{version}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def schema_name(version: str, short: str) -> str:
    return f"GoogleCloudAiplatform{'V1' if version == 'v1' else 'V1beta1'}{short}"


def problems(body: Any, short: str, version: str) -> list[str]:
    """Every field of ``body`` the schema ``short`` (e.g. "TuningJob") of ``version`` does not accept."""
    schemas = discovery(version)["schemas"]
    out: list[str] = []
    _check(body, {"$ref": schema_name(version, short)}, schemas, short, out)
    return out


def _check(value: Any, spec: dict[str, Any], schemas: dict[str, Any], where: str, out: list[str]) -> None:
    if "$ref" in spec:
        spec = schemas[spec["$ref"]]
    kind = spec.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            out.append(f"{where}: expected an object, got {value!r}")
            return
        props = spec.get("properties")
        extra = spec.get("additionalProperties")
        for key, item in value.items():
            if props is not None and key in props:
                _check(item, props[key], schemas, f"{where}.{key}", out)
            elif extra is not None:
                _check(item, extra, schemas, f"{where}.{key}", out)
            else:
                out.append(f"{where}.{key}: no such field")
    elif kind == "array":
        if not isinstance(value, list):
            out.append(f"{where}: expected a list, got {value!r}")
            return
        for i, item in enumerate(value):
            _check(item, spec["items"], schemas, f"{where}[{i}]", out)
    elif kind == "string":
        numeric = spec.get("format") in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool)
        if not isinstance(value, str) and not numeric:
            out.append(f"{where}: expected a string, got {value!r}")
        elif "enum" in spec and value not in spec["enum"]:
            out.append(f"{where}: {value!r} is not one of {spec['enum']}")
    elif kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append(f"{where}: expected a number, got {value!r}")
    elif kind == "boolean" and not isinstance(value, bool):
        out.append(f"{where}: expected true or false, got {value!r}")
