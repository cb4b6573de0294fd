"""The ``requests`` session Cloud Storage calls go through, with the limits of
:mod:`gemtune_desktop.services.http_guard`.

google-cloud-storage needs a ``requests``-style session. :func:`guarded_session` returns a
google-auth ``AuthorizedSession`` (anonymous for the Sandbox) that

* counts its calls in the session's :class:`CallTracker` (new calls are refused once the session
  is closing, and a stopped session ends its calls at the next chunk);
* refuses a redirect that leaves the request's origin before following it (``requests`` would
  forward every header but ``Authorization``; google-auth re-adds the token);
* reads each answer itself, under the call's wall-clock deadline and with a cap on its decoded size.
"""

from __future__ import annotations

from typing import Any

import requests
from google.auth.transport.requests import AuthorizedSession

from gemtune_desktop.core.retry import Deadline
from gemtune_desktop.services.http_guard import (
    ACCEPTED_ENCODINGS,
    MAX_ANSWER_BYTES,
    CallTimedOut,
    CallTracker,
    CappedDecoder,
    call_deadline,
    check_redirect,
    current_deadline,
    deadline,
)

READ_CHUNK = 64 * 1024


def _timeout_s(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        values = [float(v) for v in timeout if isinstance(v, int | float)]
        return max(values) if values else None
    return float(timeout) if isinstance(timeout, int | float) else None


class GuardedSession(AuthorizedSession):
    """See the module docstring."""

    def __init__(self, credentials: Any, tracker: CallTracker, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        super().__init__(credentials)
        self._tracker = tracker
        self._max_answer = max_answer_bytes
        self.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
        self.hooks["response"].append(self._guard_answer)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self._tracker.enter()
        try:
            with deadline(call_deadline(_timeout_s(kwargs.get("timeout")))) as limit:
                if limit.expired:
                    raise CallTimedOut("no time left before the call")
                timeout = kwargs.get("timeout")
                if isinstance(timeout, tuple):
                    kwargs["timeout"] = tuple(limit.clamp(float(t)) if isinstance(t, int | float) else t
                                              for t in timeout)
                elif isinstance(timeout, int | float):
                    kwargs["timeout"] = limit.clamp(float(timeout))
                else:
                    kwargs["timeout"] = limit.remaining()
                try:
                    return super().request(method, url, *args, **kwargs)
                except requests.exceptions.RequestException:
                    self._tracker.check()
                    raise
        finally:
            self._tracker.exit()

    def _guard_answer(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.is_redirect:
            try:
                check_redirect(response.url, response.headers.get("location"))
            except Exception:
                response.close()
                raise
            return response
        if kwargs.get("stream"):
            return response
        limit = current_deadline() or Deadline.after(60.0)
        decoder = CappedDecoder(response.headers.get("content-encoding"), self._max_answer)
        parts: list[bytes] = []
        try:
            for chunk in response.raw.stream(READ_CHUNK, decode_content=False):
                self._tracker.check()
                if limit.expired:
                    raise CallTimedOut("answer still arriving at the deadline")
                parts.append(decoder.feed(chunk))
            parts.append(decoder.flush())
        except Exception:
            response.close()
            raise
        response._content = b"".join(parts)
        response._content_consumed = True
        response.headers.pop("content-encoding", None)
        return response


def guarded_session(credentials: Any, tracker: CallTracker, headers: dict[str, str] | None = None,
                    max_answer_bytes: int = MAX_ANSWER_BYTES) -> GuardedSession:
    session = GuardedSession(credentials, tracker, max_answer_bytes)
    for key, value in (headers or {}).items():
        session.headers[key] = value
    return session
