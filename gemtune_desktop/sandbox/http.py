"""Small HTTP helpers shared by the route modules: JSON in and out, timestamps, auth checks, SSE."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox.apierror import ApiError, bad_request
from gemtune_desktop.sandbox.catalog import paginate


class SegmentConverter(BaseConverter):
    """One path segment without ``:`` (so ``jobs/<seg:id>:cancel`` works)."""

    regex = "[^/:]+"


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(json.dumps(data, ensure_ascii=False), status=status,
                    content_type="application/json; charset=UTF-8")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def list_response(request: Request, key: str, items: list[Any], default_size: int = 50) -> Response:
    """A list method's answer: the page of ``items`` that ``pageSize``/``pageToken`` ask for under ``key``,
    and ``nextPageToken`` when more follow."""
    page, token = paginate(items, request.args.get("pageSize"), request.args.get("pageToken"), default_size)
    out: dict[str, Any] = {key: page}
    if token:
        out["nextPageToken"] = token
    return json_response(out)


def body_json(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and len(raw) >= limit:  # a chunked body stops at the limit: it was larger
        raise ApiError(413, f"The request is too large for the Sandbox (at most {limit / 2**20:g} MB on this route).",
                       "INVALID_ARGUMENT")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise bad_request(f"Invalid JSON payload received. {exc.msg} at line {exc.lineno} column {exc.colno}.") \
            from None
    except UnicodeDecodeError:
        raise bad_request("Invalid JSON payload received. The body is not UTF-8.") from None
    if not isinstance(data, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    return data


def require_bearer(request: Request) -> None:
    """Agent Platform calls need an OAuth token (the Sandbox accepts any non-empty one)."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        raise ApiError(401, "Request is missing required authentication credential. Expected OAuth 2 access "
                            "token, login cookie or other valid authentication credential.")


def require_api_key(request: Request) -> None:
    """Gemini API calls need an API key in ``x-goog-api-key`` or ``?key=``."""
    if not (request.headers.get("x-goog-api-key") or request.args.get("key")):
        raise ApiError(403, "Method doesn't allow unregistered callers (callers without established identity). "
                            "Please use API Key or other form of API consumer identity to call this API.")


def sse_response(chunks: list[dict[str, Any]], delay_s: Callable[[], float],
                 on_progress: Callable[[int, bool], None] | None = None) -> Response:
    """Server-sent events (``data: {...}``), one chunk every ``delay_s()`` seconds."""

    def stream() -> Iterator[bytes]:
        sent = 0
        try:
            for i, chunk in enumerate(chunks):
                if i:
                    time.sleep(delay_s())
                yield b"data: " + json.dumps(chunk, ensure_ascii=False).encode("utf-8") + b"\r\n\r\n"
                sent += 1
        finally:
            if on_progress is not None:
                on_progress(sent, sent == len(chunks))

    return Response(stream(), status=200, content_type="text/event-stream")
