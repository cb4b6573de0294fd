"""Checking JSON against the published Agent Platform schema, the way Google's front end does.

Requests are read as proto3 JSON is read: field names in lowerCamelCase or in the proto's
snake_case, 64-bit integers as numbers or strings, enums as names or numbers, ``null`` meaning
"not set". Anything else is a violation, worded as Google words it
(``Invalid JSON payload received. Unknown name "x" at 'tuning_job': Cannot find field.``;
``Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.epoch_count' (TYPE_INT64), "abc"``).
The request comes back normalised (camelCase names, enum names), so route handlers see one form.

Responses are checked strictly, as the Sandbox must write them: camelCase names only, 64-bit
integers as strings, enum names, no ``null``. Schemas come from :mod:`gemtune_desktop.sandbox.contract`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]
Resolver = Callable[[str], Schema]
EnumInfo = Callable[[str, str], tuple[str, Mapping[str, int]] | None]  # (schema, property) → (proto type, numbers)

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1), "int64": (-(2**63), 2**63 - 1),
               "uint64": (0, 2**64 - 1)}
_TYPE_NAMES = {"int32": "TYPE_INT32", "uint32": "TYPE_UINT32", "int64": "TYPE_INT64", "uint64": "TYPE_UINT64",
               "double": "TYPE_DOUBLE", "float": "TYPE_FLOAT", "boolean": "TYPE_BOOL", "string": "TYPE_STRING",
               "byte": "TYPE_BYTES", "google-datetime": "type.googleapis.com/google.protobuf.Timestamp",
               "google-duration": "type.googleapis.com/google.protobuf.Duration",
               "google-fieldmask": "type.googleapis.com/google.protobuf.FieldMask"}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
_INTEGER = re.compile(r"^-?\d+$")


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem: the field path (snake_case, as Google's ``fieldViolations`` name it) and the words."""

    field: str
    description: str


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return "[...]"
    return str(value)


class _Walker:
    """One pass over a body: collects violations, returns the normalised value."""

    def __init__(self, resolve: Resolver, enum_info: EnumInfo, strict: bool) -> None:
        self.resolve = resolve
        self.enum_info = enum_info
        self.strict = strict  # response mode
        self.violations: list[Violation] = []

    def bad(self, path: str, kind: str, value: Any) -> None:
        self.violations.append(Violation(path, f"Invalid value at '{path}' ({kind}), {_shown(value)}"))

    def message(self, schema_name: str, value: Any, path: str) -> Any:
        schema = self.resolve(schema_name)
        if not isinstance(value, dict):
            self.bad(path, "TYPE_MESSAGE", value)
            return value
        props: Mapping[str, Any] = schema.get("properties") or {}
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if key in props else (camel(key) if not self.strict and camel(key) in props else None)
            if name is None:
                at = f" at '{path}'" if path else ""
                self.violations.append(Violation(path, f'Invalid JSON payload received. Unknown name "{key}"{at}: '
                                                       "Cannot find field."))
                continue
            if item is None:
                if self.strict:
                    self.violations.append(Violation(_join(path, snake(name)),
                                                     f"null at '{_join(path, snake(name))}' (responses omit unset "
                                                     "fields)"))
                continue
            out[name] = self.value(props[name], item, _join(path, snake(name)), (schema_name, name))
        return out

    def value(self, spec: Schema, item: Any, path: str, owner: tuple[str, str]) -> Any:
        if "$ref" in spec:
            return self.message(str(spec["$ref"]), item, path)
        kind = spec.get("type")
        if kind == "array":
            if not isinstance(item, list):
                self.bad(path, "TYPE_LIST", item)
                return item
            return [self.value(spec.get("items") or {}, v, f"{path}[{i}]", owner) for i, v in enumerate(item)]
        if kind == "object":
            extra = spec.get("additionalProperties")
            if not isinstance(item, dict):
                self.bad(path, "TYPE_MESSAGE", item)
                return item
            if extra is None:
                return item
            return {k: self.value(extra, v, f"{path}[{k}]", owner) for k, v in item.items() if v is not None}
        if kind == "any" or kind is None:
            return item
        if "enum" in spec:
            return self.enum(spec, item, path, owner)
        return self.scalar(str(kind), str(spec.get("format") or ""), item, path)

    def enum(self, spec: Schema, item: Any, path: str, owner: tuple[str, str]) -> Any:
        names = list(spec.get("enum") or [])
        info = self.enum_info(*owner)
        type_name = f"type.googleapis.com/{info[0]}" if info else "TYPE_ENUM"
        if isinstance(item, str) and item in names:
            return item
        if not self.strict and isinstance(item, int) and not isinstance(item, bool) and info:
            for name, number in info[1].items():
                if number == item:
                    return name
        self.bad(path, type_name, item)
        return item

    def scalar(self, kind: str, fmt: str, item: Any, path: str) -> Any:
        label = _TYPE_NAMES.get(fmt or kind, f"TYPE_{kind.upper()}")
        if kind == "boolean":
            if not isinstance(item, bool):
                self.bad(path, label, item)
            return item
        if kind == "integer" or fmt in _INT_RANGES:
            return self.integer(fmt or "int32", label, item, path)
        if kind == "number":
            ok = isinstance(item, int | float) and not isinstance(item, bool)
            if not ok and not self.strict and isinstance(item, str):
                try:
                    float(item)
                    ok = True
                except ValueError:
                    ok = False
            if isinstance(item, str) and item in ("NaN", "Infinity", "-Infinity"):
                ok = True
            if isinstance(item, float) and not math.isfinite(item):
                ok = False  # JSON cannot carry them as numbers
            if not ok:
                self.bad(path, label, item)
            return item
        if not isinstance(item, str):
            self.bad(path, label, item)
            return item
        if (fmt == "google-datetime" and not _RFC3339.match(item)) or \
                (fmt == "google-duration" and not _DURATION.match(item)):
            self.bad(path, label, item)
        elif fmt == "byte":
            try:
                base64.b64decode(item.replace("-", "+").replace("_", "/") + "=" * (-len(item) % 4), validate=True)
            except (binascii.Error, ValueError):
                self.bad(path, label, item)
        return item

    def integer(self, fmt: str, label: str, item: Any, path: str) -> Any:
        wide = fmt in ("int64", "uint64")
        if isinstance(item, bool):
            self.bad(path, label, item)
            return item
        if self.strict:
            ok = (isinstance(item, str) and bool(_INTEGER.match(item))) if wide else isinstance(item, int)
        else:
            ok = isinstance(item, int) or (isinstance(item, float) and item.is_integer()) or \
                (isinstance(item, str) and bool(_INTEGER.match(item.strip())))
        if not ok:
            self.bad(path, label, item)
            return item
        low, high = _INT_RANGES.get(fmt, _INT_RANGES["int32"])
        if not low <= int(item) <= high:
            self.bad(path, label, item)
        return item


def check_request(schema_name: str, body: Any, root: str, resolve: Resolver,
                  enum_info: EnumInfo) -> tuple[Any, list[Violation]]:
    """Normalise a request body; the violations Google would answer 400 for (empty when it is valid)."""
    walker = _Walker(resolve, enum_info, strict=False)
    normalised = walker.message(schema_name, body, root)
    return normalised, walker.violations


def check_response(schema_name: str, body: Any, resolve: Resolver, enum_info: EnumInfo) -> list[Violation]:
    """Every way a response body departs from the schema (empty when it follows it)."""
    walker = _Walker(resolve, enum_info, strict=True)
    walker.message(schema_name, body, "")
    return walker.violations


def enums_to_numbers(schema_name: str, body: Any, resolve: Resolver, enum_info: EnumInfo) -> Any:
    """A response body with enum names replaced by their numbers (``$alt=json;enum-encoding=int``).

    Enums whose numbers are not known (not in the googleapis snapshot) keep their names.
    """

    def walk(spec: Schema, value: Any, owner: tuple[str, str]) -> Any:
        if "$ref" in spec:
            return message(str(spec["$ref"]), value)
        kind = spec.get("type")
        if kind == "array" and isinstance(value, list):
            return [walk(spec.get("items") or {}, v, owner) for v in value]
        if kind == "object" and isinstance(value, dict) and spec.get("additionalProperties") is not None:
            return {k: walk(spec["additionalProperties"], v, owner) for k, v in value.items()}
        if "enum" in spec and isinstance(value, str):
            info = enum_info(*owner)
            if info and value in info[1]:
                return info[1][value]
        return value

    def message(name: str, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        props = resolve(name).get("properties") or {}
        return {k: walk(props[k], v, (name, k)) if k in props else v for k, v in value.items()}

    return message(schema_name, body)
