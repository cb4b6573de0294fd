"""Settings → Connections: choosing the connection, saving/changing/removing secrets, testing a profile."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialogButtonBox,
    QDoubleSpinBox,
    QLineEdit,
    QListWidget,
    QWidget,
)

from gemtune_desktop.services.backend import API_KEY_SECRET, SERVICE_ACCOUNT_SECRET
from gemtune_desktop.services.connections import AuthMode, Backend, ConnectionKind
from gemtune_desktop.ui.settings.connections_dialog import ConnectionsDialog
from tests.helpers.keyrings import LockedKeyring, MemoryKeyring
from tests.services.test_secrets import WindowsLikeKeyring, fake_service_account

API_KEY = "AIzaDialogTestKey-0123456789abcdefghij"
NEW_API_KEY = "AIzaDialogTestKey-second-9876543210zyx"


def open_dialog(ctx, qtbot) -> ConnectionsDialog:
    dialog = ConnectionsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.secrets.keyring_status is not None, timeout=10000)
    return dialog


def wait_idle(ctx, qtbot) -> None:
    qtbot.waitUntil(lambda: not ctx.executor.busy(), timeout=10000)


def files_containing(root: Path, needle: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(path)
    return hits


@pytest.fixture
def broken_keyring(request: pytest.FixtureRequest) -> Iterator[object]:
    previous = keyring.get_keyring()
    backend = request.param()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_every_control_has_a_tooltip_and_accessible_name(fake_ctx, qtbot) -> None:
    dialog = open_dialog(fake_ctx, qtbot)
    kinds = (QAbstractButton, QLineEdit, QComboBox, QDoubleSpinBox, QListWidget)
    controls = [w for w in dialog.findChildren(QWidget) if isinstance(w, kinds)
                and not isinstance(w.parent(), QComboBox | QDoubleSpinBox)]
    assert len(controls) >= 15
    missing = [w.objectName() or w.text() for w in controls if not w.toolTip() or not w.accessibleName()]
    assert missing == []
    # Each connection is explained in plain words.
    texts = {kind: dialog.findChild(object, f"explain_{kind.value}").text() for kind in ConnectionKind}
    assert "offline" in texts[ConnectionKind.SANDBOX] and "simulat" in texts[ConnectionKind.SANDBOX]
    assert "Tune for real" in texts[ConnectionKind.AGENT_PLATFORM]
    assert "2025" in texts[ConnectionKind.GEMINI_API]


def test_sandbox_is_the_default_and_in_use(fake_ctx, qtbot) -> None:
    dialog = open_dialog(fake_ctx, qtbot)
    assert dialog.active_kind is ConnectionKind.SANDBOX
    assert dialog.current_kind() is ConnectionKind.SANDBOX
    assert "in use" in dialog.kind_list.item(0).text()
    assert not dialog.sandbox_page.use_button.isEnabled()


def test_set_change_and_remove_the_api_key(fake_ctx, qtbot, memory_keyring: MemoryKeyring, app_home: Path) -> None:
    dialog = open_dialog(fake_ctx, qtbot)
    dialog.kind_list.setCurrentRow(2)
    assert dialog.secrets.states[API_KEY_SECRET] == "none"
    assert not dialog.api_key_page.save_button.isEnabled()
    assert not dialog.api_key_page.remove_button.isEnabled()

    qtbot.keyClicks(dialog.api_key_page.key_edit, API_KEY)
    # Masked while typing; Show reveals it, Hide masks it again.
    assert dialog.api_key_page.key_edit.echoMode() is QLineEdit.EchoMode.Password
    assert API_KEY not in dialog.api_key_page.key_edit.displayText()
    qtbot.mouseClick(dialog.api_key_page.show_key_button, Qt.MouseButton.LeftButton)
    assert dialog.api_key_page.key_edit.displayText() == API_KEY
    assert dialog.api_key_page.show_key_button.text() == "Hide"
    qtbot.mouseClick(dialog.api_key_page.show_key_button, Qt.MouseButton.LeftButton)
    assert dialog.api_key_page.key_edit.echoMode() is QLineEdit.EchoMode.Password

    qtbot.mouseClick(dialog.api_key_page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.secrets.states[API_KEY_SECRET] == "keyring", timeout=10000)
    wait_idle(fake_ctx, qtbot)
    assert memory_keyring.store[("gemtune-desktop", API_KEY_SECRET)] == API_KEY
    assert dialog.api_key_page.key_edit.text() == ""
    assert not dialog.api_key_page.key_edit.isEnabled()
    assert "saved in the system keychain" in dialog.api_key_page.status.text()
    assert dialog.api_key_page.change_button.isEnabled() and dialog.api_key_page.remove_button.isEnabled()

    # Change: the old key stays until the new one is saved.
    qtbot.mouseClick(dialog.api_key_page.change_button, Qt.MouseButton.LeftButton)
    assert dialog.api_key_page.key_edit.isEnabled()
    assert memory_keyring.store[("gemtune-desktop", API_KEY_SECRET)] == API_KEY
    qtbot.keyClicks(dialog.api_key_page.key_edit, NEW_API_KEY)
    qtbot.mouseClick(dialog.api_key_page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: memory_keyring.store.get(("gemtune-desktop", API_KEY_SECRET)) == NEW_API_KEY,
                    timeout=10000)
    wait_idle(fake_ctx, qtbot)

    # A new dialog sees the saved key.
    dialog.close()
    again = open_dialog(fake_ctx, qtbot)
    assert again.secrets.states[API_KEY_SECRET] == "keyring"
    assert "A key is saved" in again.api_key_page.status.text()

    qtbot.mouseClick(again.api_key_page.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: again.secrets.states[API_KEY_SECRET] == "none", timeout=10000)
    wait_idle(fake_ctx, qtbot)
    assert ("gemtune-desktop", API_KEY_SECRET) not in memory_keyring.store
    assert "removed" in again.api_key_page.status.text()
    fake_ctx.settings.sync()
    assert files_containing(app_home, API_KEY) == []
    assert files_containing(app_home, NEW_API_KEY) == []


@pytest.mark.parametrize("broken_keyring", [fail.Keyring, LockedKeyring], indirect=True,
                         ids=["no-keyring", "locked"])
def test_unusable_keyring_offers_session_only(fake_ctx, qtbot, broken_keyring, app_home: Path) -> None:
    dialog = open_dialog(fake_ctx, qtbot)
    assert dialog.secrets.keyring_status is not None and not dialog.secrets.keyring_status.usable
    assert not dialog.banner.isVisible()  # the Sandbox needs no secret, so the keychain is not its business

    dialog.kind_list.setCurrentRow(2)
    assert dialog.banner.isVisible()
    assert "keychain" in dialog.banner.message.text()
    qtbot.keyClicks(dialog.api_key_page.key_edit, API_KEY)
    qtbot.mouseClick(dialog.api_key_page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.banner.session_only_button.isVisible(), timeout=10000)
    wait_idle(fake_ctx, qtbot)
    assert "session only" in dialog.banner.message.text()
    assert dialog.api_key_page.key_edit.text() == API_KEY  # nothing typed is lost
    assert dialog.secrets.states[API_KEY_SECRET] == "none"

    qtbot.mouseClick(dialog.banner.session_only_button, Qt.MouseButton.LeftButton)
    assert dialog.secrets.states[API_KEY_SECRET] == "session"
    assert fake_ctx.secrets.get(API_KEY_SECRET) == API_KEY
    assert fake_ctx.secrets.is_session_only(API_KEY_SECRET)
    assert "this session only" in dialog.api_key_page.status.text()
    assert not dialog.banner.session_only_button.isVisible()

    fake_ctx.settings.sync()
    assert files_containing(app_home, API_KEY) == []


def test_service_account_key_is_imported_in_shards(fake_ctx, qtbot, tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    backend = WindowsLikeKeyring()
    keyring.set_keyring(backend)
    try:
        raw = fake_service_account()
        key_file = tmp_path / "key.json"
        key_file.write_text(raw, encoding="utf-8")
        dialog = open_dialog(fake_ctx, qtbot)
        dialog.kind_list.setCurrentRow(1)
        assert not dialog.cloud_page.import_button.isEnabled()
        dialog.cloud_page.auth_sa.setChecked(True)
        dialog.cloud_page.key_file_edit.setText(str(key_file))
        qtbot.mouseClick(dialog.cloud_page.import_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.secrets.states[SERVICE_ACCOUNT_SECRET] == "keyring", timeout=10000)
        wait_idle(fake_ctx, qtbot)
        assert all(len(v) <= 1280 for v in backend.store.values())
        assert fake_ctx.secrets.get(SERVICE_ACCOUNT_SECRET) == raw
        assert "tuner@demo-project.iam.gserviceaccount.com" in dialog.cloud_page.status.text() or \
            "stored in the system keychain" in dialog.cloud_page.status.text()
        assert fake_ctx.connections.profiles()[ConnectionKind.AGENT_PLATFORM].service_account_in_keyring

        qtbot.mouseClick(dialog.cloud_page.remove_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.secrets.states[SERVICE_ACCOUNT_SECRET] == "none", timeout=10000)
        wait_idle(fake_ctx, qtbot)
        assert backend.store == {}
        assert not fake_ctx.connections.profiles()[ConnectionKind.AGENT_PLATFORM].service_account_in_keyring
    finally:
        keyring.set_keyring(previous)


def test_a_file_that_is_not_a_key_is_refused_plainly(fake_ctx, qtbot, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.json"
    bogus.write_text(json.dumps({"hello": "world"}), encoding="utf-8")
    dialog = open_dialog(fake_ctx, qtbot)
    dialog.kind_list.setCurrentRow(1)
    dialog.cloud_page.auth_sa.setChecked(True)
    dialog.cloud_page.key_file_edit.setText(str(bogus))
    qtbot.mouseClick(dialog.cloud_page.import_button, Qt.MouseButton.LeftButton)
    assert "notes.json is not a service-account key" in dialog.cloud_page.status.text()
    assert dialog.secrets.states[SERVICE_ACCOUNT_SECRET] == "none"


def test_cloud_profile_is_saved_and_bad_project_is_refused(fake_ctx, qtbot) -> None:
    dialog = open_dialog(fake_ctx, qtbot)
    dialog.kind_list.setCurrentRow(1)
    dialog.cloud_page.project_edit.setText("My Project")
    dialog.cloud_page.bucket_edit.setText("gs://tuning-data/")
    dialog.cloud_page.region_combo.setCurrentIndex(dialog.cloud_page.region_combo.findData("europe-west4"))
    dialog.choose_active(ConnectionKind.AGENT_PLATFORM)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.isVisible()
    assert "project ID" in dialog.error_label.text()
    assert dialog.current_kind() is ConnectionKind.AGENT_PLATFORM
    assert fake_ctx.connections.active_kind is ConnectionKind.SANDBOX

    dialog.cloud_page.project_edit.setText("my-tuning-project")
    dialog.cloud_page.auth_sa.setChecked(True)
    dialog.cloud_page.key_file_edit.setText("/keys/sa.json")
    with qtbot.waitSignal(fake_ctx.connections.connection_changed, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert not dialog.isVisible()
    profile = fake_ctx.connections.profile
    assert profile.kind is ConnectionKind.AGENT_PLATFORM
    assert (profile.project, profile.region, profile.bucket) == ("my-tuning-project", "europe-west4",
                                                                 "tuning-data")
    assert profile.auth_mode is AuthMode.SERVICE_ACCOUNT
    assert profile.service_account_file == "/keys/sa.json"
    wait_idle(fake_ctx, qtbot)
    qtbot.waitUntil(lambda: fake_ctx.connections.reachable is not None, timeout=15000)


def test_sandbox_settings_are_saved(fake_ctx, qtbot) -> None:
    from gemtune_desktop.qtcore import settings as S

    dialog = open_dialog(fake_ctx, qtbot)
    dialog.sandbox_page.sandbox_api.setCurrentIndex(dialog.sandbox_page.sandbox_api.findData(Backend.GEMINI_API.value))
    dialog.sandbox_page.sandbox_speed.setValue(25.0)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert fake_ctx.connections.profile.sandbox_backend is Backend.GEMINI_API
    assert fake_ctx.settings.get(S.SANDBOX_STEPS_PER_SECOND) == 25.0
    assert "Gemini API" in fake_ctx.connections.profile.label


def test_switching_to_an_api_key_without_a_key_shows_a_plain_reason(main_window, qtbot) -> None:
    ctx = main_window.ctx
    wait_idle(ctx, qtbot)
    qtbot.waitUntil(lambda: not ctx.connections.checking, timeout=15000)
    dialog = open_dialog(ctx, qtbot)
    dialog.choose_active(ConnectionKind.GEMINI_API)
    with qtbot.waitSignal(ctx.connections.reachability_changed, timeout=5000,
                          check_params_cb=lambda ok, _t: ok is False):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    label = main_window.connection_label.text()
    assert label.startswith("Gemini API key") and "✖ not reachable" in label
    assert "cannot be used: No Gemini API key is saved." in main_window.connection_bar.text()  # said in one place
    # The tooltip says what to do about it (the connection manager's hint), not just that it failed.
    hint = ctx.connections.reachability_hint
    assert hint and main_window.connection_label.toolTip() == hint


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_test_connection_reports_could_not_reach(ctx, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setattr(ctx.connections, "sandbox_url", lambda: f"http://127.0.0.1:{port}/")
    dialog = open_dialog(ctx, qtbot)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert not dialog.test_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20000)
    assert dialog.test_result.text().startswith("✖ Could not reach the service")


def test_test_connection_checks_the_typed_key_before_saving(ctx, qtbot, monkeypatch: pytest.MonkeyPatch,
                                                             memory_keyring: MemoryKeyring) -> None:
    # The typed (unsaved) key is what the test uses; an unreachable service proves the call was made.
    port = free_port()
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", f"http://127.0.0.1:{port}/")
    dialog = open_dialog(ctx, qtbot)
    dialog.kind_list.setCurrentRow(2)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20000)
    assert "No Gemini API key is saved" in dialog.test_result.text()

    qtbot.keyClicks(dialog.api_key_page.key_edit, API_KEY)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20000)
    assert dialog.test_result.text().startswith("✖ Could not reach the service")
    assert memory_keyring.store == {}


@pytest.mark.parametrize("flavour", [Backend.AGENT_PLATFORM, Backend.GEMINI_API], ids=["agent-platform", "gemini-api"])
def test_test_connection_against_the_sandbox_reports_reachable(ctx, qtbot, sandbox, flavour: Backend) -> None:
    dialog = open_dialog(ctx, qtbot)
    dialog.sandbox_page.sandbox_api.setCurrentIndex(dialog.sandbox_page.sandbox_api.findData(flavour.value))
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30000)
    assert dialog.test_result.text().startswith("✔ It works: reachable"), dialog.test_result.text()
    prefix = "/v1beta1/publishers/google/models" if flavour is Backend.AGENT_PLATFORM else "/v1beta/models"
    assert any(r.path.startswith(prefix) for r in sandbox.requests)


def test_status_bar_rechecks_when_the_active_connection_changes(main_window, qtbot, sandbox) -> None:
    ctx = main_window.ctx
    qtbot.waitUntil(lambda: ctx.connections.reachable is True, timeout=30000)
    assert "✔ reachable" in main_window.connection_label.text()
    sandbox.faults.add(route="models", kind="status", status=503)
    dialog = open_dialog(ctx, qtbot)
    dialog.sandbox_page.sandbox_api.setCurrentIndex(dialog.sandbox_page.sandbox_api.findData(Backend.GEMINI_API.value))
    with qtbot.waitSignal(ctx.connections.reachability_changed, timeout=30000,
                          check_params_cb=lambda ok, _t: ok is False):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    label = main_window.connection_label.text()
    assert label.startswith("Sandbox (Gemini API, simulated)") and "✖ not reachable" in label
    assert "cannot be used: The service is temporarily unavailable." in main_window.connection_bar.text()


def test_an_incomplete_stored_key_is_reported(fake_ctx, qtbot, memory_keyring: MemoryKeyring) -> None:
    fake_ctx.secrets.set(SERVICE_ACCOUNT_SECRET, fake_service_account())
    del memory_keyring.store[("gemtune-desktop", f"{SERVICE_ACCOUNT_SECRET}#2")]
    dialog = open_dialog(fake_ctx, qtbot)
    dialog.kind_list.setCurrentRow(1)
    assert "incomplete" in dialog.cloud_page.status.text()
    assert dialog.secrets.states[SERVICE_ACCOUNT_SECRET] == "broken"
    assert dialog.cloud_page.remove_button.isEnabled()
    qtbot.mouseClick(dialog.cloud_page.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.secrets.states[SERVICE_ACCOUNT_SECRET] == "none", timeout=10000)
    wait_idle(fake_ctx, qtbot)
    assert memory_keyring.store == {}


@pytest.mark.parametrize(("status", "expected"), [
    (401, "✖ The credentials were refused (not signed in, or the key is wrong)."),
    (403, "✖ Permission denied."),
    (503, "✖ The service is temporarily unavailable."),
], ids=["wrong-key", "no-permission", "unavailable"])
def test_test_connection_explains_refusals_plainly(ctx, qtbot, sandbox, status: int, expected: str) -> None:
    sandbox.faults.add(route="models", kind="status", status=status)
    dialog = open_dialog(ctx, qtbot)
    dialog.sandbox_page.sandbox_api.setCurrentIndex(dialog.sandbox_page.sandbox_api.findData(Backend.GEMINI_API.value))
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30000)
    assert dialog.test_result.text().startswith(expected), dialog.test_result.text()
    assert "Traceback" not in dialog.test_result.text()


def test_test_connection_says_when_google_cloud_sign_in_is_missing(ctx, qtbot, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # No gcloud sign-in on this "computer": an empty gcloud folder, and not a Google Cloud VM.
    from google.auth.compute_engine import _metadata

    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)
    dialog = open_dialog(ctx, qtbot)
    dialog.kind_list.setCurrentRow(1)
    dialog.cloud_page.project_edit.setText("my-tuning-project")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30000)
    assert dialog.test_result.text().startswith("✖ Google Cloud sign-in was not found on this computer."), \
        dialog.test_result.text()
    assert "gcloud auth application-default login" in dialog.test_result.text()


def test_test_connection_needs_a_project(ctx, qtbot) -> None:
    dialog = open_dialog(ctx, qtbot)
    dialog.kind_list.setCurrentRow(1)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30000)
    assert dialog.test_result.text().startswith("✖ No Google Cloud project is set for this connection.")


@pytest.mark.parametrize("broken_keyring", [fail.Keyring], indirect=True, ids=["no-keyring"])
def test_keychain_warning_only_for_connections_that_need_a_secret(fake_ctx, qtbot, broken_keyring) -> None:
    dialog = open_dialog(fake_ctx, qtbot)
    shown = {}
    for row, name in enumerate(("sandbox", "cloud", "api key")):
        dialog.kind_list.setCurrentRow(row)
        shown[name] = dialog.banner.isVisible()
    assert shown == {"sandbox": False, "cloud": False, "api key": True}  # Cloud signs in with gcloud by default
    dialog.kind_list.setCurrentRow(1)
    dialog.cloud_page.auth_sa.setChecked(True)  # a service-account key can be kept in the keychain
    assert dialog.banner.isVisible()
    dialog.cloud_page.auth_adc.setChecked(True)
    assert not dialog.banner.isVisible()


def test_a_key_kept_for_this_session_is_not_called_saved(fake_ctx, qtbot) -> None:
    fake_ctx.secrets.set(API_KEY_SECRET, API_KEY, remember=False)
    dialog = open_dialog(fake_ctx, qtbot)
    dialog.kind_list.setCurrentRow(2)
    qtbot.waitUntil(lambda: dialog.secrets.states[API_KEY_SECRET] == "session", timeout=10000)
    page = dialog.api_key_page
    assert "saved" not in page.key_edit.placeholderText() and "session" in page.key_edit.placeholderText()
    assert "session only" in page.status.text()
