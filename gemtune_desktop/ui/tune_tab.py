"""The Tune tab: choose a base model and settings, see the estimate, start a tuning job on the active connection.

The form follows the connection: Agent Platform (or the Sandbox posing as it) offers epochs,
learning-rate multiplier, adapter size, tuning mode, the validation split and
export-last-checkpoint-only; the Gemini API offers epochs, batch size and a learning rate or
multiplier. With a Gemini API key that lists no tunable model the tab explains why tuning is
off and offers a Google Cloud connection or the Sandbox instead.

Start runs a pre-flight check (settings, then the dataset validated for the target: errors block
and link to the rows, warnings ask), records the job in the project (state SUBMITTING, with a
unique submit key) *before* anything is sent, and submits on a worker thread with progress and
Cancel (:mod:`gemtune_desktop.ui.tune_submit`, :mod:`gemtune_desktop.services.tuning`).
"""

from __future__ import annotations

import logging
from datetime import date
from itertools import pairwise
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.ui.tab_page import WindowMenus
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.ui.tune_presets import TunePresetsMixin
from gemtune_desktop.ui.tune_submit import NO_TUNING_TITLE, TuneSubmitMixin
from gemtune_desktop.ui.tune_widgets import TIPS, AutoNumber

log = logging.getLogger(__name__)

NO_TUNING_TEXT = (
    "Google turned tuning off in the Gemini API and AI Studio in May 2025: since then the service lists no "
    "model that can be tuned with an API key, and Google has no date for bringing it back. Tuning Gemini now "
    "runs on Google Cloud (Agent Platform), which needs a Cloud project, a region and a storage bucket. "
    "You can also walk through the whole flow offline in the Sandbox, a simulation.")


def _tip(widget: QWidget, key: str, name: str) -> None:
    widget.setToolTip(TIPS[key])
    widget.setAccessibleName(name)
    widget.setAccessibleDescription(TIPS[key])


class TuneTab(TuneSubmitMixin, TunePresetsMixin, QWidget):
    """The Tune tab (see module docstring); Start lives in :mod:`.tune_submit`, presets in :mod:`.tune_presets`."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.backend = Backend.AGENT_PLATFORM
        self.models: list[J.ModelInfo] = []
        self.tuning_possible = True
        self._busy = False
        self._job_id = 0
        self._outcome: Any = None
        self._blocking_ids: list[int] = []
        self._last_error: UserError | None = None
        self._catalog = self._read_catalog()
        self._summary_cache: dict[str, Any] | None = None
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(300)
        self._estimate_timer.timeout.connect(self._on_form_changed)
        self._models_task = TaskSlot(self, ctx.executor, "tunable models")
        self._preflight_task = TaskSlot(self, ctx.executor, "pre-flight")
        self._submit_task = TaskSlot(self, ctx.executor, "submit")
        self._build()
        ctx.connections.connection_changed.connect(lambda _p: self.refresh_connection())
        ctx.project_changed.connect(self._on_project_changed)
        ctx.tune_prefill_requested.connect(self.prefill)
        ctx.settings.changed.connect(self._on_setting_changed)
        self._watched_project: Any = None
        self._on_project_changed(ctx.project)
        self.refresh_connection()

    # -- construction -------------------------------------------------------------------------
    @staticmethod
    def _read_catalog() -> dict[str, Any]:
        from gemtune_desktop.resources import read_json

        try:
            data = read_json("models.json")
        except (OSError, ValueError):
            log.warning("models.json could not be read")
            return {}
        return data if isinstance(data, dict) else {}

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        scroll.setWidget(body)
        layout = QVBoxLayout(body)

        self.connection_label = QLabel(body)
        self.connection_label.setObjectName("tuneConnection")
        self.connection_label.setWordWrap(True)
        layout.addWidget(self.connection_label)

        # Shown instead of the form when this connection cannot tune.
        self.unavailable = QFrame(body)
        self.unavailable.setObjectName("tuneUnavailable")
        self.unavailable.setFrameShape(QFrame.Shape.StyledPanel)
        ul = QVBoxLayout(self.unavailable)
        self.unavailable_title = QLabel(f"<b>{NO_TUNING_TITLE}</b>", self.unavailable)
        self.unavailable_text = QLabel(NO_TUNING_TEXT, self.unavailable)
        self.unavailable_text.setWordWrap(True)
        self.unavailable_text.setObjectName("tuneUnavailableText")
        ul.addWidget(self.unavailable_title)
        ul.addWidget(self.unavailable_text)
        row = QHBoxLayout()
        self.setup_cloud_button = QPushButton("Set up a Google Cloud connection…", self.unavailable)
        self.setup_cloud_button.setObjectName("tuneSetupCloud")
        self.setup_cloud_button.setToolTip("Open Settings → Connections to enter your Cloud project, region and "
                                           "bucket.")
        self.setup_cloud_button.clicked.connect(self.open_connections)
        self.use_sandbox_button = QPushButton("Use the Sandbox (offline simulation)", self.unavailable)
        self.use_sandbox_button.setObjectName("tuneUseSandbox")
        self.use_sandbox_button.setToolTip("Switch to the offline Sandbox: a simulation to learn the whole flow.")
        self.use_sandbox_button.clicked.connect(self.use_sandbox)
        self.retry_models_button = QPushButton("Look again", self.unavailable)
        self.retry_models_button.setToolTip("Ask the service again for models that can be tuned.")
        self.retry_models_button.clicked.connect(self.load_models)
        for b in (self.setup_cloud_button, self.use_sandbox_button, self.retry_models_button):
            row.addWidget(b)
        row.addStretch(1)
        ul.addLayout(row)
        layout.addWidget(self.unavailable)

        self.form_area = QWidget(body)
        fa = QVBoxLayout(self.form_area)
        fa.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form_area)
        fa.addWidget(self._build_job_group())
        fa.addWidget(self._build_hyper_group())
        fa.addWidget(self._build_estimate_group())
        fa.addWidget(self._build_problems())
        fa.addWidget(self._build_run_row())
        layout.addStretch(1)
        self._set_tab_order()

    def _set_tab_order(self) -> None:
        """Tab moves through the controls as they are laid out: top to bottom, left to right.

        (Widgets built before their parent is known, such as the ``AutoNumber`` pairs, would otherwise
        join the focus chain where they were put into a layout, not where they are shown.)
        """
        order: list[QWidget] = [
            self.setup_cloud_button, self.use_sandbox_button, self.retry_models_button,
            self.model_combo, self.edit_models_button, self.name_edit,
            self.preset_combo, self.load_preset_button, self.save_preset_button, self.delete_preset_button,
            self.ap_epochs.spin, self.ap_epochs.auto, self.ap_multiplier.spin, self.ap_multiplier.auto,
            self.ap_adapter, self.ap_mode, self.ap_validation, self.ap_export_last,
            self.ga_epochs, self.ga_batch, self.ga_rate_radio, self.ga_rate, self.ga_mult_radio, self.ga_mult,
            self.price_spin, self.price_reset,
            self.problems_list, self.show_rows_button,
            self.monitor_button, self.cancel_button, self.start_button,
        ]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)

    def _build_job_group(self) -> QGroupBox:
        box = QGroupBox("Job", self)
        form = QFormLayout(box)
        model_row = QHBoxLayout()
        self.model_combo = QComboBox(box)
        self.model_combo.setObjectName("tuneBaseModel")
        _tip(self.model_combo, "base_model", "Base model")
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.models_status = QLabel("", box)
        self.models_status.setObjectName("tuneModelsStatus")
        self.edit_models_button = QPushButton("Edit list…", box)
        self.edit_models_button.setObjectName("tuneEditModels")
        self.edit_models_button.setToolTip("Change which Agent Platform models are offered (for example when Google "
                                           "adds a new tunable model). Leave empty for the list shipped with the "
                                           "app.")
        self.edit_models_button.clicked.connect(self.edit_model_list)
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.models_status)
        model_row.addWidget(self.edit_models_button)
        form.addRow("Base model:", model_row)
        name_row = QHBoxLayout()
        self.name_edit = QLineEdit(box)
        self.name_edit.setObjectName("tuneDisplayName")
        _tip(self.name_edit, "display_name", "Name of the tuned model")
        self.name_edit.textChanged.connect(self._on_form_changed)
        self.name_count = QLabel("", box)
        self.name_count.setObjectName("tuneNameCount")
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.name_count)
        form.addRow("Name:", name_row)
        preset_row = QHBoxLayout()
        self.preset_combo = QComboBox(box)
        self.preset_combo.setEditable(True)
        self.preset_combo.setObjectName("tunePreset")
        edit = self.preset_combo.lineEdit()
        if edit is not None:
            edit.setPlaceholderText("Preset name")
        _tip(self.preset_combo, "preset", "Preset")
        self.load_preset_button = QPushButton("Load", box)
        self.load_preset_button.setToolTip("Fill the form with the chosen preset.")
        self.load_preset_button.clicked.connect(self.load_preset)
        self.save_preset_button = QPushButton("Save", box)
        self.save_preset_button.setToolTip("Save the current settings under the name typed on the left.")
        self.save_preset_button.clicked.connect(self.save_preset)
        self.delete_preset_button = QPushButton("Delete", box)
        self.delete_preset_button.setToolTip("Forget the chosen preset.")
        self.delete_preset_button.clicked.connect(self.delete_preset)
        preset_row.addWidget(self.preset_combo, 1)
        for b in (self.load_preset_button, self.save_preset_button, self.delete_preset_button):
            preset_row.addWidget(b)
        form.addRow("Preset:", preset_row)
        self._reload_presets()
        return box

    def _build_hyper_group(self) -> QGroupBox:
        box = QGroupBox("Settings", self)
        v = QVBoxLayout(box)
        self.hyper_pages = QStackedWidget(box)
        v.addWidget(self.hyper_pages)

        ap = QWidget(box)
        form = QFormLayout(ap)
        self.ap_epochs = AutoNumber("epochs", TIPS["epochs"], minimum=1, maximum=J.MAX_EPOCHS, default=3)
        self.ap_multiplier = AutoNumber("learning_rate_multiplier", TIPS["learning_rate_multiplier"], decimals=2,
                                        minimum=0.01, maximum=J.MAX_LR_MULTIPLIER, default=1.0, step=0.1)
        self.ap_adapter = QComboBox(ap)
        self.ap_adapter.setObjectName("adapter_size")
        _tip(self.ap_adapter, "adapter_size", "Adapter size")
        self.ap_mode = QComboBox(ap)
        self.ap_mode.setObjectName("tuning_mode")
        _tip(self.ap_mode, "tuning_mode", "Tuning mode")
        self.ap_validation = QCheckBox("Use the project's validation examples", ap)
        self.ap_validation.setObjectName("use_validation")
        self.ap_validation.setChecked(True)
        _tip(self.ap_validation, "use_validation", "Validation set")
        self.ap_export_last = QCheckBox("Keep only the final model (no per-epoch checkpoints)", ap)
        self.ap_export_last.setObjectName("export_last_checkpoint_only")
        _tip(self.ap_export_last, "export_last_checkpoint_only", "Export last checkpoint only")
        form.addRow("Epochs:", self.ap_epochs)
        form.addRow("Learning-rate multiplier:", self.ap_multiplier)
        form.addRow("Adapter size:", self.ap_adapter)
        form.addRow("Tuning mode:", self.ap_mode)
        form.addRow("Validation set:", self.ap_validation)
        form.addRow("Checkpoints:", self.ap_export_last)
        for w in (self.ap_epochs, self.ap_multiplier):
            w.changed.connect(self._on_form_changed)
        for c in (self.ap_adapter, self.ap_mode):
            c.currentIndexChanged.connect(self._on_form_changed)
        for cb in (self.ap_validation, self.ap_export_last):
            cb.toggled.connect(self._on_form_changed)
        self.hyper_pages.addWidget(ap)

        ga = QWidget(box)
        gform = QFormLayout(ga)
        self.ga_epochs = QSpinBox(ga)
        self.ga_epochs.setObjectName("ga_epochs")
        self.ga_epochs.setRange(1, J.MAX_EPOCHS)
        self.ga_epochs.setValue(J.GEMINI_DEFAULT_EPOCHS)
        _tip(self.ga_epochs, "epochs", "Epochs")
        self.ga_batch = QSpinBox(ga)
        self.ga_batch.setObjectName("batch_size")
        self.ga_batch.setRange(1, J.MAX_BATCH)
        self.ga_batch.setValue(J.GEMINI_DEFAULT_BATCH)
        _tip(self.ga_batch, "batch_size", "Batch size")
        self.ga_rate_radio = QRadioButton("Learning rate", ga)
        self.ga_mult_radio = QRadioButton("Multiplier of the default rate", ga)
        self.ga_rate_radio.setChecked(True)
        for r in (self.ga_rate_radio, self.ga_mult_radio):
            _tip(r, "learning_rate_mode", r.text())
        group = QButtonGroup(ga)
        group.addButton(self.ga_rate_radio)
        group.addButton(self.ga_mult_radio)
        self.ga_rate = QDoubleSpinBox(ga)
        self.ga_rate.setObjectName("learning_rate")
        self.ga_rate.setDecimals(5)
        self.ga_rate.setRange(0.00001, 1.0)
        self.ga_rate.setSingleStep(0.0001)
        self.ga_rate.setValue(J.GEMINI_DEFAULT_LR)
        _tip(self.ga_rate, "learning_rate", "Learning rate")
        self.ga_mult = QDoubleSpinBox(ga)
        self.ga_mult.setObjectName("ga_learning_rate_multiplier")
        self.ga_mult.setDecimals(2)
        self.ga_mult.setRange(0.01, J.MAX_LR_MULTIPLIER)
        self.ga_mult.setSingleStep(0.1)
        self.ga_mult.setValue(1.0)
        _tip(self.ga_mult, "learning_rate_multiplier", "Learning-rate multiplier")
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.ga_rate_radio)
        rate_row.addWidget(self.ga_rate)
        rate_row.addWidget(self.ga_mult_radio)
        rate_row.addWidget(self.ga_mult)
        rate_row.addStretch(1)
        gform.addRow("Epochs:", self.ga_epochs)
        gform.addRow("Batch size:", self.ga_batch)
        gform.addRow("Learning rate:", rate_row)
        for s in (self.ga_epochs, self.ga_batch):
            s.valueChanged.connect(self._on_form_changed)
        for d in (self.ga_rate, self.ga_mult):
            d.valueChanged.connect(self._on_form_changed)
        self.ga_rate_radio.toggled.connect(self._on_form_changed)
        self.hyper_pages.addWidget(ga)
        return box

    def _build_estimate_group(self) -> QGroupBox:
        box = QGroupBox("Estimate", self)
        v = QVBoxLayout(box)
        self.estimate_label = QLabel("", box)
        self.estimate_label.setObjectName("tuneEstimate")
        self.estimate_label.setTextFormat(Qt.TextFormat.RichText)
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.estimate_label)
        row = QHBoxLayout()
        row.addWidget(QLabel("Price (USD per 1M training tokens):", box))
        self.price_spin = QDoubleSpinBox(box)
        self.price_spin.setObjectName("tunePrice")
        self.price_spin.setDecimals(2)
        self.price_spin.setRange(0.0, 10_000.0)
        self.price_spin.setSpecialValueText("unknown")
        _tip(self.price_spin, "price", "Price per million training tokens")
        self.price_spin.valueChanged.connect(self._on_price_edited)
        self.price_note = QLabel("", box)
        self.price_note.setObjectName("tunePriceNote")
        self.price_reset = QPushButton("Use shipped price", box)
        self.price_reset.setToolTip("Forget your price for this model and use the price shipped with the app.")
        self.price_reset.clicked.connect(self.reset_price)
        row.addWidget(self.price_spin)
        row.addWidget(self.price_reset)
        row.addWidget(self.price_note, 1)
        v.addLayout(row)
        return box

    def _build_problems(self) -> QGroupBox:
        self.problems_box = QGroupBox("Problems to fix before tuning", self)
        v = QVBoxLayout(self.problems_box)
        self.problems_intro = QLabel("", self.problems_box)
        self.problems_intro.setWordWrap(True)
        v.addWidget(self.problems_intro)
        self.problems_list = QListWidget(self.problems_box)
        self.problems_list.setObjectName("tuneProblems")
        self.problems_list.setAccessibleName("Problems that block tuning")
        self.problems_list.setToolTip("Double-click a problem to show its rows in the Dataset tab.")
        self.problems_list.itemActivated.connect(self._on_problem_activated)
        v.addWidget(self.problems_list)
        self.show_rows_button = QPushButton("Show these rows in the Dataset tab", self.problems_box)
        self.show_rows_button.setObjectName("tuneShowRows")
        self.show_rows_button.setToolTip("Select every row with a blocking problem in the Dataset tab.")
        self.show_rows_button.clicked.connect(lambda: self.focus_rows(self._blocking_ids))
        v.addWidget(self.show_rows_button)
        self.problems_box.hide()
        return self.problems_box

    def _build_run_row(self) -> QWidget:
        w = QWidget(self)
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        self.status_label = QLabel("", w)
        self.status_label.setObjectName("tuneStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.status_label)
        row = QHBoxLayout()
        self.progress = QProgressBar(w)
        self.progress.setObjectName("tuneProgress")
        self.progress.setAccessibleName("Submit progress")
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.start_button = QPushButton("Start tuning", w)
        self.start_button.setObjectName("tuneStart")
        self.start_button.setToolTip("Check the dataset and settings, then start the tuning job.")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", w)
        self.cancel_button.setObjectName("tuneCancel")
        self.cancel_button.setToolTip("Stop before the job is created (an upload in progress is abandoned).")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.monitor_button = QPushButton("Go to the Monitor tab", w)
        self.monitor_button.setObjectName("tuneGoMonitor")
        self.monitor_button.setToolTip("Watch the new job train.")
        self.monitor_button.clicked.connect(lambda: self.ctx.show_tab_requested.emit("monitor"))
        self.monitor_button.hide()
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        row.addWidget(self.monitor_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.start_button)
        v.addLayout(row)
        self.start_reason = QLabel("", w)
        self.start_reason.setObjectName("tuneStartReason")
        self.start_reason.setWordWrap(True)
        v.addWidget(self.start_reason)
        return w

    # -- connection and models ---------------------------------------------------------------
    @property
    def profile(self) -> ConnectionProfile:
        return self.ctx.connections.profile

    def refresh_connection(self) -> None:
        """Re-read the active connection: backend, model list, which settings apply."""
        profile = self.profile
        old_backend = self.backend
        self.backend = profile.backend
        where = profile.label
        self.connection_label.setText(f"Tuning on: <b>{_html(where)}</b> — {self.backend.label} settings")
        self.hyper_pages.setCurrentIndex(0 if self.backend is Backend.AGENT_PLATFORM else 1)
        self.edit_models_button.setVisible(self.backend is Backend.AGENT_PLATFORM)
        if old_backend is not self.backend or not self.name_edit.text():
            self._default_name()
        self.load_models()

    def load_models(self) -> None:
        self.models = []
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.blockSignals(False)
        if self.backend is Backend.AGENT_PLATFORM:
            override = self.ctx.settings.get(S.TUNABLE_MODELS_AP)
            self._set_models(J.agent_platform_models(self._catalog, override))
            return
        self._set_tuning_possible(True)
        self.models_status.setText("Looking for tunable models…")
        self.ctx.connections.start(self._models_task, lambda token, api: api.list_tunable_models(token),
                                   on_result=self._on_models_listed, on_error=self._on_models_failed)

    def _on_models_listed(self, pairs: list[tuple[str, str]]) -> None:
        if self.backend is not Backend.GEMINI_API:
            return
        prices = self._catalog.get("gemini_api", {}).get("prices", {}) if self._catalog else {}
        self._set_models([J.ModelInfo(name, label, price_per_million=J._opt_float(prices.get(name)))
                          for name, label in pairs])

    def _on_models_failed(self, err: UserError) -> None:
        self.models_status.setText("Could not list models.")
        self._set_tuning_possible(True)
        self._show_status(f"The list of tunable models could not be read: {err.message} {err.hint}".strip())
        self._update_start_enabled()

    def _set_models(self, models: list[J.ModelInfo]) -> None:
        self.models = list(models)
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for info in self.models:
            extra = "" if info.label == info.id else f"  ({info.id})"
            self.model_combo.addItem(f"{info.label}{extra}", info.id)
        if current:
            i = self.model_combo.findData(current)
            if i >= 0:
                self.model_combo.setCurrentIndex(i)
        self.model_combo.blockSignals(False)
        self.models_status.setText(f"{len(self.models)} model{'s' if len(self.models) != 1 else ''} can be tuned"
                                   if self.models else "")
        self._set_tuning_possible(bool(self.models) or self.backend is Backend.AGENT_PLATFORM)
        self._on_model_changed()

    def _set_tuning_possible(self, possible: bool) -> None:
        self.tuning_possible = possible
        self.unavailable.setVisible(not possible)
        self.form_area.setVisible(possible)
        if self.profile.is_sandbox:
            self.use_sandbox_button.setText("Use the Sandbox's Agent Platform simulation")
            self.use_sandbox_button.setToolTip("Keep working offline, with the Sandbox simulating Google Cloud "
                                               "(Agent Platform), where tuning is available.")
        else:
            self.use_sandbox_button.setText("Use the Sandbox (offline simulation)")
            self.use_sandbox_button.setToolTip("Switch to the offline Sandbox: a simulation to learn the whole "
                                               "flow.")
        self._update_start_enabled()

    def current_model(self) -> J.ModelInfo | None:
        model_id = self.model_combo.currentData()
        for info in self.models:
            if info.id == model_id:
                return info
        return None

    def _on_model_changed(self, *_: Any) -> None:
        info = self.current_model()
        sizes = info.adapter_sizes if info else J.DEFAULT_ADAPTER_SIZES
        current = self.ap_adapter.currentData()
        self.ap_adapter.blockSignals(True)
        self.ap_adapter.clear()
        self.ap_adapter.addItem("Automatic (recommended for a first job)", None)
        for s in sizes:
            self.ap_adapter.addItem(str(s), s)
        i = self.ap_adapter.findData(current)
        self.ap_adapter.setCurrentIndex(max(0, i))
        self.ap_adapter.blockSignals(False)
        mode = self.ap_mode.currentData() or "adapter"
        self.ap_mode.blockSignals(True)
        self.ap_mode.clear()
        offers_full = info is not None and info.full_tuning
        self.ap_mode.addItem("Adapter (recommended)" if offers_full else "Adapter (the only mode this model offers)",
                             "adapter")
        if offers_full:
            self.ap_mode.addItem("Full", "full")
            self.ap_mode.setToolTip(TIPS["tuning_mode"])
        else:
            self.ap_mode.setToolTip(TIPS["tuning_mode"] + " This model offers adapter tuning only.")
        self.ap_mode.setCurrentIndex(max(0, self.ap_mode.findData(mode)))
        self.ap_mode.setEnabled(self.ap_mode.count() > 1)
        self.ap_mode.blockSignals(False)
        self._load_price()
        self._on_form_changed()

    def edit_model_list(self) -> None:
        """Let the user edit the tunable Agent Platform models (comma list in settings; empty = shipped list)."""
        from PySide6.QtWidgets import QInputDialog

        current = self.ctx.settings.get(S.TUNABLE_MODELS_AP) or ", ".join(
            m.id for m in J.agent_platform_models(self._catalog))
        text, ok = QInputDialog.getText(
            self, "Tunable models", "Agent Platform model ids, separated by commas\n(leave empty for the list "
            "shipped with the app):", QLineEdit.EchoMode.Normal, current)
        if ok:
            shipped = ", ".join(m.id for m in J.agent_platform_models(self._catalog))
            cleaned = ", ".join(n.strip() for n in text.split(",") if n.strip())
            self.ctx.settings.set(S.TUNABLE_MODELS_AP, "" if cleaned == shipped else cleaned)

    def open_connections(self) -> None:
        opener = getattr(self.window(), "open_connections", None)
        if callable(opener):
            opener()

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
            self._reload_presets()

    # -- project ------------------------------------------------------------------------------
    def _on_project_changed(self, project: Any) -> None:
        old = self._watched_project
        if old is not None:
            for sig in ("rows_inserted", "rows_removed", "reset_done", "examples_changed", "settings_changed"):
                try:
                    getattr(old, sig).disconnect(self._on_data_changed)
                except (AttributeError, RuntimeError, TypeError):
                    pass
        self._watched_project = project
        if project is not None:
            for sig in ("rows_inserted", "rows_removed", "reset_done", "examples_changed", "settings_changed"):
                signal = getattr(project, sig, None)
                if signal is not None:
                    signal.connect(self._on_data_changed)
        if project is not None and not self._busy:
            self._default_name(force=False)
        self._on_data_changed()

    def _on_data_changed(self, *_: Any) -> None:
        # Counting tokens walks every example: do it once edits pause, and only while the tab is shown.
        self._summary_cache = None
        if self.isVisible():
            self._estimate_timer.start()
        else:
            self._update_start_enabled()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._summary_cache is None:
            self._on_form_changed()

    def _examples(self) -> list[Example]:
        project = self.ctx.project
        return list(getattr(project, "examples", []) or []) if project is not None else []

    def _dataset_settings(self) -> DatasetSettings:
        project = self.ctx.project
        settings = getattr(project, "settings", None) if project is not None else None
        return settings if isinstance(settings, DatasetSettings) else DatasetSettings()

    def _splits(self) -> tuple[list[Example], list[Example]]:
        examples = self._examples()
        return ([e for e in examples if e.split is Split.TRAIN], [e for e in examples if e.split is Split.VALIDATION])

    def _default_name(self, force: bool = True) -> None:
        if not force and self.name_edit.text().strip():
            return
        project = self.ctx.project
        stem = str(getattr(project, "display_name", "") or "tuned model") if project is not None else "tuned model"
        limit = J.MAX_NAME_CHARS[self.backend.value]
        suffix = f" {date.today().isoformat()}"
        self.name_edit.setText(stem[: limit - len(suffix)].rstrip() + suffix)

    # -- the form ------------------------------------------------------------------------------
    def spec(self) -> J.JobSpec:
        """The form's values as a :class:`JobSpec` for the active backend."""
        name = self.name_edit.text().strip()
        model = str(self.model_combo.currentData() or "")
        if self.backend is Backend.GEMINI_API:
            mode = "multiplier" if self.ga_mult_radio.isChecked() else "rate"
            return J.JobSpec(backend=J.GEMINI_API, base_model=model, display_name=name,
                             epochs=self.ga_epochs.value(), batch_size=self.ga_batch.value(),
                             learning_rate=self.ga_rate.value(), learning_rate_multiplier=self.ga_mult.value(),
                             learning_rate_mode=mode)
        epochs = self.ap_epochs.value()
        mult = self.ap_multiplier.value()
        return J.JobSpec(backend=J.AGENT_PLATFORM, base_model=model, display_name=name,
                         epochs=None if epochs is None else int(epochs),
                         learning_rate_multiplier=None if mult is None else float(mult),
                         adapter_size=self.ap_adapter.currentData(),
                         tuning_mode=self.ap_mode.currentData() or "adapter",
                         use_validation=self.ap_validation.isChecked(),
                         export_last_checkpoint_only=self.ap_export_last.isChecked())

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the form from a preset or a "re-run with these settings" request (unknown keys ignored)."""
        spec = self.spec().with_values(values)
        if "base_model" in values and spec.base_model:
            i = self.model_combo.findData(spec.base_model)
            if i < 0 and self.backend is Backend.GEMINI_API:
                i = self.model_combo.findData(J.gemini_model_name(spec.base_model))
            if i < 0:
                info = J.ModelInfo(spec.base_model, spec.base_model)
                self.models.append(info)
                self.model_combo.addItem(f"{spec.base_model} (not in the usual list)", spec.base_model)
                i = self.model_combo.count() - 1
            self.model_combo.setCurrentIndex(i)
        if "display_name" in values and spec.display_name:
            self.name_edit.setText(spec.display_name)
        if self.backend is Backend.GEMINI_API:
            if "epochs" in values and spec.epochs:
                self.ga_epochs.setValue(spec.epochs)
            if "batch_size" in values and spec.batch_size:
                self.ga_batch.setValue(spec.batch_size)
            if spec.learning_rate is not None and "learning_rate" in values:
                self.ga_rate.setValue(spec.learning_rate)
            if spec.learning_rate_multiplier is not None and "learning_rate_multiplier" in values:
                self.ga_mult.setValue(spec.learning_rate_multiplier)
            (self.ga_mult_radio if spec.learning_rate_mode == "multiplier" else self.ga_rate_radio).setChecked(True)
        else:
            if "epochs" in values:
                self.ap_epochs.set_value(spec.epochs)
            if "learning_rate_multiplier" in values:
                self.ap_multiplier.set_value(spec.learning_rate_multiplier)
            if "adapter_size" in values:
                self.ap_adapter.setCurrentIndex(max(0, self.ap_adapter.findData(spec.adapter_size)))
            if "tuning_mode" in values:
                self.ap_mode.setCurrentIndex(max(0, self.ap_mode.findData(spec.tuning_mode)))
            if "use_validation" in values:
                self.ap_validation.setChecked(spec.use_validation)
            if "export_last_checkpoint_only" in values:
                self.ap_export_last.setChecked(spec.export_last_checkpoint_only)
        self._on_form_changed()

    def prefill(self, values: dict[str, Any]) -> None:
        """Handle ``tune_prefill_requested``: fill the form and show the tab."""
        self.set_values(dict(values))
        self.ctx.show_tab_requested.emit("tune")
        self._show_status("The settings were filled in from the earlier job. Check them, then start tuning.")

    def _on_form_changed(self, *_: Any) -> None:
        if not hasattr(self, "start_button"):
            return
        limit = J.MAX_NAME_CHARS[self.backend.value]
        n = len(self.name_edit.text().strip())
        self.name_count.setText(f"{n} / {limit}" + ("  — too long" if n > limit else ""))
        self._update_estimate()
        self._update_start_enabled()

    # -- estimate and price --------------------------------------------------------------------
    def _user_prices(self) -> dict[str, float]:
        return self.ctx.settings.read(S.MODEL_PRICES)

    def _load_price(self) -> None:
        info = self.current_model()
        model = info.id if info else ""
        price = J.model_price(model, self.models, self._user_prices()) if model else None
        self.price_spin.blockSignals(True)
        self.price_spin.setValue(price if price is not None else 0.0)
        self.price_spin.blockSignals(False)
        shipped = info.price_per_million if info else None
        as_of = self._catalog.get("prices_as_of", "")
        if model in self._user_prices():
            note = "your price" + (f" (shipped: ${shipped:.2f}, as of {as_of})" if shipped is not None else "")
        elif shipped is not None:
            note = f"shipped estimate as of {as_of}"
        else:
            note = "no shipped price for this model: enter one for a cost estimate"
        self.price_note.setText(note)
        self.price_reset.setEnabled(model in self._user_prices())

    def _on_price_edited(self, value: float) -> None:
        info = self.current_model()
        if info is None:
            return
        prices = self._user_prices()
        prices[info.id] = float(value)
        self.ctx.settings.write(S.MODEL_PRICES, prices)
        self._load_price()
        self._update_estimate()

    def reset_price(self) -> None:
        info = self.current_model()
        prices = self._user_prices()
        if info is not None and info.id in prices:
            del prices[info.id]
            self.ctx.settings.write(S.MODEL_PRICES, prices)
        self._load_price()
        self._update_estimate()

    def current_price(self) -> float | None:
        info = self.current_model()
        if info is None:
            return None
        return J.model_price(info.id, self.models, self._user_prices())

    def _summary(self) -> dict[str, Any]:
        cache = self._summary_cache
        if cache is not None and cache.get("backend") == self.backend.value:
            return cache
        train, validation = self._splits()
        settings = self._dataset_settings()
        tokens = sum(J.example_tokens(e, settings, self.backend.value) for e in train)
        self._summary_cache = {"backend": self.backend.value, "train": len(train), "validation": len(validation),
                               "tokens": tokens}
        return self._summary_cache

    def estimate(self) -> J.Estimate:
        s = self._summary()
        return J.estimate_from_counts(self.spec(), s["train"], s["validation"], s["tokens"], self.current_price())

    def _update_estimate(self) -> None:
        if self.ctx.project is None:
            self.estimate_label.setText("Open or create a project in the Dataset tab to see the estimate.")
            return
        est = self.estimate()
        rows = "".join(f"<tr><td>{_html(k)}:&nbsp;</td><td><b>{_html(v)}</b></td></tr>" for k, v in est.lines())
        notes = "".join(f"<br><small>{_html(n)}</small>" for n in est.notes)
        self.estimate_label.setText(f"<table>{rows}</table>{notes}")

    def install_actions(self, menus: WindowMenus) -> None:
        """This tab adds nothing to the menus."""

    # -- main window hooks ----------------------------------------------------------------------
    def can_close(self) -> bool:
        return True

    def shutdown(self) -> None:
        for task in (self._submit_task, self._preflight_task, self._models_task):
            task.cancel()


def _html(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

