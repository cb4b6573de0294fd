"""A live session with one connection: the genai client, raw REST calls, Cloud Storage.

:class:`BackendSession` is what every tab's services use. It hides where requests go
(Google, or the Sandbox emulator on 127.0.0.1) and how they are authenticated (API key,
Application Default Credentials, service-account key, or the Sandbox's static token).

The SDK gaps it covers (see ``shared/docs/gemini-reference.md``): raw REST for the
Gemini API ``tunedModels`` calls (the SDK drops examples and snapshots) and for the
Agent Platform loss time series (the SDK has no metrics call).

Every call of a session goes through one guarded HTTP client (:mod:`.http_client`, and
:mod:`.requests_guard` for Cloud Storage): a wall-clock deadline per call, capped answers, no
redirect to another host, and a count of the calls in flight. :meth:`BackendSession.close`
refuses new calls and closes the clients only once the calls in flight are over (or stopped
with :meth:`BackendSession.cancel_all`), so a reconnect never breaks a call with "the client has
been closed".

The in-app Sandbox asks for a per-run token on every request: its base URL (a
:class:`~gemtune_desktop.sandbox.server.SandboxURL`) carries it as ``.token``, and the session
sends it as the ``X-Gemtune-Sandbox-Token`` header on every call, storage included.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from gemtune_desktop.core.errors import ErrorKind, UserError
from gemtune_desktop.core.model_catalog import serving_host, serving_location
from gemtune_desktop.services.auth_refresh import retry_refresh
from gemtune_desktop.services.connections import AuthMode, Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.http_guard import CallStopped, CallTracker, parse_json

if TYPE_CHECKING:
    import httpx2
    from google import genai
    from google.cloud import storage

log = logging.getLogger(__name__)
_SDK_IMPORT = threading.Lock()


def import_sdk() -> None:
    """Import google-genai (and its types) once, one thread at a time.

    The app imports it on a background thread after the window's first paint while the first connection check
    may need it on a worker; two threads importing it at once once made the check fail with "cannot import name
    'genai' from 'google' (unknown location)". Under this lock the second waits for the first, and imports it
    itself if the first failed.
    """
    with _SDK_IMPORT:
        import google.genai
        import google.genai.types  # noqa: F401

GEMINI_API_URL = "https://generativelanguage.googleapis.com/"
SANDBOX_PROJECT = "sandbox-project"
SANDBOX_TOKEN = "sandbox-token"
CLOUD_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
DEFAULT_TIMEOUT_S = 60.0
SANDBOX_TOKEN_HEADER = "X-Gemtune-Sandbox-Token"

API_KEY_SECRET = "gemini-api-key"
SERVICE_ACCOUNT_SECRET = "service-account-key"


class SecretSource(Protocol):
    def get(self, name: str) -> str | None: ...


class ServiceError(UserError):
    """An error answer from a Google API (or the Sandbox), with its HTTP code and status."""

    def __init__(self, code: int, status: str, message: str, hint: str = "", retryable: bool = False,
                 retry_after: float | None = None) -> None:
        kind = ErrorKind.BUSY if code == 429 or code >= 500 else ErrorKind.REFUSED
        super().__init__(message, hint=hint, detail=f"HTTP {code} {status}", retryable=retryable, kind=kind)
        self.code = code
        self.status = status
        self.retry_after = retry_after


class BackendSession:
    """Clients for one connection profile; safe to share between worker threads.

    Args:
        profile: the connection.
        secrets: where to read the API key or an imported service-account key.
        sandbox_url: returns the running Sandbox's base URL (starting it if needed);
            only called for Sandbox profiles.
    """

    def __init__(self, profile: ConnectionProfile, secrets: SecretSource,
                 sandbox_url: Callable[[], str] | None = None) -> None:
        self.profile = profile
        self._secrets = secrets
        self._sandbox_url = sandbox_url
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._credentials: Any = None
        self._http: Any = None  # the guarded httpx2 client shared by the SDK clients and rest()
        self._tracker = CallTracker()
        self._closed = False
        self._sandbox_token = ""

    # -- identity -------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        return self.profile.backend

    @property
    def is_sandbox(self) -> bool:
        return self.profile.is_sandbox

    @property
    def project(self) -> str:
        return SANDBOX_PROJECT if self.is_sandbox else self.profile.project

    @property
    def location(self) -> str:
        return self.profile.region

    @property
    def parent(self) -> str:
        """``projects/P/locations/L``, the Agent Platform parent of tuning jobs."""
        return f"projects/{self.project}/locations/{self.location}"

    @property
    def api_version(self) -> str:
        return "v1beta1" if self.backend is Backend.AGENT_PLATFORM else "v1beta"

    def base_url(self, location: str | None = None) -> str:
        """Root URL (ending in ``/``) that API paths are appended to."""
        if self.is_sandbox:
            if self._sandbox_url is None:
                raise UserError("The Sandbox is not running.", "Restart the app and try again.")
            url = self._sandbox_url()
            token = str(getattr(url, "token", "") or "")
            if token:
                self._sandbox_token = token
            return url if url.endswith("/") else url + "/"
        if self.backend is Backend.GEMINI_API:
            return GEMINI_API_URL
        loc = location or self.location
        if loc == "global":
            return "https://aiplatform.googleapis.com/"
        if loc in ("us", "eu"):
            return f"https://aiplatform.{loc}.rep.googleapis.com/"
        return f"https://{loc}-aiplatform.googleapis.com/"

    # -- credentials ----------------------------------------------------------------------
    def _api_key(self) -> str:
        if self.is_sandbox:
            return "sandbox-key"
        key = self._secrets.get(API_KEY_SECRET)
        if not key:
            raise UserError("No Gemini API key is saved.",
                            "Open Settings → Connections and enter your API key.")
        return key

    def credentials(self) -> Any:
        """OAuth credentials for Agent Platform and Cloud Storage."""
        with self._lock:
            if self._credentials is not None:
                return self._credentials
            if self.is_sandbox:
                from google.oauth2.credentials import Credentials

                self._credentials = Credentials(token=SANDBOX_TOKEN)
                return self._credentials
            self._credentials = retry_refresh(self._cloud_credentials())  # a network blip is retried
            return self._credentials

    def _cloud_credentials(self) -> Any:
        import google.auth
        from google.auth import exceptions as auth_exceptions
        from google.oauth2 import service_account

        profile = self.profile
        try:
            if profile.auth_mode is AuthMode.SERVICE_ACCOUNT:
                if profile.service_account_in_keyring:
                    raw = self._secrets.get(SERVICE_ACCOUNT_SECRET)
                    if not raw:
                        raise UserError("The service-account key is not in the keyring any more.",
                                        "Open Settings → Connections and import the key file again.")
                    info = json.loads(raw)
                    return service_account.Credentials.from_service_account_info(info, scopes=CLOUD_SCOPES)
                if not profile.service_account_file:
                    raise UserError("No service-account key file is chosen.",
                                    "Open Settings → Connections and choose the key file.")
                return service_account.Credentials.from_service_account_file(
                    profile.service_account_file, scopes=CLOUD_SCOPES)
            creds, _project = google.auth.default(scopes=CLOUD_SCOPES)
            return creds
        except auth_exceptions.DefaultCredentialsError as exc:
            raise UserError(
                "Google Cloud sign-in was not found on this computer.",
                "Run `gcloud auth application-default login` once, or choose a service-account key "
                "in Settings → Connections.", detail=type(exc).__name__) from None
        except (OSError, ValueError) as exc:
            raise UserError("The service-account key file could not be read.",
                            "Choose the JSON key file you downloaded from the Cloud console.",
                            detail=type(exc).__name__) from None

    # -- the guarded HTTP client ----------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise CallStopped("session closed")

    def _common_headers(self) -> dict[str, str]:
        if not self.is_sandbox:
            return {}
        self.base_url()  # learns the Sandbox's token
        return {SANDBOX_TOKEN_HEADER: self._sandbox_token} if self._sandbox_token else {}

    def http_client(self) -> httpx2.Client:
        """The session's guarded httpx2 client (shared by every SDK client and :meth:`rest`)."""
        self._check_open()
        with self._lock:
            if self._http is not None:
                return self._http
        from gemtune_desktop.services.http_client import guarded_client

        http = guarded_client(self._tracker, headers=self._common_headers())
        with self._lock:
            if self._http is None:
                self._http = http
                return http
        http.close()
        return self._http

    # -- genai SDK ------------------------------------------------------------------------
    def client(self, location: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> genai.Client:
        """The google-genai client (cached per location and timeout).

        Keep a reference for as long as a call or stream is in flight: a collected
        client closes its HTTP connection (python-genai issue 1763).
        """
        self._check_open()
        key = f"{location or ''}|{timeout_s}"
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        import_sdk()
        from google import genai
        from google.genai import types

        http_options: dict[str, Any] = {"api_version": self.api_version, "timeout": int(timeout_s * 1000),
                                        "httpx_client": self.http_client()}
        if self.is_sandbox:
            # The Sandbox emulates the us/eu serving hosts with a path prefix (sandbox/contract.py).
            host = serving_host(location or "")
            http_options["base_url"] = self.base_url() + (f"{host}/" if host else "")
        if self.backend is Backend.GEMINI_API:
            client = genai.Client(api_key=self._api_key(), http_options=types.HttpOptions(**http_options))
        else:
            if location in ("us", "eu") and not self.is_sandbox:
                http_options["base_url"] = self.base_url(location)
            client = genai.Client(
                vertexai=True, project=self.project, location=location or self.location,
                credentials=self.credentials(), http_options=types.HttpOptions(**http_options))
        with self._lock:
            self._clients.setdefault(key, client)
            return self._clients[key]

    def serving_client(self, resource: str) -> genai.Client:
        """Client for calling a tuned model: Agent Platform serves tuned models only on the us/eu multi-region
        hosts, chosen from the connection's region (the endpoint's own location segment is not relied on)."""
        if self.backend is Backend.AGENT_PLATFORM and resource.startswith("projects/"):
            parts = resource.split("/")
            loc = serving_location(self.location) or (parts[3] if len(parts) > 3 else self.location)
            return self.client(location=loc)
        return self.client()

    # -- raw REST -------------------------------------------------------------------------
    def _auth_headers(self, method: str, url: str) -> dict[str, str]:
        if self.backend is Backend.GEMINI_API:
            return {"x-goog-api-key": self._api_key()}
        from google.auth.transport.requests import Request

        headers: dict[str, str] = {}
        self.credentials().before_request(Request(), method, url, headers)
        if not self.is_sandbox and self.profile.project:
            headers["x-goog-user-project"] = self.profile.project
        return headers

    def rest(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             timeout_s: float = 30.0, location: str | None = None) -> dict[str, Any]:
        """One REST call; ``path`` is relative to the API version (``tunedModels/x``).

        ``timeout_s`` is a wall-clock limit on the whole call (within the thread's operation
        deadline, see :func:`~gemtune_desktop.services.http_guard.deadline`). Raises
        :class:`ServiceError` for error answers and :class:`UserError` (with its
        :class:`~gemtune_desktop.core.errors.ErrorKind`) when the service cannot be reached, does
        not answer in time, or answers something unreadable.
        """
        import httpx2

        url = f"{self.base_url(location)}{self.api_version}/{path.lstrip('/')}"
        http = self.http_client()
        try:
            resp = http.request(method, url, json=body, params=params, headers=self._auth_headers(method, url),
                                timeout=timeout_s)
        except httpx2.HTTPError as exc:  # the transport raises typed errors; these come from httpx2 itself
            from gemtune_desktop.services.errors import describe

            raise describe(exc) from None
        if resp.status_code != 200:
            raise error_from_response(resp.status_code, resp.text, resp.headers.get("Retry-After"))
        data = parse_json(resp.content)
        return data if isinstance(data, dict) else {"value": data}

    # -- Cloud Storage --------------------------------------------------------------------
    def storage_client(self) -> storage.Client:
        self._check_open()
        with self._lock:
            cached = self._clients.get("storage")
        if cached is not None:
            return cached
        from google.cloud import storage

        from gemtune_desktop.services.requests_guard import guarded_session

        if self.is_sandbox:
            from google.auth.credentials import AnonymousCredentials

            http = guarded_session(AnonymousCredentials(), self._tracker, headers=self._common_headers())
            client = storage.Client(project=SANDBOX_PROJECT, credentials=AnonymousCredentials(), _http=http,
                                    client_options={"api_endpoint": self.base_url().rstrip("/")})
        else:
            creds = self.credentials()
            http = guarded_session(creds, self._tracker)
            client = storage.Client(project=self.profile.project, credentials=creds, _http=http)
        with self._lock:
            self._clients.setdefault("storage", client)
            return self._clients["storage"]

    @property
    def bucket(self) -> str:
        return "sandbox-bucket" if self.is_sandbox and not self.profile.bucket else self.profile.bucket

    # -- calls in flight and closing ------------------------------------------------------
    @property
    def in_flight(self) -> int:
        """How many calls of this session are running now."""
        return self._tracker.in_flight

    @property
    def closed(self) -> bool:
        return self._closed

    def cancel_all(self) -> int:
        """Stop every call in flight at once (their sockets are shut down); returns how many were running.

        Each stopped call ends with a :class:`~gemtune_desktop.services.http_guard.CallStopped`
        error ("The call was stopped because its connection was closed or changed.").
        The session stays usable for new calls.
        """
        return self._tracker.stop_all()

    def close(self, wait_s: float = 0.0, cancel: bool = False) -> bool:
        """Close the session without breaking a call in flight.

        New calls are refused at once (plainly: "The call was stopped…"). Calls in flight are
        waited for up to ``wait_s`` seconds; with ``cancel=True`` those still running then are
        stopped (:meth:`cancel_all`); otherwise they finish normally. The clients are closed when
        the last call has ended. Returns whether no call was in flight any more on return.
        Safe to call from the GUI thread with ``wait_s=0`` (it never blocks then).
        """
        with self._lock:
            if self._closed:
                return self._tracker.in_flight == 0
            self._closed = True
        return self._tracker.close(wait_s, cancel, self._close_clients)

    def _close_clients(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
            http, self._http = self._http, None
        for c in clients:
            close = getattr(c, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # closing is best effort
                    log.debug("client close failed", exc_info=True)
        if http is not None:
            http.close()


def error_from_response(code: int, text: str, retry_after: str | None = None) -> ServiceError:
    """Turn a Google-style error body into a :class:`ServiceError` in plain words."""
    status, message = "", ""
    try:
        err = json.loads(text).get("error", {})
        status = str(err.get("status", ""))
        message = str(err.get("message", ""))
    except (ValueError, AttributeError, RecursionError):  # not Google's error shape: the code speaks for itself
        pass
    from gemtune_desktop.services.errors import plain_service_message

    plain, hint, retryable = plain_service_message(code, status, message)
    seconds: float | None = None
    if retry_after:
        try:
            seconds = float(retry_after)
        except ValueError:
            seconds = None
    return ServiceError(code, status, plain, hint=hint, retryable=retryable, retry_after=seconds)


def connection_is_configured(profile: ConnectionProfile) -> bool:
    if profile.kind is ConnectionKind.AGENT_PLATFORM:
        return bool(profile.project and profile.region)
    return True
