"""The open project as the UI sees it: the store, the examples in memory, validation, undo, and what is saved.

A :class:`ProjectSession` wraps one :class:`~gemtune_desktop.core.project.store.ProjectStore`. Its mutation
methods (``set_fields``, ``insert``, ``remove``, ``reinsert``, ``swap``, ``set_settings``; see
:mod:`~gemtune_desktop.qtcore.session_edits`) write to SQLite in one transaction first and only then change
the in-memory list, so memory never shows an edit the file does not have. They are called by the undo
commands of :mod:`gemtune_desktop.qtcore.undo` (never directly by widgets), so every change is undoable.

**What is saved.** :attr:`save_state` (a :class:`~gemtune_desktop.qtcore.save_state.SaveState`, with
``save_state_changed``) is the only thing the window may claim: "saved" only when the ``.gemtune`` file
alone holds every change. A write that fails is never a silent success: the command that tried it reports
a plain :class:`~gemtune_desktop.core.errors.UserError` through ``write_failed`` and leaves no trace in the
undo history. When the path stops naming the open file (``check_file()``, and before every write), the
session says so (``file_lost``) and :meth:`save_as` keeps everything in a new file.

Examples are identified by object identity in memory and by ``Example.id`` on disk; undo
commands keep references to the very ``Example`` objects they touched.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Target
from gemtune_desktop.core.formats.preflight import ExportRefusedError
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.core.project.identity import FileProblem, ProjectFileLostError
from gemtune_desktop.core.project.opening import ProjectOpenError
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.core.project.write_errors import Action, save_failure
from gemtune_desktop.core.validation import IncrementalValidator
from gemtune_desktop.qtcore.row_session import UNDO_LIMIT, RowSessionObject
from gemtune_desktop.qtcore.save_state import SaveState, describe, label
from gemtune_desktop.qtcore.session_edits import RESET_ABOVE_RANGES, RemovedEntry, SessionEdits, _ranges

log = logging.getLogger(__name__)

TARGET_CHOSEN = "target_chosen"  # dataset setting: "yes" once the user picked "Prepare for"

__all__ = ["RESET_ABOVE_RANGES", "UNDO_LIMIT", "FileProblem", "ProjectSession", "RemovedEntry", "SaveState", "_ranges"]


class ProjectSession(SessionEdits, RowSessionObject):
    """One open project.

    Signals (those of rows are :class:`~gemtune_desktop.qtcore.row_session.RowSessionObject`'s):
        rows_about_to_be_inserted(int, int): first index, count (before the list changes).
        rows_inserted(int, int): first index, count (after).
        rows_about_to_be_removed(int, int): first index, count of one contiguous range.
        rows_removed(int, int): the same range, after removal.
        about_to_reset(): the whole list is about to be replaced or reordered.
        reset_done(): the whole list changed.
        examples_changed(list): the Example objects whose fields changed (in place).
        settings_changed(object): the new DatasetSettings.
        validation_changed(): findings changed (after any edit).
        save_state_changed(object): the new :class:`SaveState`.
        write_failed(object): a :class:`UserError` for a write that failed (the change was not kept).
        file_lost(object): a :class:`UserError`, once, when the path stops naming the open file.
        path_changed(object): the new ``Path`` after :meth:`save_as`.
        closed(): the store was closed.
    """

    settings_changed = Signal(object)
    save_state_changed = Signal(object)
    file_lost = Signal(object)
    path_changed = Signal(object)
    _store_changed = Signal()  # from the store's checkpoint thread too: delivered on the GUI thread

    def __init__(self, store: ProjectStore, parent: QObject | None = None,
                 background_above: int | None = None) -> None:
        QObject.__init__(self, parent)
        self.store = store
        self.undo_stack = self._new_undo_stack()
        self.settings: DatasetSettings = repo.load_settings(store)
        repairs: Counter[str] = Counter()
        self.examples: list[Example] = repo.load_examples(store, repairs)
        self.open_notice: UserError | None = _repair_notice(store.path.name, repairs)
        self.validator = self._new_validator()
        # Large projects are validated on a worker (see validate_in_background); until then the
        # table shows "Checking…" and edits are queued for the fresh validator.
        self._init_rows(background_above)
        self.last_error: UserError | None = None
        self._error_commit = -1  # the store's commit count when last_error happened
        self._state = SaveState.READ_ONLY
        self._lost_reported = False
        self._store_changed.connect(self._refresh_save_state)
        self._attach(store)

    def _attach(self, store: ProjectStore) -> None:
        self.store = store
        store.on_state_change = self._store_changed.emit
        self._state = self._compute_state()

    # -- opening and closing ------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], parent: QObject | None = None) -> ProjectSession:
        return cls(ProjectStore.create(path), parent)

    @classmethod
    def open(cls, path: str | os.PathLike[str], read_only: bool = False,
             parent: QObject | None = None, background_above: int | None = None) -> ProjectSession:
        """Open a project; with ``background_above=N`` a project of more than N examples is validated
        later by :meth:`validate_in_background` instead of before this returns.

        Raises only :class:`UserError` (:class:`ProjectOpenError`, ``ProjectLockedError``): a damaged or
        hostile file is a plain message, never a crash, and a refused file is left as it was.
        """
        store = ProjectStore.open(path, read_only=read_only)
        try:
            return cls(store, parent, background_above)
        except UserError:
            store.close()
            raise
        except Exception as exc:  # a damaged file can fail in many ways; none may reach the user as a crash
            store.close()
            log.warning("project could not be read", exc_info=exc)
            name = Path(path).name
            raise ProjectOpenError(f"“{name}” is damaged and cannot be opened.",
                                   "Restore it from a backup copy (a .bak file beside it, if there is one).",
                                   detail=f"{type(exc).__name__}: {exc}"[:500]) from exc

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def display_name(self) -> str:
        return self.store.path.stem

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def can_edit(self) -> bool:
        """Whether edits can be saved: not read-only, and the file is still the one opened."""
        return not self.store.read_only and self.store.lost is None and not self.store.closed

    @property
    def is_closed(self) -> bool:
        return self.store.closed

    def close(self) -> None:
        if self.store.closed:
            return
        self.undo_stack.clear()
        self.store.on_state_change = None
        self.store.close()
        self.closed.emit()

    # -- what is saved ------------------------------------------------------------------------------
    @property
    def save_state(self) -> SaveState:
        return self._state

    @property
    def save_state_label(self) -> str:
        """A few words for the title or a status label ("Saved", "Saving…", "Read-only: save a copy to edit")."""
        return label(self._state, self.store.lost)

    @property
    def save_state_text(self) -> str:
        """One or two sentences saying what is true about the user's work (tooltip, status bar)."""
        return describe(self._state, self.store.path.name, self.last_error, self.store.read_only_reason)

    def _compute_state(self) -> SaveState:
        store = self.store
        if store.lost is not None:
            return SaveState.NOT_SAVED_FILE_LOST
        if store.read_only:
            return SaveState.READ_ONLY
        if self.last_error is not None and store.commit_count == self._error_commit:
            return SaveState.WRITE_FAILED  # until the next change is saved
        return SaveState.SAVED_IN_FILE if store.saved_in_file else SaveState.PENDING

    def _refresh_save_state(self) -> None:
        if self.store.lost is not None and not self._lost_reported:
            self._lost_reported = True
            err = ProjectFileLostError(self.store.path.name, self.store.lost)
            self.last_error = err
            self.file_lost.emit(err)
        state = self._compute_state()
        if state is not self._state:
            self._state = state
            self.save_state_changed.emit(state)

    def check_file(self) -> SaveState:
        """Check that the path still names the open file (the window calls this when it gets the focus)."""
        if not self.store.closed:
            self.store.check_file()
            self._refresh_save_state()
        return self._state

    def flush(self, timeout: float = 10.0) -> bool:
        """Bring the ``.gemtune`` file up to date now (before Save As or export, on close); True when it holds
        everything."""
        if self.store.closed:
            return False
        done = self.store.flush(timeout)
        self._refresh_save_state()
        return done

    def flush_soon(self) -> None:
        """Bring the file up to date in the background, without waiting (focus loss, idle)."""
        if not self.store.closed:
            self.store.flush_soon()

    # -- failures ---------------------------------------------------------------------------------
    def report_failure(self, exc: BaseException, action: Action = "change") -> UserError:
        """Turn a failed write into the user's message; emitted as ``write_failed`` (the caller kept nothing)."""
        if not isinstance(exc, (OSError, UserError)) and type(exc).__module__ != "sqlite3":
            log.error("an edit failed unexpectedly", exc_info=exc)
        else:
            log.warning("an edit could not be saved: %s", exc)
        err = save_failure(exc, self.store.path.name, action)
        self._failures += 1
        if self.store.lost is not None:
            self._lost_reported = True  # this message says it; file_lost is not sent as well
        self.last_error = err
        self._error_commit = self.store.commit_count
        self._refresh_save_state()
        self.write_failed.emit(err)
        return err

    # -- the target follows the connection ---------------------------------------------------------
    @property
    def target_chosen(self) -> bool:
        """Whether the user picked "Prepare for" themselves (then it no longer follows the connection)."""
        return self.settings.extra.get(TARGET_CHOSEN) == "yes"

    def follow_target(self, target: Target) -> bool:
        """Prepare for ``target`` because the active connection tunes there: not the user's edit, so no undo
        step. Nothing happens once the user chose a target, or while the project cannot be saved."""
        if self.target_chosen or self.settings.target is target or not self.can_edit or self.store.closed:
            return False
        try:
            self.set_settings(dataclasses.replace(self.settings, target=target, extra=dict(self.settings.extra)))
        except Exception as exc:  # reported like any failed write
            self.report_failure(exc, "settings")
            return False
        return True

    # -- imports and exports ----------------------------------------------------------------------
    def import_examples(self, examples: Sequence[Example], text: str, settings: DatasetSettings | None = None,
                        index: int | None = None) -> bool:
        """Add imported examples (and settings read from the file) as one undoable step, in one transaction.

        Returns False when nothing was added because the file could not be written (``write_failed`` says why).
        """
        from gemtune_desktop.qtcore.undo import InsertRowsCommand

        at = len(self.examples) if index is None else index
        return self.push(InsertRowsCommand(self, at, list(examples), text, settings=settings, action="import"))

    def prepare_export(self, fmt: str, file_name: str) -> ExportRefusedError | None:
        """Before an export: bring the project file up to date, and say (rows and why) what ``fmt`` cannot hold.

        None means go ahead; otherwise show the error and offer another format (nothing has been written).
        """
        from gemtune_desktop.core.formats.preflight import preflight

        self.flush()
        return preflight(self.examples, fmt, file_name)

    # -- Save As --------------------------------------------------------------------------------------
    def save_to(self, dest: str | os.PathLike[str]) -> Path:
        """Write everything to ``dest`` and continue there, undo history kept; works when the file was lost.

        Raises UserError (``ProjectLockedError`` when ``dest`` is open in another window) and changes
        nothing then.
        """
        old = self.store
        new = self._copy_to(dest)
        old.on_state_change = None
        self.last_error = None
        self._lost_reported = False
        self._attach(new)
        old.close()
        self.save_state_changed.emit(self._state)
        self.path_changed.emit(new.path)
        return new.path

    def save_as(self, dest: str | os.PathLike[str]) -> Path:
        """Write a complete copy of the project to ``dest`` and leave it closed (open it to switch to it).

        Taken under ``dest``'s locks (a target open in another window is refused before anything is
        replaced); works when this file was lost. :meth:`save_to` also switches to the copy.
        """
        copy = self._copy_to(dest)
        path = copy.path
        copy.close()
        return path

    def _copy_to(self, dest: str | os.PathLike[str]) -> ProjectStore:
        old = self.store
        new = old.save_as(dest)
        try:
            if old.lost is not None and not self._copy_matches(new):
                new = self._rebuild(new)
        except BaseException:
            new.close()
            raise
        return new

    def _copy_matches(self, store: ProjectStore) -> bool:
        try:
            on_disk = repo.load_examples(store)
        except Exception:  # a copy of an overwritten file can be anything
            return False
        mine = self.examples
        return len(on_disk) == len(mine) and all(
            (a.id, a.input, a.output, a.split, a.tags, a.note) == (b.id, b.input, b.output, b.split, b.tags, b.note)
            for a, b in zip(on_disk, mine, strict=True))

    def _rebuild(self, copy: ProjectStore) -> ProjectStore:
        """The open file was overwritten in place, so the copy read through it is not (all) ours: write the
        examples and settings the window holds; if the copy is too damaged for that, start a fresh file."""
        try:
            self._write_memory(copy)
            return copy
        except Exception as exc:
            log.warning("copy of an overwritten project is damaged; writing a fresh one", exc_info=exc)
        path = copy.path
        copy.close()
        fresh = ProjectStore.create(path, overwrite=True)
        try:
            self._write_memory(fresh)
        except BaseException:
            fresh.close()
            raise
        return fresh

    def _write_memory(self, store: ProjectStore) -> None:
        with store.transaction() as conn:
            conn.execute("DELETE FROM examples")
            repo.insert(store, self.examples, [float(n + 1) for n in range(len(self.examples))])
            repo.save_settings(store, self.settings)

    # -- validation -----------------------------------------------------------------------------
    def _new_validator(self) -> Any:
        return IncrementalValidator(self.settings, self.settings.target, self.row_number)

    def _validator_maker(self) -> Callable[[], Any]:
        settings = self.settings
        return lambda: IncrementalValidator(settings, settings.target)

    def _catch_up_settings(self, validator: Any) -> None:
        if validator.settings is not self.settings:
            validator.set_settings(self.settings, self.settings.target)

    # -- lookups ----------------------------------------------------------------------------
    def index_of(self, example: Example, hint: int = -1) -> int:
        """Index of ``example`` in the list (``hint`` is tried first), or -1."""
        ex = self.examples
        if 0 <= hint < len(ex) and ex[hint] is example:
            return hint
        for i, e in enumerate(ex):
            if e is example:
                return i
        return -1

    def indices_of_ids(self, ids: Iterable[int]) -> list[int]:
        wanted = set(ids)
        return [i for i, e in enumerate(self.examples) if e.id in wanted]


def _repair_notice(name: str, repairs: Counter[str]) -> UserError | None:
    """A note for the user when cells of a damaged or hand-edited file were not text (shown as text now)."""
    if not repairs:
        return None
    words = {"empty": "empty (NULL) values", "number": "numbers", "binary": "binary values",
             "undecodable": "text that is not valid UTF-8"}
    parts = [f"{n:,} {words[k]}" if k != "undecodable" else words[k] for k, n in repairs.items()]
    return UserError(f"Some cells in “{name}” were not text ({', '.join(parts)}). They are shown as text.",
                     "Check those examples; editing one saves it as text.", detail=str(dict(repairs)))

