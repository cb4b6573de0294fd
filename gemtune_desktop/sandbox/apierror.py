"""Google-style API errors: ``{"error": {"code", "message", "status", "details"?}}`` with the matching HTTP code."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """Raised by a route handler; turned into the Google error JSON by the server."""

    def __init__(self, code: int, message: str, status: str | None = None,
                 headers: dict[str, str] | None = None, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        self.headers = headers or {}
        self.details = details or []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> Response:
        resp = Response(json.dumps(self.body()), status=self.code, content_type="application/json; charset=UTF-8")
        for key, value in self.headers.items():
            resp.headers[key] = value
        return resp


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def failed_precondition(message: str) -> ApiError:
    # Google answers FAILED_PRECONDITION with HTTP 400.
    return ApiError(400, message, "FAILED_PRECONDITION")


def unknown_fields(body: dict[str, Any], allowed: set[str] | frozenset[str], where: str = "") -> None:
    """Reject unknown JSON fields the way the real services do (HTTP 400)."""
    for key in body:
        if key not in allowed:
            at = f" at '{where}'" if where else ""
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.')
