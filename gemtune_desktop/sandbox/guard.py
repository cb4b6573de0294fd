"""What the Sandbox refuses before it looks at a request: it trusts no web page.

A page the user visits can send requests to ``127.0.0.1`` (plain cross-origin POSTs with
``text/plain`` bodies need no permission) and can reach it under its own name by DNS rebinding.
So :func:`refusal` turns away, with a Google-style error:

* a ``Host`` other than ``127.0.0.1:PORT`` / ``localhost:PORT`` / ``[::1]:PORT`` (with
  ``allow_remote``, also an IP address with that port: a rebinding attack needs a name);
* a foreign ``Origin`` (and ``Sec-Fetch-Site: cross-site``), and CORS preflights;
* a body on a JSON route whose content type is not JSON (forcing a preflight a page cannot pass);
* a missing or wrong ``X-Gemtune-Sandbox-Token`` when the server has a token (the in-app one).

:func:`body_limit` is the largest body a route takes (small for JSON, large for uploads).
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

from gemtune_desktop.sandbox.apierror import ApiError
from gemtune_desktop.sandbox.serving import ServerLimits

TOKEN_HEADER = "X-Gemtune-Sandbox-Token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
UPLOAD_PREFIX = "/upload/"


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_port(value: str) -> tuple[str, int | None]:
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        return "", None
    return (parts.hostname or "").lower(), port


def _allowed_host(value: str, port: int, allow_remote: bool) -> bool:
    host, given_port = _host_port(value)
    if given_port != port:
        return False
    if host in LOOPBACK_NAMES:
        return True
    if allow_remote:
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            return False
    return False


def refusal(request: Request, port: int, token: str, allow_remote: bool = False) -> ApiError | None:
    """The error to answer instead of serving ``request``, or None when it may be served."""
    host = request.headers.get("Host", "")
    if not _allowed_host(host, port, allow_remote):
        return ApiError(403, f"The Sandbox answers only requests addressed to 127.0.0.1:{port} or localhost:{port} "
                             f"(this one was addressed to {host[:80]!r}).", "PERMISSION_DENIED")
    origin = request.headers.get("Origin")
    if origin is not None:
        scheme = urlsplit(origin).scheme
        if scheme != "http" or not _allowed_host(urlsplit(origin).netloc, port, allow_remote):
            return ApiError(403, "The Sandbox does not answer web pages (the request came from "
                                 f"{origin[:80]!r}).", "PERMISSION_DENIED")
    if request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site") or request.method == "OPTIONS":
        return ApiError(403, "The Sandbox does not answer web pages.", "PERMISSION_DENIED")
    if token and not hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), token.encode()):
        return ApiError(401, "This Sandbox belongs to a running GemTune Desktop and needs its per-run token "
                             f"(header {TOKEN_HEADER}).", "UNAUTHENTICATED")
    if _has_body(request) and not request.path.startswith(UPLOAD_PREFIX) and request.mimetype != "application/json":
        return ApiError(415, f"The Sandbox takes JSON bodies only on this route (Content-Type: application/json; "
                             f"this request sent {request.mimetype or 'none'!r}).", "INVALID_ARGUMENT")
    return None


def _has_body(request: Request) -> bool:
    if request.method not in ("POST", "PUT", "PATCH"):
        return False
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        return True
    return bool(request.content_length)


def body_limit(request: Request, limits: ServerLimits) -> int:
    """The largest body this request may send."""
    if not request.path.startswith(UPLOAD_PREFIX):
        return limits.max_json_body
    if request.args.get("uploadType") == "multipart":
        return limits.max_multipart_body
    return limits.max_upload_body


def too_large(limit: int) -> ApiError:
    mb = limit / (1024 * 1024)
    return ApiError(413, f"The request is too large for the Sandbox (at most {mb:g} MB on this route).",
                    "INVALID_ARGUMENT")
