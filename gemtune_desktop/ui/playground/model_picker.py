"""Which models the Test tab can call, and the grouped drop-down that picks one.

:class:`ModelCatalog` gathers the project's tuned models (and their checkpoints on Agent
Platform) from the job records (:mod:`gemtune_desktop.services.model_choices`), whatever the
connection's state: the models of the connection in use first, then those made on another
connection (named, so the console can say which connection to switch to). It lists the
connection's base models on a worker thread. :class:`ModelPicker` shows them grouped under
headers, the project's models first.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.console import ModelRef
from gemtune_desktop.services.model_choices import OTHER_CONNECTION_GROUP, PROJECT_GROUP, project_model_refs
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

log = logging.getLogger(__name__)

REF_ROLE = Qt.ItemDataRole.UserRole + 1
REQUESTED_GROUP = "Requested"
BASE_GROUP = "Base models"


class ModelCatalog(QObject):
    """The models the pickers offer.

    Signals:
        changed(): the list changed (pickers rebuild, keeping their selection).
        failed(str): listing the base models failed (plain words).
    """

    changed = Signal()
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.project_models: list[ModelRef] = []
        self.other_models: list[ModelRef] = []  # tuned on this project, on another connection
        self.elsewhere: dict[str, JobRecord] = {}  # model -> the job of another connection it belongs to
        self.started: dict[int, str] = {}  # job id -> the day it was started, as the Monitor lists it
        self.base_models: list[ModelRef] = []
        self.requested: list[ModelRef] = []
        self.loading = False
        self._list_task = TaskSlot(self, ctx.executor, "base models")

    def refresh_jobs(self) -> None:
        """Read the project's tuned models again (every connection's; no call to the service)."""
        self.project_models, self.other_models, self.elsewhere = [], [], {}
        project = self.ctx.project
        if project is not None:
            from gemtune_desktop.core.project import jobs_repo

            try:
                jobs = jobs_repo.list_jobs(project.store)
            except Exception:  # an older or damaged project: show base models only
                log.warning("could not read jobs for the model picker", exc_info=True)
                jobs = []
            models = project_model_refs(jobs, self.ctx.connections.profile)
            self.started = {j.id: day for j in jobs if (day := started_day(j))}
            self.project_models, self.other_models, self.elsewhere = models.here, models.other, models.elsewhere
        self.changed.emit()

    def job_of(self, ref: ModelRef | None) -> JobRecord | None:
        """The job of another connection that ``ref`` belongs to (None when it can be called here)."""
        return self.elsewhere.get(ref.model) if ref is not None else None

    def refresh(self) -> None:
        """Re-read the jobs now, and list the base models on a worker thread."""
        self.refresh_jobs()
        self.loading = True
        self.ctx.connections.start(self._list_task, lambda token, api: api.list_base_models(token),
                                   on_result=self._on_listed, on_error=self._on_failed, on_finished=self._on_finished)

    def _on_listed(self, refs: list[ModelRef]) -> None:
        self.base_models = refs
        self.changed.emit()

    def _on_failed(self, err: UserError) -> None:
        self.failed.emit(error_text(err, "Could not list the base models:", tone=Tone.PLAIN, hint=False))

    def _on_finished(self) -> None:
        self.loading = False

    def add_requested(self, ref: ModelRef) -> None:
        if self.find(ref.model) is None:
            ref.group = REQUESTED_GROUP
            self.requested.append(ref)
            self.changed.emit()

    def find(self, model: str) -> ModelRef | None:
        for ref in self.all():
            if ref.model == model:
                return ref
        return None

    def groups(self) -> list[tuple[str, list[ModelRef]]]:
        result = []
        if self.project_models:
            result.append((PROJECT_GROUP, self.project_models))
        if self.other_models:
            result.append((OTHER_CONNECTION_GROUP, self.other_models))
        if self.requested:
            result.append((REQUESTED_GROUP, self.requested))
        result.append((BASE_GROUP, self.base_models))
        return result

    def all(self) -> list[ModelRef]:
        return [*self.project_models, *self.other_models, *self.requested, *self.base_models]


class ModelPicker(QComboBox):
    """A drop-down of the catalog's models under non-selectable group headers.

    Signals:
        model_changed(object): the chosen :class:`ModelRef` (or None).
    """

    model_changed = Signal(object)

    def __init__(self, catalog: ModelCatalog, parent: QWidget | None = None, name: str = "Model") -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._model = QStandardItemModel(self)
        self.setModel(self._model)
        self.setMinimumContentsLength(12)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(name)
        self.setToolTip(_PICKER_TIP)
        self._wanted = ""
        catalog.changed.connect(self.rebuild)
        self.currentIndexChanged.connect(self._emit_changed)
        self.rebuild()

    def rebuild(self) -> None:
        current = self.current_ref()
        keep = self._wanted or (current.model if current is not None else "")
        self.blockSignals(True)
        try:
            self._model.clear()
            bold = QFont()
            bold.setBold(True)
            for title, refs in self.catalog.groups():
                header = QStandardItem(title if refs or not self.catalog.loading else f"{title} (loading…)")
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setFont(bold)
                self._model.appendRow(header)
                if not refs:
                    empty = QStandardItem("    (loading…)" if self.catalog.loading else "    (none)")
                    empty.setFlags(Qt.ItemFlag.NoItemFlags)
                    self._model.appendRow(empty)
                for ref in refs:
                    label = ref.label if ref.label.startswith(" ") else f"  {ref.label}"
                    day = self.catalog.started.get(ref.job_id or 0, "") if ref.kind == "tuned" else ""
                    if day and day not in label:  # two runs of one name told apart (unless it names the day)
                        label += f" · {day}"
                    item = QStandardItem(label)
                    item.setData(ref, REF_ROLE)
                    job = self.catalog.job_of(ref)
                    item.setToolTip(ref.model if job is None else
                                    f"{ref.model}\nTuned on another connection; choose it to see how to call it.")
                    self._model.appendRow(item)
            index = self._index_of(keep) if keep else -1
            if index < 0:
                index = self._first_selectable()
            self.setCurrentIndex(index)
        finally:
            self.blockSignals(False)
        if keep and self._index_of(keep) >= 0:
            self._wanted = ""
        self._emit_changed()

    def _index_of(self, model: str) -> int:
        for row in range(self._model.rowCount()):
            ref = self._model.item(row).data(REF_ROLE)
            if isinstance(ref, ModelRef) and ref.model == model:
                return row
        return -1

    def _first_selectable(self) -> int:
        for row in range(self._model.rowCount()):
            if isinstance(self._model.item(row).data(REF_ROLE), ModelRef):
                return row
        return -1

    def current_ref(self) -> ModelRef | None:
        ref = self.currentData(REF_ROLE)
        return ref if isinstance(ref, ModelRef) else None

    def select_model(self, model: str) -> bool:
        """Choose ``model``; if it is not listed yet, choose it as soon as it appears."""
        index = self._index_of(model)
        if index < 0:
            self._wanted = model
            return False
        self._wanted = ""
        self.setCurrentIndex(index)
        return True

    def chosen_model(self) -> str:
        """The model chosen, or the one waiting to be listed (see :meth:`select_model`)."""
        if self._wanted:
            return self._wanted
        ref = self.current_ref()
        return ref.model if ref is not None else ""

    def forget_wanted(self) -> None:
        self._wanted = ""

    def _emit_changed(self, *_args: object) -> None:
        ref = self.current_ref()
        # The whole name, date and base model, also when a small window cuts the box's text short.
        self.setToolTip(_PICKER_TIP if ref is None else f"{self.currentText().strip()}\n{ref.model}\n\n{_PICKER_TIP}")
        self.model_changed.emit(ref)


_PICKER_TIP = "The model to ask. Models tuned on this project come first; a tuned model is called on its own endpoint."


def started_day(job: JobRecord) -> str:
    """The local day a job was started ("2026-12-04"), as the Monitor's Started column begins; "" if unknown."""
    start = job.start_time
    return start.astimezone().strftime("%Y-%m-%d") if start else ""
