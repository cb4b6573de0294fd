"""The Tune tab's Start flow: pre-flight checks, the job record, the submit on a worker, and its outcome.

A mixin of :class:`~gemtune_desktop.ui.tune_tab.TuneTab`. ``start()`` checks the settings
(:func:`~gemtune_desktop.core.job_spec.check_spec`), validates the dataset for the target on a
worker (errors block with links to the rows, warnings ask), records the job in the project with
state SUBMITTING and a unique submit key *before* anything is sent, then runs
:func:`~gemtune_desktop.services.tuning.submit_job` on a worker with progress and Cancel, and
updates the record with what the service answered (or why it failed).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem, QMessageBox, QWidget

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile

if TYPE_CHECKING:
    from PySide6.QtWidgets import (
        QCheckBox,
        QComboBox,
        QDoubleSpinBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QListWidget,
        QProgressBar,
        QPushButton,
        QSpinBox,
        QStackedWidget,
    )

    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.workers import TaskSlot
    from gemtune_desktop.ui.tune_widgets import AutoNumber

NO_TUNING_TITLE = "Tuning is not available with a Gemini API key"


class TuneSubmitMixin:
    """Start, Cancel and the problem list of the Tune tab."""

    if TYPE_CHECKING:  # provided by TuneTab
        ctx: AppContext
        backend: Backend
        models: list[J.ModelInfo]
        tuning_possible: bool
        _busy: bool
        _job_id: int
        _outcome: Any
        _blocking_ids: list[int]
        _last_error: UserError | None
        _preflight_task: TaskSlot
        _submit_task: TaskSlot
        model_combo: QComboBox
        name_edit: QLineEdit
        hyper_pages: QStackedWidget
        ap_epochs: AutoNumber
        ap_multiplier: AutoNumber
        ap_adapter: QComboBox
        ap_mode: QComboBox
        ap_validation: QCheckBox
        ga_epochs: QSpinBox
        ga_batch: QSpinBox
        ga_rate: QDoubleSpinBox
        ga_mult: QDoubleSpinBox
        load_preset_button: QPushButton
        problems_box: QGroupBox
        problems_intro: QLabel
        problems_list: QListWidget
        show_rows_button: QPushButton
        status_label: QLabel
        progress: QProgressBar
        start_button: QPushButton
        cancel_button: QPushButton
        monitor_button: QPushButton
        start_reason: QLabel

        @property
        def profile(self) -> ConnectionProfile: ...
        def spec(self) -> J.JobSpec: ...
        def current_model(self) -> J.ModelInfo | None: ...
        def current_price(self) -> float | None: ...
        def _examples(self) -> list[Example]: ...
        def _dataset_settings(self) -> DatasetSettings: ...

    # -- start --------------------------------------------------------------------------------
    def _start_blocker(self) -> str:
        if self._busy:
            return "A job is being started…"
        if not self.tuning_possible:
            return NO_TUNING_TITLE + "."
        if self.ctx.project is None:
            return "Open or create a project in the Dataset tab first: the examples come from the project."
        if getattr(self.ctx.project, "read_only", False):
            return "This project is open read-only, so the job could not be recorded in it. Open it normally."
        if not self.models and self.backend is Backend.AGENT_PLATFORM:
            return "No base model is listed. Add models in Settings (tunable Agent Platform models)."
        if self.model_combo.currentData() is None:
            return "Choose a base model first."
        return ""

    def _update_start_enabled(self) -> None:
        reason = self._start_blocker()
        self.start_button.setEnabled(not reason)
        self.start_reason.setText(reason if not self._busy else "")
        self.start_button.setToolTip(reason or "Check the dataset and settings, then start the tuning job.")

    def start(self) -> None:
        """Pre-flight, record, submit. Safe against double clicks."""
        if self._busy or self._start_blocker():
            return
        self._set_busy(True)
        self.monitor_button.hide()
        self._clear_problems()
        self._clear_field_marks()
        spec = self.spec()
        info = self.current_model()
        problems = J.check_spec(spec, adapter_sizes=info.adapter_sizes if info else J.DEFAULT_ADAPTER_SIZES,
                                full_tuning=bool(info and info.full_tuning))
        if problems:
            self._show_spec_problems(problems)
            self._set_busy(False)
            return
        if self.backend is Backend.AGENT_PLATFORM and not self.profile.is_sandbox and not self.profile.bucket:
            self._show_error(UserError("No Cloud Storage bucket is set for this connection.",
                                       "Agent Platform reads the training data from a bucket. Open Settings → "
                                       "Connections and enter a bucket in your project."))
            self._set_busy(False)
            return
        examples = [e.copy() for e in self._examples()]
        settings = self._dataset_settings()
        snapshot = DatasetSettings(settings.preamble, settings.system_instruction, settings.target,
                                   settings.split_seed, settings.split_ratios, dict(settings.extra))
        target = Target(self.backend.value)
        self._show_status("Checking the dataset…")
        from gemtune_desktop.core.validation import validate

        self._preflight_task.start(lambda _token, ex, st, tg: validate(ex, st, tg), examples, snapshot, target,
                                   on_result=lambda findings: self._after_preflight(spec, examples, snapshot,
                                                                                    findings),
                                   on_error=self._on_submit_failed_early, on_cancelled=lambda: self._set_busy(False))

    def _after_preflight(self, spec: J.JobSpec, examples: list[Example], settings: DatasetSettings,
                         findings: list[Any]) -> None:
        errors = [f for f in findings if str(getattr(f.severity, "value", f.severity)) == "error"]
        warnings = [f for f in findings if str(getattr(f.severity, "value", f.severity)) == "warning"]
        if errors:
            self._show_findings(errors, examples)
            self._show_status(f"Tuning was not started: the dataset has {len(errors)} problem"
                              f"{'s' if len(errors) != 1 else ''} that the service would refuse. Fix them first.")
            self._set_busy(False)
            return
        if warnings and not self.confirm_warnings(warnings):
            self._show_status("Tuning was not started. Review the warnings in the Dataset tab.")
            self._set_busy(False)
            return
        self._submit(spec, examples, settings)

    def confirm_warnings(self, warnings: list[Any]) -> bool:
        """Ask whether to start despite warnings (a modal question)."""
        shown = "\n".join(f"• {(w.location() + ': ') if w.location() else ''}{w.message}" for w in warnings[:8])
        more = f"\n… and {len(warnings) - 8} more." if len(warnings) > 8 else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Start tuning despite warnings?",
                          f"The dataset has {len(warnings)} warning{'s' if len(warnings) != 1 else ''}. Tuning "
                          f"will work, but the result may be worse:\n\n{shown}{more}", parent=cast(QWidget, self))
        box.setObjectName("tuneWarningsQuestion")
        start = box.addButton("Start anyway", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(start)
        box.exec()
        return box.clickedButton() is start

    def _submit(self, spec: J.JobSpec, examples: list[Example], settings: DatasetSettings) -> None:
        from gemtune_desktop.core.jobs import JobRecord, JobState
        from gemtune_desktop.core.project import jobs_repo
        from gemtune_desktop.services.tuning import SubmitOutcome, SubmitRequest

        train = [e for e in examples if e.split is Split.TRAIN]
        validation = [e for e in examples if e.split is Split.VALIDATION]
        used_validation = validation if (spec.backend == J.AGENT_PLATFORM and spec.use_validation) else []
        submit_key = uuid.uuid4().hex
        est = J.estimate(spec, train, validation, settings, self.current_price())
        profile = self.profile
        hyper = {**spec.hyperparameters(), "base_model": spec.base_model, "display_name": spec.display_name}
        if spec.backend == J.GEMINI_API:
            hyper["tuned_model_id"] = J.tuned_model_id(spec.display_name, submit_key)
        record = JobRecord(
            connection_kind=profile.kind.value, backend=self.backend.value, connection_id=_connection_id(profile),
            display_name=spec.display_name, base_model=spec.base_model, hyperparameters=hyper,
            dataset_hash=J.dataset_hash(train, used_validation, settings),
            dataset_name=str(getattr(self.ctx.project, "display_name", "")), train_count=len(train),
            validation_count=len(used_validation),
            train_tokens=int(est.training_tokens if est.training_tokens is not None else est.tokens_per_epoch),
            submit_key=submit_key, state=JobState.SUBMITTING)
        assert self.ctx.project is not None  # _start_blocker() says so otherwise
        store = self.ctx.project.store
        try:
            self._job_id = jobs_repo.add_job(store, record)
        except Exception as exc:  # the project file could not be written: do not send anything
            from gemtune_desktop.services.errors import describe

            err = describe(exc)
            self._show_error(UserError("The job could not be recorded in the project file, so it was not started.",
                                       err.hint or "Check the disk and try again.", detail=err.detail))
            self._set_busy(False)
            return
        self.ctx.jobs_changed.emit()
        outcome = self._outcome = SubmitOutcome()
        request = SubmitRequest(spec, submit_key, train, used_validation, settings)
        self.progress.setValue(0)
        self.progress.show()
        self._show_status("Starting the tuning job…")
        self.ctx.connections.start(self._submit_task, lambda token, api: api.submit(token, request, outcome),
                                   on_result=self._on_submitted, on_error=self._on_submit_failed,
                                   on_progress=self._on_progress, on_cancelled=self._on_submit_cancelled)

    def cancel(self) -> None:
        self._submit_task.cancel()
        self._preflight_task.cancel()
        self._show_status("Cancelling…")

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        else:
            self.progress.setRange(0, 0)
        if text:
            self._show_status(text)

    def _on_submitted(self, result: Any) -> None:
        from gemtune_desktop.core.jobs import JobState, now_iso
        from gemtune_desktop.core.project import jobs_repo

        self._outcome = None
        store = self.ctx.project.store if self.ctx.project is not None else None
        if store is not None and self._job_id:
            jobs_repo.update_job(store, self._job_id, resource_name=result.resource_name,
                                 state=JobState.parse(result.state), total_steps=int(result.total_steps or 0),
                                 tuned_model=result.tuned_model, endpoint=result.endpoint,
                                 experiment=result.experiment, started_at=result.create_time or now_iso(), error="")
        self.ctx.jobs_changed.emit()
        self.progress.setRange(0, 1000)
        self.progress.setValue(1000)
        retried = f" (after {result.attempts} attempts; the service was busy)" if result.attempts > 1 else ""
        self._show_status(f"✔ The tuning job “{self.name_edit.text().strip()}” has started{retried}. It is recorded "
                          "in this project; follow it in the Monitor tab.")
        self.monitor_button.show()
        self.ctx.status_message.emit("Tuning job started.", 5000)
        self._set_busy(False)

    def _on_submit_failed(self, err: UserError) -> None:
        from gemtune_desktop.core.jobs import JobState
        from gemtune_desktop.core.project import jobs_repo

        outcome = self._outcome
        self._outcome = None
        if outcome is not None and outcome.result is not None:
            self._on_submitted(outcome.result)
            return
        store = self.ctx.project.store if self.ctx.project is not None else None
        if store is not None and self._job_id:
            jobs_repo.update_job(store, self._job_id, state=JobState.SUBMIT_FAILED,
                                 error=f"{err.message} {err.hint}".strip())
            self.ctx.jobs_changed.emit()
        field = getattr(err, "field", "")
        if field:
            self._mark_field(field)
        self._show_error(err)
        self._set_busy(False)

    def _on_submit_failed_early(self, err: UserError) -> None:
        self._show_error(err)
        self._set_busy(False)

    def _on_submit_cancelled(self) -> None:
        from gemtune_desktop.core.jobs import JobState
        from gemtune_desktop.core.project import jobs_repo

        outcome = self._outcome
        self._outcome = None
        if outcome is not None and outcome.result is not None:  # the job was created before Cancel took effect
            self._on_submitted(outcome.result)
            self._show_status(self.status_label.text() + " (Cancel came too late: the job had already been "
                              "created. You can cancel the job itself in the Monitor tab.)")
            return
        store = self.ctx.project.store if self.ctx.project is not None else None
        if store is not None and self._job_id:
            if outcome is not None and outcome.create_sent:
                jobs_repo.update_job(store, self._job_id, state=JobState.SUBMIT_FAILED,
                                     error="Cancelled while the job was being created; if the service created it "
                                           "anyway, it appears in the Monitor tab's list of jobs on the service.")
            else:
                jobs_repo.mark_deleted(store, self._job_id)
            self.ctx.jobs_changed.emit()
        self._show_status("Cancelled. No tuning job was started.")
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.cancel_button.setVisible(busy)
        if not busy:
            self.progress.hide()
        for w in (self.model_combo, self.name_edit, self.hyper_pages, self.load_preset_button):
            w.setEnabled(not busy)
        self._update_start_enabled()

    # -- problems and messages -----------------------------------------------------------------
    def _clear_problems(self) -> None:
        self.problems_list.clear()
        self._blocking_ids = []
        self.problems_box.hide()

    def _show_spec_problems(self, problems: list[J.Problem]) -> None:
        self.problems_list.clear()
        self._blocking_ids = []
        self.problems_box.setTitle("Settings to fix before tuning")
        self.problems_intro.setText("These settings would be refused by the service:")
        for p in problems:
            item = QListWidgetItem(f"⚠ {p.message}")
            item.setData(Qt.ItemDataRole.UserRole, {"field": p.field})
            self.problems_list.addItem(item)
            self._mark_field(p.field)
        self.show_rows_button.hide()
        self.problems_box.show()
        self._show_status("Tuning was not started: fix the settings marked with ⚠.")

    def _show_findings(self, findings: list[Any], examples: list[Example]) -> None:
        self.problems_list.clear()
        self.problems_box.setTitle("Problems to fix before tuning")
        self.problems_intro.setText(f"The dataset has {len(findings)} error{'s' if len(findings) != 1 else ''} for "
                                    f"{self.backend.label}. Double-click a problem to see its row in the "
                                    "Dataset tab.")
        ids: list[int] = []
        for f in findings[:500]:
            row_ids = []
            if f.row is not None and 0 < f.row <= len(examples):
                row_ids.append(examples[f.row - 1].id)
            if f.example_id:
                row_ids.append(int(f.example_id))
            where = f.location()
            item = QListWidgetItem(f"✖ {where + ': ' if where else ''}{f.message}")
            item.setData(Qt.ItemDataRole.UserRole, {"ids": row_ids})
            item.setToolTip("Double-click to show this row in the Dataset tab." if row_ids else f.message)
            self.problems_list.addItem(item)
            ids.extend(i for i in row_ids if i not in ids)
        self._blocking_ids = ids
        self.show_rows_button.setVisible(bool(ids))
        self.problems_box.show()

    def _on_problem_activated(self, item: QListWidgetItem) -> None:
        data = item.data(Qt.ItemDataRole.UserRole) or {}
        if data.get("ids"):
            self.focus_rows(list(data["ids"]))
        elif data.get("field"):
            self._focus_field(data["field"])

    def focus_rows(self, ids: list[int]) -> None:
        if not ids:
            return
        self.ctx.rows_focus_requested.emit(list(ids))
        self.ctx.show_tab_requested.emit("dataset")

    def _field_widget(self, field: str) -> QWidget | None:
        ga = self.backend is Backend.GEMINI_API
        return {
            "display_name": self.name_edit, "base_model": self.model_combo,
            "epochs": self.ga_epochs if ga else self.ap_epochs.spin,
            "learning_rate_multiplier": self.ga_mult if ga else self.ap_multiplier.spin,
            "adapter_size": self.ap_adapter, "tuning_mode": self.ap_mode, "batch_size": self.ga_batch,
            "learning_rate": self.ga_rate, "use_validation": self.ap_validation,
        }.get(field)

    def _mark_field(self, field: str) -> None:
        w = self._field_widget(field)
        if w is None:
            return
        w.setProperty("problem", True)
        w.setStyleSheet("border: 2px solid #c62828;")
        w.setAccessibleDescription("Problem: this setting needs to be changed. " + (w.toolTip() or ""))

    def _clear_field_marks(self) -> None:
        for field in ("display_name", "base_model", "epochs", "learning_rate_multiplier", "adapter_size",
                      "tuning_mode", "batch_size", "learning_rate", "use_validation"):
            w = self._field_widget(field)
            if w is not None and w.property("problem"):
                w.setProperty("problem", False)
                w.setStyleSheet("")

    def _focus_field(self, field: str) -> None:
        w = self._field_widget(field)
        if w is not None:
            w.setFocus()

    def _show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _show_error(self, err: UserError) -> None:
        self._last_error = err
        text = f"✖ {err.message}"
        if err.hint:
            text += f"\n{err.hint}"
        self._show_status(text)


def _connection_id(profile: ConnectionProfile) -> str:
    if profile.kind is ConnectionKind.AGENT_PLATFORM:
        return f"{profile.project}/{profile.region}"
    if profile.kind is ConnectionKind.SANDBOX:
        return f"sandbox/{profile.sandbox_backend.value}"
    return "gemini-api"
