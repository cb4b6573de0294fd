"""The Test tab ("playground" in the code): "is it better?" — a single-turn console, its history, batch evaluation.

Four pages share one model catalog (the project's tuned models first, then the
connection's base models): Console (prompt, settings, streamed answers, compare),
History (searchable, re-runnable), Batch evaluation (runs with metrics, a judge, Google's
evaluation service, the batch engine and blind review) and Sweep (a grid of settings and its
trade-off plot).
Other tabs ask for a model with ``ctx.test_model_requested``; the pickers refresh on
``jobs_changed``, ``project_changed`` and connection changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from gemtune_desktop.core.project.history_repo import HistoryEntry
from gemtune_desktop.qtcore.context import AppContext, ModelRequest
from gemtune_desktop.services.console import ModelRef
from gemtune_desktop.ui.playground.console_panel import ConsolePanel
from gemtune_desktop.ui.playground.eval_panel import EvalPanel
from gemtune_desktop.ui.playground.history_panel import HistoryPanel
from gemtune_desktop.ui.playground.model_picker import ModelCatalog
from gemtune_desktop.ui.playground.sweep_panel import SweepPanel
from gemtune_desktop.ui.tab_page import TabKey, WindowMenus


class PlaygroundTab(QWidget):
    """The Test tab (a :class:`~gemtune_desktop.ui.tab_page.TabPage`); see the module docstring."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.catalog = ModelCatalog(ctx, self)
        layout = QVBoxLayout(self)
        self.notice = QLabel(self)
        self.notice.setObjectName("testNotice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.hide()
        layout.addWidget(self.notice)
        self.pages = QTabWidget(self)
        self.pages.setObjectName("testPages")
        self.console = ConsolePanel(ctx, self.catalog, self.pages)
        self.history = HistoryPanel(ctx, self.pages)
        self.evaluation = EvalPanel(ctx, self.catalog, self.console, self.pages)
        self.sweep = SweepPanel(ctx, self.catalog, self.console, self.pages)
        self.pages.addTab(self.console, "Console")
        self.pages.addTab(self.history, "History")
        self.pages.addTab(self.evaluation, "Batch evaluation")
        self.pages.addTab(self.sweep, "Sweep")
        layout.addWidget(self.pages)

        self.console.history_added.connect(self.history.reload)
        self.history.rerun_requested.connect(self._rerun)
        self.catalog.failed.connect(self._show_notice)
        self.catalog.changed.connect(lambda: self.notice.hide() if self.catalog.base_models else None)
        ctx.test_model_requested.connect(self.select_model)
        ctx.evaluation_requested.connect(self.compare_models)
        ctx.jobs_changed.connect(self.catalog.refresh_jobs)
        ctx.project_changed.connect(self._project_changed)
        ctx.connections.connection_changed.connect(lambda _p: self.catalog.refresh())
        self._refreshed = False
        self.console.state.project_changed(ctx.project)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._refreshed:  # list base models the first time the tab is seen
            self._refreshed = True
            self.catalog.refresh()

    def refresh(self) -> None:
        self._refreshed = True
        self.catalog.refresh()

    def _show_notice(self, text: str) -> None:
        self.notice.setText(f"⚠ {text}")
        self.notice.show()

    def _project_changed(self, _project: object) -> None:
        if self.evaluation.is_running():  # its answers belong to the project that was open
            self.evaluation.cancel()
        self.console.state.project_changed(self.ctx.project)
        self.catalog.refresh_jobs()
        self.console.refresh_project()
        self.history.reload()
        self.evaluation.reload_runs()
        self.sweep.project_changed()

    def select_model(self, request: ModelRequest) -> None:
        """Handle ``test_model_requested``: choose that model in the console."""
        if not request.model:
            return
        self.catalog.refresh_jobs()
        if self.catalog.find(request.model) is None:
            self.catalog.add_requested(ModelRef(model=request.model, label=request.label or request.model,
                                                kind="tuned", job_id=request.job_id,
                                                base_model=request.base_model or self._base_model_of(request)))
        self.console.picker_a.select_model(request.model)
        self.pages.setCurrentWidget(self.console)
        self.ctx.show_tab_requested.emit(TabKey.TEST)

    def compare_models(self, models: list[str]) -> None:
        """Handle ``evaluation_requested``: both models on the evaluation page, the run started when it can be."""
        if len(models) != 2:
            return
        self.catalog.refresh_jobs()
        panel = self.evaluation
        panel.two_models.setChecked(True)
        listed = panel.picker_a.select_model(models[0]) & panel.picker_b.select_model(models[1])
        self.pages.setCurrentWidget(panel)
        self.ctx.show_tab_requested.emit(TabKey.TEST)
        if listed and panel.start_button.isEnabled():
            panel.start_button.click()

    def _base_model_of(self, request: ModelRequest) -> str:
        """The model the requested job tuned, from its record (when the request does not say)."""
        project = self.ctx.project
        if project is None or request.job_id is None:
            return ""
        from gemtune_desktop.core.project import jobs_repo

        job = jobs_repo.get_job(project.store, request.job_id)
        return job.base_model if job is not None else ""

    def _rerun(self, entry: HistoryEntry) -> None:
        self.console.load(entry.model, entry.prompt, entry.request)
        self.pages.setCurrentWidget(self.console)
        self.console.send()

    def install_actions(self, menus: WindowMenus) -> None:
        """This tab adds nothing to the menus."""

    def can_close(self) -> bool:
        return True

    def shutdown(self) -> None:
        self.console.shutdown()
        self.evaluation.shutdown()
        self.sweep.shutdown()
