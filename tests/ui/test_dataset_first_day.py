"""The Dataset tab's part of a new user's first day (issue 17): no stale charts, pasted rows previewed when they
need it, and dialogs and panes that are not cut off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QApplication

from gemtune_desktop.core.clipboard import to_tsv
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.qtcore.undo import InsertRowsCommand
from gemtune_desktop.ui.dataset.tab import DatasetTab


@pytest.fixture
def tab(fake_window: Any, qtbot: Any) -> DatasetTab:
    t = fake_window.tab_widgets["dataset"]
    fake_window.show_tab("dataset")
    qtbot.waitUntil(lambda: t.session is not None)
    return t


def fill(tab: DatasetTab, n: int) -> None:
    s = tab.session
    assert s.push(InsertRowsCommand(s, 0, [Example(f"Question {i} " * (i % 7 + 1), f"Answer {i}") for i in range(n)],
                                    "seed"))


def plotted(tab: DatasetTab) -> int:
    assert tab.stats_panel is not None
    return sum(len(p.getPlotItem().items) for p in tab.stats_panel.plots.values() if p.isVisible())


def test_an_empty_project_shows_no_charts_of_the_previous_one(tab: DatasetTab, qtbot: Any, tmp_path: Path) -> None:
    fill(tab, 50)
    tab.side.setCurrentWidget(tab.stats_host)
    qtbot.waitUntil(lambda: tab.stats_panel is not None and tab.stats_panel.last is not None, timeout=10000)
    assert plotted(tab) == 2 and "50 examples" in tab.stats_panel.summary.text()
    tab.side.setCurrentWidget(tab.detail)
    assert tab.files.create_project(tmp_path / "Empty.gemtune")
    tab.side.setCurrentWidget(tab.stats_host)  # at once, before any count could be redone
    assert plotted(tab) == 0 and "50 examples" not in tab.stats_panel.summary.text()
    qtbot.wait(800)
    assert plotted(tab) == 0
    assert tab.stats_panel.summary.text().startswith("This project has no examples yet")


def test_pasted_rows_with_control_characters_are_previewed_and_cleaned(tab: DatasetTab, qtbot: Any) -> None:
    clip = to_tsv([["Refund for order 1?\x07", "Yes.\x0b Say sorry."], ["Where is my parcel?", "On its way."]])
    tab.editor.paste_text(clip)
    dialog = tab.editor.paste_dialog
    assert dialog is not None and dialog.isVisible()
    assert repo.load_examples(tab.session.store) == []  # nothing before the user says so
    assert "2 cells hold control characters" in dialog.findChild(type(dialog.problem), "pasteConcerns").text()
    assert dialog.table.item(0, 0).text() == "Refund for order 1?␇"
    dialog.accept()
    assert [(e.input, e.output) for e in repo.load_examples(tab.session.store)] == [
        ("Refund for order 1?", "Yes. Say sorry."), ("Where is my parcel?", "On its way.")]
    tab.edit_actions.undo.trigger()
    assert repo.load_examples(tab.session.store) == []


def test_pasted_rows_in_another_column_layout_are_previewed(tab: DatasetTab, qtbot: Any) -> None:
    clip = to_tsv([["C-101", "Indemnity clause text", "high", "validation"],
                   ["C-102", "Termination clause text", "low", "train"]])
    tab.editor.paste_text(clip)
    dialog = tab.editor.paste_dialog
    assert dialog is not None and "4 columns and no header row" in dialog.findChild(
        type(dialog.problem), "pasteConcerns").text()
    for combo, field in zip(dialog.combos, ("note", "input", "output", "split"), strict=True):
        combo.setCurrentIndex(combo.findData(field))
    assert dialog.buttons.buttons()[0].text() in ("Paste 2 rows", "Cancel")
    dialog.accept()
    rows = repo.load_examples(tab.session.store)
    assert [(e.input, e.output, e.split, e.note) for e in rows] == [
        ("Indemnity clause text", "high", Split.VALIDATION, "C-101"), ("Termination clause text", "low", Split.TRAIN,
                                                                       "C-102")]


def test_two_plain_columns_paste_at_once(tab: DatasetTab) -> None:
    tab.editor.paste_text(to_tsv([["q1", "a1"], ["q2", "a2"]]))
    assert tab.editor.paste_dialog is None
    assert len(repo.load_examples(tab.session.store)) == 2


def test_the_split_dialog_title_is_not_cut(tab: DatasetTab, qtbot: Any) -> None:
    fill(tab, 10)
    tab.editor.show_split_dialog()
    dialog = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "splitDialog" and w.isVisible())
    title = QFontMetrics(QGuiApplication.font()).horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title + 120  # room for the title bar's buttons
    dialog.reject()


def test_the_charts_do_not_squeeze_the_table(tab: DatasetTab, qtbot: Any) -> None:
    fill(tab, 30)
    window = tab.window()
    window.resize(window.minimumSizeHint())
    tab.side.setCurrentWidget(tab.stats_host)
    qtbot.waitUntil(lambda: tab.stats_panel is not None and tab.stats_panel.last is not None, timeout=10000)
    QApplication.processEvents()
    assert tab.stats_panel.minimumSizeHint().width() <= 260
    assert tab.stack.width() >= tab.side.width()  # the examples keep the larger share
