"""The in-app Sandbox: one process-wide server, started lazily on first use (thread-safe).

``ConnectionManager.sandbox_url()`` calls :func:`ensure_running`; tests install their own
server with :func:`use_server` so the app and the test talk to the same emulator.

The in-app server listens on 127.0.0.1 only and requires a per-run token (a fresh random one
each time it starts) on every request; the URL :func:`ensure_running` returns is a
:class:`~gemtune_desktop.sandbox.server.SandboxURL` that carries it, and the app's
``BackendSession`` sends it.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from gemtune_desktop.sandbox.server import SandboxServer, SandboxURL

_lock = threading.Lock()
_server: SandboxServer | None = None
_installed = False  # True when a test installed the server: its pace is the test's to set


def ensure_running(state_dir: Path, steps_per_second: float = 4.0) -> SandboxURL:
    """Base URL of the in-app Sandbox, starting it (state kept in ``state_dir``) if needed."""
    global _server, _installed
    with _lock:
        if _server is not None and not _installed and _server.state.state_dir != Path(state_dir):
            _server.stop()  # the app's data folder moved (tests give every test its own)
            _server = None
        if _server is None or not _server.running:
            server = SandboxServer(state_dir=state_dir, steps_per_second=steps_per_second,
                                   token=secrets.token_urlsafe(24))
            server.start()
            _server, _installed = server, False
        elif not _installed and steps_per_second > 0 and _server.steps_per_second != steps_per_second:
            _server.steps_per_second = steps_per_second  # the pace setting changed
        return _server.base_url


def use_server(server: SandboxServer | None) -> None:
    """Install ``server`` (already started) as the in-app Sandbox; ``None`` forgets it.

    An installed server keeps its own pace: :func:`ensure_running` does not change it.
    """
    global _server, _installed
    with _lock:
        _server, _installed = server, server is not None


def current() -> SandboxServer | None:
    with _lock:
        return _server


def shutdown() -> None:
    """Stop the in-app Sandbox (at app exit)."""
    global _server, _installed
    with _lock:
        server, _server, _installed = _server, None, False
    if server is not None:
        server.stop()
