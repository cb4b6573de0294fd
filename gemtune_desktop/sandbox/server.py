"""``SandboxServer``: the Sandbox emulator as a threaded Werkzeug HTTP server on 127.0.0.1.

Point the SDK at ``server.base_url``:

* Gemini API: ``genai.Client(api_key="x", http_options={"base_url": url, "api_version": "v1beta"})``
* Agent Platform: ``genai.Client(vertexai=True, project="sandbox-project", location="us-central1",
  credentials=google.oauth2.credentials.Credentials(token="x"),
  http_options={"base_url": url, "api_version": "v1beta1"})``
* Cloud Storage: ``storage.Client(project="sandbox-project", credentials=AnonymousCredentials(),
  client_options={"api_endpoint": url.rstrip("/")})``; the bucket ``sandbox-bucket`` exists.

Loss curves of an Agent Platform job (REST, relative to ``{base_url}v1beta1/``):
``GET {job.experiment}`` → ``metadata.backing_tensorboard_resource``;
``GET {tensorboard}/experiments/{experiment id}/runs`` → ``tensorboardRuns[].name``;
``GET {run}/timeSeries`` → ``tensorboardTimeSeries[]`` (``/train_total_loss``, plus
``/eval_total_loss`` when a validation file was given);
``GET {tensorboard}:batchRead?timeSeries=NAME&...`` → ``timeSeriesData[].values[{step, wallTime,
scalar.value}]`` (at most 1000 points per series, randomly subsampled like the real service).

Tests inject faults with ``server.faults.add(...)`` and see every request in ``server.requests``.

The Sandbox trusts no web page (:mod:`gemtune_desktop.sandbox.guard`): it answers only requests
addressed to ``127.0.0.1:PORT`` or ``localhost:PORT`` (no DNS rebinding), refuses a foreign
``Origin`` and cross-site fetches, wants JSON content types on JSON routes, and, when started with
a ``token`` (the in-app Sandbox always is), the header ``X-Gemtune-Sandbox-Token`` on every route,
storage included. ``base_url`` is a :class:`SandboxURL` that carries that token. Bodies are capped
(:class:`~gemtune_desktop.sandbox.serving.ServerLimits`) and the server's threads are bounded
(:mod:`gemtune_desktop.sandbox.serving`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import faults as F
from gemtune_desktop.sandbox import generation, guard
from gemtune_desktop.sandbox.apierror import ApiError
from gemtune_desktop.sandbox.datasets import TrainingExample
from gemtune_desktop.sandbox.faults import FaultRule, Faults
from gemtune_desktop.sandbox.http import SegmentConverter, body_json, json_response, sse_response
from gemtune_desktop.sandbox.routes_agent import AgentPlatformRoutes
from gemtune_desktop.sandbox.routes_batch import BatchRoutes
from gemtune_desktop.sandbox.routes_eval import EvaluationRoutes
from gemtune_desktop.sandbox.routes_gemini import GeminiApiRoutes
from gemtune_desktop.sandbox.routes_models import ModelRoutes
from gemtune_desktop.sandbox.routes_rebase import RebaseRoutes
from gemtune_desktop.sandbox.routes_storage import StorageRoutes
from gemtune_desktop.sandbox.routes_tensorboard import TensorboardRoutes
from gemtune_desktop.sandbox.serving import BoundedWSGIServer, ServerLimits
from gemtune_desktop.sandbox.state import SandboxState

log = logging.getLogger(__name__)

TOKEN_HEADER = guard.TOKEN_HEADER
HIDDEN_HEADERS = frozenset({"authorization", "x-goog-api-key", "cookie", TOKEN_HEADER.lower()})
MAX_RECORDED_BODY = 2_000_000  # bigger JSON bodies are not kept in ``requests`` (json is None)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it reached the Sandbox (auth headers removed)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    query_lists: dict[str, list[str]] = field(default_factory=dict)
    time: float = 0.0


class RequestLog:
    """Thread-safe record of the latest ``maxlen`` requests (list-like; the in-app server runs for days)."""

    def __init__(self, maxlen: int = 5000) -> None:
        self._lock = threading.Lock()
        self._items: deque[RecordedRequest] = deque(maxlen=maxlen)

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def matching(self, path_part: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.snapshot() if path_part in r.path and (method is None or r.method == method)]

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...

    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        with self._lock:
            if isinstance(index, slice):
                return list(self._items)[index]
            return self._items[index]

    def last(self) -> RecordedRequest | None:
        with self._lock:
            return self._items[-1] if self._items else None


class SandboxURL(str):
    """The Sandbox's base URL; ``token`` is the per-run token its requests must carry ("" when none)."""

    token: str

    def __new__(cls, url: str, token: str = "") -> SandboxURL:
        obj = super().__new__(cls, url)
        obj.token = token
        return obj


class SandboxServer:
    """The emulator; ``start()`` serves on a daemon thread, ``stop()`` shuts it down.

    Args:
        token: when given, every request must carry it in ``X-Gemtune-Sandbox-Token``.
        allow_remote: needed to listen on an address other than loopback (the Sandbox then
            answers other machines too; it has no real authentication).
        limits: body sizes, timeouts and threads (see :class:`ServerLimits`).
    """

    def __init__(self, state_dir: Path | None = None, steps_per_second: float = 4.0, host: str = "127.0.0.1",
                 port: int = 0, token: str | None = None, allow_remote: bool = False,
                 limits: ServerLimits | None = None) -> None:
        if steps_per_second <= 0:
            raise ValueError("steps_per_second must be positive")
        if not guard.is_loopback(host) and not allow_remote:
            raise ValueError(f"listening on {host!r} makes the Sandbox reachable from other machines; "
                             "pass allow_remote=True to do it anyway")
        self.host = host
        self.port = port
        self.token = token or ""
        self.allow_remote = allow_remote
        self.limits = limits or ServerLimits()
        self.state = SandboxState(Path(state_dir) if state_dir is not None else None, steps_per_second)
        self.faults = Faults()
        self.requests = RequestLog()
        self.stream_delay_s = 0.1
        self.streams: deque[tuple[str, int, bool]] = deque(maxlen=1000)  # (path, chunks sent, completed)
        self._forced_failures: list[str] = []
        self._lock = threading.Lock()
        self._httpd: BoundedWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.agent = AgentPlatformRoutes(self)
        self.gemini = GeminiApiRoutes(self)
        self.storage = StorageRoutes(self)
        self.batch = BatchRoutes(self)
        self._handlers = {"agent": self.agent, "gemini": self.gemini, "storage": self.storage,
                          "models": ModelRoutes(self), "tensorboard": TensorboardRoutes(self),
                          "evaluation": EvaluationRoutes(self), "batch": self.batch,
                          "rebase": RebaseRoutes(self, self.agent.jobs)}
        self.url_map = _url_map()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        with self._lock:
            if self._httpd is not None:
                return self
            httpd = BoundedWSGIServer(self.host, self.port, self, self.limits)
            self._httpd = httpd
            self.port = httpd.server_port
            self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                            name="gemtune-sandbox", daemon=True)
            self._thread.start()
        log.info("Sandbox serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        with self._lock:
            httpd, self._httpd = self._httpd, None
            thread, self._thread = self._thread, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self.storage.close()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> SandboxURL:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return SandboxURL(f"http://{host}:{self.port}/", self.token)

    @property
    def httpd(self) -> BoundedWSGIServer | None:
        return self._httpd

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- simulation knobs ------------------------------------------------------------------------
    @property
    def steps_per_second(self) -> float:
        return self.state.pace

    @steps_per_second.setter
    def steps_per_second(self, value: float) -> None:
        self.state.set_pace(float(value))

    def fail_next_training(self, message: str = "The simulated training run failed (injected by a test).",
                           count: int = 1) -> None:
        """Make the next ``count`` created jobs / tuned models end FAILED with ``message``."""
        with self._lock:
            self._forced_failures.extend([message] * count)

    def take_forced_failure(self) -> str | None:
        with self._lock:
            return self._forced_failures.pop(0) if self._forced_failures else None

    def note_stream(self, sent: int, completed: bool, path: str = "") -> None:
        with self._lock:
            self.streams.append((path, sent, completed))

    # -- generation ------------------------------------------------------------------------------
    def generate_response(self, request: Request, method: str, model: str,
                          examples: Sequence[TrainingExample] | None, label: str) -> Response:
        body = body_json(request)
        if method == "countTokens":
            return json_response(generation.count(body))
        result = generation.generate(model, body, examples, label)
        if method == "generateContent":
            return json_response(result)
        chunks = generation.stream_chunks(result)
        if request.args.get("alt") != "sse":
            return json_response(chunks)
        path = request.path
        return sse_response(chunks, lambda: self.stream_delay_s,
                            lambda sent, done: self.note_stream(sent, done, path))

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        refusal = guard.refusal(request, self.port, self.token, self.allow_remote)
        if refusal is not None:
            return refusal.response()(environ, start_response)
        request.max_content_length = guard.body_limit(request, self.limits)
        if request.content_length is not None and request.content_length > request.max_content_length:
            F.stop_reading(environ)  # the answer is a 413; the rest of the body is not read
            return guard.too_large(request.max_content_length).response()(environ, start_response)
        self._record(request)
        rules = self.faults.pick(request.method, request.path)
        for rule in rules:
            if rule.kind == "latency" and rule.latency_s > 0:
                time.sleep(rule.latency_s)
        fault: FaultRule | None = next((r for r in rules if r.kind != "latency"), None)
        early = F.before_handling(fault, environ) if fault is not None else None
        if early is not None:
            return early(environ, start_response)
        response = self._dispatch(request)
        if fault is not None:
            response = F.after_handling(fault, response, environ)
        return response(environ, start_response)

    def _record(self, request: Request) -> None:
        parsed: Any = None
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype == "application/json" \
                and request.content_length is not None and request.content_length <= MAX_RECORDED_BODY:
            try:
                parsed = json.loads(request.get_data(cache=True) or b"null")
            except ValueError:
                parsed = None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HIDDEN_HEADERS}
        self.requests.append(RecordedRequest(
            method=request.method, path=request.path, query=request.args.to_dict(flat=True), json=parsed,
            headers=headers, query_lists=request.args.to_dict(flat=False), time=time.time()))

    def _dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
            owner, _, name = str(endpoint).partition(".")
            return getattr(self._handlers[owner], name)(request, **args)
        except ApiError as exc:
            return exc.response()
        except RequestEntityTooLarge:
            F.stop_reading(request.environ)
            return guard.too_large(request.max_content_length or 0).response()
        except (NotFound, MethodNotAllowed):
            return ApiError(404, f"The Sandbox has no route for {request.method} {request.path}.").response()
        except HTTPException as exc:
            return ApiError(exc.code or 500, exc.description or "HTTP error").response()
        except Exception:
            log.exception("Sandbox handler failed for %s %s", request.method, request.path)
            return ApiError(500, "Internal error in the Sandbox (see the app log).").response()


_map_lock = threading.Lock()
_map: Map | None = None


def _url_map() -> Map:
    """The routing table, compiled once per process (compiling it costs a few hundred ms)."""
    global _map
    with _map_lock:
        if _map is None:
            _map = Map([*AgentPlatformRoutes.rules(), *ModelRoutes.rules(), *TensorboardRoutes.rules(),
                        *GeminiApiRoutes.rules(), *StorageRoutes.rules(), *EvaluationRoutes.rules(),
                        *BatchRoutes.rules(), *RebaseRoutes.rules()],
                       converters={"seg": SegmentConverter}, strict_slashes=False, merge_slashes=False)
        return _map
