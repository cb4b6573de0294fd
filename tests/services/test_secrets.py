"""The secret store: keyring round trips, shards for long secrets, plain errors, session-only fallback."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordSetError

from gemtune_desktop.logging_setup import redact
from gemtune_desktop.services.secrets import (
    SHARD_UNITS,
    KeyringUnavailable,
    SecretStore,
    split_utf16,
)
from tests.helpers.keyrings import LockedKeyring, MemoryKeyring

WINDOWS_LIMIT = 1280


class WindowsLikeKeyring(MemoryKeyring):
    """Refuses values longer than Windows' Credential Locker allows (1,280 UTF-16 units)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) // 2 > WINDOWS_LIMIT:
            raise PasswordSetError("The stub received bad data.")
        super().set_password(service, username, password)


class HangingKeyring(KeyringBackend):
    """Never answers until released, like a Secret Service call waiting on an unlock prompt."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(30)


def fake_service_account(private_key_body: str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7") -> str:
    """A synthetic service-account JSON about as long as a real one (~2.3k characters)."""
    body = "\n".join((private_key_body * 40)[i:i + 64] for i in range(0, 1700, 64))
    return json.dumps({
        "type": "service_account", "project_id": "demo-project", "private_key_id": "0123456789abcdef0123456789",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n",
        "client_email": "tuner@demo-project.iam.gserviceaccount.com", "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    })


@pytest.fixture
def windows_keyring() -> Iterator[WindowsLikeKeyring]:
    previous = keyring.get_keyring()
    backend = WindowsLikeKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_round_trip_change_and_remove(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.get("gemini-api-key") is None
    store.set("gemini-api-key", "AIzaFirstKey-0000000000000000000")
    assert store.get("gemini-api-key") == "AIzaFirstKey-0000000000000000000"
    assert memory_keyring.store[("gemtune-desktop", "gemini-api-key")] == "AIzaFirstKey-0000000000000000000"
    store.set("gemini-api-key", "AIzaSecondKey-111111111111111111")
    assert SecretStore().get("gemini-api-key") == "AIzaSecondKey-111111111111111111"
    store.delete("gemini-api-key")
    assert store.get("gemini-api-key") is None
    assert memory_keyring.store == {}
    store.delete("gemini-api-key")  # removing twice is fine


def test_long_secret_is_sharded_and_read_back(windows_keyring: WindowsLikeKeyring) -> None:
    secret = fake_service_account()
    assert len(secret) > 2000
    store = SecretStore()
    store.set("service-account-key", secret)
    entries = {user: value for (_svc, user), value in windows_keyring.store.items()}
    assert all(len(v) <= WINDOWS_LIMIT for v in entries.values())
    shards = sorted(u for u in entries if u.startswith("service-account-key#"))
    assert len(shards) >= 3
    assert secret not in entries["service-account-key"]  # the main entry is only a manifest
    assert SecretStore().get("service-account-key") == secret

    # A shorter replacement leaves no stale shards behind.
    shorter = secret[:1500]
    store.set("service-account-key", shorter)
    assert SecretStore().get("service-account-key") == shorter
    assert len([u for (_s, u) in windows_keyring.store if u.startswith("service-account-key#")]) == 2

    store.delete("service-account-key")
    assert windows_keyring.store == {}


def test_shards_never_split_a_character() -> None:
    value = "a" * (SHARD_UNITS - 1) + "😀" + "b" * 10
    pieces = split_utf16(value)
    assert "".join(pieces) == value
    assert pieces[1].startswith("😀")
    assert all(len(p.encode("utf-16-le")) // 2 <= SHARD_UNITS for p in pieces)


def test_missing_shard_is_reported_plainly(windows_keyring: WindowsLikeKeyring) -> None:
    store = SecretStore()
    store.set("service-account-key", fake_service_account())
    del windows_keyring.store[("gemtune-desktop", "service-account-key#2")]
    with pytest.raises(KeyringUnavailable, match="incomplete"):
        SecretStore().get("service-account-key")


def test_no_keyring_backend_is_explained_and_session_only_works() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = SecretStore()
        status = store.probe()
        assert status.usable is False
        assert "no system keychain" in status.message
        with pytest.raises(KeyringUnavailable) as info:
            store.set("gemini-api-key", "AIzaSessionOnly-22222222222222222")
        assert "AIzaSessionOnly" not in str(info.value)
        store.set("gemini-api-key", "AIzaSessionOnly-22222222222222222", remember=False)
        assert store.get("gemini-api-key") == "AIzaSessionOnly-22222222222222222"
        assert store.is_session_only("gemini-api-key")
        store.delete("gemini-api-key")
        assert not store.is_session_only("gemini-api-key")
    finally:
        keyring.set_keyring(previous)


def test_locked_keychain_is_explained() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        store = SecretStore()
        assert store.probe().message == "The system keychain is locked."
        with pytest.raises(KeyringUnavailable, match="locked"):
            store.get("gemini-api-key")
    finally:
        keyring.set_keyring(previous)


def test_refused_write_is_explained(windows_keyring: WindowsLikeKeyring) -> None:
    class RefusingKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise PasswordSetError("denied")

    keyring.set_keyring(RefusingKeyring())
    with pytest.raises(KeyringUnavailable, match="refused to save"):
        SecretStore().set("gemini-api-key", "AIzaRefused-3333333333333333333")


def test_hanging_keychain_times_out_and_is_not_asked_again() -> None:
    previous = keyring.get_keyring()
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    try:
        store = SecretStore(timeout_s=0.2)
        status = store.probe()
        assert status.usable is False
        assert "did not answer" in status.message
        with pytest.raises(KeyringUnavailable, match="did not answer"):
            store.get("gemini-api-key")
        store.set("gemini-api-key", "AIzaWhileHanging-4444444444444444", remember=False)
        assert store.get("gemini-api-key") == "AIzaWhileHanging-4444444444444444"
        # Once the stuck call returns (the keychain was unlocked), the keychain is asked again.
        backend.release.set()
        keyring.set_keyring(MemoryKeyring())
        store.timeout_s = 10
        for thread in [t for t in threading.enumerate() if t.name == "keyring-call"]:
            thread.join(10)
        assert store.probe().usable
    finally:
        backend.release.set()
        keyring.set_keyring(previous)


def test_saved_secrets_are_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    sa = fake_service_account("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w")
    store = SecretStore()
    store.set("gemini-api-key", "plainsecret-value-without-google-prefix")
    store.set("service-account-key", sa)
    private_key = json.loads(sa)["private_key"]
    line = f"debug: key={'plainsecret-value-without-google-prefix'} body={private_key.splitlines()[3]}"
    cleaned = redact(line)
    assert "plainsecret-value-without-google-prefix" not in cleaned
    assert private_key.splitlines()[3] not in cleaned
    with caplog.at_level(logging.DEBUG):
        SecretStore().get("service-account-key")
    assert all(sa not in r.getMessage() for r in caplog.records)
