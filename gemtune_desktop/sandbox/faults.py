"""Fault injection for tests: latency, error statuses, dropped connections, truncated or malformed bodies.

A rule matches requests by a regular expression searched in the path (for example
``r"tuningJobs"``), optionally by method, lets the first ``skip`` matching requests through,
fires on a share of the matching requests (seeded, so runs repeat) and optionally only
``count`` times.

Kinds: ``status`` (an error answer, with ``Retry-After`` if given), ``latency`` (the request is
handled ``latency_s`` late), ``drop`` (the connection closes before the request is handled),
``drop_after`` (the request is handled, then the connection closes without an answer),
``truncate`` (half the answer, then the connection closes), ``malformed`` (a 200 with broken
JSON, after handling the request), ``trickle`` (the answer one byte every ``latency_s``),
``redirect`` (a 307 to ``location``), ``bomb`` (a gzip answer that unpacks to ``size_mb`` MB),
``deep`` (JSON nested 100,000 levels deep), ``wrong_types`` (the real answer with every object
and list replaced by values of another type), ``body`` (a 200 with ``body`` instead of the answer,
after handling the request), and ``mixed``: each time it fires, one of ``kinds``
chosen at random (seeded).
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

FAULT_KINDS = ("status", "latency", "drop", "drop_after", "truncate", "malformed", "trickle", "redirect", "bomb",
               "deep", "wrong_types", "body", "mixed")
MIXABLE = ("status", "latency", "drop", "drop_after", "truncate", "malformed")


@dataclass
class FaultRule:
    route: str
    kind: str
    status: int = 503
    retry_after: float | None = None
    latency_s: float = 0.0
    share: float = 1.0
    count: int | None = None
    method: str | None = None
    skip: int = 0
    kinds: tuple[str, ...] = ()
    statuses: tuple[int, ...] = (429, 500, 503)
    location: str = ""
    size_mb: int = 300
    message: str = ""  # the error message of a ``status`` fault (default: Google's wording for the status)
    body: bytes = b""
    fired: int = 0
    seen: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if self.kind == "mixed" and not all(k in MIXABLE for k in self.kinds or ("",)):
            raise ValueError(f"a mixed rule needs kinds among {', '.join(MIXABLE)}")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        self._pattern = re.compile(self.route)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._pattern.search(path) is not None


class Faults:
    """The server's fault rules (thread-safe)."""

    def __init__(self, seed: int = 1234) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def add(self, route: str, kind: str, status: int = 503, retry_after: float | None = None,
            latency_s: float = 0.0, share: float = 1.0, count: int | None = None,
            method: str | None = None, skip: int = 0, kinds: tuple[str, ...] | list[str] = (),
            location: str = "", size_mb: int = 300, message: str = "", body: bytes = b"") -> FaultRule:
        rule = FaultRule(route=route, kind=kind, status=status, retry_after=retry_after, latency_s=latency_s,
                         share=share, count=count, method=method, skip=skip, kinds=tuple(kinds), location=location,
                         size_mb=size_mb, message=message, body=body)
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def seed(self, seed: int) -> None:
        with self._lock:
            self._random.seed(seed)

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str) -> list[FaultRule]:
        """The rules that fire for this request (latency rules first, then at most one other).

        A ``mixed`` rule comes back as a one-off copy of the kind it chose this time.
        """
        fired: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.share < 1.0 and self._random.random() >= rule.share:
                    continue
                chosen = self._choose(rule)
                if chosen.kind != "latency" and any(r.kind != "latency" for r in fired):
                    continue
                rule.fired += 1
                fired.append(chosen)
        fired.sort(key=lambda r: r.kind != "latency")
        return fired

    def _choose(self, rule: FaultRule) -> FaultRule:
        if rule.kind != "mixed":
            return rule
        kind = self._random.choice(rule.kinds)
        status = self._random.choice(rule.statuses) if kind == "status" else rule.status
        return FaultRule(route=rule.route, kind=kind, status=status, retry_after=rule.retry_after,
                         latency_s=rule.latency_s, method=rule.method)


# -- what a fault does to the answer (used by the server) ---------------------------------------------
STATUS_MESSAGES = {
    429: "Resource has been exhausted (e.g. check quota). (Sandbox fault injection)",
    500: "Internal error encountered. (Sandbox fault injection)",
    502: "Bad gateway. (Sandbox fault injection)",
    503: "The service is currently unavailable. (Sandbox fault injection)",
    504: "Deadline exceeded. (Sandbox fault injection)",
}
MALFORMED_BODY = b'{"name": "projects/sandbox-project/locations/us-central1/tuningJobs/1", "state": '
DEEP_LEVELS = 100_000


def stop_reading(environ: dict[str, Any]) -> None:
    """Read no more of this request's body (its answer is an error; the connection closes after it)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass


def _shutdown(environ: dict[str, Any]) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def before_handling(rule: FaultRule, environ: dict[str, Any]) -> Any:
    """The answer of a fault that replaces handling (a WSGI app), or None when the request is handled."""
    from gemtune_desktop.sandbox.apierror import ApiError

    if rule.kind == "drop":
        _shutdown(environ)

        def dropped(_environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("500 Internal Server Error", [])  # never reaches the client: the socket is shut
            return []

        return dropped
    if rule.kind == "status":
        headers = {"Retry-After": f"{rule.retry_after:g}"} if rule.retry_after is not None else {}
        return ApiError(rule.status, rule.message or STATUS_MESSAGES.get(rule.status, "Injected fault (Sandbox)."),
                        headers=headers).response()
    if rule.kind == "redirect":
        from werkzeug.wrappers import Response

        resp = Response(b"", status=307)
        resp.headers["Location"] = rule.location
        return resp
    return None


def after_handling(rule: FaultRule, response: Response, environ: dict[str, Any]) -> Response:
    """The answer of a fault applied after the request was handled (the job exists by then)."""
    from werkzeug.wrappers import Response as WerkzeugResponse

    kind = rule.kind
    if kind == "malformed":
        return WerkzeugResponse(MALFORMED_BODY, status=200, content_type="application/json; charset=UTF-8")
    if kind == "truncate":
        return _truncated(response, environ)
    if kind == "drop_after":
        _shutdown(environ)
        return WerkzeugResponse(b"", status=200)
    if kind == "trickle":
        return _trickled(response, rule.latency_s or 1.0)
    if kind == "bomb":
        out = WerkzeugResponse(_gzip_zeros(rule.size_mb), status=200, content_type="application/json; charset=UTF-8")
        out.headers["Content-Encoding"] = "gzip"
        return out
    if kind == "body":
        return WerkzeugResponse(rule.body, status=200, content_type="application/json; charset=UTF-8")
    if kind == "deep":
        body = b"[" * DEEP_LEVELS + b"]" * DEEP_LEVELS
        return WerkzeugResponse(body, status=200, content_type="application/json; charset=UTF-8")
    if kind == "wrong_types":
        try:
            data = json.loads(response.get_data() or b"{}")
        except ValueError:
            return response
        body = json.dumps(_wrong_types(data)).encode()
        return WerkzeugResponse(body, status=response.status_code, content_type="application/json; charset=UTF-8")
    return response


def _wrong_types(value: Any, depth: int = 0) -> Any:
    """Every object becomes a string, every list an object, every string a list (below the top level)."""
    if isinstance(value, dict):
        if depth == 0:
            return {k: _wrong_types(v, depth + 1) for k, v in value.items()}
        return "not an object"
    if isinstance(value, list):
        return {"not": "a list"}
    if isinstance(value, str):
        return [value]
    return value


def _gzip_zeros(size_mb: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"0" * (1024 * 1024)
    parts = [comp.compress(b'{"padding": "')]
    for _ in range(max(1, size_mb)):
        parts.append(comp.compress(block))
    parts.append(comp.compress(b'"}'))
    parts.append(comp.flush())
    return b"".join(parts)


def _truncated(response: Response, environ: dict[str, Any]) -> Response:
    from werkzeug.wrappers import Response as WerkzeugResponse

    full = response.get_data()
    half = full[: max(1, len(full) // 2)]

    def body() -> Iterator[bytes]:
        yield half
        _shutdown(environ)

    out = WerkzeugResponse(body(), status=response.status_code, content_type=response.content_type)
    for key, value in response.headers.items():
        if key.lower() not in ("content-length", "content-type"):
            out.headers[key] = value
    out.headers["Content-Length"] = str(len(full))
    return out


def _trickled(response: Response, every_s: float) -> Response:
    from werkzeug.wrappers import Response as WerkzeugResponse

    full = response.get_data()

    def body() -> Iterator[bytes]:
        for i in range(len(full)):
            if i:
                time.sleep(every_s)
            yield full[i:i + 1]

    out = WerkzeugResponse(body(), status=response.status_code, content_type=response.content_type)
    out.headers["Content-Length"] = str(len(full))
    return out
