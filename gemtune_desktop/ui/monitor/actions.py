"""The Monitor tab's job actions that change something on the service: cancel a job, delete its tuned model.

Both go through the service seam (``ctx.connections.start(slot, lambda token, api: …)``), one task per job.
Deleting a tuned model on Agent Platform undeploys it from every endpoint, then deletes it; the
:class:`DeleteProgress` strip shows each step and has a Cancel button. When the service refuses, the
user gets what it said and the Cloud console steps to do it by hand; a cancel in the middle says what
state the model was left in. "Cancel requested" is cleared once the job has stopped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskGroup
from gemtune_desktop.services.monitor import MODEL_DELETED
from gemtune_desktop.ui.widgets.status_line import show_error_box

Confirm = Callable[[str, str, str], bool]  # (title, text, yes-button text) -> confirmed

CANCEL_TEXT = ("Stop “{name}”?\n\nA cancelled job may still leave a tuned model, but its quality is unpredictable: "
               "it stopped part-way through training. If the loss has already levelled off, let it finish — or "
               "re-run it later with fewer epochs.")
DELETE_TEXT = ("Delete the tuned model “{name}” on the service?\n\nAnything that uses it stops working, and this "
               "cannot be undone. The job's record and loss curve stay in this project.")
DELETE_STOPPED = ("Deleting stopped: the tuned model was not deleted, but it may already be off some of its endpoints. "
                  "Delete it again to finish, or check the Cloud console.")


class DeleteProgress(QFrame):
    """A strip under the job actions: what the deletion is doing now, how far it is, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deleteProgress")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        self.label = QLabel("", self)
        self.label.setObjectName("deleteProgressText")
        self.label.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Deleting the tuned model")
        self.bar.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelDelete")
        self.cancel_button.setToolTip("Stop after the step in progress; the model is not deleted")
        row.addWidget(self.label, 1)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        self.job_id: int | None = None
        self.hide()

    def start(self, job_id: int, name: str) -> None:
        self.job_id = job_id
        self.label.setText(f"Deleting the tuned model of “{name}”…")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.show()

    def step(self, done: int, total: int, text: str) -> None:
        if text:
            self.label.setText(text)
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))

    def stop(self) -> None:
        self.job_id = None
        self.hide()


class JobActions(QObject):
    """Cancel and delete, for the Monitor tab.

    Args:
        ctx: the AppContext (connections, jobs_changed).
        host: the widget message boxes belong to.
        confirm: asks the user (title, text, yes-button text).

    Signals:
        said(str): what happened, for the tab's status line.
        failed(object, str): a :class:`UserError` and the lead for it ("Could not cancel:").
        cancel_sent(int): the service accepted a cancel for this job (the tab watches it closely).
        delete_finished(int): the deletion for this job is over, whatever its outcome (Delete can be used again).
    """

    said = Signal(str)
    failed = Signal(object, str)
    cancel_sent = Signal(int)
    delete_finished = Signal(int)

    def __init__(self, ctx: AppContext, host: QWidget, confirm: Confirm) -> None:
        super().__init__(host)
        self.ctx = ctx
        self.host = host
        self.confirm = confirm
        self.store: ProjectStore | None = None
        self.progress = DeleteProgress(host)
        self.progress.cancel_button.clicked.connect(self.cancel_delete)
        self.cancel_requested: set[int] = set()  # jobs whose "Cancel requested" is on the status line
        self._cancels: TaskGroup[int] = TaskGroup(self, ctx.executor, "cancel job")
        self._deletes: TaskGroup[int] = TaskGroup(self, ctx.executor, "delete model")

    # -- cancel ----------------------------------------------------------------------------------
    def cancel(self, job: JobRecord) -> None:
        if not job.resource_name or not job.state.active or self._cancels.is_running(job.id):
            return
        if not self.confirm("Cancel tuning job", CANCEL_TEXT.format(name=job.display_name or job.resource_name),
                            "Stop the job"):
            return
        self.said.emit("Asking the service to stop the job…")
        resource = job.resource_name
        self.ctx.connections.start(self._cancels.slot(job.id), lambda token, api: api.cancel_job(token, resource),
                                   on_result=partial(self._cancel_sent, job.id),
                                   on_error=lambda err: self.failed.emit(err, "Could not cancel:"))

    def _cancel_sent(self, job_id: int, _result: object = None) -> None:
        self.cancel_requested.add(job_id)
        self.said.emit("Cancel requested; the job stops in a moment.")
        self.cancel_sent.emit(job_id)

    def job_stopped(self, job: JobRecord) -> bool:
        """A job ended: if its cancel was requested, say how it ended instead (returns whether it was)."""
        if job.id not in self.cancel_requested or not job.state.ended:
            return False
        self.cancel_requested.discard(job.id)
        self.said.emit(f"“{job.display_name or 'The job'}” stopped: {job.state_words}.")
        return True

    # -- delete the tuned model --------------------------------------------------------------------
    def delete(self, job: JobRecord) -> None:
        if self._deletes.running:
            return
        if not self.confirm("Delete tuned model", DELETE_TEXT.format(name=job.tuned_model or job.resource_name),
                            "Delete the model"):
            return
        self.progress.start(job.id, job.display_name or "the job")
        self.ctx.connections.start(self._deletes.slot(job.id), lambda token, api: api.delete_tuned_model(token, job),
                                   on_result=partial(self._deleted, job.id), on_error=self._delete_failed,
                                   on_progress=self.progress.step, on_cancelled=self._delete_cancelled,
                                   on_finished=partial(self._delete_over, job.id))

    def _delete_over(self, job_id: int) -> None:
        self.progress.stop()
        self.delete_finished.emit(job_id)

    def deleting(self, job_id: int) -> bool:
        return self._deletes.is_running(job_id)

    def cancel_delete(self) -> None:
        job_id = self.progress.job_id
        if job_id is not None:
            self.progress.cancel_button.setEnabled(False)
            self.progress.label.setText("Stopping after the step in progress…")
            self._deletes.cancel(job_id)

    def _delete_failed(self, err: UserError) -> None:
        self.failed.emit(err, "Could not delete the model:")
        show_error_box(self.host, err, "Delete tuned model")

    def _delete_cancelled(self) -> None:
        self.said.emit(DELETE_STOPPED)

    def _deleted(self, job_id: int, _result: object = None) -> None:
        if self.store is None:
            return
        job = jobs_repo.get_job(self.store, job_id)
        stats = {**(job.data_stats if job else {}), MODEL_DELETED: True}
        try:
            jobs_repo.update_job(self.store, job_id, tuned_model="", endpoint="", checkpoints=[], data_stats=stats)
        except (UserError, sqlite3.Error):
            self.said.emit("The tuned model was deleted on the service (the read-only project still lists it).")
            return
        self.said.emit("The tuned model was deleted on the service.")
        self.ctx.jobs_changed.emit()

    def shutdown(self) -> None:
        self._cancels.shutdown()
        self._deletes.shutdown()
        self.progress.stop()
