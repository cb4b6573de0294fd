"""The published aiplatform v1beta1 schema (the discovery document inside google-api-python-client), for
checking that the Sandbox's requests and answers have the real shapes, and a discovery-based client
that drives the Sandbox independently of google-genai."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PREFIX = "GoogleCloudAiplatformV1beta1"


@cache
def document() -> dict[str, Any]:
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "aiplatform.v1beta1.json"
    return json.loads(path.read_text(encoding="utf-8"))


def schema(name: str) -> dict[str, Any]:
    schemas = document()["schemas"]
    return schemas[name if name in schemas else PREFIX + name]


def unknown_fields(value: Any, name: str, where: str = "", either_spelling: bool = False) -> list[str]:
    """Paths of fields in ``value`` that the schema ``name`` does not define (recursively); [] when it fits.

    ``either_spelling``: accept a field's proto name (``property_ordering``) as well as its JSON name
    (``propertyOrdering``), as Google's JSON parsers do.
    """
    sch = schema(name)
    return _walk(_camel(value) if either_spelling else value, sch, where or name)


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _walk(value: Any, sch: dict[str, Any], where: str) -> list[str]:
    ref = sch.get("$ref")
    if ref:
        return _walk(value, schema(ref), where)
    kind = sch.get("type")
    if kind == "array" and isinstance(value, list):
        items = sch.get("items") or {}
        return [p for i, v in enumerate(value) for p in _walk(v, items, f"{where}[{i}]")]
    if kind == "object" and isinstance(value, dict):
        props = sch.get("properties")
        if props is None:  # a map or google.protobuf.Struct: any keys
            extra = sch.get("additionalProperties") or {}
            return [p for k, v in value.items() for p in _walk(v, extra, f"{where}.{k}")] if extra else []
        out = []
        for key, v in value.items():
            if key not in props:
                out.append(f"{where}.{key}")
            else:
                out.extend(_walk(v, props[key], f"{where}.{key}"))
        return out
    return []


def client(base_url: str) -> Any:
    """A google-api-python-client service for aiplatform v1beta1 pointed at ``base_url``."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build_from_document

    return build_from_document(document(), credentials=Credentials(token="sandbox-token"),
                               client_options={"api_endpoint": base_url.rstrip("/")})
