"""Turn any failure from a service call into a :class:`UserError` in plain words.

Knows the shapes of google-genai's ``APIError`` (``code``, ``status``, ``message``),
httpx2/requests/urllib3 transport errors, keyring errors and OS errors, without importing the
SDK (it checks class names and attributes), so it is cheap to import. Every error it returns
has its :class:`~gemtune_desktop.core.errors.ErrorKind` set, and every secret the app knows
(the API key, a service-account key, OAuth tokens) redacted from its message, hint and detail:
what is shown or stored (``jobs.error``, ``eval_rows.error``) never holds a key a service echoed.
"""

from __future__ import annotations

from gemtune_desktop.core.errors import Cancelled, ErrorKind, UserError
from gemtune_desktop.services.auth_refresh import is_network_refresh_failure

RETRYABLE_CODES = {408, 429, 500, 502, 503, 504}


def plain_service_message(code: int, status: str, message: str) -> tuple[str, str, bool]:
    """(message, hint, retryable) for an HTTP error answer from a Google API."""
    low = message.lower()
    said = f" The service said: “{message.strip()[:300]}”" if message.strip() else ""
    if code == 400 and ("api key not valid" in low or "api_key_invalid" in low):
        return ("The API key was refused.", "Check the key in Settings → Connections; create a new one in "
                "Google AI Studio if needed.", False)
    if code == 400:
        return (f"The request was refused as invalid.{said}", "Check the highlighted settings and try again.",
                False)
    if code == 401:
        return ("The credentials were refused (not signed in, or the key is wrong).",
                "Check the key or sign in again in Settings → Connections.", False)
    if code == 403:
        if "has not been used" in low or "is disabled" in low or "service_disabled" in low or \
                "not enabled" in low:
            return ("The Vertex AI (Agent Platform) API is not enabled in this Google Cloud project.",
                    "Enable it in the Cloud console (APIs & Services), wait a minute, then try again.", False)
        return (f"Permission denied.{said}",
                "Ask your Cloud administrator for the Vertex AI User role (and Storage access for the "
                "bucket) on this project.", False)
    if code == 404:
        return (f"Not found.{said}", "Check the model, job or bucket name; it may have been deleted.", False)
    if code == 409:
        return (f"It already exists.{said}", "Choose another name.", False)
    if code == 429:
        return ("The service is busy or your quota is used up (too many requests).",
                "GemTune retries automatically; if it keeps happening, wait a few minutes or ask for "
                "more quota.", True)
    if code in (500, 502, 504):
        return ("The service had an internal problem.", "This is usually temporary; try again.", True)
    if code == 503:
        return ("The service is temporarily unavailable.", "This is usually temporary; try again.", True)
    return (f"The service answered with an error (HTTP {code} {status}).{said}", "Try again later.",
            code in RETRYABLE_CODES)


_NETWORK_NAMES = frozenset({
    "ConnectError", "ConnectionError", "RemoteProtocolError", "ReadError", "WriteError", "ProtocolError",
    "ChunkedEncodingError", "ConnectionResetError", "ConnectionRefusedError", "ConnectionAbortedError",
    "BrokenPipeError", "IncompleteRead", "NetworkError", "NewConnectionError", "MaxRetryError",
    "ServerDisconnectedError", "RemoteDisconnected", "TransportError", "LocalProtocolError"})
_UNREADABLE_NAMES = frozenset({"UnknownApiResponseError", "JSONDecodeError", "DecodingError", "ContentDecodingError",
                               "DecodeError", "RecursionError", "InvalidChunkLength", "ResponseNotChunked"})


def _retry_after(exc: BaseException) -> float | None:
    """Seconds from the ``Retry-After`` header of an SDK error's response, if it sent one."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        raw = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(raw)) if raw else None
    except (TypeError, ValueError, AttributeError):
        return None


def redact_error(err: UserError) -> UserError:
    """``err`` with every known secret removed from its message, hint and detail (changed in place)."""
    from gemtune_desktop.logging_setup import redact

    err.message = redact(err.message)
    err.hint = redact(err.hint)
    err.detail = redact(err.detail)
    err.args = (err.message,)
    return err


def describe(exc: BaseException) -> UserError:
    """A :class:`UserError` for any exception, with no traceback and no secrets."""
    return redact_error(_describe(exc))


def _describe(exc: BaseException) -> UserError:
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, Cancelled):
        return UserError("Cancelled.", kind=ErrorKind.CANCELLED)
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    code = getattr(exc, "code", None)
    if module.startswith("google.genai") and isinstance(code, int):
        status = str(getattr(exc, "status", "") or "")
        message = str(getattr(exc, "message", "") or "")
        plain, hint, retryable = plain_service_message(code, status, message)
        from gemtune_desktop.services.backend import ServiceError

        return ServiceError(code, status, plain, hint=hint, retryable=retryable, retry_after=_retry_after(exc))
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return UserError("The service did not answer in time.", "Check your connection and try again.",
                         detail=name, retryable=True, kind=ErrorKind.TIMEOUT)
    if name == "TooManyRedirects":
        return UserError("The service kept sending the call on to other addresses.",
                         "Check the connection's address and any proxy in between.", detail=name,
                         kind=ErrorKind.REDIRECTED)
    if module.startswith("google.auth") and is_network_refresh_failure(exc):
        return UserError("Could not reach Google to renew the sign-in: a network problem, not a sign-in failure.",
                         "Check your internet connection (or proxy); GemTune tries again.", detail=name,
                         retryable=True, kind=ErrorKind.NETWORK)
    if name in _NETWORK_NAMES or (module.startswith(("httpx", "httpcore", "urllib3", "requests"))
                                  and isinstance(exc, Exception) and name.endswith("Error")
                                  and name not in _UNREADABLE_NAMES):
        return UserError("Could not reach the service, or the connection dropped.",
                         "Check your internet connection and try again.", detail=name, retryable=True,
                         kind=ErrorKind.NETWORK)
    if module.startswith("keyring"):
        return UserError("The system keychain could not be used.",
                         "Unlock your keychain, or keep the secret for this session only.", detail=name)
    if module.startswith("google.auth"):
        return UserError("Google Cloud sign-in failed.",
                         "Run `gcloud auth application-default login` or choose a service-account key "
                         "in Settings → Connections.", detail=name)
    if module.startswith("pydantic") or name in _UNREADABLE_NAMES:
        return UserError("The service sent an answer that could not be read.", "Try again in a moment.",
                         detail=name, retryable=True, kind=ErrorKind.UNREADABLE)
    if isinstance(exc, PermissionError):
        return UserError(f"Permission denied: {exc.filename or ''}".strip(),
                         "Choose a folder you can write to.", detail=name)
    if isinstance(exc, FileNotFoundError):
        return UserError(f"File not found: {exc.filename or ''}".strip(), "Check the path.", detail=name)
    if isinstance(exc, OSError):
        return UserError(f"A file or network operation failed ({exc.strerror or name}).", "Try again.",
                         detail=name)
    if isinstance(exc, MemoryError):
        return UserError("Out of memory.", "Close other programs or work with a smaller file.", detail=name)
    return UserError("Something went wrong.", "Copy the diagnostics (Help menu) if this keeps happening.",
                     detail=f"{name}: {str(exc)[:200]}")
