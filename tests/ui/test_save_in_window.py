"""Issue 13 in the real window: the window says what is really saved, and never loses what was typed.

The title and the status bar say "Saved" only when the .gemtune file alone holds the work; a write another
program blocks is one plain message with nothing in the undo history; a file replaced while open gets a bar
with "Save to a New File…" that keeps everything typed; a read-only project says so with a button; Ctrl+S
says where the file is; a project that stopped the app while opening is not reopened at the next start.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from gemtune_desktop import paths
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.save_state import SaveState
from gemtune_desktop.qtcore.undo import InsertRowsCommand
from gemtune_desktop.ui.dataset.tab import DatasetTab
from tests.reliability.helpers import ForeignWriteLock


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The message boxes the window opens (their text and informative text)."""
    shown: list[str] = []
    real_open = QMessageBox.open

    def record(box: QMessageBox) -> None:
        shown.append(f"{box.text()} {box.informativeText()}")
        real_open(box)

    monkeypatch.setattr(QMessageBox, "open", record)
    return shown


def _project(path: Path, n: int = 3) -> Path:
    s = ProjectSession.create(path)
    assert s.push(InsertRowsCommand(s, 0, [Example(f"Question {i}", f"Answer {i}") for i in range(n)], "seed"))
    s.close()
    return path


def _open(window: Any, path: Path, qtbot: Any) -> DatasetTab:
    tab = window.dataset_tab()
    window.show_tab("dataset")
    assert tab.files.open_project(path)
    qtbot.waitUntil(lambda: tab.session is not None and tab.session.path == path)
    return tab


def _activate(window: Any) -> None:
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))


def test_the_title_and_status_bar_say_saved_only_when_the_file_holds_the_work(fake_window: Any, qtbot: Any,
                                                                             tmp_path: Path) -> None:
    tab = _open(fake_window, _project(tmp_path / "Claims.gemtune"), qtbot)
    s = tab.session
    qtbot.waitUntil(lambda: s.save_state is SaveState.SAVED_IN_FILE, timeout=15000)
    assert fake_window.windowTitle() == "GemTune Desktop — Claims — Saved"
    assert fake_window.project_notices.label.text() == "Claims.gemtune — Saved"
    assert str(s.path) in fake_window.project_notices.label.toolTip()
    assert tab.project_label.text() == "Project: Claims — Saved"
    assert "saved automatically" not in tab.project_label.text()

    s.store.set_busy_timeout(50)
    tab.model.setData(tab.model.index(0, 1), "edited")
    if s.save_state is SaveState.PENDING:  # until the file itself holds it, it is not "Saved"
        assert fake_window.windowTitle().endswith("— Saving…")
    qtbot.waitUntil(lambda: fake_window.windowTitle().endswith("— Saved"), timeout=15000)


def test_a_write_another_program_blocks_is_one_message_and_no_undo_step(fake_window: Any, qtbot: Any,
                                                                       tmp_path: Path, boxes: list[str]) -> None:
    tab = _open(fake_window, _project(tmp_path / "Locked.gemtune"), qtbot)
    s = tab.session
    s.store.set_busy_timeout(50)
    tab.table.select_list_indices([1])
    history = s.undo_stack.count()
    with ForeignWriteLock(s.store.real_path):
        tab.detail.output_edit.setPlainText("typed while another program writes")
        tab.detail.flush()
        qtbot.waitUntil(lambda: len(boxes) == 1)
    assert boxes[0].startswith("The project could not be saved: another program is using “Locked.gemtune”.")
    assert s.undo_stack.count() == history and not tab.edit_actions.undo.text().endswith("Edit output")
    assert tab.detail.output_edit.toPlainText() == "Answer 1"  # not kept in the file, not kept on screen
    assert "Not saved" in fake_window.windowTitle()
    tab.detail.output_edit.setPlainText("typed again")  # the next change is saved, and the title says so
    tab.detail.flush()
    assert [e.output for e in repo.load_examples(s.store)][1] == "typed again"
    assert "Not saved" not in fake_window.windowTitle()
    assert len(boxes) == 1


def test_a_preamble_another_program_blocks_is_one_message_and_the_saved_text_comes_back(
        fake_window: Any, qtbot: Any, tmp_path: Path, boxes: list[str]) -> None:
    tab = _open(fake_window, _project(tmp_path / "Locked.gemtune"), qtbot)
    s = tab.session
    s.store.set_busy_timeout(50)
    panel = tab.settings_panel
    panel.preamble.setPlainText("Classify the clause:")
    panel.flush()
    history = s.undo_stack.count()
    with ForeignWriteLock(s.store.real_path):
        panel.preamble.setPlainText("typed while another program writes")
        panel.flush()
        qtbot.waitUntil(lambda: len(boxes) == 1)
    assert boxes[0].startswith("The project could not be saved: another program is using “Locked.gemtune”.")
    assert s.undo_stack.count() == history  # the failed change is not in the history
    qtbot.wait(200)
    assert len(boxes) == 1, "one failed change, one message"
    assert panel.preamble.toPlainText() == "Classify the clause:"  # what the file holds, shown again
    assert repo.load_settings(s.store).preamble == "Classify the clause:"
    panel.preamble.setPlainText("Classify:")  # the next change is saved
    panel.flush()
    assert repo.load_settings(s.store).preamble == "Classify:" and len(boxes) == 1


def test_a_file_replaced_while_open_gets_a_bar_and_save_to_a_new_file_keeps_everything(
        fake_window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, boxes: list[str]) -> None:
    path = _project(tmp_path / "Claims.gemtune")
    tab = _open(fake_window, path, qtbot)
    tab.table.select_list_indices([0])
    tab.settings_panel.preamble.setPlainText("Classify:")
    tab.settings_panel.flush()
    _project(tmp_path / "incoming.gemtune", 1)
    os.replace(tmp_path / "incoming.gemtune", path)  # a sync client puts another file in its place

    _activate(fake_window)
    bar = fake_window.project_notices.bar
    assert bar.isVisible() and "replaced by another file" in bar.text()
    assert "Not saved" in fake_window.windowTitle()
    assert bar.buttons[0].text() == "Save to a &New File…" and bar.buttons[0].isVisible()
    assert not tab.model.flags(tab.model.index(0, 1)) & tab.model.flags(tab.model.index(0, 1)).ItemIsEditable

    tab.detail.output_edit.setPlainText("typed after the file was replaced")  # held, never lost
    tab.detail.flush()
    assert tab.detail.output_edit.toPlainText() == "typed after the file was replaced"

    dest = tmp_path / "Rescued.gemtune"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    bar.buttons[0].click()
    assert tab.session.path == dest and not bar.isVisible()
    rows = repo.load_examples(tab.session.store)
    assert [e.output for e in rows] == ["typed after the file was replaced", "Answer 1", "Answer 2"]
    assert repo.load_settings(tab.session.store).preamble == "Classify:"
    assert tab.edit_actions.undo.isEnabled()  # the undo history came along
    assert fake_window.windowTitle().startswith("GemTune Desktop — Rescued — ")
    assert not any("could not be saved" in b for b in boxes)


def test_ctrl_s_writes_the_file_itself_and_says_where_it_is(fake_window: Any, qtbot: Any, tmp_path: Path) -> None:
    tab = _open(fake_window, _project(tmp_path / "Claims.gemtune"), qtbot)
    tab.model.setData(tab.model.index(2, 1), "the last edit")
    message = tab.files.save_now()
    assert message == f"Saved: all your work is in {tmp_path / 'Claims.gemtune'}"
    assert fake_window.statusBar().currentMessage() == message
    copy = tmp_path / "mailed.gemtune"
    shutil.copyfile(tmp_path / "Claims.gemtune", copy)  # the one file alone, as an e-mail attachment
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT output FROM examples ORDER BY pos").fetchall()[2] == ("the last edit",)
    finally:
        conn.close()


def test_leaving_the_window_writes_what_was_typed(fake_window: Any, qtbot: Any, tmp_path: Path) -> None:
    tab = _open(fake_window, _project(tmp_path / "Claims.gemtune"), qtbot)
    tab.table.select_list_indices([0])
    tab.detail.input_edit.setPlainText("typed, then switched to the mail program")
    QApplication.sendEvent(fake_window, QEvent(QEvent.Type.WindowDeactivate))
    assert repo.load_examples(tab.session.store)[0].input == "typed, then switched to the mail program"


def test_a_read_only_project_says_so_and_a_copy_can_be_edited(fake_window: Any, qtbot: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = _project(tmp_path / "Shared.gemtune")
    tab = fake_window.dataset_tab()
    tab.files.opened.emit(ProjectSession.open(path, read_only=True))
    bar = fake_window.project_notices.bar
    assert bar.isVisible() and bar.text().startswith("⚠ Read-only: save a copy to edit.")
    assert "Read-only: save a copy to edit" in fake_window.windowTitle()
    assert not tab.settings_panel.isEnabled() and not tab.edit_actions.add.isEnabled()
    dest = tmp_path / "Mine.gemtune"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    bar.buttons[0].click()
    assert tab.session.path == dest and tab.session.can_edit and not bar.isVisible()
    assert tab.settings_panel.isEnabled() and tab.edit_actions.add.isEnabled()
    tab.table.select_list_indices([0])
    assert tab.detail.input_edit.isEnabled()


def test_repairs_in_a_damaged_file_are_said_once(fake_window: Any, qtbot: Any, tmp_path: Path) -> None:
    path = _project(tmp_path / "Hand edited.gemtune")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE examples SET output = X'FF00FE' WHERE pos = (SELECT MIN(pos) FROM examples)")
    conn.commit()
    conn.close()
    tab = _open(fake_window, path, qtbot)
    bar = fake_window.project_notices.bar
    assert bar.isVisible() and "were not text" in bar.text()
    assert tab.session.open_notice is None  # taken: not shown again
    bar.close_button.click()
    fake_window.project_notices.follow(tab.session)
    assert not bar.isVisible()


def test_a_symbolic_link_loop_is_a_plain_message(fake_window: Any, qtbot: Any, tmp_path: Path,
                                                 boxes: list[str]) -> None:
    a, b = tmp_path / "a.gemtune", tmp_path / "b.gemtune"
    a.symlink_to(b)
    b.symlink_to(a)
    tab = fake_window.dataset_tab()
    before = tab.session
    assert not tab.files.open_project(a)
    assert tab.session is before
    assert len(boxes) == 1 and "leads back to itself" in boxes[0]


def test_a_project_that_stopped_the_app_while_opening_is_not_reopened(fake_ctx: Any, qtbot: Any, tmp_path: Path,
                                                                      boxes: list[str]) -> None:
    path = _project(tmp_path / "Damaged.gemtune")
    fake_ctx.settings.set(S.LAST_PROJECT, str(path))
    fake_ctx.settings.set(S.OPENING_PROJECT, str(path))  # the last start never finished opening it
    tab = DatasetTab(fake_ctx)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: tab.session is not None)
    assert tab.session.path == paths.data_dir() / "Untitled.gemtune"
    assert len(boxes) == 1 and "was not reopened: the app stopped while opening it" in boxes[0]
    assert fake_ctx.settings.get(S.OPENING_PROJECT) == ""
    tab.shutdown()

    again = DatasetTab(fake_ctx)  # an ordinary start after an ordinary open
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.session is not None)
    assert again.files.open_project(path)
    assert fake_ctx.settings.get(S.OPENING_PROJECT) == "" and fake_ctx.settings.get(S.LAST_PROJECT) == str(path)
    again.shutdown()


def test_save_as_leaves_one_file_and_removes_the_untitled_project(fake_window: Any, qtbot: Any, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    tab = fake_window.dataset_tab()
    qtbot.waitUntil(lambda: tab.session is not None)
    untitled = tab.session.path
    assert untitled.parent == paths.data_dir()
    tab.editor.insert_examples([Example("q", "a")], "Add row")
    folder = tmp_path / "mail"
    folder.mkdir()
    dest = folder / "For the partner.gemtune"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    fake_window.findChild(type(tab.files.actions["save_as"]), "action_save_as").trigger()
    assert tab.session.path == dest
    assert f"Saved as {dest}" in fake_window.statusBar().currentMessage()
    assert not untitled.exists()  # its work is in the new file
    tab.editor.insert_examples([Example("q2", "a2")], "Add row")
    fake_window.close()
    assert sorted(p.name for p in folder.iterdir()) == ["For the partner.gemtune"]
    check = ProjectSession.open(dest)
    assert [e.input for e in check.examples] == ["q", "q2"]
    check.close()


def test_a_connection_that_cannot_work_says_so_once_with_a_fix(ctx: Any, qtbot: Any) -> None:
    """An API key kept "for this session only" is gone after a restart: one bar, one button to fix it."""
    from gemtune_desktop.services.backend import API_KEY_SECRET
    from gemtune_desktop.services.connections import ConnectionKind
    from gemtune_desktop.services.secrets import SecretStore
    from gemtune_desktop.ui.main_window import MainWindow

    SecretStore().set(API_KEY_SECRET, "AIza-this-session-only", remember=False)  # the previous run
    ctx.settings.set(S.ACTIVE_CONNECTION, ConnectionKind.GEMINI_API.value)
    window = MainWindow(ctx)  # this run: a new process, a new secret store
    qtbot.addWidget(window)
    window.show()
    bar = window.connection_bar
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=15000)
    assert "Gemini API key cannot be used: No Gemini API key is saved." in bar.text()
    assert [b.text() for b in bar.buttons if b.isVisible()] == ["&Fix in Settings…", "Use the &Sandbox"]
    assert window.connection_label.text().endswith("✖ not reachable (see the message above)")
    assert "No Gemini API key" not in window.connection_label.text()  # said in one place
    bar.buttons[1].click()
    assert ctx.connections.active_kind is ConnectionKind.SANDBOX
    assert not bar.isVisible()
    window.close()
