"""Importing into the Dataset tab of the real window: Add / Replace / Merge with the counts first, one undo step
each, "Remove exact duplicates", success reported only when it was written, title rows skipped in the mapping
dialog, and the export's pre-flight listing the rows a format cannot hold before anything is written."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.merge import exact_duplicates, plan_merge
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.qtcore.undo import InsertRowsCommand
from gemtune_desktop.ui.dataset.tab import DatasetTab
from tests.reliability.helpers import ForeignWriteLock


@pytest.fixture
def tab(fake_window: Any, qtbot: Any) -> DatasetTab:
    t = fake_window.tab_widgets["dataset"]
    fake_window.show_tab("dataset")
    qtbot.waitUntil(lambda: t.session is not None)
    return t


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    real_open = QMessageBox.open

    def record(box: QMessageBox) -> None:
        shown.append(f"{box.text()} {box.informativeText()}")
        real_open(box)

    monkeypatch.setattr(QMessageBox, "open", record)
    return shown


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(rows)
    return path


def clauses(n: int, answer: str = "Standard") -> list[list[str]]:
    return [["input", "output"], *[[f"Clause {i}", f"{answer} {i}"] for i in range(n)]]


def stored(tab: DatasetTab) -> list[tuple[str, str]]:
    return [(e.input, e.output) for e in repo.load_examples(tab.session.store)]


def import_and_choose(tab: DatasetTab, qtbot: Any, src: Path, choice: str) -> QMessageBox:
    tab.transfer.choice_box = None
    tab.open_path(src)
    qtbot.waitUntil(lambda: tab.transfer.choice_box is not None, timeout=20000)
    box = tab.transfer.choice_box
    text = box.informativeText()
    box.findChild(QPushButton, f"import_{choice}").click()
    box.setProperty("choices", text)
    return box


def test_reimporting_the_same_spreadsheet_asks_and_merge_changes_only_what_differs(
        tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "clauses.csv", clauses(61))
    tab.open_path(first)  # an empty project: no question
    qtbot.waitUntil(lambda: len(stored(tab)) == 61, timeout=20000)
    assert tab.transfer.choice_box is None

    rows = clauses(61)
    rows[3][1] = "Amended 2"
    rows.append(["Clause 61", "New 61"])
    again = write_csv(tmp_path / "clauses v2.csv", rows)
    tab.open_path(again)
    qtbot.waitUntil(lambda: tab.transfer.choice_box is not None, timeout=20000)
    box = tab.transfer.choice_box
    assert "already has 61 examples" in box.text() and "62 examples from “clauses v2.csv”" in box.text()
    choices = box.informativeText()
    assert "Add: put them after the examples already here (123 in all; 61 rows repeat an input" in choices
    assert "Merge: update 1 example whose input matches, add 1 new one, leave 60 rows" in choices
    assert box.defaultButton() is box.findChild(QPushButton, "import_merge")
    assert len(stored(tab)) == 61  # nothing changed before the answer
    box.findChild(QPushButton, "import_merge").click()
    after = stored(tab)
    assert len(after) == 62 and after[2] == ("Clause 2", "Amended 2") and after[61] == ("Clause 61", "New 61")
    assert "1 example updated, 1 example added, 60 rows already here" in tab.window().statusBar().currentMessage()
    tab.edit_actions.undo.trigger()  # one step
    assert stored(tab) == [(f"Clause {i}", f"Standard {i}") for i in range(61)]


def test_replace_and_add_are_one_undo_step_each(tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    s = tab.session
    assert s.push(InsertRowsCommand(s, 0, [Example("old", "row")], "seed"))
    import_and_choose(tab, qtbot, write_csv(tmp_path / "new.csv", clauses(3)), "replace")
    assert stored(tab) == [("Clause 0", "Standard 0"), ("Clause 1", "Standard 1"), ("Clause 2", "Standard 2")]
    assert s.undo_stack.undoText() == "Replace the examples with new.csv"
    tab.edit_actions.undo.trigger()
    assert stored(tab) == [("old", "row")]
    import_and_choose(tab, qtbot, write_csv(tmp_path / "more.csv", clauses(2)), "add")
    assert len(stored(tab)) == 3
    tab.edit_actions.undo.trigger()
    assert stored(tab) == [("old", "row")]


def test_remove_exact_duplicates_is_one_step(tab: DatasetTab) -> None:
    s = tab.session
    rows = [Example("q1", "a1"), Example("q2", "a2"), Example("q1", "a1"), Example("q1", "other"),
            Example("q2", "a2")]
    assert s.push(InsertRowsCommand(s, 0, rows, "seed"))
    assert tab.edit_actions.dedupe.isEnabled() and "Duplicates" in tab.edit_actions.dedupe.text()
    tab.edit_actions.dedupe.trigger()
    assert stored(tab) == [("q1", "a1"), ("q2", "a2"), ("q1", "other")]
    assert s.undo_stack.undoText() == "Remove 2 exact duplicates"
    tab.edit_actions.undo.trigger()
    assert len(stored(tab)) == 5


def test_an_import_the_file_refuses_is_never_reported_as_imported(tab: DatasetTab, qtbot: Any, tmp_path: Path,
                                                                  boxes: list[str]) -> None:
    s = tab.session
    s.store.set_busy_timeout(50)
    src = write_csv(tmp_path / "clauses.csv", clauses(20))
    with ForeignWriteLock(s.store.real_path):
        tab.open_path(src)
        qtbot.waitUntil(lambda: not tab.transfer.importing and len(boxes) == 1, timeout=20000)
    assert boxes[0].startswith("The examples could not be added")
    assert "Imported" not in tab.window().statusBar().currentMessage()
    assert stored(tab) == [] and not s.examples and s.undo_stack.count() == 0


def test_the_mapping_dialog_skips_title_rows_and_shows_whole_cells(tab: DatasetTab, qtbot: Any,
                                                                   tmp_path: Path) -> None:
    long = "A very long clause. " * 40
    src = write_csv(tmp_path / "report.csv", [["Contract review, Q3"], ["Exported 2026-11-02"],
                                              ["Clause text", "Risk", "Remarks"],
                                              [long, "high", "n1"], ["Short clause", "low", "n2"]])
    tab.open_path(src)
    qtbot.waitUntil(lambda: tab.transfer.mapping_dialog is not None, timeout=20000)
    dialog = tab.transfer.mapping_dialog
    # The title and the date above the column names are seen: the dialog starts from the third row.
    assert dialog.header_row.isEnabled() and dialog.header_row.value() == 3
    assert dialog.columns == ["Clause text", "Risk", "Remarks"]
    dialog.header_row.setValue(1)  # the user can say otherwise
    assert dialog.columns == ["Contract review, Q3"]
    dialog.header_row.setValue(3)
    assert dialog.columns == ["Clause text", "Risk", "Remarks"]
    assert dialog.table.item(0, 0).text().startswith("A very long clause.") and dialog.table.rowCount() == 2
    dialog.table.setCurrentCell(0, 0)
    assert dialog.cell_view.toPlainText() == long  # the whole cell, readable
    dialog.wrap.setChecked(True)
    assert dialog.table.wordWrap() and dialog.table.rowHeight(0) > dialog.table.rowHeight(1)
    dialog.combos["input"].setCurrentIndex(dialog.combos["input"].findData("Clause text"))
    dialog.combos["output"].setCurrentIndex(dialog.combos["output"].findData("Risk"))
    assert dialog.mapping().skip_rows == 2
    dialog.accept()
    qtbot.waitUntil(lambda: len(stored(tab)) == 2, timeout=20000)
    assert stored(tab) == [(long, "high"), ("Short clause", "low")]


def test_the_mapping_dialog_opens_on_the_sheet_with_the_table_and_follows_the_sheet_picked(
        tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    from openpyxl import Workbook

    src = tmp_path / "clauses.xlsx"
    wb = Workbook()
    wb.active.title = "Read me"
    wb.active.append(["Exported from the contracts register"])
    first = wb.create_sheet("Q3")
    first.append(["Clause", "Risk"])
    first.append(["Indemnity without cap", "high"])
    second = wb.create_sheet("Q4")
    second.append(["Report of Q4"])  # a title above the column names
    second.append(["Wording", "Assessment", "Reviewer"])
    second.append(["Mutual confidentiality", "low", "AK"])
    second.append(["Unlimited liability", "high", "AK"])
    wb.save(src)
    tab.open_path(src)
    qtbot.waitUntil(lambda: tab.transfer.mapping_dialog is not None, timeout=20000)
    dialog = tab.transfer.mapping_dialog
    # Not the one-cell cover sheet: the picker and the preview both show the first sheet with a table.
    assert dialog.sheet() == "Q3" and dialog.columns == ["Clause", "Risk"]
    assert dialog.table.item(0, 0).text() == "Indemnity without cap"
    dialog.sheet_combo.setCurrentText("Q4")  # the user picks another sheet: its own columns and rows
    assert dialog.columns == ["Wording", "Assessment", "Reviewer"] and dialog.header_row.value() == 2
    assert dialog.table.item(1, 0).text() == "Unlimited liability"
    assert dialog.combos["input"].currentData() == "Wording"
    dialog.combos["output"].setCurrentIndex(dialog.combos["output"].findData("Assessment"))
    dialog.accept()
    qtbot.waitUntil(lambda: len(stored(tab)) == 2, timeout=20000)
    assert stored(tab) == [("Mutual confidentiality", "low"), ("Unlimited liability", "high")]
    # The workbook gone while its dialog is open: picking another sheet says so, and nothing else changes.
    tab.transfer.mapping_dialog = None
    tab.open_path(src)
    qtbot.waitUntil(lambda: tab.transfer.mapping_dialog is not None, timeout=20000)
    again = tab.transfer.mapping_dialog
    src.unlink()
    again.sheet_combo.setCurrentText("Q4")
    assert "clauses.xlsx does not exist" in again.problem.text() and again.columns == ["Clause", "Risk"]
    again.reject()
    assert len(stored(tab)) == 2


def test_export_lists_the_rows_a_format_cannot_hold_before_writing(tab: DatasetTab, qtbot: Any, tmp_path: Path,
                                                                   boxes: list[str]) -> None:
    s = tab.session
    rows = [Example("fine", "ok"), Example("bell\x07 inside", "ok"), Example("fine too", "x" * 40_000)]
    assert s.push(InsertRowsCommand(s, 0, rows, "seed"))
    dest = tmp_path / "out.xlsx"
    assert not tab.transfer.export_to(dest, "xlsx")
    assert not dest.exists()
    assert len(boxes) == 1 and "2 examples cannot be written to an Excel workbook" in boxes[0]
    assert "row 2 (input): a control character (U+0007)" in boxes[0]
    assert "row 3 (output): 40,000 characters" in boxes[0]
    assert sorted(tab.table.selected_view_rows()) == [1, 2]  # the rows are selected to fix them
    assert tab.transfer.export_to(tmp_path / "out.csv", "csv")  # CSV holds them
    qtbot.waitUntil(lambda: (tmp_path / "out.csv").exists() and not tab.transfer.exporting, timeout=20000)


def test_merge_plan_and_duplicates_in_plain_data() -> None:
    have = [Example("Clause 1", "a"), Example("Clause 2", "b", tags="x")]
    plan = plan_merge(have, [Example(" Clause 1 ", "a"), Example("Clause 2", "B"), Example("Clause 3", "c")])
    assert (plan.updated, [e.input for e in plan.added], plan.unchanged, plan.matching) == (1, ["Clause 3"], 1, 2)
    assert plan.changes == [(have[1], "output", "B")]  # the file has no tags: the project's stay
    assert exact_duplicates([have[0], Example("Clause 1", "a"), Example("Clause 1", "a", note="n")]) != []
    assert len(exact_duplicates([have[0], Example("Clause 1", "a"), Example("Clause 1", "a", note="n")])) == 1
