"""Shared helpers for the Sandbox tests: training files, uploads and polling (no sleeps-as-assertions)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from gemtune_desktop.sandbox.server import SandboxServer
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.secrets import SecretStore

T = TypeVar("T")


def session_for(server: SandboxServer, backend: Backend) -> BackendSession:
    """A session on ``server`` as the Sandbox connection set to ``backend`` makes it."""
    profile = ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=backend)
    return BackendSession(profile, SecretStore(), sandbox_url=lambda: server.base_url)


@contextlib.contextmanager
def serving(state: Path | None, backend: Backend,
            steps_per_second: float = 4.0) -> Iterator[tuple[SandboxServer, BackendSession]]:
    """A Sandbox keeping its state in ``state`` and a session on it; both are closed when the block ends, so a
    server started after it (the app reopened) reads what this one wrote."""
    server = SandboxServer(state_dir=state, steps_per_second=steps_per_second).start()
    try:
        session = session_for(server, backend)
        try:
            yield server, session
        finally:
            session.close()
    finally:
        server.stop()


def sft_line(question: str, answer: str, system: str | None = None) -> str:
    obj: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": question}]},
                                        {"role": "model", "parts": [{"text": answer}]}]}
    if system:
        obj["systemInstruction"] = {"role": "system", "parts": [{"text": system}]}
    return json.dumps(obj)


CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Canada", "Ottawa"),
            ("Norway", "Oslo"), ("Egypt", "Cairo"), ("Chile", "Santiago"), ("India", "New Delhi"),
            ("Spain", "Madrid"), ("Italy", "Rome"), ("Ghana", "Accra")]


def capitals_jsonl(n: int = 12) -> str:
    rows = [(f"What is the capital of {c}?", a) for c, a in CAPITALS]
    rows += [(f"Question number {i}: what comes after {i}?", str(i + 1)) for i in range(max(0, n - len(rows)))]
    return "\n".join(sft_line(q, a) for q, a in rows[:n]) + "\n"


def upload(session: BackendSession, name: str, text: str) -> str:
    bucket = session.storage_client().bucket(session.bucket)
    bucket.blob(name).upload_from_string(text.encode("utf-8"), content_type="application/jsonl")
    return f"gs://{session.bucket}/{name}"


def wait_for(fetch: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 20.0) -> T:
    """Poll ``fetch`` until ``done``; fail (not hang) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached; last value: {value!r}")
        time.sleep(0.02)


# Preference examples: a lease-law help desk where the expert prefers the precise answer.
LEASE_TOPICS = ["notice period", "deposit return", "rent increase", "pets", "subletting", "repairs", "heating",
                "keys", "noise", "garden", "parking", "bins", "painting", "smoke alarms", "late rent", "break clause",
                "inventory", "guests", "insurance", "mould", "locks", "water", "meters", "visits"]


def lease_pairs(n: int = 24) -> list[tuple[str, str, str]]:
    """(prompt, preferred, dispreferred) triples, each about a different part of a lease."""
    return [(f"What does my lease say about {topic}?",
             f"Clause {i + 1} covers {topic}: the tenant must give written notice and keep a copy.",
             f"Leases vary a lot about {topic}; you should probably ask someone.")
            for i, topic in enumerate((LEASE_TOPICS * 3)[:n])]


def preference_jsonl(pairs: list[tuple[str, str, str]], system: str = "") -> str:
    """Agent Platform's preference JSONL, as GemTune uploads it."""
    from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
    from gemtune_desktop.core.preference.writers import upload_lines

    examples = [PreferenceExample(p, good, bad) for p, good, bad in pairs]
    return b"".join(upload_lines(examples, PreferenceSettings(system_instruction=system))).decode("utf-8")
