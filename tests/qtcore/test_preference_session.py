"""The project's preference pairs under edit: undo and redo written through to a real SQLite file, failed writes
(another program's write lock, a read-only file) that leave no trace, validation kept current, the table model."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.row_view import RowFilter, StatusFilter
from gemtune_desktop.qtcore.preference_model import PairColumn, PreferenceTableModel
from gemtune_desktop.qtcore.preference_session import (
    PreferenceSession,
    existing_preference_session,
    preference_session_for,
)
from gemtune_desktop.qtcore.preference_undo import (
    EditPairCommand,
    InsertPairsCommand,
    MovePairsCommand,
    RemovePairsCommand,
    SetPairFieldsCommand,
)
from gemtune_desktop.qtcore.project_session import ProjectSession, SaveState
from gemtune_desktop.qtcore.undo import SettingsCommand, copy_settings
from gemtune_desktop.qtcore.workers import InlineExecutor, TaskSlot
from gemtune_desktop.ui.dataset.preference_page import SESSION_NAME
from tests.reliability.helpers import ForeignWriteLock, read_only


def pairs(n: int, start: int = 0) -> list[PreferenceExample]:
    return [PreferenceExample(f"Question {i}?", f"Good answer {i}.", f"Bad answer {i}.")
            for i in range(start, start + n)]


def in_file(path: Path) -> list[tuple[int, str, str, str]]:
    """What another program reading the file sees."""
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT id, prompt, preferred, dispreferred FROM preference_examples ORDER BY pos, id")]
    finally:
        conn.close()


def shown(s: PreferenceSession) -> list[tuple[int, str, str, str]]:
    return [(e.id, e.prompt, e.preferred, e.dispreferred) for e in s.examples]


@pytest.fixture
def project(qapp: object, tmp_path: Path) -> Iterator[ProjectSession]:
    p = ProjectSession.create(tmp_path / "Leases.gemtune")
    yield p
    p.close()


@pytest.fixture
def prefs(project: ProjectSession) -> PreferenceSession:
    s = preference_session_for(project)
    assert s.push(InsertPairsCommand(s, 0, pairs(10), "seed"))
    return s


class Failures:
    def __init__(self, s: PreferenceSession) -> None:
        self.errors: list[Any] = []
        s.write_failed.connect(self.errors.append)


def test_one_session_per_project_reading_what_the_file_holds(project: ProjectSession) -> None:
    assert existing_preference_session(project) is None
    s = preference_session_for(project)
    assert preference_session_for(project) is s and existing_preference_session(project) is s
    assert s.objectName() == SESSION_NAME  # how the Dataset tab finds it without importing this module
    assert s.push(InsertPairsCommand(s, 0, pairs(3), "seed"))
    path = project.path
    project.close()
    assert s.is_closed and s.undo_stack.count() == 0
    again = ProjectSession.open(path)
    try:
        reopened = preference_session_for(again)
        assert [e.prompt for e in reopened.examples] == ["Question 0?", "Question 1?", "Question 2?"]
        assert [e.id for e in reopened.examples] == [1, 2, 3]
    finally:
        again.close()


def test_edits_undo_and_redo_are_written_to_the_file(prefs: PreferenceSession, project: ProjectSession) -> None:
    path = project.store.real_path
    assert in_file(path) == shown(prefs) and len(shown(prefs)) == 10
    e = prefs.examples[2]
    for typed in ("B", "Be", "Better answer."):  # typing: one undo step
        assert prefs.push(EditPairCommand(prefs, e, "preferred", typed))
    assert prefs.undo_stack.count() == 2 and prefs.undo_stack.undoText() == "Edit preferred answer"
    assert in_file(path)[2][2] == "Better answer."
    assert prefs.push(RemovePairsCommand(prefs, [prefs.examples[0], prefs.examples[5], prefs.examples[6]]))
    assert [x[1] for x in in_file(path)] == [x[1] for x in shown(prefs)] and len(prefs.examples) == 7
    assert prefs.push(MovePairsCommand(prefs, [0], 1))
    assert in_file(path) == shown(prefs) and prefs.examples[1].prompt == "Question 1?"
    for _ in range(3):
        assert prefs.undo()
    assert in_file(path) == shown(prefs) and [e.prompt for e in prefs.examples] == [f"Question {i}?" for i in range(10)]
    assert prefs.examples[2].preferred == "Good answer 2."
    for _ in range(3):
        assert prefs.redo()
    assert in_file(path) == shown(prefs) and len(prefs.examples) == 7
    assert prefs.examples[0].preferred == "Better answer."


def test_rows_put_back_by_undo_keep_their_ids_and_the_file_order(prefs: PreferenceSession,
                                                                  project: ProjectSession) -> None:
    ids = [e.id for e in prefs.examples]
    gone = prefs.examples[1::2]  # five separate ranges
    assert prefs.push(RemovePairsCommand(prefs, gone))
    assert prefs.push(InsertPairsCommand(prefs, 1, pairs(2, 100), "Add"))  # new rows where old ones were
    assert prefs.undo() and prefs.undo()
    assert [e.id for e in prefs.examples] == ids and in_file(project.store.real_path) == shown(prefs)
    new = pairs(1, 200)
    assert prefs.push(InsertPairsCommand(prefs, 0, new, "Add"))
    assert new[0].id == 13  # ids are never reused, even those of rows that were undone


def test_another_programs_write_lock_keeps_everything_as_it_was(prefs: PreferenceSession,
                                                                project: ProjectSession) -> None:
    project.store.set_busy_timeout(50)
    rec = Failures(prefs)
    model = PreferenceTableModel(prefs)
    before, history = shown(prefs), prefs.undo_stack.count()
    with ForeignWriteLock(project.store.real_path):
        assert not model.setData(model.index(2, PairColumn.PREFERRED), "typed in the table")
        assert not prefs.push(RemovePairsCommand(prefs, prefs.examples[:4]))
        assert not prefs.push(SetPairFieldsCommand(prefs, [(prefs.examples[0], "split", Split.TEST)], "Split"))
        assert not prefs.import_pairs(pairs(50, 10), "Import more.jsonl")
    assert len(rec.errors) == 4
    assert rec.errors[0].message == ("The project could not be saved: another program is using “Leases.gemtune”. "
                                     "Your last change was not kept.")
    assert "Close the other program" in rec.errors[0].hint
    assert rec.errors[3].message.startswith("The examples could not be added") and "No examples were added" in \
        rec.errors[3].message
    assert project.save_state is SaveState.WRITE_FAILED  # the window's save state says so too
    assert shown(prefs) == before and prefs.undo_stack.count() == history
    assert model.data(model.index(2, PairColumn.PREFERRED)) == "Good answer 2."
    assert in_file(project.store.real_path) == before
    assert model.setData(model.index(2, PairColumn.PREFERRED), "typed again")  # the lock is gone
    assert in_file(project.store.real_path)[2][2] == "typed again"
    assert project.save_state is not SaveState.WRITE_FAILED


def test_an_undo_or_redo_that_cannot_be_written_says_so_and_leaves_the_history(prefs: PreferenceSession,
                                                                               project: ProjectSession) -> None:
    project.store.set_busy_timeout(50)
    rec = Failures(prefs)
    assert prefs.push(EditPairCommand(prefs, prefs.examples[0], "dispreferred", "Worse."))
    assert prefs.push(RemovePairsCommand(prefs, prefs.examples[3:5]))
    assert prefs.undo()  # the delete is undone: 10 rows again
    before = shown(prefs)
    with ForeignWriteLock(project.store.real_path):
        assert not prefs.redo()
        assert "Nothing was redone" in rec.errors[-1].message
        assert not prefs.undo()
        assert "Nothing was undone" in rec.errors[-1].message
    assert shown(prefs) == before == in_file(project.store.real_path)
    assert prefs.examples[0].dispreferred == "Worse." and not prefs.undo_stack.canRedo()
    assert prefs.undo_stack.count() == 1  # only the seed is left: the failed commands are gone
    assert prefs.undo() and prefs.examples == []


def test_a_read_only_project_is_read_only_for_preference_pairs(qapp: object, tmp_path: Path) -> None:
    path = tmp_path / "Shared.gemtune"
    p = ProjectSession.create(path)
    s = preference_session_for(p)
    assert s.push(InsertPairsCommand(s, 0, pairs(2), "seed"))
    p.close()
    with read_only(path):
        ro = ProjectSession.open(path)
        try:
            prefs = preference_session_for(ro)
            assert prefs.read_only and not prefs.can_edit and len(prefs.examples) == 2
            model = PreferenceTableModel(prefs)
            assert not model.flags(model.index(0, PairColumn.PROMPT)) & Qt.ItemFlag.ItemIsEditable
            rec = Failures(prefs)
            assert not prefs.push(EditPairCommand(prefs, prefs.examples[0], "prompt", "x"))
            assert "open read-only" in rec.errors[-1].message and prefs.undo_stack.count() == 0
            assert prefs.examples[0].prompt == "Question 0?"
        finally:
            ro.close()


def test_save_as_moves_the_pairs_along_and_later_edits_go_to_the_copy(prefs: PreferenceSession,
                                                                      project: ProjectSession,
                                                                      tmp_path: Path) -> None:
    copy = project.save_to(tmp_path / "Copy.gemtune")
    assert in_file(copy) == shown(prefs)
    assert prefs.push(EditPairCommand(prefs, prefs.examples[0], "prompt", "Only in the copy"))
    assert in_file(copy)[0][1] == "Only in the copy"
    assert in_file(tmp_path / "Leases.gemtune")[0][1] == "Question 0?"


def test_validation_follows_each_edit_in_plain_words(prefs: PreferenceSession) -> None:
    assert prefs.validator.counts()["error"] == 0
    e = prefs.examples[4]
    assert prefs.push(EditPairCommand(prefs, e, "dispreferred", e.preferred))
    found = prefs.validator.findings_for(e.id)
    assert [(f.rule, f.row, f.field) for f in found] == [("identical-answers", 5, "dispreferred")]
    assert "nothing to prefer" in found[0].message
    assert prefs.status_counts(e) == (1, 0)
    other = prefs.examples[7]
    assert prefs.push(EditPairCommand(prefs, other, "preferred", prefs.examples[1].dispreferred))
    cross = [f for f in prefs.validator.findings_for(other.id) if f.rule == "preferred-rejected-elsewhere"]
    assert cross and "row 2" in cross[0].message and cross[0].field == "preferred"
    assert prefs.undo() and prefs.undo()
    assert prefs.validator.counts() == {"error": 0, "warning": 1, "info": 0}  # fewer than 100: a warning only
    words = [f.message for f in prefs.validator.dataset_findings()]
    assert any("Google recommends starting with at least 100" in w for w in words)


def test_a_longer_preamble_is_counted_against_the_token_limit(prefs: PreferenceSession,
                                                              project: ProjectSession) -> None:
    seen: list[int] = []
    prefs.validation_changed.connect(lambda: seen.append(1))
    new = copy_settings(project.settings)
    new.preamble = "Context: " + "lease clause " * 70_000
    assert project.push(SettingsCommand(project, new, "Edit preamble"))
    assert seen and prefs.settings.preamble == new.preamble
    assert prefs.status_counts(prefs.examples[0])[0] == 1
    assert "131,072" in prefs.validator.findings_for(prefs.examples[0].id)[0].message


def test_a_large_set_is_checked_on_a_worker_and_edits_meanwhile_are_kept(project: ProjectSession) -> None:
    s = PreferenceSession(project, background_above=None)
    assert s.push(InsertPairsCommand(s, 0, pairs(30), "seed"))
    s.close()
    slow = PreferenceSession(project, background_above=20)
    assert slow.checking
    model = PreferenceTableModel(slow)
    assert model.data(model.index(0, PairColumn.STATUS)) == "Checking…"
    assert slow.push(EditPairCommand(slow, slow.examples[3], "dispreferred", slow.examples[3].preferred))
    owner = QObject()
    executor = InlineExecutor()
    slow.validate_in_background(TaskSlot(owner, executor, "validation"))
    executor.wait()
    assert not slow.checking and model.data(model.index(3, PairColumn.STATUS)) == "1 error"
    assert model.data(model.index(0, PairColumn.STATUS)) == "OK"


def test_the_table_filters_and_sorts_without_touching_the_stored_order(prefs: PreferenceSession) -> None:
    model = PreferenceTableModel(prefs)
    assert model.rowCount() == 10 and model.columnCount() == 7
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Preferred answer"
    assert prefs.push(EditPairCommand(prefs, prefs.examples[6], "dispreferred", "Good answer 6."))
    assert prefs.push(EditPairCommand(prefs, prefs.examples[8], "prompt", "Deposit\nreturned?"))
    assert model.data(model.index(8, PairColumn.PROMPT)) == "Deposit ⏎ returned?"
    model.set_filter(RowFilter(status=StatusFilter.ERRORS))
    assert model.rowCount() == 1 and model.example_at(0) is prefs.examples[6]
    assert model.headerData(0, Qt.Orientation.Vertical) == "7"
    model.set_filter(RowFilter(text="bad answer 3"))
    assert [model.example_at(r).prompt for r in range(model.rowCount())] == ["Question 3?"]
    model.clear_view()
    model.sort(PairColumn.STATUS)
    assert model.example_at(0) is prefs.examples[6]
    model.sort(PairColumn.PROMPT, Qt.SortOrder.DescendingOrder)
    assert model.example_at(0).prompt == "Question 9?"
    assert [e.prompt for e in prefs.examples][:2] == ["Question 0?", "Question 1?"]
    assert model.setData(model.index(0, PairColumn.SPLIT), "validation")
    assert prefs.examples[9].split is Split.VALIDATION
