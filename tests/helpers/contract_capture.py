"""Pytest plugin: every Agent Platform request the app sends is checked against Google's published schema.

Independent of the Sandbox's own check (``gemtune_desktop/sandbox/contract*.py``), so a mistake
shared by the app and the Sandbox still shows:

* it sees requests where the app sends them, at the HTTP client (``httpx2`` for google-genai,
  ``requests`` for the app's REST calls), before any server does;
* it reads the full ``aiplatform`` discovery documents from the installed google-api-python-client,
  not the Sandbox's extracted subset;
* it matches URLs and checks bodies with its own code (below), written separately.

A request counts as Agent Platform when it carries an OAuth bearer token and its path starts with
``/v1/`` or ``/v1beta1/`` (after the Sandbox's emulated ``*.googleapis.com`` host prefix). Each
must match a published method (verb and path), use only that method's query parameters, and send
a body whose every field exists with the right JSON type. A test that sends off-contract requests
on purpose says so with ``@pytest.mark.off_contract_requests("why")``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

STANDARD_QUERY = {"alt", "$alt", "fields", "key", "prettyPrint", "quotaUser", "$.xgafv", "access_token", "callback",
                  "oauth_token", "upload_protocol", "uploadType"}
_HOST_PREFIX = re.compile(r"^/[^/]+\.googleapis\.com(?=/)")


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[Sent] = []

    def add(self, method: str, url: str, headers: Any, body: bytes | None) -> None:
        lowered = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
        with self.lock:
            self.sent.append(Sent(method.upper(), str(url), lowered, body or b""))

    def take(self) -> list[Sent]:
        with self.lock:
            out, self.sent = self.sent, []
        return out


RECORDER = _Recorder()


# -- the published methods -----------------------------------------------------------------------------
@cache
def _document(version: str) -> dict[str, Any]:
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / f"aiplatform.{version}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _all_methods(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from (node.get("methods") or {}).values()
    for child in (node.get("resources") or {}).values():
        yield from _all_methods(child)


@cache
def _routes() -> list[tuple[str, str, re.Pattern[str], dict[str, Any]]]:
    routes = []
    for version in ("v1", "v1beta1"):
        for method in _all_methods({"resources": _document(version)["resources"]}):
            template = re.escape(method.get("flatPath") or method["path"])
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/:]+", template)
            routes.append((version, method["httpMethod"], re.compile(f"^/{pattern}$"), method))
    return routes


def find_method(http_method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for version, verb, pattern, method in _routes():
        if verb == http_method and pattern.match(path):
            return version, method
    return None


# -- a separate checker over the full discovery schema ---------------------------------------------------
def _check_value(version: str, spec: dict[str, Any], value: Any, where: str, out: list[str]) -> None:
    if value is None:
        return
    if "$ref" in spec:
        schema = _document(version)["schemas"][spec["$ref"]]
        if not isinstance(value, dict):
            out.append(f"{where}: expected an object ({spec['$ref']}), got {type(value).__name__}")
            return
        props = schema.get("properties") or {}
        for key, item in value.items():
            camel = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), key)  # proto JSON takes either spelling
            name = key if key in props else camel if camel in props else None
            if name is None:
                out.append(f"{where}.{key}: no such field in {spec['$ref']}")
                continue
            _check_value(version, props[name], item, f"{where}.{name}", out)
        return
    kind = spec.get("type")
    fmt = spec.get("format", "")
    if kind == "array":
        if not isinstance(value, list):
            out.append(f"{where}: expected a list")
            return
        for i, item in enumerate(value):
            _check_value(version, spec.get("items") or {}, item, f"{where}[{i}]", out)
    elif kind == "object":
        if not isinstance(value, dict):
            out.append(f"{where}: expected an object")
        elif "additionalProperties" in spec:
            for k, item in value.items():
                _check_value(version, spec["additionalProperties"], item, f"{where}[{k}]", out)
    elif "enum" in spec:
        if not (value in spec["enum"] or (isinstance(value, int) and not isinstance(value, bool))):
            out.append(f"{where}: {value!r} is not one of {spec['enum']}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{where}: expected true or false, got {value!r}")
    elif kind == "integer" or fmt in ("int64", "uint64"):
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str)
                                                                       and re.fullmatch(r"-?\d+", value))):
            out.append(f"{where}: expected an integer, got {value!r}")
    elif kind == "number":
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric and value not in ("NaN", "Infinity", "-Infinity"):
            out.append(f"{where}: expected a number, got {value!r}")
    elif kind == "string" and not isinstance(value, str):
        out.append(f"{where}: expected a string, got {value!r}")


def problems(sent: Sent) -> list[str]:
    """Why one request departs from the published contract (empty when it does not, or is not Agent Platform)."""
    parts = urlsplit(sent.url)
    path = _HOST_PREFIX.sub("", parts.path)
    if not sent.headers.get("authorization", "").startswith("Bearer ") or \
            not path.startswith(("/v1/", "/v1beta1/")):
        return []
    found = find_method(sent.method, path)
    if found is None:
        return [f"{sent.method} {path}: no published aiplatform method has this verb and path"]
    version, method = found
    out = []
    params = method.get("parameters") or {}
    for name, _value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in STANDARD_QUERY and (params.get(name) or {}).get("location") != "query":
            out.append(f"{sent.method} {path}: query parameter {name!r} is not one of {method['id']}'s")
    if method.get("request"):
        try:
            body = json.loads(sent.body or b"{}")
        except ValueError:
            return [*out, f"{sent.method} {path}: the body is not JSON"]
        errors: list[str] = []
        _check_value(version, method["request"], body, method["request"]["$ref"], errors)
        out += [f"{method['id']} ({version}): {e}" for e in errors]
    elif sent.body.strip() not in (b"", b"{}", b"null"):
        out.append(f"{sent.method} {path}: {method['id']} takes no body")
    return out


# -- hooks into the HTTP clients ---------------------------------------------------------------------------
def _body(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    return b""


def _install(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2
    import requests

    sync_send = httpx2.Client.send
    async_send = httpx2.AsyncClient.send
    requests_send = requests.Session.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        RECORDER.add(request.method, request.url, request.headers, _body(getattr(request, "content", b"")))
        return sync_send(self, request, *args, **kwargs)

    async def asend(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        RECORDER.add(request.method, request.url, request.headers, _body(getattr(request, "content", b"")))
        return await async_send(self, request, *args, **kwargs)

    def rsend(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        RECORDER.add(request.method, request.url, request.headers, _body(request.body))
        return requests_send(self, request, *args, **kwargs)

    monkeypatch.setattr(httpx2.Client, "send", send)
    monkeypatch.setattr(httpx2.AsyncClient, "send", asend)
    monkeypatch.setattr(requests.Session, "send", rsend)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "off_contract_requests(reason): the test sends Agent Platform requests "
                                       "that break the published schema on purpose")


@pytest.fixture(autouse=True)
def _agent_platform_requests_follow_the_contract(request: pytest.FixtureRequest,
                                                 monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _install(monkeypatch)
    RECORDER.take()
    yield
    sent = RECORDER.take()
    if request.node.get_closest_marker("off_contract_requests") is not None:
        return
    found = [p for s in sent for p in problems(s)]
    if found:
        pytest.fail("Requests that break Google's published aiplatform schema:\n  " + "\n  ".join(found[:20]),
                    pytrace=False)
