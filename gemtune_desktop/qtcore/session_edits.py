"""The mutations of an open project's examples, file first: each writes SQLite in one transaction, then memory.

Mixed into :class:`~gemtune_desktop.qtcore.project_session.ProjectSession`, over the shared
:class:`~gemtune_desktop.qtcore.row_session.RowSession` (undo stack, validation, lookups). The row mutations
(``set_fields``, ``insert``, ``remove``, ``reinsert``, ``swap``) are the shared ones of
:class:`~gemtune_desktop.qtcore.row_edits.OrderedRowEdits` (read its docstring: file first, and the file's order
always equals the screen's) over the ``examples`` table; this module adds the dataset settings, which an insert
or a removal can save in the same transaction (an import's preamble and system instruction). The methods are
called by the undo commands of :mod:`gemtune_desktop.qtcore.undo` (never directly by widgets), which catch
their errors and report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.qtcore.row_edits import RESET_ABOVE_RANGES, Alongside, Removed, RowsRepo, _ranges
from gemtune_desktop.qtcore.row_session import RowSession

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from gemtune_desktop.core.project.store import ProjectStore

__all__ = ["RESET_ABOVE_RANGES", "RemovedEntry", "SessionEdits", "_ranges"]

RemovedEntry = Removed[Example]  # index in the list, the example, its stored position


class SessionEdits(RowSession[Example]):
    """File-first mutations of examples and settings; the host class provides the store, the list, signals and
    validation hooks."""

    store: ProjectStore  # switched by Save As
    settings: DatasetSettings
    settings_changed: SignalInstance

    @property
    def _rows_repo(self) -> RowsRepo[Example]:
        return repo

    # -- settings -----------------------------------------------------------------------------------
    def set_settings(self, settings: DatasetSettings) -> None:
        repo.save_settings(self.store, settings)
        self._apply_settings(settings)

    def _apply_settings(self, settings: DatasetSettings) -> None:
        self.settings = settings
        if not self.checking:  # otherwise applied when the background validation returns
            self.validator.set_settings(settings, settings.target)
        self.settings_changed.emit(settings)
        self.validation_changed.emit()

    def _settings_alongside(self, settings: DatasetSettings | None) -> Alongside | None:
        if settings is None:
            return None
        return (lambda: repo.save_settings(self.store, settings)), (lambda: self._apply_settings(settings))

    # -- rows -----------------------------------------------------------------------------------------
    def insert(self, index: int, examples: Sequence[Example], positions: Sequence[float] | None = None,
               settings: DatasetSettings | None = None) -> list[float]:
        """Insert ``examples`` before ``index`` (and save ``settings`` with them, in the same transaction).

        Returns their stored positions. ``positions`` is accepted for compatibility and ignored: positions
        always come from the current neighbours.
        """
        return self._insert_rows(index, examples, self._settings_alongside(settings))

    def remove(self, examples: Iterable[Example], settings: DatasetSettings | None = None) -> list[RemovedEntry]:
        """Delete ``examples`` (and save ``settings``, in the same transaction); returns what :meth:`reinsert`
        needs to put them back."""
        return self._remove_rows(examples, self._settings_alongside(settings))

    def _write_swap(self, before: dict[int, Example], order: dict[int, Example], slots: list[int]) -> None:
        pos = repo.positions(self.store, [e.id for e in before.values()])
        if len(pos) < len(slots):
            with self.store.transaction():
                repo.renumber_to(self.store, [e.id for e in self.examples])
            pos = repo.positions(self.store, [e.id for e in before.values()])
        slot_pos = {i: pos[before[i].id] for i in slots}
        repo.set_positions(self.store, [(order[i].id, slot_pos[i]) for i in slots])

    def replace_all(self, examples: list[Example]) -> None:
        """Tell views the whole list changed (used after a large in-place reorder)."""
        self._structure_changed()
        self.about_to_reset.emit()
        self.examples[:] = examples
        self.reset_done.emit()
