"""What the imports and exports of the Examples view (:mod:`.transfer`) and the Preference pairs view
(:mod:`.preference_transfer`) share: the signals the progress row and the page listen to, one import and one
export at a time on workers, the "already running" refusal, and the column-mapping dialog's round trip (the file
is read again with the columns the user picked).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot

MappingT = TypeVar("MappingT")  # the columns the user picked for a table (ColumnMapping, PreferenceMapping)


class TransferBase(QObject, Generic[MappingT]):
    """Signals:
        progress_started(str): an import began (text for the progress row).
        progressed(int, int, str): done, total, text.
        progress_ended(): the import is over (done, failed or cancelled).
        imported(int): rows were added from this list index on.
        failed(object): a :class:`UserError` to show.
    """

    progress_started = Signal(str)
    progressed = Signal(int, int, str)
    progress_ended = Signal()
    imported = Signal(int)
    failed = Signal(object)

    def __init__(self, ctx: AppContext, dialog_parent: QWidget, task_name: str, parent: QObject | None = None) -> None:
        """``task_name``: "import" names the import's worker "import" and the export's "export"."""
        super().__init__(parent)
        self.ctx = ctx
        self._dialog_parent = dialog_parent
        self._import_task = TaskSlot(self, ctx.executor, task_name)
        self._export_task = TaskSlot(self, ctx.executor, task_name.replace("import", "export"))
        self.mapping_dialog: QWidget | None = None
        self.report_box: QMessageBox | None = None

    @property
    def importing(self) -> bool:
        return self._import_task.running

    @property
    def exporting(self) -> bool:
        return self._export_task.running

    def import_file(self, path: Path, mapping: MappingT | None = None, sheet: str | None = None) -> bool:
        raise NotImplementedError

    def _refuse_second_import(self) -> bool:
        """True (and the message) when an import is running already."""
        if self._import_task.running:
            self.failed.emit(UserError("An import is already running.", "Wait for it or press Cancel."))
            return True
        return False

    def _start_import(self, text: str, work: Callable[..., object], *args: object,
                      on_result: Callable[[Any], None]) -> None:
        """Read on a worker (``work(token, *args)``), with the progress row and Cancel."""
        self.progress_started.emit(text)
        self._import_task.start(work, *args, on_result=on_result,
                                on_error=self.failed.emit, on_progress=self.progressed.emit,
                                on_cancelled=lambda: self.ctx.status_message.emit("Import cancelled", 4000),
                                on_finished=self.progress_ended.emit)

    def cancel_import(self) -> None:
        self._import_task.cancel()

    def _open_mapping(self, dialog: QDialog, path: Path, mapping: Callable[[], MappingT | None],
                      sheet: Callable[[], str | None]) -> None:
        """Show the column-mapping dialog; on OK the file is imported again with the columns picked."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.import_file(path, mapping(), sheet()))
        dialog.open()
        self.mapping_dialog = dialog
