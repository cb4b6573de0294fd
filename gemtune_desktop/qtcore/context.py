"""The application context: the shared objects every tab is given, and the signals between tabs.

``app.py`` builds one :class:`AppContext` and passes it to the main window and each tab
(constructor injection; no globals). Tabs talk to each other only through its signals,
e.g. the Monitor tab asks the Tune tab to pre-fill settings with ``tune_prefill_requested``.
Tests build it with an in-process fake service (``service_factory``) and an
:class:`~gemtune_desktop.qtcore.workers.InlineExecutor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from gemtune_desktop.qtcore.connection_manager import ConnectionManager
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.qtcore.workers import TaskExecutor, ThreadExecutor
from gemtune_desktop.services.api import ServiceFactory
from gemtune_desktop.services.secrets import SecretStore

if TYPE_CHECKING:
    from gemtune_desktop.qtcore.project_session import ProjectSession


@dataclass(frozen=True)
class ModelRequest:
    """A model another tab asks the Test tab to try: its resource name, a label, the job it came from, and the
    model that job tuned (so the Test tab can send a tuned model the least thinking its base model allows)."""

    model: str
    label: str
    job_id: int | None = None
    base_model: str = ""


class AppContext(QObject):
    """Shared services and cross-tab requests.

    Signals:
        project_changed(object): the open project (a ProjectSession) or None.
        show_tab_requested(str): "dataset" | "tune" | "monitor" | "test".
        tune_prefill_requested(dict): settings (and base model) for the Tune tab's form.
        test_model_requested(object): a :class:`ModelRequest` for the Test tab.
        rows_focus_requested(list): example ids to select in the Dataset tab.
        jobs_changed(): a job record was added or changed (Monitor, Test pickers refresh).
        status_message(str, int): text and timeout (ms) for the status bar.
        monitor_job_requested(int): select this job (a project job id) in the Monitor tab; sent after
            ``show_tab_requested("monitor")`` by the Tune tab's "Go to the Monitor tab".
        preference_examples_changed(): preference examples were added to the open project (from the Test
            tab's blind review); views of them reload.
        batch_jobs_changed(): the Monitor checked batch-engine evaluation jobs on the service; the results of
            those that ended are stored in their evaluation runs (views of them reload).
        batch_job_submitted(int): the Test tab sent an evaluation run (its id) to the batch engine; the Monitor
            lists and follows the new jobs.
        evaluation_requested(list): evaluate these two models (as the Test tab's pickers name them) side by side
            on the project's evaluation examples; sent by the Monitor for a model moved onto a newer base.
    """

    project_changed = Signal(object)
    show_tab_requested = Signal(str)
    tune_prefill_requested = Signal(dict)
    test_model_requested = Signal(object)
    rows_focus_requested = Signal(list)
    jobs_changed = Signal()
    status_message = Signal(str, int)
    # -- Tune tab
    monitor_job_requested = Signal(int)
    preference_examples_changed = Signal()
    # -- Monitor tab
    batch_jobs_changed = Signal()
    # -- Test tab
    batch_job_submitted = Signal(int)
    evaluation_requested = Signal(list)

    def __init__(self, settings: Settings, secrets: SecretStore | None = None,
                 executor: TaskExecutor | None = None, service_factory: ServiceFactory | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.secrets = secrets or SecretStore()
        self.executor: TaskExecutor = executor or ThreadExecutor(parent=self)
        self.project: ProjectSession | None = None
        self._until_painted: list[Callable[[], None]] | None = None
        self.connections = ConnectionManager(settings, self.secrets, self.executor, service_factory, self)

    # -- start-up ----------------------------------------------------------------------------
    def hold_until_painted(self) -> None:
        """From now on :meth:`after_first_paint` queues work until :meth:`window_painted` is called."""
        if self._until_painted is None:
            self._until_painted = []

    def after_first_paint(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the main window has been painted (soon, if nothing is held).

        The start-up path holds such work (opening the last project, the welcome) so that the
        window appears first; tests and windows built later run it on the next event-loop turn.
        """
        if self._until_painted is None:
            QTimer.singleShot(0, self, callback)
        else:
            self._until_painted.append(callback)

    def window_painted(self) -> None:
        """Run the work held for the first paint, in the order it was asked for."""
        callbacks, self._until_painted = self._until_painted or [], None
        for callback in callbacks:
            callback()

    def set_project(self, project: ProjectSession | None) -> None:
        self.project = project
        self.project_changed.emit(project)

    def shutdown(self) -> None:
        self.connections.shutdown()
        self.executor.shutdown()
