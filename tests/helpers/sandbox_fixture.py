"""Pytest fixtures for the Sandbox emulator (loaded by ``tests/conftest.py``).

* ``sandbox``: a fresh :class:`SandboxServer` per test, fast (200 steps/s, short stream
  delays), state in the test's tmp folder, installed as the in-app Sandbox (so
  ``ConnectionManager.sandbox_url()`` returns it) and stopped afterwards.
* ``sandbox_session``: factory ``sandbox_session(Backend.AGENT_PLATFORM | Backend.GEMINI_API)`` →
  a :class:`BackendSession` for a Sandbox connection profile pointed at that server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gemtune_desktop.sandbox import runtime
from gemtune_desktop.sandbox.server import SandboxServer
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile

FAST_STEPS_PER_SECOND = 200.0
FAST_STREAM_DELAY_S = 0.02


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A running Sandbox for this test, also installed as the in-app one."""
    server = SandboxServer(state_dir=tmp_path / "sandbox-state", steps_per_second=FAST_STEPS_PER_SECOND)
    server.stream_delay_s = FAST_STREAM_DELAY_S
    server.start()
    runtime.use_server(server)
    try:
        yield server
    finally:
        if runtime.current() is server:
            runtime.use_server(None)
        server.stop()


@pytest.fixture
def sandbox_session(sandbox: SandboxServer) -> Iterator[Callable[..., BackendSession]]:
    """Factory: ``sandbox_session(Backend.AGENT_PLATFORM)`` → a BackendSession on the test's Sandbox."""
    from gemtune_desktop.services.secrets import SecretStore

    sessions: list[BackendSession] = []

    def make(backend: Backend = Backend.AGENT_PLATFORM) -> BackendSession:
        profile = ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=backend)
        session = BackendSession(profile, SecretStore(), sandbox_url=lambda: sandbox.base_url)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()
