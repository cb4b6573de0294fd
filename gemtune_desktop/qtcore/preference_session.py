"""The open project's preference pairs as the UI sees them: the pairs in memory, validation, undo, failures.

A :class:`PreferenceSession` lives beside the project's :class:`~gemtune_desktop.qtcore.project_session.ProjectSession`
(one per project, a child of it: :func:`preference_session_for`) and writes to the same ``.gemtune`` file,
table ``preference_examples``, through :mod:`gemtune_desktop.core.project.preference_repo`. It follows the
project wherever it goes (Save As switches the file: :attr:`store` is always the project's) and closes with it.

It works exactly like the supervised session, and shares its code: the undo stack, the validation (in the
background for a large set) and the lookups are :class:`~gemtune_desktop.qtcore.row_session.RowSession`'s, and
its mutations (:mod:`~gemtune_desktop.qtcore.preference_edits`) write SQLite first and only then change
memory; they are called by the undo commands of :mod:`gemtune_desktop.qtcore.preference_undo`, which catch
their own errors. A write that fails is never a
silent success: :meth:`report_failure` words it as the supervised session does (it *is* the project's
:meth:`~ProjectSession.report_failure`: the window's save state says "Not saved: the last change failed"), emits
``write_failed`` here too, and the failed command leaves no trace in this session's own undo history.

The preamble and the default system instruction are the project's dataset settings
(:meth:`PreferenceSettings.from_dataset`); when they change, every pair is re-validated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.preference.validation import PreferenceValidator
from gemtune_desktop.core.project import preference_repo as repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.core.project.write_errors import Action
from gemtune_desktop.qtcore.preference_edits import PreferenceEdits, RemovedPair
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.row_session import RowSessionObject

log = logging.getLogger(__name__)

__all__ = ["PreferenceSession", "RemovedPair", "preference_session_for"]

BACKGROUND_ABOVE = 20_000  # more pairs than this are validated on a worker after opening (as the supervised view)


class PreferenceSession(PreferenceEdits, RowSessionObject):
    """The preference pairs of one open project.

    Signals (as :class:`ProjectSession`'s, for preference pairs):
        rows_about_to_be_inserted(int, int), rows_inserted(int, int): first index, count.
        rows_about_to_be_removed(int, int), rows_removed(int, int): one contiguous range.
        about_to_reset(), reset_done(): the whole list is replaced.
        examples_changed(list): the pairs whose fields changed (in place).
        validation_changed(): findings changed.
        write_failed(object): a :class:`UserError` for a write that failed (the change was not kept).
        closed(): the project was closed.
    """

    def __init__(self, project: ProjectSession, background_above: int | None = BACKGROUND_ABOVE) -> None:
        QObject.__init__(self, project)
        self.setObjectName("preferenceSession")  # found by name where importing this module would cost start-up
        self.project = project
        self.undo_stack = self._new_undo_stack()
        self.examples: list[PreferenceExample] = repo.load(project.store)
        self._settings = PreferenceSettings.from_dataset(project.settings)
        self.validator: PreferenceValidator = PreferenceValidator(self._settings, self.row_number)
        self._init_rows(background_above)
        self._closed = False
        project.settings_changed.connect(self._project_settings_changed)
        project.closed.connect(self.close)

    # -- the project ------------------------------------------------------------------------------------
    @property
    def store(self) -> ProjectStore:
        """The project's store (a new one after Save As)."""
        return self.project.store

    @property
    def settings(self) -> PreferenceSettings:
        return self._settings

    @property
    def read_only(self) -> bool:
        return self.project.read_only

    @property
    def can_edit(self) -> bool:
        return not self._closed and self.project.can_edit

    @property
    def is_closed(self) -> bool:
        return self._closed or self.project.is_closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.undo_stack.clear()
        self.closed.emit()

    def _project_settings_changed(self, settings: DatasetSettings) -> None:
        new = PreferenceSettings.from_dataset(settings)
        if new == self._settings:
            return
        self._settings = new
        if not self.checking:  # otherwise applied when the background validation returns
            self.validator.set_settings(new)
        self.validation_changed.emit()

    # -- failures and imports ---------------------------------------------------------------------------
    def report_failure(self, exc: BaseException, action: Action = "change") -> UserError:
        """A failed write in the project's words (its save state follows); emitted as ``write_failed`` too."""
        err = self.project.report_failure(exc, action)
        self._failures += 1
        self.write_failed.emit(err)
        return err

    def import_pairs(self, examples: Sequence[PreferenceExample], text: str, index: int | None = None) -> bool:
        """Add imported pairs as one undoable step, in one transaction; False when nothing could be written."""
        from gemtune_desktop.qtcore.preference_undo import InsertPairsCommand

        at = len(self.examples) if index is None else index
        return self.push(InsertPairsCommand(self, at, list(examples), text, action="import"))

    # -- validation -------------------------------------------------------------------------------------
    def _validator_maker(self) -> Callable[[], PreferenceValidator]:
        settings = self._settings
        return lambda: PreferenceValidator(settings)

    def _catch_up_settings(self, validator: PreferenceValidator) -> None:
        if validator.settings != self._settings:
            validator.set_settings(self._settings)


def preference_session_for(project: ProjectSession, background_above: int | None = BACKGROUND_ABOVE
                           ) -> PreferenceSession:
    """The one :class:`PreferenceSession` of ``project`` (made, and its pairs read, on first use)."""
    for child in project.children():
        if isinstance(child, PreferenceSession):
            return child
    return PreferenceSession(project, background_above)


def existing_preference_session(project: ProjectSession | None) -> PreferenceSession | None:
    """The project's preference session if one was made already (nothing is read from the file)."""
    if project is None:
        return None
    for child in project.children():
        if isinstance(child, PreferenceSession):
            return child
    return None
