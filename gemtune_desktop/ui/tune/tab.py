"""The Tune tab: choose a base model and settings, see the estimate, start a tuning job on the active connection.

The tab lays out and wires its parts: the :class:`~.form.TuneForm` (with its presets row and the
:class:`~.job_name.JobNamer` of its name field), the :class:`~.estimate.EstimateBox`, the
:class:`~.problems.ProblemsBox` and, when the connection cannot tune, the
:class:`~.unavailable.UnavailablePanel`, all in a scroll area; the :class:`~.run_row.RunRow` (status, Start)
stays below it, so Start is reachable at any window size. The form follows the connection; Start goes
through :class:`~.submit.SubmitFlow`, the exactly-once submit. With a Gemini API key the tab says that
Google does not tune with API keys and offers Google Cloud or the Sandbox instead of a form.
"""

from __future__ import annotations

import logging
import sqlite3
from html import escape
from itertools import pairwise
from typing import Any

from PySide6.QtCore import Qt, QTimer, SignalInstance
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QMessageBox, QScrollArea, QVBoxLayout, QWidget

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.model_catalog import models_for_connection
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.validation import Finding
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.submit_flow import SubmitReport, pending_checks
from gemtune_desktop.ui.tab_page import TabKey, WindowMenus
from gemtune_desktop.ui.tune.estimate import DatasetSummary, EstimateBox, PriceBook
from gemtune_desktop.ui.tune.feedback import StartFeedback
from gemtune_desktop.ui.tune.form import TuneForm
from gemtune_desktop.ui.tune.job_name import JobNamer
from gemtune_desktop.ui.tune.presets import Presets
from gemtune_desktop.ui.tune.problems import ProblemsBox
from gemtune_desktop.ui.tune.run_row import RunRow
from gemtune_desktop.ui.tune.start_from import MethodSupport
from gemtune_desktop.ui.tune.submit import StartRequest, SubmitFlow
from gemtune_desktop.ui.tune.unavailable import API_KEY_TITLE, UnavailablePanel
from gemtune_desktop.ui.widgets.status_line import Tone

log = logging.getLogger(__name__)

ESTIMATE_DELAY_MS = 300
CONNECTIONS_LINK = "#connections"


def read_catalog() -> dict[str, Any]:
    """The shipped list of tunable models and their prices (``resources/models.json``)."""
    from gemtune_desktop.resources import read_json

    try:
        data = read_json("models.json")
    except (OSError, ValueError):
        log.warning("models.json could not be read")
        return {}
    return data if isinstance(data, dict) else {}


def connection_words(profile: ConnectionProfile) -> str:
    """Where jobs run and what that means, for someone who has never heard of Google's APIs."""
    label, change = escape(profile.label, quote=False), f'<a href="{CONNECTIONS_LINK}">Change…</a>'
    if profile.kind is ConnectionKind.GEMINI_API:
        return f"Connection in use: <b>{label}</b>. {change}"
    if profile.is_sandbox:
        where = "a simulation on this computer: nothing is sent to Google and nothing is billed"
    else:
        where = "jobs run in your Google Cloud project and are billed to it"
    return f"Tuning on: <b>{label}</b> — {where}. {change}"


def not_known_reason(record: JobRecord) -> str:
    return (f"Start is off until GemTune knows whether “{record.display_name}” started (the service did not confirm "
            "it), so that no job is started twice.")


def _data_signals(project: ProjectSession) -> list[SignalInstance]:
    """The project's signals after which the estimate is counted again."""
    return [project.rows_inserted, project.rows_removed, project.reset_done, project.examples_changed,
            project.settings_changed]


class TuneTab(QWidget):
    """The Tune tab (a :class:`~gemtune_desktop.ui.tab_page.TabPage`); see the module docstring."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.backend = Backend.AGENT_PLATFORM
        self.tuning_possible = True
        self._catalog = read_catalog()
        self._summary: DatasetSummary | None = None
        self._watched: ProjectSession | None = None
        self._records: list[JobRecord] = []  # the project's jobs (for the name field)
        self._pending: list[JobRecord] = []  # submits of this connection whose outcome is not known
        self.prices = PriceBook(ctx.settings)
        self.presets = Presets(ctx.settings)
        self._models_task = TaskSlot(self, ctx.executor, "tunable models")
        self.flow = SubmitFlow(ctx, self.confirm_warnings, self)
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(ESTIMATE_DELAY_MS)
        self._estimate_timer.timeout.connect(self._on_form_changed)
        self._build()
        self.namer = JobNamer(self.form.name_edit, self.form.name_warning)
        self.feedback = StartFeedback(ctx, self.form, self.estimate_box, self.problems, self.run, self.scroll_area)
        self.method = MethodSupport(ctx, self.form, self._catalog, self)
        self._wire()
        self.form.presets.show_names(self.presets.names())
        self._on_project_changed(ctx.project)
        self.refresh_connection()

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroll_area, 1)
        body = QWidget(self.scroll_area)
        self.scroll_area.setWidget(body)
        layout = QVBoxLayout(body)
        self.connection_label = QLabel(body)
        self.connection_label.setObjectName("tuneConnection")
        self.connection_label.setWordWrap(True)
        self.connection_label.setTextFormat(Qt.TextFormat.RichText)
        self.connection_label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                      | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        layout.addWidget(self.connection_label)
        self.unavailable = UnavailablePanel(body)
        layout.addWidget(self.unavailable)
        self.form_area = QWidget(body)
        fa = QVBoxLayout(self.form_area)
        fa.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form_area)
        self.form = TuneForm(self.form_area)
        self.estimate_box = EstimateBox(self.form_area)
        self.problems = ProblemsBox(self.form_area)
        for part in (self.form, self.estimate_box, self.problems):
            fa.addWidget(part)
        layout.addStretch(1)
        margins = layout.contentsMargins()
        self.run = RunRow(self)  # outside the scroll area: always on screen
        self.run.setContentsMargins(margins.left(), margins.bottom() // 2, margins.right(), margins.bottom())
        outer.addWidget(self.run)
        # Tab moves through the controls as they are laid out: top to bottom, left to right.
        order = [*self.unavailable.focus_order(), *self.form.focus_order(), self.estimate_box.price_spin,
                 self.estimate_box.price_reset, self.problems.list, self.problems.show_rows_button,
                 self.run.monitor_button, self.run.cancel_button, self.run.start_button]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)

    def _wire(self) -> None:
        ctx, form, run = self.ctx, self.form, self.run
        self.connection_label.linkActivated.connect(lambda _href: self.open_connections())
        self.unavailable.setup_cloud_requested.connect(self.open_connections)
        self.unavailable.use_sandbox_requested.connect(self.use_sandbox)
        self.unavailable.retry_requested.connect(self.load_models)
        form.changed.connect(self._on_form_changed)
        self.method.said.connect(run.status.say)
        self.method.failed.connect(lambda err: run.status.error(err))
        form.model_changed.connect(self._load_price)
        form.edit_models_requested.connect(self.edit_model_list)
        form.presets.save_requested.connect(self.save_preset)
        form.presets.load_requested.connect(self.load_preset)
        form.presets.delete_requested.connect(self.delete_preset)
        self.estimate_box.price_edited.connect(self._on_price_edited)
        self.estimate_box.price_reset_requested.connect(self.reset_price)
        self.estimate_box.estimate_label.linkActivated.connect(
            lambda _href: self.scroll_area.ensureWidgetVisible(self.estimate_box.price_spin))
        self.problems.rows_requested.connect(self.focus_rows)
        self.problems.field_requested.connect(form.focus_field)
        run.start_button.clicked.connect(self.start)
        run.cancel_button.clicked.connect(self.flow.cancel)
        run.monitor_button.clicked.connect(self.feedback.go_to_monitor)
        flow = self.flow
        flow.busy_changed.connect(self._set_busy)
        flow.said.connect(run.status.say)
        flow.failed.connect(lambda err: run.status.error(err, hint_on_new_line=True))
        flow.spec_problems.connect(self.feedback.show_spec_problems)
        flow.dataset_errors.connect(lambda errors, examples: self.feedback.show_dataset_errors(
            errors, examples, self.backend.label))
        flow.submit_began.connect(run.begin_progress)
        flow.progressed.connect(run.report)
        flow.reported.connect(self._on_report)
        ctx.connections.connection_changed.connect(lambda _p: self.refresh_connection())
        ctx.project_changed.connect(self._on_project_changed)
        ctx.jobs_changed.connect(self._on_jobs_changed)
        ctx.tune_prefill_requested.connect(self.prefill)
        ctx.settings.changed.connect(self._on_setting_changed)

    # -- connection and models ---------------------------------------------------------------
    @property
    def profile(self) -> ConnectionProfile:
        return self.ctx.connections.profile

    def refresh_connection(self) -> None:
        """Re-read the active connection: backend, model list, which settings apply; forget what was said."""
        profile = self.profile
        self.backend = profile.backend
        if not self.flow.busy:
            self.feedback.clear()
        self.connection_label.setText(connection_words(profile))
        self.form.set_backend(self.backend)
        self._refresh_jobs()
        self.load_models()

    def load_models(self) -> None:
        self.form.clear_models()
        if self.profile.kind is ConnectionKind.GEMINI_API:  # Google has no tuning for API keys (since May 2025)
            self._models_task.cancel()
            self.unavailable.show_api_key()
            self._set_tuning_possible(False)
            return
        if self.backend is Backend.AGENT_PLATFORM:
            override = self.ctx.settings.get(S.TUNABLE_MODELS_AP)
            self._set_models(models_for_connection(self._catalog, self.profile.is_sandbox, override))
            return
        self.unavailable.show_no_tunable_model()
        self._set_tuning_possible(True)
        self.form.models_status.setText("Looking for tunable models…")
        self.ctx.connections.start(self._models_task, lambda token, api: api.list_tunable_models(token),
                                   on_result=self._on_models_listed, on_error=self._on_models_failed)

    def _on_models_listed(self, pairs: list[tuple[str, str]]) -> None:
        if self.backend is Backend.GEMINI_API:
            self._set_models([J.ModelInfo(name, label) for name, label in pairs])

    def _on_models_failed(self, err: UserError) -> None:
        self.form.models_status.setText("Could not list models.")
        self._set_tuning_possible(True)
        self.run.status.error(err, "The list of tunable models could not be read:", tone=Tone.PLAIN)
        self._update_start_enabled()

    def _set_models(self, models: list[J.ModelInfo]) -> None:
        self.form.set_models(models)
        self._set_tuning_possible(bool(models) or self.backend is Backend.AGENT_PLATFORM)

    def _set_tuning_possible(self, possible: bool) -> None:
        self.tuning_possible = possible
        self.unavailable.setVisible(not possible)
        self.form_area.setVisible(possible)
        self.run.setVisible(possible)
        self._update_start_enabled()

    def edit_model_list(self) -> None:
        """Let the user edit the tunable Agent Platform models (comma list in settings; empty = shipped list)."""
        from PySide6.QtWidgets import QInputDialog

        shipped = ", ".join(m.id for m in J.agent_platform_models(self._catalog))
        current = self.ctx.settings.get(S.TUNABLE_MODELS_AP) or shipped
        text, ok = QInputDialog.getText(
            self, "Tunable models", "Agent Platform model ids, separated by commas\n(leave empty for the list "
            "shipped with the app):", QLineEdit.EchoMode.Normal, current)
        if ok:
            cleaned = ", ".join(n.strip() for n in text.split(",") if n.strip())
            self.ctx.settings.set(S.TUNABLE_MODELS_AP, "" if cleaned == shipped else cleaned)

    def open_connections(self) -> None:
        from gemtune_desktop.ui.main_window import MainWindow

        window = self.window()
        if isinstance(window, MainWindow):
            window.open_connections()

    def use_sandbox(self) -> None:
        """Switch to the Sandbox, simulating Agent Platform if it already simulated the Gemini API."""
        manager = self.ctx.connections
        if manager.active_kind is ConnectionKind.SANDBOX:
            profile = manager.profile
            profile.sandbox_backend = Backend.AGENT_PLATFORM
            manager.save_profile(profile)
        else:
            manager.set_active(ConnectionKind.SANDBOX)

    def _on_setting_changed(self, name: str) -> None:
        if name == S.TUNABLE_MODELS_AP.name and self.backend is Backend.AGENT_PLATFORM:
            self.load_models()
        elif name == S.TUNE_PRESETS.name:
            self.form.presets.show_names(self.presets.names())

    # -- presets ------------------------------------------------------------------------------
    def save_preset(self, name: str) -> None:
        self.run.status.say(self.presets.save(name, self.form.spec(), self.form.method_values()))
        self.form.presets.show_names(self.presets.names())
        if name:
            self.form.presets.set_name(name)

    def load_preset(self, name: str) -> None:
        preset = self.presets.get(name)
        if preset is None:
            self.run.status.say(f"There is no preset called “{name}”." if name else "Choose a preset first.")
            return
        self.form.set_values(dict(preset.values))
        self.run.status.say(self.presets.load_note(name, preset, self.backend))

    def delete_preset(self, name: str) -> None:
        said = self.presets.delete(name)
        if said:
            self.form.presets.show_names(self.presets.names())
            self.form.presets.set_name("")
            self.run.status.say(said)

    # -- project and its jobs -----------------------------------------------------------------
    def _on_project_changed(self, project: ProjectSession | None) -> None:
        old = self._watched
        if old is not None:
            for signal in _data_signals(old):
                signal.disconnect(self._on_data_changed)
        self._watched = project
        if project is not None:
            for signal in _data_signals(project):
                signal.connect(self._on_data_changed)
        if not self.flow.busy:
            self.feedback.clear(forget_jobs=True)
        self._refresh_jobs()
        self._on_data_changed()

    def _refresh_jobs(self) -> None:
        """Read the project's jobs again: the name field's default and warning, and submits not known yet."""
        project, profile = self.ctx.project, self.profile
        records: list[JobRecord] = []
        pending: list[JobRecord] = []
        if project is not None:
            try:
                records = jobs_repo.list_jobs(project.store)
                pending = pending_checks(project.store, profile.kind.value, profile.backend.value)
            except (sqlite3.Error, UserError) as exc:
                log.warning("the project's jobs could not be read: %s", type(exc).__name__)
        self._records, self._pending = records, pending
        self.method.set_records(records)
        if not self.flow.busy:
            self.namer.update(project.display_name if project is not None else "", records, self.form.name_limit())
        self._update_start_enabled()

    def _on_jobs_changed(self) -> None:
        self._refresh_jobs()
        self.feedback.notice_resolved(self._records)

    def _on_data_changed(self, *_: object) -> None:
        # Counting tokens walks every example: do it once edits pause, and only while the tab is shown.
        self._summary = None
        self.method.reload()
        if self.isVisible():
            self._estimate_timer.start()
        else:
            self._update_start_enabled()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.method.reload()  # preference examples are edited in other tabs
        if self._summary is None:
            self._on_form_changed()

    def prefill(self, values: dict[str, Any]) -> None:
        """Handle ``tune_prefill_requested``: fill the form and show the tab."""
        self.form.set_values(dict(values))
        self.ctx.show_tab_requested.emit(TabKey.TUNE)
        self.run.status.say("The settings were filled in from the earlier job. Check them, then start tuning.")

    def _on_form_changed(self) -> None:
        self.method.update_availability()
        self._update_estimate()
        self._update_start_enabled()

    # -- estimate and price --------------------------------------------------------------------
    def _load_price(self) -> None:
        info = self.form.current_model()
        self.estimate_box.show_price(self.prices.info(info, self.form.models),
                                     info is not None and info.price_per_million is not None)

    def _on_price_edited(self, value: float) -> None:
        info = self.form.current_model()
        if info is None:
            return
        if value > 0:
            self.prices.set_price(info.id, value)
        else:  # back to "unknown"
            self.prices.forget(info.id)
        self._load_price()
        self._update_estimate()

    def reset_price(self) -> None:
        info = self.form.current_model()
        if info is not None:
            self.prices.forget(info.id)
        self._load_price()
        self._update_estimate()

    def current_price(self) -> float | None:
        return self.prices.price(self.form.current_model(), self.form.models)

    def estimate(self) -> J.Estimate:
        summary = self._summary
        if summary is None or summary.backend != self.backend.value:
            project = self.ctx.project
            examples: list[Example] = project.examples if project is not None else []
            summary = self._summary = DatasetSummary.of(
                examples, project.settings if project is not None else DatasetSettings(), self.backend.value)
        return J.estimate_from_counts(self.form.spec(), summary.train, summary.validation, summary.tokens,
                                      self.current_price())

    def _update_estimate(self) -> None:
        if self.form.is_preference and self.ctx.project is not None:  # no price of Google's: only the user's
            info = self.prices.info(self.form.current_model(), self.form.models)
            self.estimate_box.show_preference(self.method.estimate(info.usd_per_million if info.from_user else None))
            return
        self.estimate_box.show_estimate(self.estimate() if self.ctx.project is not None else None)

    # -- start --------------------------------------------------------------------------------
    def start_blocker(self) -> str:
        """Why Start cannot be pressed now, in plain words ("" when it can)."""
        if self.flow.busy:
            return "A job is being started…"
        if not self.tuning_possible:
            return API_KEY_TITLE + "."
        project = self.ctx.project
        if project is None:
            return "Open or create a project in the Dataset tab first: the examples come from the project."
        if project.read_only:
            return "This project is open read-only, so the job could not be recorded in it. Open it normally."
        if self._pending:
            return not_known_reason(self._pending[0])
        if not self.form.models and self.backend is Backend.AGENT_PLATFORM:
            return "No base model is listed. Add models in Settings (tunable Agent Platform models)."
        if self.form.model_combo.currentData() is None:
            return "Choose a base model first."
        return ""

    def _update_start_enabled(self) -> None:
        self.run.show_blocker(self.start_blocker(), self.flow.busy)

    def start(self) -> None:
        """Pre-flight, record, submit. Safe against double clicks."""
        if self.flow.busy or self.start_blocker():
            return
        self.feedback.clear()
        form, method = self.form, self.method
        self.flow.start(StartRequest(form.spec(), form.current_model(), self.current_price(), self.backend,
                                     self.profile, form.method.start(),
                                     form.preference_spec() if form.is_preference else None,
                                     method.supports_preference(), method.model_label()))

    def _set_busy(self, busy: bool) -> None:
        self.run.set_busy(busy)
        self.form.set_locked(busy)
        self._update_start_enabled()

    def _on_report(self, report: SubmitReport) -> None:
        self.feedback.show_report(report)
        self._refresh_jobs()

    def field_widget(self, field: str) -> QWidget | None:
        """The control a setting named by the service or the pre-flight is marked on."""
        return self.feedback.field_widget(field)

    def confirm_warnings(self, warnings: list[Finding]) -> bool:
        """Ask whether to start despite warnings (a modal question)."""
        shown = "\n".join(f"• {(w.location() + ': ') if w.location() else ''}{w.message}" for w in warnings[:8])
        more = f"\n… and {len(warnings) - 8} more." if len(warnings) > 8 else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Start tuning despite warnings?",
                          f"The dataset has {len(warnings)} warning{'s' if len(warnings) != 1 else ''}. Tuning "
                          f"will work, but the result may be worse:\n\n{shown}{more}", parent=self)
        box.setObjectName("tuneWarningsQuestion")
        start = box.addButton("Start anyway", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(start)
        box.exec()
        accepted = box.clickedButton() is start
        box.deleteLater()
        return accepted

    def focus_rows(self, ids: list[int]) -> None:
        if not ids:
            return
        self.ctx.rows_focus_requested.emit(list(ids))
        self.ctx.show_tab_requested.emit(TabKey.DATASET)

    # -- TabPage --------------------------------------------------------------------------------
    def install_actions(self, menus: WindowMenus) -> None:
        """This tab adds nothing to the menus."""

    def can_close(self) -> bool:
        return True

    def shutdown(self) -> None:
        self.flow.shutdown()
        self._models_task.cancel()
