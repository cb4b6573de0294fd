"""The Sandbox's HTTP server: a threaded WSGI server that no client can exhaust.

The Sandbox runs inside the app, so a misbehaving or hostile client must not take the app down
with it. :class:`BoundedWSGIServer` (Werkzeug's ``BaseWSGIServer`` with a different way of
handing out threads):

* **Bounded threads.** Requests are served by a pool of ``max_workers`` threads.
* **A connection gets a thread only once it has sent something.** Accepted connections wait in a
  selector ("the gate"); ones that send nothing within ``header_timeout_s`` are closed, and at most
  ``max_waiting`` may wait (the oldest is closed first), so a thousand half-open connections cost
  a thousand sockets for a few seconds and no thread at all.
* **Header and idle timeouts.** The request line and headers must arrive within
  ``header_timeout_s`` of their first byte (bytes trickled one by one do not extend it); a kept-alive
  connection waits ``idle_timeout_s`` for its next request; each read of a body waits at most that.
* **No spinning on EMFILE.** When the process is out of file descriptors, ``accept`` backs off
  (up to half a second) instead of retrying at once forever.

The size limits of request bodies (:class:`ServerLimits`) are applied by the server's WSGI app.
"""

from __future__ import annotations

import errno
import io
import logging
import selectors
import socket
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

log = logging.getLogger(__name__)

_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
MAX_ACCEPT_BACKOFF_S = 0.5
READ_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What one Sandbox server allows (sizes in bytes, times in seconds)."""

    max_workers: int = 32
    max_waiting: int = 256
    header_timeout_s: float = 10.0
    idle_timeout_s: float = 15.0
    max_json_body: int = 32 * 1024 * 1024
    max_upload_body: int = 1024 * 1024 * 1024
    max_multipart_body: int = 64 * 1024 * 1024
    upload_session_ttl_s: float = 3600.0
    max_upload_sessions: int = 32


class _HeaderReader:
    """The request stream, with a strict deadline while the request line and headers are read."""

    def __init__(self, raw: io.BufferedReader, sock: socket.socket, limits: ServerLimits) -> None:
        self._raw = raw
        self._sock = sock
        self._limits = limits
        self._deadline: float | None = None
        self._in_headers = True
        self._first = True

    def begin_request(self) -> None:
        """Called before each request: the next bytes are a request line and headers."""
        self._in_headers = True
        self._deadline = None

    def begin_body(self) -> None:
        self._in_headers = False
        self._sock.settimeout(self._limits.idle_timeout_s)

    def readline(self, limit: int = -1) -> bytes:
        if not self._in_headers:
            return self._raw.readline(limit)
        out = bytearray()
        while limit < 0 or len(out) < limit:
            if self._deadline is None:  # waiting for the request's first byte
                wait = self._limits.header_timeout_s if self._first else self._limits.idle_timeout_s
                self._sock.settimeout(wait)
            else:
                left = self._deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("request headers too slow")
                self._sock.settimeout(left)
            data = self._raw.peek(1)
            if not data:
                break
            if self._deadline is None:
                self._deadline = time.monotonic() + self._limits.header_timeout_s
                self._first = False
            newline = data.find(b"\n")
            take = len(data) if newline < 0 else newline + 1
            if limit >= 0:
                take = min(take, limit - len(out))
            out += self._raw.read(take)
            if newline >= 0 and take == newline + 1:
                break
        return bytes(out)

    def read(self, size: int = -1) -> bytes:
        # At most a megabyte per call (a short read, as sockets give): Werkzeug drains leftovers
        # with read(10_000_000), which would allocate 10 MB per request.
        return self._raw.read(size if 0 <= size <= READ_LIMIT else READ_LIMIT) if size != -1 else self._raw.read()

    def read1(self, size: int = -1) -> bytes:
        return self._raw.read1(size)

    def readinto(self, buffer: Any) -> int:
        return self._raw.readinto(buffer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class BoundedRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler with the header deadline, the idle timeout and connection tracking."""

    server: BoundedWSGIServer

    def setup(self) -> None:
        super().setup()
        self.server.open_connections.add(self.connection)
        raw = self.rfile
        assert isinstance(raw, io.BufferedReader)  # makefile("rb") with the default buffering
        self.rfile = _HeaderReader(raw, self.connection, self.server.limits)  # type: ignore[assignment]

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)
        try:
            super().finish()
        except OSError:  # the client went away first
            pass

    def handle_one_request(self) -> None:
        reader = self.rfile
        if isinstance(reader, _HeaderReader):
            reader.begin_request()
        super().handle_one_request()

    def run_wsgi(self) -> None:
        reader = self.rfile
        if isinstance(reader, _HeaderReader):
            reader.begin_body()
        super().run_wsgi()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s → %s", self.command, self.path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("werkzeug %s: " + message, type, *args)


class BoundedWSGIServer(BaseWSGIServer):
    """See the module docstring."""

    multithread = True
    daemon_threads = True

    def __init__(self, host: str, port: int, app: Any, limits: ServerLimits) -> None:
        BoundedRequestHandler.protocol_version = "HTTP/1.1"
        super().__init__(host, port, app, handler=BoundedRequestHandler)
        self.limits = limits
        self.open_connections: set[socket.socket] = set()
        self.accept_failures = 0  # accept() calls that failed for lack of resources (for tests)
        self._backoff = 0.0
        self._pool = ThreadPoolExecutor(max_workers=limits.max_workers, thread_name_prefix="gemtune-sandbox-worker")
        self._queued: dict[Future[None], socket.socket] = {}  # connections waiting for a worker
        self._queued_lock = threading.Lock()
        self._incoming: deque[tuple[socket.socket, Any]] = deque()
        self._waiting: dict[socket.socket, tuple[Any, float]] = {}
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._closing = threading.Event()
        self._gate = threading.Thread(target=self._gate_loop, name="gemtune-sandbox-gate", daemon=True)
        self._gate.start()

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("Sandbox server %s: " + message, type, *args)

    @property
    def waiting(self) -> int:
        """Connections accepted that have not sent anything yet."""
        return len(self._waiting) + len(self._incoming)

    # -- accepting ---------------------------------------------------------------------------
    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            conn = self.socket.accept()
        except OSError as exc:
            if exc.errno in _OUT_OF_RESOURCES:
                self.accept_failures += 1
                self._backoff = min(MAX_ACCEPT_BACKOFF_S, max(0.01, self._backoff * 2))
                log.warning("Sandbox: out of file descriptors; waiting %.2f s before accepting again", self._backoff)
                self._closing.wait(self._backoff)
            raise
        self._backoff = 0.0
        return conn

    def process_request(self, request: Any, client_address: Any) -> None:
        """Park the new connection at the gate until it sends something."""
        self._incoming.append((request, client_address))
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    # -- the gate ----------------------------------------------------------------------------
    def _gate_loop(self) -> None:
        while not self._closing.is_set():
            try:
                events = self._selector.select(timeout=0.05)
            except (OSError, ValueError):  # a socket closed under the selector
                events = []
            for key, _mask in events:
                if key.fileobj is self._wake_r:
                    self._drain_wake()
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                address, _since = self._waiting.pop(sock)
                self._selector.unregister(sock)
                self._dispatch(sock, address)
            self._admit()
            self._expire()
        for sock in list(self._waiting):
            self._drop(sock)

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(512):
                pass
        except OSError:
            pass

    def _admit(self) -> None:
        now = time.monotonic()
        while self._incoming:
            sock, address = self._incoming.popleft()
            if len(self._waiting) >= self.limits.max_waiting:
                oldest = min(self._waiting, key=lambda s: self._waiting[s][1])
                self._drop(oldest)
            try:
                self._selector.register(sock, selectors.EVENT_READ)
            except (OSError, ValueError):
                self._close(sock)
                continue
            self._waiting[sock] = (address, now)

    def _expire(self) -> None:
        limit = time.monotonic() - self.limits.header_timeout_s
        for sock in [s for s, (_a, since) in self._waiting.items() if since < limit]:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        self._waiting.pop(sock, None)
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass
        self._close(sock)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        try:
            sock.close()
        except OSError:
            pass

    def _dispatch(self, sock: socket.socket, address: Any) -> None:
        try:
            future = self._pool.submit(self._serve, sock, address)
        except RuntimeError:  # shutting down
            self._close(sock)
            return
        with self._queued_lock:
            self._queued[future] = sock
        future.add_done_callback(self._dequeue)

    def _dequeue(self, future: Future[None]) -> None:
        with self._queued_lock:
            sock = self._queued.pop(future, None)
        if sock is not None and future.cancelled():  # never served (the server closed): close it here
            self._close(sock)

    def _serve(self, sock: socket.socket, address: Any) -> None:
        try:
            self.finish_request(sock, address)
        except Exception:
            log.debug("Sandbox: connection from %s ended with an error", address, exc_info=True)
        finally:
            self.shutdown_request(sock)

    # -- closing -----------------------------------------------------------------------------
    def server_close(self) -> None:
        self._closing.set()
        super().server_close()
        self._gate.join(timeout=2)
        for sock, _address in list(self._incoming):
            self._close(sock)
        self._incoming.clear()
        for conn in list(self.open_connections):  # keep-alive clients and streams see it go down
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
