"""The Dataset table model: Qt model contract, what cells show, editing through undo, filter and sort."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.qtcore.dataset_model import Column, DatasetModel, RowFilter, StatusFilter, status_text
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import InsertRowsCommand, RemoveRowsCommand

D = Qt.ItemDataRole.DisplayRole


@pytest.fixture
def session(qapp: object, tmp_path: Path) -> Iterator[ProjectSession]:
    s = ProjectSession.create(tmp_path / "model.gemtune")
    examples = [Example(f"Question {i:02d}?", f"Answer {i}", Split.TRAIN, "billing" if i % 3 == 0 else "", "")
                for i in range(30)]
    examples[4].output = ""  # an error
    examples[5].input = "line one\nline two\tand a tab"
    examples[7].split = Split.TEST
    examples[8].split = Split.VALIDATION
    s.undo_stack.push(InsertRowsCommand(s, 0, examples, "seed"))
    yield s
    s.close()


def test_model_passes_qt_model_tester(qtmodeltester: object, session: ProjectSession) -> None:
    model = DatasetModel(session)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.set_filter(RowFilter(text="question 1"))
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.sort(Column.INPUT, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_model_tester_through_inserts_and_removes(qtmodeltester: object, session: ProjectSession) -> None:
    model = DatasetModel(session)
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]
    session.undo_stack.push(InsertRowsCommand(session, 3, [Example("new", "row")], "add"))
    session.undo_stack.push(RemoveRowsCommand(session, session.examples[10:13]))
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert model.rowCount() == 30


def test_cells_show_one_line_and_tooltips_the_full_text(session: ProjectSession) -> None:
    model = DatasetModel(session)
    shown = model.data(model.index(5, Column.INPUT), D)
    assert "\n" not in shown and "\t" not in shown and "line two" in shown
    assert model.data(model.index(5, Column.INPUT), Qt.ItemDataRole.EditRole) == "line one\nline two\tand a tab"
    assert model.data(model.index(5, Column.INPUT), Qt.ItemDataRole.ToolTipRole) == "line one\nline two\tand a tab"
    long = "x" * 10_000
    session.examples[6].input = long
    assert len(model.data(model.index(6, Column.INPUT), D)) < 1000
    assert model.data(model.index(7, Column.SPLIT), D) == "Test"
    assert model.headerData(0, Qt.Orientation.Vertical, D) == "1"
    assert model.data(model.index(0, Column.INPUT), Qt.ItemDataRole.BackgroundRole) is None


def test_status_column_has_words_and_an_icon(session: ProjectSession) -> None:
    model = DatasetModel(session)
    bad = model.index(4, Column.STATUS)
    assert model.data(bad, D).endswith(("error", "errors")) or "error" in model.data(bad, D)
    assert not model.data(bad, Qt.ItemDataRole.DecorationRole).isNull()
    assert "output is empty" in model.data(bad, Qt.ItemDataRole.ToolTipRole).lower()
    assert model.data(model.index(1, Column.STATUS), D) == "OK"
    assert status_text(2, 0) == "2 errors" and status_text(0, 1) == "1 warning"
    assert not model.flags(bad) & Qt.ItemFlag.ItemIsEditable


def test_edit_through_set_data_is_undoable_and_saved(session: ProjectSession) -> None:
    model = DatasetModel(session)
    idx = model.index(4, Column.OUTPUT)
    assert model.setData(idx, "Fixed answer")
    assert session.examples[4].output == "Fixed answer"
    assert model.data(model.index(4, Column.STATUS), D) == "OK"
    assert model.setData(model.index(4, Column.SPLIT), "validation")
    assert session.examples[4].split is Split.VALIDATION
    assert not model.setData(model.index(4, Column.SPLIT), "banana")
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert session.examples[4].output == "" and session.examples[4].split is Split.TRAIN


def test_filter_by_text_split_tag_status_and_clear(session: ProjectSession) -> None:
    model = DatasetModel(session)
    model.set_filter(RowFilter(text="QUESTION 2"))
    assert model.rowCount() == 10
    assert model.headerData(0, Qt.Orientation.Vertical, D) == "21"  # row numbers stay the project's
    model.set_filter(RowFilter(split=Split.TEST))
    assert [model.example_at(r).input for r in range(model.rowCount())] == ["Question 07?"]
    model.set_filter(RowFilter(tag="Billing"))
    assert model.rowCount() == 10
    model.set_filter(RowFilter(status=StatusFilter.ERRORS))
    assert [model.list_index(r) for r in range(model.rowCount())] == [4]
    model.set_filter(RowFilter(status=StatusFilter.OK, split=Split.TRAIN))
    assert 4 not in [model.list_index(r) for r in range(model.rowCount())]
    model.clear_view()
    assert model.rowCount() == 30 and not model.mapped


def test_sort_does_not_change_the_stored_order(session: ProjectSession) -> None:
    model = DatasetModel(session)
    model.sort(Column.INPUT, Qt.SortOrder.DescendingOrder)
    assert model.example_at(0).input == "Question 29?"
    model.sort(Column.STATUS, Qt.SortOrder.AscendingOrder)
    assert model.list_index(0) == 4  # problems first
    assert session.examples[0].input == "Question 00?"
    # an edit while sorted goes to the right example
    model.sort(Column.INPUT, Qt.SortOrder.DescendingOrder)
    model.setData(model.index(0, Column.NOTE), "checked")
    assert session.examples[29].note == "checked"


def test_inserting_while_filtered_refreshes_the_view(session: ProjectSession) -> None:
    model = DatasetModel(session)
    model.set_filter(RowFilter(text="question 1"))
    session.undo_stack.push(InsertRowsCommand(session, 0, [Example("question 100", "a")], "add"))
    assert model.rowCount() == 11  # Question 10..19 and the new row
    assert model.view_row(0) == 0
