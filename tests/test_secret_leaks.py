"""No secret leaks: after a scripted session that sets, uses and changes an API key and a
service-account key, no file under the app's folders or the project, no log record, no
diagnostics text and no error message contains them.

The session goes through the real dialog, the real ConnectionManager and the real google-genai
SDK over HTTP to the Sandbox. The Gemini API connection is pointed at the Sandbox with the
SDK's own ``GOOGLE_GEMINI_BASE_URL`` (so the user's key travels as ``x-goog-api-key``), the
Agent Platform connection with ``GOOGLE_VERTEX_BASE_URL`` and a service-account key whose
``token_uri`` is the Sandbox (which refuses it, so the failure path is exercised too).
"""

from __future__ import annotations

import json
import logging
import secrets as pysecrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from gemtune_desktop import crash, logging_setup, paths
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.backend import API_KEY_SECRET, SERVICE_ACCOUNT_SECRET
from gemtune_desktop.services.connections import ConnectionKind
from gemtune_desktop.ui.settings.connections_dialog import ConnectionsDialog


def make_service_account(token_uri: str) -> tuple[str, list[str]]:
    """A synthetic service-account JSON with a freshly made RSA key; (json, secret markers)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    key_id = pysecrets.token_hex(20)
    raw = json.dumps({
        "type": "service_account", "project_id": "leak-test-project", "private_key_id": key_id,
        "private_key": pem, "client_email": "leak-test@leak-test-project.iam.gserviceaccount.com",
        "client_id": "123456789012345678901", "token_uri": token_uri,
    }, indent=2)
    body = [line for line in pem.splitlines() if "PRIVATE KEY" not in line]
    # The key id, and several lines from the middle of the key body (any one is a leak).
    return raw, [key_id, body[3], body[len(body) // 2], body[-2]]


@pytest.fixture
def log_file_handler() -> Iterator[Path]:
    """The app's real rotating log file (with its redacting formatter), at DEBUG, for this test."""
    root = logging.getLogger()
    old = [h for h in root.handlers if getattr(h, "_gemtune", False)]
    for handler in old:
        root.removeHandler(handler)
    level = root.level
    logging_setup.setup_logging(logging.DEBUG)
    ours = [h for h in root.handlers if getattr(h, "_gemtune", False)]
    yield Path(logging_setup.log_file())
    for handler in ours:
        root.removeHandler(handler)
        handler.close()
    for handler in old:
        root.addHandler(handler)
    root.setLevel(level)


def files_under(roots: list[Path]) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(p for p in root.rglob("*") if p.is_file())
    return found


def wait_idle(ctx, qtbot) -> None:
    qtbot.waitUntil(lambda: not ctx.executor.busy(), timeout=30000)


def save_dialog(dialog: ConnectionsDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def test_no_secret_leaks_after_a_scripted_session(ctx, qtbot, sandbox, tmp_path: Path, caplog, log_file_handler,
                                                  monkeypatch: pytest.MonkeyPatch, memory_keyring) -> None:
    caplog.set_level(logging.DEBUG)
    base = sandbox.base_url if sandbox.base_url.endswith("/") else sandbox.base_url + "/"
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", base)
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", base)

    api_key_1 = "AIzaLeak1" + pysecrets.token_urlsafe(24).replace("-", "x")
    api_key_2 = "AIzaLeak2" + pysecrets.token_urlsafe(24).replace("-", "x")
    sa_1, sa_1_markers = make_service_account(f"{base}token")
    sa_2, sa_2_markers = make_service_account(f"{base}token")
    markers = [api_key_1, api_key_2, *sa_1_markers, *sa_2_markers]
    key_files = [tmp_path / "keys" / "sa-1.json", tmp_path / "keys" / "sa-2.json"]
    key_files[0].parent.mkdir()
    key_files[0].write_text(sa_1, encoding="utf-8")
    key_files[1].write_text(sa_2, encoding="utf-8")

    # A project is open during the session.
    from gemtune_desktop.core.project.store import ProjectStore

    project_path = tmp_path / "projects" / "leak-test.gemtune"
    project_path.parent.mkdir()
    store = ProjectStore.create(project_path)

    errors: list[UserError] = []
    results: list[str] = []

    # 1. Set the API key through the dialog, use the Gemini API connection.
    dialog = ConnectionsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.secrets.keyring_status is not None, timeout=10000)
    dialog.kind_list.setCurrentRow(2)
    qtbot.keyClicks(dialog.api_key_page.key_edit, api_key_1)
    # "Test connection" with the typed, not yet saved key.
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30000)
    assert dialog.test_result.text().startswith("✔"), dialog.test_result.text()
    qtbot.mouseClick(dialog.api_key_page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.secrets.states[API_KEY_SECRET] == "keyring", timeout=10000)
    dialog.choose_active(ConnectionKind.GEMINI_API)
    with qtbot.waitSignal(ctx.connections.reachability_changed, timeout=30000,
                          check_params_cb=lambda ok, _t: ok is not None):
        save_dialog(dialog)
    assert ctx.connections.reachable is True, ctx.connections.reachability_text

    def generate(token: CancelToken) -> str:
        client = ctx.connections.session().client(timeout_s=30)
        reply = client.models.generate_content(model="gemini-3.5-flash", contents="Say hello")
        return str(reply.text)

    def use_connection() -> None:
        TaskSlot(ctx, ctx.executor).start(generate, on_result=results.append, on_error=errors.append)
        wait_idle(ctx, qtbot)

    use_connection()
    assert results, errors
    assert any("generateContent" in r.path for r in sandbox.requests)

    # A failing call with the key in flight: the error is explained without the key.
    sandbox.faults.add(route="generateContent", kind="status", status=400, count=1)
    use_connection()
    sandbox.faults.clear()

    # 2. Change the API key, use it again.
    dialog = ConnectionsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.secrets.keyring_status is not None, timeout=10000)
    dialog.kind_list.setCurrentRow(2)
    qtbot.mouseClick(dialog.api_key_page.change_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.api_key_page.key_edit, api_key_2)
    qtbot.mouseClick(dialog.api_key_page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: memory_keyring.store.get(("gemtune-desktop", API_KEY_SECRET)) == api_key_2,
                    timeout=10000)
    wait_idle(ctx, qtbot)
    use_connection()
    assert len(results) >= 2

    # 3. Import a service-account key (sharded in the keyring), use it, then replace it.
    dialog.kind_list.setCurrentRow(1)
    dialog.cloud_page.project_edit.setText("leak-test-project")
    dialog.cloud_page.auth_sa.setChecked(True)
    for key_file in key_files:
        dialog.cloud_page.key_file_edit.setText(str(key_file))
        qtbot.mouseClick(dialog.cloud_page.import_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not ctx.executor.busy(), timeout=10000)
        assert dialog.secrets.states[SERVICE_ACCOUNT_SECRET] == "keyring"
        # Test the Agent Platform profile: the Sandbox refuses the token request, in plain words.
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30000)
        assert dialog.test_result.text().startswith("✖ Google Cloud sign-in failed.")
        results.append(dialog.test_result.text())
    dialog.cloud_page.key_file_edit.clear()  # the user deleted the file; the keyring copy is used
    dialog.choose_active(ConnectionKind.AGENT_PLATFORM)
    with qtbot.waitSignal(ctx.connections.reachability_changed, timeout=30000,
                          check_params_cb=lambda ok, _t: ok is not None):
        save_dialog(dialog)
    assert ctx.connections.reachable is False
    assert ctx.connections.profile.service_account_in_keyring
    assert ctx.secrets.get(SERVICE_ACCOUNT_SECRET) == sa_2
    wait_idle(ctx, qtbot)

    # 4. An unexpected exception with the key in its text ends up in a crash report.
    report = crash.make_report(ValueError, ValueError(f"unexpected: {api_key_2} {sa_2}"), None)
    diagnostics = crash.diagnostics_text(ctx.connections.active_kind.value, [report])

    ctx.settings.sync()
    store.close()
    for handler in logging.getLogger().handlers:
        handler.flush()

    # -- nothing leaked ------------------------------------------------------------------------
    app_dirs = paths.all_app_dirs()
    scanned = files_under([*app_dirs, project_path.parent])
    assert any(p.name == "settings.ini" for p in scanned)
    assert project_path in scanned
    assert log_file_handler in scanned
    for path in scanned:
        data = path.read_bytes()
        for marker in markers:
            for encoded in (marker.encode("utf-8"), marker.encode("utf-16-le")):
                assert encoded not in data, f"a secret was written to {path}"

    log_text = log_file_handler.read_text(encoding="utf-8")
    assert log_text  # the session was logged
    assert all(marker not in log_text for marker in markers)
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert all(marker not in text for marker in markers), f"log record {record.name}: leaked"

    assert errors, "the injected failure was reported"
    for err in errors:
        for text in (str(err), err.message, err.hint, err.detail):
            assert all(marker not in text for marker in markers)
    for text in [*results, report.summary, report.details, diagnostics]:
        assert all(marker not in text for marker in markers)
    for widget in dialog.findChildren(QWidget):
        shown = " ".join(str(getattr(widget, attr)()) for attr in ("toolTip", "accessibleName")
                         if hasattr(widget, attr))
        text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
        assert all(marker not in f"{shown} {text}" for marker in markers)
