"""The Preference pairs view in the real main window: the switch and its counts, editing with undo through the
Edit menu of the view shown, find and replace, split, the Problems list, files dropped or imported going to the
view their kind belongs to (real files in real encodings: cp1252 CSV, UTF-16 TSV, Excel, JSON Lines), exports
that read back, and writes that fail (another program's lock, a read-only file) without looking as if they
had worked."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent
from PySide6.QtWidgets import QMessageBox

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.preference.formats import read_preference_dataset
from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.preference.writers import PREFERENCE_WRITE_FORMATS
from gemtune_desktop.core.project import preference_repo
from gemtune_desktop.qtcore.preference_model import PairColumn
from gemtune_desktop.qtcore.preference_session import PreferenceSession
from gemtune_desktop.qtcore.preference_undo import InsertPairsCommand, SetPairFieldsCommand
from gemtune_desktop.qtcore.project_session import SaveState
from gemtune_desktop.qtcore.undo import InsertRowsCommand
from gemtune_desktop.ui.dataset.preference_page import PreferencePage
from gemtune_desktop.ui.dataset.tab import DatasetTab
from tests.reliability.helpers import ForeignWriteLock, read_only

LEASE = [
    ("Can my landlord keep the deposit for normal wear and tear?",
     "No. Normal wear and tear cannot be deducted; only damage beyond ordinary use can.",
     "Yes, the landlord can keep it for any wear."),
    ("How much notice must a tenant give?", "Usually 30 days’ written notice, unless the lease says otherwise.",
     "A week is enough."),
    ("Is a verbal lease binding — même à Montréal?", "A verbal lease of one year or less is generally enforceable.",
     "Verbal leases are never binding."),
]


@pytest.fixture
def tab(fake_window: Any, qtbot: Any) -> DatasetTab:
    t = fake_window.tab_widgets["dataset"]
    fake_window.show_tab("dataset")
    qtbot.waitUntil(lambda: t.session is not None)
    return t


def page(tab: DatasetTab) -> PreferencePage:
    return tab.preferences


def prefs(tab: DatasetTab) -> PreferenceSession:
    s = page(tab).view.ensure_session()
    assert s is not None
    return s


def seed(tab: DatasetTab, rows: list[tuple[str, str, str]] = LEASE) -> PreferenceSession:
    s = prefs(tab)
    assert s.push(InsertPairsCommand(s, 0, [PreferenceExample(*r) for r in rows], "seed"))
    return s


def in_file(tab: DatasetTab) -> list[tuple[str, str, str]]:
    assert tab.session is not None
    conn = sqlite3.connect(tab.session.store.real_path)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT prompt, preferred, dispreferred FROM preference_examples ORDER BY pos, id")]
    finally:
        conn.close()


def visible_action(window: Any, text_start: str) -> QAction:
    """The one visible action of the Edit (or File) menu whose text starts with ``text_start``."""
    found = [a for menu in (window.menus.edit, window.menus.file) for a in menu.actions()
             if a.isVisible() and a.text().replace("&", "").startswith(text_start)]
    assert len(found) == 1, [a.text() for a in found]
    return found[0]


def drop(window: Any, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))


# -- the switch and the menus ------------------------------------------------------------------------------
def test_the_switch_shows_both_counts_and_the_pairs_view(tab: DatasetTab, fake_window: Any) -> None:
    s = tab.session
    assert s is not None
    s.push(InsertRowsCommand(s, 0, [Example(f"q{i}", f"a{i}") for i in range(4)], "seed"))
    seed(tab)
    switch = page(tab).switch
    assert switch.examples.text() == "E&xamples (4)" and switch.pairs.text() == "Prefere&nce pairs (3)"
    assert switch.examples.isChecked() and tab.splitter.isVisible() and not page(tab).view.isVisible()
    switch.pairs.click()
    view = page(tab).view
    assert view.isVisible() and not tab.splitter.isVisible() and not tab.filter_bar.isVisible()
    assert not tab.target_combo.isVisible() and not tab.target_note.isVisible()  # "Prepare for" is about examples
    assert view.model.rowCount() == 3 and view.filter_bar.count.text() == "3 rows"
    assert view.table.verticalHeader().defaultSectionSize() == 24 and not view.table.wordWrap()
    assert view.detail.boxes["prompt"].toPlainText() == LEASE[0][0]
    switch.examples.click()
    assert tab.splitter.isVisible() and not view.isVisible() and tab.target_combo.isVisible()


def test_the_edit_menu_acts_on_the_view_shown(tab: DatasetTab, fake_window: Any) -> None:
    s = tab.session
    assert s is not None
    s.push(InsertRowsCommand(s, 0, [Example("q", "a")], "Add examples"))
    pairs = seed(tab)
    assert visible_action(fake_window, "Undo").text() == "&Undo Add examples"
    page(tab).show_pairs(True)
    view = page(tab).view
    undo = visible_action(fake_window, "Undo")
    assert undo.text() == "&Undo seed" and undo.objectName() == "action_pairs_undo"
    assert undo.shortcut().toString() == "Ctrl+Z"
    view.table.select_list_indices([1])
    visible_action(fake_window, "Delete Rows").trigger()
    assert [e.prompt for e in pairs.examples] == [LEASE[0][0], LEASE[2][0]] and len(in_file(tab)) == 2
    assert len(s.examples) == 1  # the examples were not touched
    visible_action(fake_window, "Undo").trigger()
    assert len(in_file(tab)) == 3 and len(s.examples) == 1
    visible_action(fake_window, "Redo").trigger()
    assert len(in_file(tab)) == 2
    page(tab).show_pairs(False)
    visible_action(fake_window, "Undo").trigger()  # now the examples' undo
    assert s.examples == [] and len(in_file(tab)) == 2


def test_typing_editing_cells_and_undo_all_reach_the_file(tab: DatasetTab, qtbot: Any) -> None:
    pairs = seed(tab)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.table.select_list_indices([1])
    box = view.detail.boxes["preferred"]
    box.setPlainText("Thirty days’ notice in writing.")
    qtbot.waitUntil(lambda: in_file(tab)[1][1] == "Thirty days’ notice in writing.", timeout=5000)
    assert view.model.setData(view.model.index(2, PairColumn.DISPREFERRED), "Never.")
    assert view.model.setData(view.model.index(0, PairColumn.SPLIT), "validation")
    assert pairs.examples[0].split is Split.VALIDATION
    view.detail.tags_edit.setText("notice")
    view.detail.tags_edit.editingFinished.emit()
    assert pairs.examples[1].tags == "notice"
    for _ in range(4):
        assert pairs.undo()
    assert in_file(tab) == LEASE and pairs.examples[0].split is Split.TRAIN
    assert box.toPlainText() == LEASE[1][1]  # the editor shows what the file holds
    assert pairs.redo() and pairs.redo()
    assert in_file(tab)[1][1] == "Thirty days’ notice in writing." and in_file(tab)[2][2] == "Never."


def test_typing_fast_across_the_pair_editors_boxes_keeps_every_key(tab: DatasetTab, qtbot: Any) -> None:
    """The pair editor saves a burst of typing a moment after it stops: typing on into the next box, and a save
    finishing in the background meanwhile, never lose, reorder or move anything."""
    from gemtune_desktop.ui.dataset.detail_base import SAVE_AFTER_MS

    seed(tab)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.table.select_list_indices([0])
    boxes = [view.detail.boxes[k] for k in ("prompt", "preferred", "dispreferred")]
    for box in boxes:
        box.setFocus()
        box.moveCursor(box.textCursor().MoveOperation.End)
        qtbot.keyClicks(box, " - first")
        tab.session.flush()  # the file catches up while the user types on
        tab.session.check_file()
        qtbot.keyClicks(box, " second")
        assert box.textCursor().position() == len(box.toPlainText())
    qtbot.wait(SAVE_AFTER_MS * 2)
    typed = tuple(f"{text} - first second" for text in LEASE[0])
    assert tuple(b.toPlainText() for b in boxes) == typed
    assert in_file(tab)[0] == typed


def test_add_paste_duplicate_and_move(tab: DatasetTab, fake_window: Any) -> None:
    pairs = seed(tab)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.editor.paste_text("Pets allowed?\tOnly if the lease says so.\tAlways.\tvalidation\tpets\r\n"
                           "Sublet?\t\"With consent,\nin writing.\"\tNo need to ask.\r\n")
    # pasted after the current pair (the first)
    assert [e.prompt for e in pairs.examples][1:3] == ["Pets allowed?", "Sublet?"]
    assert pairs.examples[1].split is Split.VALIDATION and pairs.examples[1].tags == "pets"
    assert pairs.examples[2].preferred == "With consent,\nin writing."
    assert view.table.selected_view_rows() == [1, 2]
    view.table.select_list_indices([0])
    visible_action(fake_window, "Duplicate Rows").trigger()
    assert len(pairs.examples) == 6 and pairs.examples[1].prompt == pairs.examples[0].prompt
    visible_action(fake_window, "Move Down").trigger()
    assert [r[0] for r in in_file(tab)] == [e.prompt for e in pairs.examples]
    visible_action(fake_window, "Add Row").trigger()
    assert len(pairs.examples) == 7 and pairs.undo_stack.undoText() == "Add pair"
    new = view.detail.example
    assert new is not None and new.prompt == "" and new is pairs.examples[view.model.list_index(
        view.table.currentIndex().row())]
    assert view.side.currentWidget() is view.detail_scroll


def test_find_and_replace_in_the_answers_then_undo(tab: DatasetTab) -> None:
    pairs = seed(tab)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.editor.show_find(False)
    dialog = view.editor.find_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.find_edit.setText("never")
    view.table.setCurrentIndex(view.model.index(0, 0))
    assert view.editor.find_next()
    assert view.table.currentIndex().row() == 2 and view.table.currentIndex().column() == PairColumn.DISPREFERRED
    assert dialog.result_label.text() == "Found in row 3."
    dialog.find_edit.setText("lease")
    dialog.replace_edit.setText("tenancy")
    dialog.in_fields["prompt"].setChecked(False)
    assert view.editor.replace_all() == 3  # two preferred answers and one dispreferred
    assert pairs.examples[1].preferred.endswith("unless the tenancy says otherwise.")
    assert pairs.examples[2].dispreferred == "Verbal tenancys are never binding."
    assert pairs.examples[2].preferred == "A verbal tenancy of one year or less is generally enforceable."
    assert pairs.examples[2].prompt == LEASE[2][0]  # the prompt was left out
    assert pairs.undo()
    assert in_file(tab) == LEASE


def test_problems_name_the_row_and_field_and_take_the_user_there(tab: DatasetTab, qtbot: Any) -> None:
    rows = [*LEASE, ("Same?", "Yes.", "Yes."), ("Other prompt", LEASE[0][2], "Something else.")]
    seed(tab, rows)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.findings.refresh()
    texts = [view.findings.model.data(view.findings.model.index(r, 1))
             for r in range(view.findings.model.rowCount())]
    assert any(t.startswith("All pairs: There are 5 training preference examples. Google recommends") for t in texts)
    same = next(t for t in texts if t.startswith("Row 4, dispreferred answer:"))
    assert "nothing to prefer" in same
    assert any(t.startswith("Row 5, preferred answer: This preferred answer is the dispreferred answer of row 1")
               for t in texts)
    assert view.side.tabText(view.side.indexOf(view.findings)) == "Problems (3)"
    row = next(r for r, t in enumerate(texts) if t.startswith("Row 4"))
    view.findings._clicked(view.findings.model.index(row, 1))
    assert view.table.currentIndex().row() == 3 and view.table.currentIndex().column() == PairColumn.DISPREFERRED
    assert view.side.currentWidget() is view.detail_scroll
    assert view.model.data(view.model.index(3, PairColumn.STATUS)) == "1 error"
    view.detail.boxes["dispreferred"].setPlainText("No.")
    view.detail.flush()
    assert view.model.data(view.model.index(3, PairColumn.STATUS)) == "OK"


def test_split_keeps_pairs_with_the_same_prompt_together_and_is_one_undo_step(tab: DatasetTab) -> None:
    rows = [(f"Question {i // 2}", f"Good {i}", f"Bad {i}") for i in range(40)]
    pairs = seed(tab, rows)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.editor.show_split_dialog()
    dialog = view.editor.split_dialog
    assert dialog is not None and dialog.windowTitle() == "Split Preference Pairs"
    assert dialog.preview.text() == "About 32 train, 4 validation and 4 test pairs of 40."
    assert "Pairs with the same prompt are kept on the same side" in dialog.layout().itemAt(0).widget().text()
    changed = view.editor.apply_split((0.5, 0.25, 0.25), 7)
    assert changed > 0
    for a, b in zip(pairs.examples[::2], pairs.examples[1::2], strict=True):
        assert a.split is b.split  # same prompt, same side
    assert {e.split for e in pairs.examples} == {Split.TRAIN, Split.VALIDATION, Split.TEST}
    assert pairs.undo_stack.undoText() == "Split pairs into train, validation and test"
    assert pairs.undo() and {e.split for e in pairs.examples} == {Split.TRAIN}
    stored = preference_repo.load(pairs.store)
    assert {e.split for e in stored} == {Split.TRAIN}


def test_remove_exact_duplicate_pairs_keeps_the_first_and_is_one_undo_step(tab: DatasetTab) -> None:
    pairs = seed(tab, [*LEASE, LEASE[0], LEASE[2], (LEASE[1][0], LEASE[1][1], "A different bad answer."), LEASE[0]])
    page(tab).show_pairs(True)
    view = page(tab).view
    action = view.pair_actions.dedupe
    assert action.isEnabled() and action.text() == "Remove E&xact Duplicates"
    action.trigger()
    assert in_file(tab) == [*LEASE, (LEASE[1][0], LEASE[1][1], "A different bad answer.")]
    assert pairs.undo_stack.undoText() == "Remove 3 exact duplicates"
    assert pairs.undo() and len(in_file(tab)) == 7
    assert view.editor.remove_exact_duplicates() == 3 and view.editor.remove_exact_duplicates() == 0


# -- files ---------------------------------------------------------------------------------------------------
def write_rows(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> None:
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)


def test_a_dropped_cp1252_preference_csv_goes_to_the_pairs_view(tab: DatasetTab, fake_window: Any, qtbot: Any,
                                                                 tmp_path: Path) -> None:
    src = tmp_path / "Lease verdicts.csv"
    long_answer = "Clause 12 applies. " * 2500  # 47,500 characters: read whole, never cut
    write_rows(src, [["prompt", "chosen", "rejected"], *[list(r) for r in LEASE], ["Café deposit?", long_answer,
                                                                                  "Non."]], "cp1252")
    assert page(tab).switch.examples.isChecked()
    drop(fake_window, src)
    qtbot.waitUntil(lambda: len(in_file(tab)) == 4, timeout=20000)
    assert in_file(tab)[:3] == LEASE and in_file(tab)[3] == ("Café deposit?", long_answer, "Non.")
    assert tab.session is not None and tab.session.examples == []  # nothing went to the examples
    assert page(tab).view.isVisible() and page(tab).switch.pairs.text() == "Prefere&nce pairs (4)"
    assert prefs(tab).undo_stack.undoText() == "Import Lease verdicts.csv"
    assert prefs(tab).undo() and in_file(tab) == []  # one step


def test_a_dropped_input_output_file_goes_to_the_examples_even_from_the_pairs_view(tab: DatasetTab,
                                                                                    fake_window: Any, qtbot: Any,
                                                                                    tmp_path: Path) -> None:
    src = tmp_path / "tickets.jsonl"
    src.write_text("".join(json.dumps({"text_input": f"Ticket {i}", "output": "Billing"}) + "\n" for i in range(3)))
    page(tab).show_pairs(True)
    drop(fake_window, src)
    assert tab.session is not None
    qtbot.waitUntil(lambda: len(tab.session.examples) == 3, timeout=20000)
    assert in_file(tab) == [] and tab.splitter.isVisible() and page(tab).switch.examples.isChecked()


def test_a_utf16_table_with_unknown_headers_is_mapped_by_the_user(tab: DatasetTab, qtbot: Any,
                                                                   tmp_path: Path) -> None:
    src = tmp_path / "Bewertungen.tsv"
    write_rows(src, [["Frage", "Bessere Antwort", "Schlechtere Antwort", "Teil"],
                     ["Darf der Vermieter die Kaution einbehalten?", "Nur für Schäden über Abnutzung hinaus.",
                      "Ja, immer.", "validation"],
                     ["Kündigungsfrist?", "Drei Monate.", "Eine Woche.", "train"]], "utf-16", "\t")
    page(tab).show_pairs(True)  # a table naming neither kind goes to the view the user is looking at
    tab.open_path(src)
    transfer = page(tab).view.transfer
    qtbot.waitUntil(lambda: transfer.mapping_dialog is not None, timeout=20000)
    dialog = transfer.mapping_dialog
    assert dialog.combos["prompt"].currentData() == "Frage"
    assert dialog.combos["dispreferred"].currentData() == "Schlechtere Antwort"
    dialog.combos["preferred"].setCurrentIndex(dialog.combos["preferred"].findData("Schlechtere Antwort"))
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    assert "once" in dialog.problem.text()
    dialog.combos["preferred"].setCurrentIndex(dialog.combos["preferred"].findData("Bessere Antwort"))
    dialog.combos["split"].setCurrentIndex(dialog.combos["split"].findData("Teil"))
    dialog.accept()
    qtbot.waitUntil(lambda: len(in_file(tab)) == 2, timeout=20000)
    assert in_file(tab)[0] == ("Darf der Vermieter die Kaution einbehalten?", "Nur für Schäden über Abnutzung hinaus.",
                               "Ja, immer.")
    assert prefs(tab).examples[0].split is Split.VALIDATION


def test_an_excel_workbook_of_pairs_is_imported(tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    from openpyxl import Workbook

    src = tmp_path / "verdicts.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["Prompt", "Preferred", "Dispreferred", "Tags", "Note"])
    for p, a, b in LEASE:
        ws.append([p, a, b, "lease", "from the clinic"])
    ws.append(["How many days?", 30, 7.5, None, None])  # numbers as Excel stores them
    wb.save(src)
    tab.open_path(src)
    qtbot.waitUntil(lambda: len(in_file(tab)) == 4, timeout=20000)
    assert in_file(tab)[:3] == LEASE and in_file(tab)[3] == ("How many days?", "30", "7.5")
    assert prefs(tab).examples[0].tags == "lease" and prefs(tab).examples[0].note == "from the clinic"


def test_the_pairs_mapping_dialog_follows_the_sheet_picked(tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    from openpyxl import Workbook

    src = tmp_path / "verdicts.xlsx"
    wb = Workbook()
    wb.active.title = "Round 1"
    wb.active.append(["Q", "Better", "Worse"])
    wb.active.append(["Deposit?", "Only for damage.", "Always."])
    later = wb.create_sheet("Round 2")
    later.append(["Question", "Good", "Bad", "Comment"])
    for p, a, b in LEASE:
        later.append([p, a, b, "checked"])
    wb.save(src)
    page(tab).show_pairs(True)
    tab.open_path(src)
    transfer = page(tab).view.transfer
    qtbot.waitUntil(lambda: transfer.mapping_dialog is not None, timeout=20000)
    dialog = transfer.mapping_dialog
    assert dialog.sheet() == "Round 1" and dialog.columns == ["Q", "Better", "Worse"]
    dialog.sheet_combo.setCurrentText("Round 2")
    assert dialog.columns == ["Question", "Good", "Bad", "Comment"] and dialog.table.rowCount() == len(LEASE)
    assert [dialog.combos[k].currentData() for k in ("prompt", "preferred", "dispreferred")] == ["Question", "Good",
                                                                                                   "Bad"]
    assert dialog.combos["note"].findData("Comment") >= 0
    dialog.accept()
    qtbot.waitUntil(lambda: len(in_file(tab)) == len(LEASE), timeout=20000)
    assert in_file(tab) == LEASE


def test_bad_lines_are_reported_with_line_and_field_and_the_rest_is_imported(tab: DatasetTab, qtbot: Any,
                                                                           tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self))
    src = tmp_path / "verdicts.jsonl"
    lines = [json.dumps({"prompt": p, "chosen": a, "rejected": b}) for p, a, b in LEASE]
    lines.insert(1, '{"prompt": "cut off", "chosen": ')
    lines.insert(3, json.dumps({"contents": [{"role": "user", "parts": [{"text": "q"}]}],
                                "completions": [{"score": 1, "completion": {"role": "model",
                                                                            "parts": [{"text": "only one"}]}}]}))
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tab.open_path(src)
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert in_file(tab) == LEASE
    box = shown[-1]
    assert box.text() == "Imported 3 preference pairs from verdicts.jsonl."
    assert "2 records could not be imported" in box.informativeText()
    details = box.detailedText().splitlines()
    assert details[0].startswith("Line 2: This line is not valid JSON")
    assert details[1].startswith("Line 4")
    assert "Undo (Ctrl+Z) removes this import." in box.informativeText()


@pytest.mark.parametrize("fmt", PREFERENCE_WRITE_FORMATS)
def test_every_export_format_reads_back(tab: DatasetTab, qtbot: Any, tmp_path: Path, fmt: str) -> None:
    rows = [*LEASE, ('Quote " and, comma', "Multi\nline\tand tab", "Émoji ✓ and ünïcode")]
    seed(tab, rows)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.model.setData(view.model.index(1, PairColumn.TAGS), "notice, urgent")
    ext = {"agent-platform": "jsonl", "jsonl": "jsonl", "json": "json", "csv": "csv", "tsv": "tsv", "xlsx": "xlsx"}
    dest = tmp_path / f"out-{fmt}.{ext[fmt]}"
    assert view.transfer.export_to(dest, fmt)
    qtbot.waitUntil(lambda: dest.exists() and not view.transfer.exporting, timeout=20000)
    back = read_preference_dataset(dest)
    assert back.findings == []
    assert [(e.prompt, e.preferred, e.dispreferred) for e in back.examples] == rows
    if fmt != "agent-platform":  # the upload file holds what the service reads, not the user's labels
        assert back.examples[1].tags == "notice, urgent"


def test_an_export_excel_cannot_hold_is_refused_before_anything_is_written(tab: DatasetTab, qtbot: Any,
                                                                           tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self))
    seed(tab, [*LEASE, ("Bell\x07 in the prompt", "a", "b")])
    view = page(tab).view
    dest = tmp_path / "out.xlsx"
    assert view.transfer.export_to(dest, "xlsx")
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert shown[-1].text().startswith("Row 4's prompt contains a control character")
    assert not dest.exists()


# -- writes that fail --------------------------------------------------------------------------------------------
def test_a_change_another_program_blocks_is_not_kept_and_the_view_says_so(tab: DatasetTab, qtbot: Any) -> None:
    pairs = seed(tab)
    project = tab.session
    assert project is not None
    project.store.set_busy_timeout(50)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.table.select_list_indices([0])
    history = pairs.undo_stack.count()
    with ForeignWriteLock(project.store.real_path):
        view.detail.boxes["prompt"].setPlainText("Typed while the file was locked")
        view.detail.flush()
        assert view.notice.isVisible()
        assert view.notice.text().startswith("✖ The project could not be saved: another program is using")
        assert "Your last change was not kept." in view.notice.text()
        assert view.detail.boxes["prompt"].toPlainText() == LEASE[0][0]  # the editor shows what was kept
        assert project.save_state is SaveState.WRITE_FAILED
        view.table.select_list_indices([1])
        visible_action(tab.window(), "Delete Rows").trigger()
        assert len(pairs.examples) == 3
    assert pairs.undo_stack.count() == history and in_file(tab) == LEASE
    view.detail.boxes["prompt"].setPlainText("Typed again")
    view.detail.flush()
    assert in_file(tab)[1][0] == "Typed again" and not view.notice.isVisible()


def test_a_read_only_project_shows_its_pairs_and_changes_nothing(tab: DatasetTab, tmp_path: Path) -> None:
    from gemtune_desktop.qtcore.preference_session import preference_session_for
    from gemtune_desktop.qtcore.project_session import ProjectSession

    path = tmp_path / "Shared.gemtune"
    p = ProjectSession.create(path)
    s = preference_session_for(p)
    assert s.push(InsertPairsCommand(s, 0, [PreferenceExample(*r) for r in LEASE], "seed"))
    p.close()
    with read_only(path):
        assert tab.files.open_project(path)
        page(tab).show_pairs(True)
        view = page(tab).view
        assert page(tab).switch.pairs.text() == "Prefere&nce pairs (3)"
        assert view.model.rowCount() == 3
        assert view.notice.text().startswith("⚠ This project is read-only")
        assert not view.detail.boxes["prompt"].isEnabled()
        assert not view.model.flags(view.model.index(0, PairColumn.PROMPT)) & Qt.ItemFlag.ItemIsEditable
        for name in ("Delete Rows", "Paste", "Add Row", "Cut Rows"):
            assert not visible_action(tab.window(), name).isEnabled(), name
        assert visible_action(tab.window(), "Copy").isEnabled()
        assert visible_action(tab.window(), "Find…").isEnabled()
        tab.files.open_untitled()  # let go of the file before it is made writable again


def test_the_models_keep_qts_contract(qtmodeltester: Any, tab: DatasetTab) -> None:
    seed(tab, [*LEASE, ("Same?", "Yes.", "Yes.")])
    page(tab).show_pairs(True)
    view = page(tab).view
    view.findings.refresh()
    qtmodeltester.check(view.model)
    qtmodeltester.check(view.findings.model)


def test_a_read_only_projects_pairs_can_be_read_in_the_pair_editor(tab: DatasetTab, tmp_path: Path) -> None:
    from gemtune_desktop.qtcore.preference_session import preference_session_for
    from gemtune_desktop.qtcore.project_session import ProjectSession

    path = tmp_path / "Shared.gemtune"
    p = ProjectSession.create(path)
    s = preference_session_for(p)
    assert s.push(InsertPairsCommand(s, 0, [PreferenceExample(*r) for r in LEASE], "seed"))
    p.close()
    with read_only(path):
        assert tab.files.open_project(path)
        page(tab).show_pairs(True)
        view = page(tab).view
        assert view.detail.title.text() == "Pair 1"
        assert view.detail.boxes["prompt"].toPlainText() == LEASE[0][0]
        view.table.select_list_indices([2])
        assert view.detail.boxes["preferred"].toPlainText() == LEASE[2][1]
        tab.files.open_untitled()


def test_the_name_typed_in_the_export_dialog_decides_the_format_when_it_says_one() -> None:
    from gemtune_desktop.ui.dataset.preference_transfer import EXPORT_FORMATS, chosen_format

    agent, pairs_jsonl, json_array, csv_ = EXPORT_FORMATS[0], EXPORT_FORMATS[1], EXPORT_FORMATS[2], EXPORT_FORMATS[3]
    assert chosen_format(Path("pairs.jsonl"), agent) == "agent-platform"
    assert chosen_format(Path("pairs.jsonl"), pairs_jsonl) == "jsonl"
    assert chosen_format(Path("pairs.csv"), agent) == "csv"  # typed .csv with the first file type picked
    assert chosen_format(Path("pairs.xlsx"), json_array) == "xlsx"
    assert chosen_format(Path("pairs"), csv_) == "csv"
    assert chosen_format(Path("pairs.jsonl"), None) == "agent-platform"


def test_the_service_limits_are_problems_in_plain_words(tab: DatasetTab, monkeypatch: pytest.MonkeyPatch) -> None:
    from gemtune_desktop.core.preference import rules

    long_prompt = "Summarise this lease clause:" + " tenant landlord deposit" * 60_000
    rows = [(long_prompt, "Short summary.", "Wrong summary.")]
    rows += [(f"Question {i}?", f"Good {i}.", f"Bad {i}.") for i in range(2_100)]
    pairs = seed(tab, rows)
    page(tab).show_pairs(True)
    view = page(tab).view
    changes = [(e, "split", Split.VALIDATION) for e in pairs.examples[1:1_100]]  # 1,099 of 2,101
    assert pairs.push(SetPairFieldsCommand(pairs, changes, "Move to validation"))
    monkeypatch.setattr(rules, "MAX_FILE_BYTES", 100_000)  # a small "1 GB" so that a test can reach it
    view.findings.refresh()
    texts = [view.findings.model.data(view.findings.model.index(r, 1))
             for r in range(view.findings.model.rowCount())]
    assert any(t.startswith("All pairs: 1,099 preference examples are in the validation split; Agent Platform "
                            "accepts at most 30 % of the training examples (1,000 here)") for t in texts)
    assert any(t.startswith("All pairs: The training file would be about") and "at most 1 GB" in t for t in texts)
    token = next(t for t in texts if "131,072" in t)
    assert token.startswith("Row 1: This example has about ")
    assert view.model.data(view.model.index(0, PairColumn.STATUS)) == "1 error"


def test_save_and_save_as_write_the_pair_being_typed(tab: DatasetTab, tmp_path: Path) -> None:
    seed(tab)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.detail.boxes["prompt"].setPlainText("Typed just before Save As")
    assert tab.files.save_copy(tmp_path / "Copy.gemtune")
    assert tab.session is not None and tab.session.path.name == "Copy.gemtune"
    assert in_file(tab)[0][0] == "Typed just before Save As"


def test_every_control_of_the_pairs_view_has_a_name_a_screen_reader_can_say(tab: DatasetTab) -> None:
    from tests.ui.test_accessibility import describe, unnamed_controls

    seed(tab)
    page(tab).show_pairs(True)
    view = page(tab).view
    view.editor.show_find(True)
    assert [describe(w) for w in unnamed_controls(view)] == []
    assert [describe(w) for w in unnamed_controls(page(tab).switch)] == []
    assert view.editor.find_dialog is not None
    assert [describe(w) for w in unnamed_controls(view.editor.find_dialog)] == []
