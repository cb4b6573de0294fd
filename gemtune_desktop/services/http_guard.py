"""Limits every service call obeys, whichever HTTP library carries it (httpx2 for the genai SDK and
REST, requests for Cloud Storage).

* **One wall-clock deadline per call.** A call's timeout is a limit on the whole exchange, an answer
  that trickles in byte by byte included; :func:`deadline` sets a tighter limit for a whole
  operation (several calls and their retries) on the current thread.
* **Answers are capped.** At most :data:`MAX_ANSWER_BYTES` after decompression, decoded here with a
  bounded decompressor, so a compressed "bomb" cannot fill the memory.
* **Credentials stay with their host.** A redirect to another scheme, host or port is refused
  before anything is sent there (:class:`ForeignRedirect`).
* **A session knows its calls in flight** (:class:`CallTracker`): closing waits for them or stops
  them, and never breaks a call with "the client has been closed".
"""

from __future__ import annotations

import enum
import logging
import socket
import threading
import weakref
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

from gemtune_desktop.core.errors import ErrorKind, UserError
from gemtune_desktop.core.retry import Deadline

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # decoded; the largest real answers (job lists, curves) are a few MB
ACCEPTED_ENCODINGS = "gzip, deflate"  # decoded here with a cap; nothing else is asked for


# -- errors ------------------------------------------------------------------------------------
class Delivery(enum.Enum):
    """How far a failed call got: what the service may have done with it."""

    NOT_SENT = "not sent"  # the service never received the request
    ANSWERED = "answered"  # the service answered (an error, or an answer that could not be read): it is done
    DROPPED = "dropped"  # the connection broke before any answer: the service may have received it
    NO_ANSWER = "no answer"  # no answer in time: the service may still be working on it


class CallError(UserError):
    """A failed call, with how far it got (:class:`Delivery`)."""

    delivery = Delivery.DROPPED


class CallTimedOut(CallError):
    def __init__(self, detail: str = "", delivery: Delivery = Delivery.NO_ANSWER) -> None:
        super().__init__("The service did not answer in time.",
                         "Check your connection and try again; GemTune tries again by itself where it is safe.",
                         detail=detail or "deadline", retryable=True, kind=ErrorKind.TIMEOUT)
        self.delivery = delivery


class ServiceUnreachable(CallError):
    delivery = Delivery.NOT_SENT

    def __init__(self, detail: str = "") -> None:
        super().__init__("Could not reach the service.", "Check your internet connection (or proxy) and try again.",
                         detail=detail or "connect", retryable=True, kind=ErrorKind.NETWORK)


class ConnectionDropped(CallError):
    delivery = Delivery.DROPPED

    def __init__(self, detail: str = "") -> None:
        super().__init__("The connection dropped before the service answered.", "Try again in a moment.",
                         detail=detail or "connection dropped", retryable=True, kind=ErrorKind.NETWORK)


class AnswerCutShort(CallError):
    delivery = Delivery.ANSWERED

    def __init__(self, detail: str = "") -> None:
        super().__init__("The connection broke while the answer was arriving.", "Try again in a moment.",
                         detail=detail or "answer cut short", retryable=True, kind=ErrorKind.UNREADABLE)


class AnswerTooLarge(CallError):
    delivery = Delivery.ANSWERED

    def __init__(self, limit: int) -> None:
        super().__init__(f"The service sent an answer larger than {limit // (1024 * 1024)} MB, so it was not read.",
                         "Try again later; if it keeps happening, the service (or a proxy) is misbehaving.",
                         detail="answer too large", retryable=True, kind=ErrorKind.UNREADABLE)


class UnreadableAnswer(CallError):
    delivery = Delivery.ANSWERED

    def __init__(self, detail: str) -> None:
        super().__init__("The service sent an answer that could not be read.", "Try again in a moment.",
                         detail=detail, retryable=True, kind=ErrorKind.UNREADABLE)


class ForeignRedirect(CallError):
    delivery = Delivery.NOT_SENT

    def __init__(self, host: str) -> None:
        super().__init__(f"The service tried to send this call on to another address ({host}); GemTune did not "
                         "follow it, so your credentials were not sent there.",
                         "Check the connection's address and any proxy in between; if you use a company proxy, "
                         "ask whoever runs it.", detail="cross-origin redirect", kind=ErrorKind.REDIRECTED)


class CallStopped(CallError):
    def __init__(self, detail: str = "session closed", sent: bool = False) -> None:
        super().__init__("The call was stopped because its connection was closed or changed.",
                         "Try again; the new connection is used from now on.", detail=detail, retryable=True,
                         kind=ErrorKind.STOPPED)
        self.delivery = Delivery.DROPPED if sent else Delivery.NOT_SENT


# -- deadlines ---------------------------------------------------------------------------------
_local = threading.local()


def current_deadline() -> Deadline | None:
    """The tightest deadline set with :func:`deadline` on this thread, if any."""
    stack: list[Deadline] = getattr(_local, "deadlines", [])
    return min(stack, key=lambda d: d.at) if stack else None


@contextmanager
def deadline(seconds_or_deadline: float | Deadline) -> Iterator[Deadline]:
    """Every call made on this thread inside the block ends by this deadline (nested blocks: the earliest)."""
    limit = seconds_or_deadline if isinstance(seconds_or_deadline, Deadline) else \
        Deadline.after(float(seconds_or_deadline))
    stack: list[Deadline] = getattr(_local, "deadlines", None) or []
    _local.deadlines = stack
    stack.append(limit)
    try:
        yield limit
    finally:
        stack.remove(limit)


def call_deadline(timeout_s: float | None) -> Deadline:
    """The deadline of one call with this timeout, within the thread's operation deadline."""
    own = Deadline.after(timeout_s if timeout_s and timeout_s > 0 else 300.0)
    outer = current_deadline()
    return outer if outer is not None and outer.at < own.at else own


# -- calls in flight ---------------------------------------------------------------------------
class CallTracker:
    """Counts a session's calls in flight; refuses new ones once closing; can stop the running ones."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._count = 0
        self._closing = False
        self._stopped = False
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._on_idle: list[Callable[[], None]] = []

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._count

    @property
    def stopped(self) -> bool:
        return self._stopped

    def enter(self) -> None:
        with self._cond:
            if self._closing:
                raise CallStopped("session closing")
            self._count += 1

    def exit(self) -> None:
        callbacks: list[Callable[[], None]] = []
        with self._cond:
            self._count = max(0, self._count - 1)
            if self._count == 0:
                self._cond.notify_all()
                if self._closing:
                    callbacks, self._on_idle = self._on_idle, []
                else:
                    self._stopped = False  # stopped calls are over: new calls run normally again
        for callback in callbacks:
            callback()

    def check(self) -> None:
        """Raise :class:`CallStopped` if the session's calls were stopped (called mid-call)."""
        if self._stopped:
            raise CallStopped("stopped while running", sent=True)

    def add_socket(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._cond:
                self._sockets.add(sock)

    def close(self, wait_s: float, stop: bool, on_idle: Callable[[], None]) -> bool:
        """Refuse new calls; wait up to ``wait_s`` for the running ones; stop the rest if ``stop``.

        ``on_idle`` runs once no call is in flight (at once, or when the last one ends).
        Returns whether no call was in flight when this returned.
        """
        with self._cond:
            self._closing = True
            self._cond.wait_for(lambda: self._count == 0, timeout=max(0.0, wait_s))
            idle = self._count == 0
            if not idle:
                self._on_idle.append(on_idle)
        if idle:
            on_idle()
            return True
        if stop:
            self.stop_all()
        return False

    def stop_all(self) -> int:
        """Stop every call in flight now: its socket is shut down and it ends with :class:`CallStopped`."""
        with self._cond:
            self._stopped = self._count > 0 or self._stopped
            sockets = list(self._sockets)
            count = self._count
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return count


# -- capped decoding -------------------------------------------------------------------------------
class CappedDecoder:
    """Undoes ``Content-Encoding`` (identity, gzip, deflate) with at most ``limit`` decoded bytes."""

    def __init__(self, encoding: str | None, limit: int = MAX_ANSWER_BYTES) -> None:
        self.limit = limit
        self.total = 0
        enc = (encoding or "identity").strip().lower()
        if enc in ("", "identity"):
            self._z: zlib._Decompress | None = None
        elif enc in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise UnreadableAnswer(f"unsupported content-encoding {enc[:20]}")
        self._raw_deflate_tried = enc != "deflate"

    def _count(self, piece: bytes) -> bytes:
        self.total += len(piece)
        if self.total > self.limit:
            raise AnswerTooLarge(self.limit)
        return piece

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return self._count(data)
        out: list[bytes] = []
        pending = data
        try:
            while pending:
                piece = self._z.decompress(pending, self.limit - self.total + 1)
                out.append(self._count(piece))
                pending = self._z.unconsumed_tail
                if self._z.eof and self._z.unused_data:  # a second gzip member
                    pending = self._z.unused_data + pending
                    self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        except zlib.error:
            if not self._raw_deflate_tried and self.total == 0:  # "deflate" sent without the zlib header
                self._raw_deflate_tried = True
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(data)
            raise UnreadableAnswer("corrupt compressed answer") from None
        return b"".join(out)

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        try:
            return self._count(self._z.flush())
        except zlib.error:
            raise UnreadableAnswer("corrupt compressed answer") from None


# -- redirects -------------------------------------------------------------------------------------
def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def check_redirect(from_url: str, location: str | None) -> None:
    """Raise :class:`ForeignRedirect` when ``location`` leaves the origin of ``from_url``."""
    if not location:
        return
    target = urljoin(from_url, location)
    if origin(target) != origin(from_url):
        raise ForeignRedirect(urlsplit(target).hostname or target[:60])


# -- JSON ------------------------------------------------------------------------------------------
LARGE_ANSWER_BYTES = 4 * 1024 * 1024


def parse_json(data: bytes) -> object:
    """JSON from an answer; too deep or malformed becomes :class:`UnreadableAnswer`.

    A large answer is parsed with the standard library's pure-Python scanner: slower, but it lets
    other threads run every few milliseconds, where the C scanner holds the interpreter for the
    whole parse (0.7 s for 30 MB: the window would freeze that long while a worker reads it).
    """
    import json

    if not data.strip():
        return {}
    try:
        if len(data) > LARGE_ANSWER_BYTES:
            import json.scanner

            decoder = json.JSONDecoder()
            decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
            return decoder.decode(data.decode("utf-8"))
        return json.loads(data)
    except RecursionError:
        raise UnreadableAnswer("answer nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise UnreadableAnswer("malformed JSON") from None
