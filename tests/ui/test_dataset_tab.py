"""The Dataset tab end to end in the real main window: project start-up, paste, import, find/replace,
split, findings, undo of each, Save As and the lock."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from gemtune_desktop import paths
from gemtune_desktop.core.clipboard import parse_tsv, to_tsv
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.dataset_model import Column
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import InsertRowsCommand, RemoveRowsCommand
from gemtune_desktop.ui.dataset.tab import DatasetTab


@pytest.fixture
def tab(fake_window: Any, qtbot: Any) -> DatasetTab:
    t = fake_window.tab_widgets["dataset"]
    fake_window.show_tab("dataset")
    qtbot.waitUntil(lambda: t.session is not None)
    return t


def fill(tab: DatasetTab, n: int) -> None:
    s = tab.session
    assert s is not None
    s.undo_stack.push(InsertRowsCommand(s, 0, [Example(f"Question {i}", f"Answer {i}") for i in range(n)], "seed"))


def stored(tab: DatasetTab) -> list[tuple[str, str]]:
    assert tab.session is not None
    return [(e.input, e.output) for e in repo.load_examples(tab.session.store)]


def test_starts_with_an_untitled_project_and_an_empty_state(tab: DatasetTab, fake_window: Any) -> None:
    s = tab.session
    assert s is not None and tab.ctx.project is s
    assert s.path == paths.data_dir() / "Untitled.gemtune"
    assert tab.stack.currentWidget() is tab.empty
    assert "Paste from Excel" in tab.empty.text() and "sample projects" in tab.empty.text()
    assert "Untitled" in fake_window.windowTitle()
    fill(tab, 3)
    assert tab.stack.currentWidget() is tab.table
    assert tab.table.verticalHeader().defaultSectionSize() == 24 and not tab.table.wordWrap()
    names = {a.objectName() for a in fake_window.menus.file.actions()}
    assert {"action_new", "action_open", "action_save_as", "action_import", "action_export"} <= names


def test_reopens_the_last_project_at_start(fake_ctx: Any, qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "Claims.gemtune"
    s = ProjectSession.create(path)
    s.undo_stack.push(InsertRowsCommand(s, 0, [Example("q", "a")], "x"))
    s.close()
    fake_ctx.settings.set(S.LAST_PROJECT, str(path))
    tab = DatasetTab(fake_ctx)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: tab.session is not None)
    assert tab.session.path == path and len(tab.session.examples) == 1
    tab.shutdown()


def test_tsv_round_trip_quotes_like_excel() -> None:
    rows = [["multi\nline", 'say "hi"', "tab\there"], ["plain", "", "x"]]
    text = to_tsv(rows)
    assert text.startswith('"multi\nline"\t"say ""hi"""\t"tab\there"\r\n')
    assert parse_tsv(text) == rows


def test_paste_rows_from_excel_then_undo(tab: DatasetTab) -> None:
    clip = ('input\toutput\r\n"Refund for order 1?\nIt broke."\t"Yes, refund it.\nSay sorry."\r\n'
            'Where is my parcel?\tTrack it here\r\n')
    QGuiApplication.clipboard().setText(clip)
    tab.edit_actions.paste.trigger()
    assert stored(tab) == [("Refund for order 1?\nIt broke.", "Yes, refund it.\nSay sorry."),
                           ("Where is my parcel?", "Track it here")]
    tab.edit_actions.undo.trigger()
    assert stored(tab) == [] and tab.stack.currentWidget() is tab.empty
    tab.edit_actions.redo.trigger()
    assert len(stored(tab)) == 2


def test_paste_one_value_edits_the_current_cell(tab: DatasetTab) -> None:
    fill(tab, 3)
    tab.table.setCurrentIndex(tab.model.index(1, Column.OUTPUT))
    QGuiApplication.clipboard().setText("New answer\r\n")
    tab.edit_actions.paste.trigger()
    assert stored(tab)[1] == ("Question 1", "New answer") and len(stored(tab)) == 3
    tab.edit_actions.undo.trigger()
    assert stored(tab)[1] == ("Question 1", "Answer 1")


def test_copy_selected_rows_as_tsv(tab: DatasetTab) -> None:
    fill(tab, 3)
    tab.session.undo_stack.push(InsertRowsCommand(tab.session, 3, [Example("two\nlines", "x")], "x"))
    tab.table.select_list_indices([0, 3])
    tab.edit_actions.copy.trigger()
    rows = parse_tsv(QGuiApplication.clipboard().text())
    assert rows == [["Question 0", "Answer 0", "train", "", ""], ["two\nlines", "x", "train", "", ""]]


def test_add_delete_move_with_actions_and_undo(tab: DatasetTab) -> None:
    fill(tab, 4)
    tab.table.select_list_indices([1])
    tab.edit_actions.add.trigger()
    assert [i for i, _o in stored(tab)] == ["Question 0", "Question 1", "", "Question 2", "Question 3"]
    tab.table.select_list_indices([3, 4])
    tab.edit_actions.up.trigger()
    assert [i for i, _o in stored(tab)] == ["Question 0", "Question 1", "Question 2", "Question 3", ""]
    tab.table.select_list_indices([0, 2])
    tab.edit_actions.delete.trigger()
    assert [i for i, _o in stored(tab)] == ["Question 1", "Question 3", ""]
    for _ in range(3):
        tab.edit_actions.undo.trigger()
    assert [i for i, _o in stored(tab)] == ["Question 0", "Question 1", "Question 2", "Question 3"]


def test_detail_editor_saves_typing_as_one_undo_step(tab: DatasetTab, qtbot: Any) -> None:
    fill(tab, 2)
    tab.table.setCurrentIndex(tab.model.index(0, Column.INPUT))
    editor = tab.detail.input_edit
    editor.setPlainText("Long\nmulti-line\ninput")
    assert "characters" in tab.detail.input_count.text() and "tokens" in tab.detail.input_count.text()
    qtbot.waitUntil(lambda: stored(tab)[0][0] == "Long\nmulti-line\ninput")
    tab.edit_actions.undo.trigger()
    assert stored(tab)[0][0] == "Question 0" and editor.toPlainText() == "Question 0"


def test_ctrl_s_writes_text_being_typed_and_says_it_is_saved(tab: DatasetTab, fake_window: Any) -> None:
    fill(tab, 1)
    tab.table.setCurrentIndex(tab.model.index(0, Column.OUTPUT))
    tab.detail.output_edit.setPlainText("typed just now")
    save = tab.files.actions["save"]
    assert save.shortcut().toString() == "Ctrl+S"
    save.trigger()
    assert stored(tab)[0][1] == "typed just now"  # on disk at once, not after the typing pause
    assert "Saved" in fake_window.statusBar().currentMessage()


def test_sorting_a_large_project_says_so_in_the_status_bar(tab: DatasetTab, fake_window: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import gemtune_desktop.ui.dataset.tab as dataset_tab

    monkeypatch.setattr(dataset_tab, "BUSY_ABOVE", 5)  # "large" for the test: more than 5 rows
    fill(tab, 8)
    tab.table.horizontalHeader().setSortIndicator(Column.INPUT, Qt.SortOrder.DescendingOrder)
    assert "Sorting 8 rows took" in fake_window.statusBar().currentMessage()
    first = tab.model.index(0, Column.INPUT).data()
    assert first == "Question 7"
    assert QApplication.overrideCursor() is None  # the busy cursor is gone again


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(rows)


def test_import_csv_on_a_worker_then_undo(tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    src = tmp_path / "tickets.csv"
    write_csv(src, [["question", "answer"], *[[f"Ticket {i}\nsecond line", f"Reply {i}"] for i in range(300)]])
    fill(tab, 2)
    tab.open_path(src)
    qtbot.waitUntil(lambda: tab.transfer.choice_box is not None, timeout=20000)  # a non-empty project asks
    tab.transfer.choice_box.findChild(QPushButton, "import_add").click()
    qtbot.waitUntil(lambda: len(stored(tab)) == 302, timeout=20000)
    assert stored(tab)[2] == ("Ticket 0\nsecond line", "Reply 0")
    assert tab.session.undo_stack.undoText() == "Import tickets.csv"
    tab.edit_actions.undo.trigger()
    assert len(stored(tab)) == 2
    tab.edit_actions.redo.trigger()
    assert len(stored(tab)) == 302


def test_import_with_unknown_columns_asks_for_the_mapping(tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    src = tmp_path / "odd.csv"
    write_csv(src, [["Col A", "Col B", "Remarks"], ["hello", "world", "n1"], ["foo", "bar", "n2"]])
    tab.open_path(src)
    qtbot.waitUntil(lambda: tab.transfer.mapping_dialog is not None, timeout=20000)
    dialog = tab.transfer.mapping_dialog
    assert dialog.table.rowCount() >= 2
    dialog.combos["input"].setCurrentIndex(dialog.combos["input"].findData("Col B"))
    dialog.combos["output"].setCurrentIndex(dialog.combos["output"].findData("Col A"))
    dialog.combos["note"].setCurrentIndex(dialog.combos["note"].findData("Remarks"))
    dialog.accept()
    qtbot.waitUntil(lambda: len(stored(tab)) == 2, timeout=20000)
    assert stored(tab) == [("world", "hello"), ("bar", "foo")]
    assert tab.session.examples[0].note == "n1"


def test_import_can_be_cancelled(tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    tab.window().show()
    qtbot.waitExposed(tab.window())
    margin = tab.layout().contentsMargins().bottom()
    # With no import running, the table and side panels reach down to the tab's margin.
    assert tab.splitter.geometry().bottom() == tab.height() - 1 - margin
    src = tmp_path / "big.jsonl"
    src.write_text("".join(f'{{"text_input": "q{i}", "output": "a{i}"}}\n' for i in range(200_000)))
    tab.open_path(src)
    assert tab.progress_row.bar.isVisibleTo(tab) and tab.progress_row.cancel_button.isVisibleTo(tab)
    tab.progress_row.cancel_button.click()
    qtbot.waitUntil(lambda: not tab.transfer.importing, timeout=30000)
    assert len(stored(tab)) in (0, 200_000)  # cancelled before the end, or it had already finished
    assert not tab.progress_row.bar.isVisibleTo(tab)


def test_find_and_replace_then_undo(tab: DatasetTab) -> None:
    fill(tab, 5)
    tab.edit_actions.replace.trigger()
    d = tab.editor.find_dialog
    d.find_edit.setText("answer")
    d.replace_edit.setText("Reply")
    d.in_input.setChecked(False)
    assert tab.editor.find_next()
    d.replace_button.click()
    assert all(o.startswith("Reply ") for _i, o in stored(tab))
    assert "5 cells" in d.result_label.text()
    tab.edit_actions.undo.trigger()
    assert all(o.startswith("Answer ") for _i, o in stored(tab))


def test_a_replace_all_another_program_blocks_replaces_nothing_and_says_so(tab: DatasetTab) -> None:
    from tests.reliability.helpers import ForeignWriteLock

    fill(tab, 5)
    assert tab.session is not None
    tab.session.store.set_busy_timeout(50)
    history = tab.session.undo_stack.count()
    tab.edit_actions.replace.trigger()
    d = tab.editor.find_dialog
    d.find_edit.setText("answer")
    d.replace_edit.setText("Reply")
    d.in_input.setChecked(False)
    with ForeignWriteLock(tab.session.store.real_path):
        assert tab.editor.replace_all() == 0
        assert d.result_label.text() == "Nothing was replaced: the project could not be saved."
    assert all(o.startswith("Answer ") for _i, o in stored(tab)) and tab.session.undo_stack.count() == history


def test_filter_bar_and_sort_show_a_subset(tab: DatasetTab, qtbot: Any) -> None:
    fill(tab, 30)
    tab.filter_bar.text.setText("question 2")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 11)
    assert "Showing 11 of 30" in tab.filter_bar.count.text()
    assert not tab.edit_actions.up.isEnabled()  # moving rows needs the project's order
    tab.filter_bar.clear.click()
    assert tab.model.rowCount() == 30
    tab.table.horizontalHeader().setSortIndicator(Column.INPUT, Qt.SortOrder.DescendingOrder)
    assert tab.model.example_at(0).input == "Question 9"


def test_split_dialog_values_then_undo(tab: DatasetTab) -> None:
    fill(tab, 50)
    changed = tab.editor.apply_split((0.6, 0.2, 0.2), 11)
    assert changed > 0
    splits = [e.split for e in tab.session.examples]
    assert splits.count(Split.VALIDATION) > 0 and splits.count(Split.TEST) > 0
    assert repo.load_settings(tab.session.store).split_seed == 11
    tab.edit_actions.undo.trigger()  # the whole split is one step
    assert all(e.split is Split.TRAIN for e in repo.load_examples(tab.session.store))
    assert repo.load_settings(tab.session.store).split_seed == 42


def test_findings_list_plain_words_and_jump_to_the_row(tab: DatasetTab, qtbot: Any) -> None:
    fill(tab, 5)
    tab.table.setCurrentIndex(tab.model.index(3, Column.OUTPUT))
    assert tab.model.setData(tab.model.index(3, Column.OUTPUT), "")
    tab.findings.refresh()
    model = tab.findings.model
    rows = [model.data(model.index(r, 2)) for r in range(model.rowCount())]
    assert any("output is empty" in m.lower() for m in rows)
    r = next(i for i, m in enumerate(rows) if "output is empty" in m.lower())
    assert model.data(model.index(r, 1)).startswith("4")
    assert model.data(model.index(r, 0)) == "Error"
    tab.table.setCurrentIndex(tab.model.index(0, 0))
    tab.findings.view.clicked.emit(model.index(r, 2))
    assert tab.table.currentIndex().row() == 3 and tab.table.currentIndex().column() == Column.OUTPUT


def test_findings_model_contract(qtmodeltester: Any, tab: DatasetTab) -> None:
    fill(tab, 3)
    tab.findings.refresh()
    qtmodeltester.check(tab.findings.model)


def test_rows_focus_requested_selects_rows(tab: DatasetTab) -> None:
    fill(tab, 10)
    ids = [tab.session.examples[2].id, tab.session.examples[7].id]
    tab.ctx.rows_focus_requested.emit(ids)
    assert tab.table.selected_view_rows() == [2, 7]


def test_stats_panel_is_built_when_first_shown(tab: DatasetTab, qtbot: Any) -> None:
    fill(tab, 25)
    assert tab.stats_panel is None
    tab.side.setCurrentWidget(tab.stats_host)
    assert tab.stats_panel is not None
    qtbot.waitUntil(lambda: tab.stats_panel.last is not None, timeout=20000)
    assert tab.stats_panel.last.count == 25
    assert "25 examples" in tab.stats_panel.summary.text()


def test_save_as_copies_and_continues_in_the_copy(tab: DatasetTab, tmp_path: Path) -> None:
    assert tab.files.create_project(tmp_path / "Claims.gemtune")
    fill(tab, 3)
    original = tab.session.path
    dest = tmp_path / "Claims copy.gemtune"
    assert tab.files.save_copy(dest)
    assert tab.session.path == dest and tab.ctx.project is tab.session
    tab.model.setData(tab.model.index(0, Column.INPUT), "changed in copy")
    check = ProjectSession.open(original)  # the original is closed (not locked) and unchanged
    assert check.examples[0].input == "Question 0"
    check.close()
    assert str(dest) in tab.ctx.settings.get(S.RECENT_PROJECTS)
    assert tab.edit_actions.undo.isEnabled()  # the undo history came along


def test_opening_a_project_open_elsewhere_is_refused(tab: DatasetTab, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "busy.gemtune"
    other = ProjectSession.create(path)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self.text() + " " + self.informativeText()))
    before = tab.session
    assert not tab.files.open_project(path)
    assert tab.session is before
    assert shown and "already open" in shown[0] and "other window" in shown[0]
    other.close()
    assert tab.files.open_project(path)
    assert tab.session.path == path


def test_prepare_for_follows_the_connection_until_picked_and_the_pick_is_undoable(tab: DatasetTab,
                                                                                   qtbot: Any) -> None:
    from gemtune_desktop.services.connections import ConnectionKind

    fill(tab, 2)
    history = tab.session.undo_stack.count()
    # The Sandbox tunes like Agent Platform: a new project is prepared for it, with nothing to understand.
    assert repo.load_settings(tab.session.store).target.value == "agent-platform"
    assert tab.target_combo.currentData() == "agent-platform" and tab.target_note.text() == "(follows the connection)"
    tab.ctx.connections.set_active(ConnectionKind.GEMINI_API)
    assert repo.load_settings(tab.session.store).target.value == "gemini-api"
    assert tab.session.undo_stack.count() == history  # following is not an edit of the user's
    tab.ctx.connections.set_active(ConnectionKind.SANDBOX)
    assert tab.target_combo.currentData() == "agent-platform"

    tab.target_combo.setCurrentIndex(tab.target_combo.findData("gemini-api"))  # the user picks one
    tab.target_combo.activated.emit(tab.target_combo.currentIndex())
    assert repo.load_settings(tab.session.store).target.value == "gemini-api" and tab.target_note.text() == ""
    tab.ctx.connections.set_active(ConnectionKind.AGENT_PLATFORM)
    assert repo.load_settings(tab.session.store).target.value == "gemini-api"  # stays as picked
    tab.edit_actions.undo.trigger()  # back to following the connection
    qtbot.waitUntil(lambda: repo.load_settings(tab.session.store).target.value == "agent-platform")
    assert tab.target_combo.currentData() == "agent-platform"


def test_new_project_and_close_back_to_untitled(tab: DatasetTab, tmp_path: Path) -> None:
    fill(tab, 1)
    assert tab.files.create_project(tmp_path / "Fresh")
    assert tab.session.path == tmp_path / "Fresh.gemtune" and tab.session.examples == []
    tab.files.close_project()
    assert tab.session.path.name == "Untitled.gemtune" and len(tab.session.examples) == 1
    QApplication.processEvents()


def test_large_project_opens_at_once_and_is_checked_in_the_background(tab: DatasetTab, qtbot: Any,
                                                                      tmp_path: Path) -> None:
    from gemtune_desktop.core.project.store import ProjectStore
    from gemtune_desktop.ui.dataset.project_files import BACKGROUND_ABOVE

    path = tmp_path / "large.gemtune"
    store = ProjectStore.create(path)
    n = BACKGROUND_ABOVE + 500
    exs = [Example(f"Question number {i}", f"Answer {i}") for i in range(n)]
    exs[10].output = ""
    repo.insert(store, exs, [float(i) for i in range(n)])
    store.close()
    assert tab.files.open_project(path)
    s = tab.session
    assert s.checking and tab.model.data(tab.model.index(10, Column.STATUS)) == "Checking…"
    # edits made while the check runs are not lost from validation
    assert tab.model.setData(tab.model.index(20, Column.OUTPUT), "")
    tab.session.undo_stack.push(RemoveRowsCommand(s, [s.examples[30]]))
    qtbot.waitUntil(lambda: not s.checking, timeout=60000)
    assert s.status_counts(s.examples[10])[0] >= 1
    assert s.status_counts(s.examples[20])[0] >= 1
    assert s.status_counts(s.examples[21]) == (0, 0)
    assert "error" in tab.model.data(tab.model.index(20, Column.STATUS))


@pytest.mark.parametrize("fmt, name", [("csv", "out.csv"), ("xlsx", "out.xlsx"), ("jsonl", "out.jsonl"),
                                       ("agent-platform", "ap.jsonl")])
def test_export_round_trips_through_import(tab: DatasetTab, qtbot: Any, tmp_path: Path, fmt: str, name: str) -> None:
    from gemtune_desktop.core.formats import read_dataset

    fill(tab, 4)
    tab.model.setData(tab.model.index(1, Column.INPUT), "multi\nline, with comma")
    tab.model.setData(tab.model.index(2, Column.OUTPUT), 'quote " inside')
    dest = tmp_path / name
    assert tab.transfer.export_to(dest, fmt)
    qtbot.waitUntil(lambda: dest.exists() and not tab.transfer.exporting, timeout=20000)
    back = read_dataset(dest)
    assert [e.output for e in back.examples] == [e.output for e in tab.session.examples]
    assert len(back.examples) == 4


def test_upload_form_follows_the_active_connection(tab: DatasetTab) -> None:
    from gemtune_desktop.services.connections import Backend

    expected = "agent-platform" if tab.ctx.connections.profile.backend is Backend.AGENT_PLATFORM else "jsonl"
    assert tab.transfer.upload_format() == expected


def test_dropping_a_file_on_the_window_imports_it(tab: DatasetTab, fake_window: Any, qtbot: Any,
                                                  tmp_path: Path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    src = tmp_path / "dropped.csv"
    write_csv(src, [["prompt", "response"], ["a", "b"], ["c", "d"]])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(src))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    fake_window.dropEvent(event)
    qtbot.waitUntil(lambda: stored(tab) == [("a", "b"), ("c", "d")], timeout=20000)


def test_open_recent_lists_projects(tab: DatasetTab, tmp_path: Path) -> None:
    for name in ("One", "Two"):
        assert tab.files.create_project(tmp_path / name)
    tab.files._fill_recent()
    names = [a.text() for a in tab.files.recent_menu.actions()]
    assert names[:2] == ["Two.gemtune", "One.gemtune"]
    tab.files.recent_menu.actions()[1].trigger()
    assert tab.session.path == tmp_path / "One.gemtune"


def test_dialogs_are_deleted_when_closed(tab: DatasetTab, fake_window: Any, qtbot: Any) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QDialog

    fill(tab, 5)
    tab.editor.show_split_dialog()
    (split,) = [d for d in tab.findChildren(QDialog) if d.objectName() == "splitDialog"]
    split.reject()
    QTimer.singleShot(10, lambda: QApplication.activeModalWidget().reject())
    fake_window.open_connections()
    qtbot.waitUntil(lambda: not tab.findChildren(QDialog) and not fake_window.findChildren(QDialog))
