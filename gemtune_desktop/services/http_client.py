"""The httpx2 client every genai SDK call and REST call of a session goes through, with the limits of
:mod:`gemtune_desktop.services.http_guard` built in.

:func:`guarded_client` returns an ``httpx2.Client`` whose transport

* clamps each request's timeouts to its wall-clock deadline and checks that deadline between the
  chunks of the answer (a server trickling one byte every few seconds is cut off in time);
* decodes gzip/deflate itself with a cap, and asks for nothing else;
* refuses redirects that leave the request's origin (an event hook, before anything is sent there);
* counts its calls in the session's :class:`CallTracker` and registers every socket it opens, so the
  session can wait for them, or stop them at once by shutting their sockets down;
* honours the usual proxy variables (``HTTPS_PROXY``, ``NO_PROXY``…) like the SDK's own client.

The genai SDK takes it through ``HttpOptions(httpx_client=…)``; it does not close an injected client,
so the session closes it, once no call is in flight.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore2
import httpx2

from gemtune_desktop.core.retry import Deadline
from gemtune_desktop.services.http_guard import (
    ACCEPTED_ENCODINGS,
    MAX_ANSWER_BYTES,
    AnswerCutShort,
    CallError,
    CallStopped,
    CallTimedOut,
    CallTracker,
    CappedDecoder,
    ConnectionDropped,
    Delivery,
    ServiceUnreachable,
    call_deadline,
    check_redirect,
)

DEFAULT_TIMEOUT_S = 60.0


def _timeout_of(request: httpx2.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    values = [v for v in (timeout.get("read"), timeout.get("connect")) if isinstance(v, int | float)]
    return max(values) if values else None


def _clamp(request: httpx2.Request, limit: Deadline) -> None:
    left = max(0.001, limit.remaining())
    timeout = dict(request.extensions.get("timeout") or {})
    for key in ("connect", "read", "write", "pool"):
        value = timeout.get(key)
        timeout[key] = left if value is None else min(float(value), left)
    request.extensions["timeout"] = timeout


def _call_error(exc: httpx2.TransportError) -> CallError:
    """A transport failure before any answer, as a typed error that says how far the call got."""
    name = type(exc).__name__
    if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout | httpx2.UnsupportedProtocol
                  | httpx2.ProxyError):
        return ServiceUnreachable(name)
    if isinstance(exc, httpx2.TimeoutException):
        return CallTimedOut(f"no answer ({name})", Delivery.NO_ANSWER)
    return ConnectionDropped(name)


def guarded_client(tracker: CallTracker, headers: dict[str, str] | None = None,
                   timeout_s: float = DEFAULT_TIMEOUT_S, max_answer_bytes: int = MAX_ANSWER_BYTES,
                   verify: ssl.SSLContext | bool = True) -> httpx2.Client:
    """A new ``httpx2.Client`` bound to ``tracker`` (see the module docstring)."""
    transport = GuardedTransport(tracker, max_answer_bytes, verify)

    def refuse_foreign_redirect(response: httpx2.Response) -> None:
        if response.has_redirect_location:
            try:
                check_redirect(str(response.request.url), response.headers.get("location"))
            except Exception:
                response.close()
                raise

    return httpx2.Client(transport=transport, headers=headers or {}, timeout=timeout_s, follow_redirects=True,
                         event_hooks={"response": [refuse_foreign_redirect]}, trust_env=False)


class TrackedStream(httpcore2.NetworkStream):
    """A socket stream whose socket (and TLS socket, once upgraded) the tracker can shut down."""

    def __init__(self, inner: httpcore2.NetworkStream, tracker: CallTracker) -> None:
        self._inner = inner
        self._tracker = tracker
        tracker.add_socket(inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:
        return TrackedStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._tracker)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class TrackingBackend(httpcore2.NetworkBackend):
    def __init__(self, tracker: CallTracker) -> None:
        self._inner = httpcore2.SyncBackend()
        self._tracker = tracker

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        if self._tracker.stopped:
            raise CallStopped("stopped before connecting")
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return TrackedStream(stream, self._tracker)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        return TrackedStream(self._inner.connect_unix_socket(path, timeout, socket_options), self._tracker)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedStream(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, limit: Deadline, tracker: CallTracker,
                 decoder: CappedDecoder) -> None:
        self._inner = inner
        self._limit = limit
        self._tracker = tracker
        self._decoder = decoder
        self._open = True

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._tracker.check()
                if self._limit.expired:
                    raise CallTimedOut("answer still arriving at the deadline", Delivery.ANSWERED)
                out = self._decoder.feed(chunk)
                if out:
                    yield out
            tail = self._decoder.flush()
            if tail:
                yield tail
        except httpx2.TimeoutException:
            self._tracker.check()
            raise CallTimedOut("answer stopped arriving", Delivery.ANSWERED) from None
        except httpx2.TransportError as exc:
            self._tracker.check()
            raise AnswerCutShort(type(exc).__name__) from None
        finally:
            self.close()

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self._inner.close()
            finally:
                self._tracker.exit()


class GuardedTransport(httpx2.BaseTransport):
    def __init__(self, tracker: CallTracker, max_answer_bytes: int, verify: ssl.SSLContext | bool) -> None:
        self._tracker = tracker
        self._max = max_answer_bytes
        self._verify = verify
        self._direct = self._transport(None)
        self._proxies: dict[str, httpx2.HTTPTransport] = {}
        for scheme, url in urllib.request.getproxies().items():
            if scheme in ("http", "https"):
                self._proxies[scheme] = self._transport(url)

    def _transport(self, proxy: str | None) -> httpx2.HTTPTransport:
        transport = httpx2.HTTPTransport(verify=self._verify, proxy=proxy)
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = TrackingBackend(self._tracker)
        return transport

    def _route(self, request: httpx2.Request) -> httpx2.HTTPTransport:
        proxy = self._proxies.get(request.url.scheme)
        if proxy is not None and not urllib.request.proxy_bypass(request.url.host):
            return proxy
        return self._direct

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self._tracker.enter()
        try:
            limit = call_deadline(_timeout_of(request))
            if limit.expired:
                raise CallTimedOut("no time left before the call", Delivery.NOT_SENT)
            _clamp(request, limit)
            request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
            try:
                response = self._route(request).handle_request(request)
            except httpx2.TransportError as exc:
                self._tracker.check()
                raise _call_error(exc) from None
            try:
                decoder = CappedDecoder(response.headers.get("content-encoding"), self._max)
            except Exception:
                response.close()
                raise
        except BaseException:
            self._tracker.exit()
            raise
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
        assert isinstance(response.stream, httpx2.SyncByteStream)
        return httpx2.Response(status_code=response.status_code, headers=headers,
                               stream=GuardedStream(response.stream, limit, self._tracker, decoder),
                               extensions=response.extensions)

    def close(self) -> None:
        self._direct.close()
        for proxy in self._proxies.values():
            proxy.close()


