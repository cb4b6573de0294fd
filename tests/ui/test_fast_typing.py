"""Typing fast into every debounced editor of the Dataset tab never loses, reorders or moves anything.

The editors save a burst of typing a moment after it stops. Saving one box must not reload another box that
holds typing not saved yet (text typed into System instruction right after the Preamble vanished and the
cursor jumped to the start), and a save finishing in the background must not touch what is being typed.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QPlainTextEdit

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.qtcore.undo import InsertRowsCommand
from gemtune_desktop.ui.dataset.detail_editor import SAVE_AFTER_MS as DETAIL_MS
from gemtune_desktop.ui.dataset.settings_panel import SAVE_AFTER_MS as SETTINGS_MS
from gemtune_desktop.ui.dataset.tab import DatasetTab


@pytest.fixture
def tab(fake_window: Any, qtbot: Any) -> DatasetTab:
    t = fake_window.tab_widgets["dataset"]
    fake_window.show_tab("dataset")
    qtbot.waitUntil(lambda: t.session is not None)
    s = t.session
    assert s.push(InsertRowsCommand(s, 0, [Example("q0", "a0"), Example("q1", "a1")], "seed"))
    t.table.select_list_indices([0])
    return t


def type_into(qtbot: Any, box: QPlainTextEdit, text: str) -> None:
    box.setFocus()
    box.moveCursor(box.textCursor().MoveOperation.End)
    qtbot.keyClicks(box, text)


def test_system_instruction_typed_right_after_the_preamble_is_kept(tab: DatasetTab, qtbot: Any) -> None:
    panel = tab.settings_panel
    tab.side.setCurrentWidget(panel)
    type_into(qtbot, panel.preamble, "Classify the clause:")
    type_into(qtbot, panel.system, "You are a careful paralegal.")  # before the preamble was saved
    qtbot.wait(SETTINGS_MS * 2)
    assert panel.system.toPlainText() == "You are a careful paralegal."
    assert panel.system.textCursor().position() == len("You are a careful paralegal.")
    saved = repo.load_settings(tab.session.store)
    assert (saved.preamble, saved.system_instruction) == ("Classify the clause:", "You are a careful paralegal.")


def test_output_typed_right_after_the_input_is_kept(tab: DatasetTab, qtbot: Any) -> None:
    d = tab.detail
    type_into(qtbot, d.input_edit, " plus more")
    type_into(qtbot, d.output_edit, " and the answer")
    qtbot.wait(DETAIL_MS * 2)
    assert d.output_edit.toPlainText() == "a0 and the answer"
    assert d.output_edit.textCursor().position() == len("a0 and the answer")
    first = repo.load_examples(tab.session.store)[0]
    assert (first.input, first.output) == ("q0 plus more", "a0 and the answer")


def test_a_save_finishing_in_the_background_does_not_touch_typing(tab: DatasetTab, qtbot: Any) -> None:
    d, panel = tab.detail, tab.settings_panel
    for box, start in ((d.output_edit, "a0"), (panel.preamble, ""), (panel.system, "")):
        if box is panel.preamble:
            tab.side.setCurrentWidget(panel)
        type_into(qtbot, box, "first half")
        tab.session.flush()  # the file catches up while the user types on
        tab.session.check_file()
        type_into(qtbot, box, " second half")
        assert box.toPlainText() == f"{start}first half second half"
        assert box.textCursor().position() == len(box.toPlainText())
    qtbot.wait(max(DETAIL_MS, SETTINGS_MS) * 2)
    saved = repo.load_settings(tab.session.store)
    assert saved.preamble == "first half second half" and saved.system_instruction == "first half second half"
    assert repo.load_examples(tab.session.store)[0].output == "a0first half second half"


def test_typing_then_picking_another_row_saves_to_the_row_typed_in(tab: DatasetTab, qtbot: Any) -> None:
    d = tab.detail
    type_into(qtbot, d.output_edit, "!")
    tab.table.select_list_indices([1])  # at once, before the pause
    type_into(qtbot, d.output_edit, "?")
    qtbot.wait(DETAIL_MS * 2)
    assert [e.output for e in repo.load_examples(tab.session.store)] == ["a0!", "a1?"]
