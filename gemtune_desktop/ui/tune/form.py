"""The Tune tab's form: the base model, the tuned model's name, a preset, and the settings of the active backend.

Agent Platform (or the Sandbox posing as it) offers epochs, learning-rate multiplier, adapter size,
tuning mode, the validation split and export-last-checkpoint-only; the Gemini API offers epochs,
batch size and a learning rate or multiplier. :meth:`TuneForm.spec` reads the form as a
:class:`~gemtune_desktop.core.job_spec.JobSpec`; :meth:`TuneForm.set_values` fills it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.preference import rules as R
from gemtune_desktop.core.preference.spec import PreferenceSpec, StartingPoint
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.ui.tune.auto_number import AutoNumber
from gemtune_desktop.ui.tune.method import MethodBox
from gemtune_desktop.ui.tune.preference_page import PreferencePage
from gemtune_desktop.ui.tune.presets import PresetsRow
from gemtune_desktop.ui.tune.tips import TIPS

PROBLEM_STYLE = "border: 2px solid #c62828;"


def _combo(parent: QWidget) -> QComboBox:
    """A combo box that can be narrower than its longest item (the window's smallest size stays small)."""
    combo = QComboBox(parent)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(18)
    return combo


def _tip(widget: QWidget, key: str, name: str) -> None:
    widget.setToolTip(TIPS[key])
    widget.setAccessibleName(name)
    widget.setAccessibleDescription(TIPS[key])


class TuneForm(QWidget):
    """The job's settings.

    Signals:
        changed(): a value changed (the estimate and the Start button follow).
        model_changed(): another base model was chosen (its price and adapter sizes follow).
        edit_models_requested(): the user wants to edit the list of Agent Platform models.
    """

    changed = Signal()
    model_changed = Signal()
    edit_models_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = Backend.AGENT_PLATFORM
        self.models: list[J.ModelInfo] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_job_group())
        self.method = MethodBox(self)
        layout.addWidget(self.method)
        layout.addWidget(self._build_hyper_group())
        self.method.changed.connect(self._on_method_changed)

    # -- construction -------------------------------------------------------------------------
    def _build_job_group(self) -> QGroupBox:
        box = QGroupBox("Job", self)
        form = QFormLayout(box)
        model_row = QHBoxLayout()
        self.model_combo = _combo(box)
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
        self.edit_models_button.clicked.connect(self.edit_models_requested)
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.models_status)
        model_row.addWidget(self.edit_models_button)
        form.addRow("Base model:", model_row)
        name_row = QHBoxLayout()
        self.name_edit = QLineEdit(box)
        self.name_edit.setObjectName("tuneDisplayName")
        _tip(self.name_edit, "display_name", "Name of the tuned model")
        self.name_edit.textChanged.connect(self._emit_changed)
        self.name_count = QLabel("", box)
        self.name_count.setObjectName("tuneNameCount")
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.name_count)
        name_box = QVBoxLayout()
        name_box.setSpacing(2)
        name_box.addLayout(name_row)
        self.name_warning = QLabel("", box)
        self.name_warning.setObjectName("tuneNameWarning")
        self.name_warning.setWordWrap(True)
        self.name_warning.hide()
        name_box.addWidget(self.name_warning)
        form.addRow("Name:", name_box)
        self.presets = PresetsRow(box)
        _tip(self.presets.combo, "preset", "Preset")
        form.addRow("Preset:", self.presets)
        return box

    def _build_hyper_group(self) -> QGroupBox:
        box = QGroupBox("Settings", self)
        v = QVBoxLayout(box)
        self.hyper_pages = QStackedWidget(box)
        v.addWidget(self.hyper_pages)
        self.ap_page = self._build_agent_platform_page(box)
        self.ga_page = self._build_gemini_api_page(box)
        self.pref_page = PreferencePage(box)
        self.pref_page.changed.connect(self._emit_changed)
        for page in (self.ap_page, self.ga_page, self.pref_page):
            self.hyper_pages.addWidget(page)
        return box

    def _build_agent_platform_page(self, box: QWidget) -> QWidget:
        ap = QWidget(box)
        form = QFormLayout(ap)
        self.ap_epochs = AutoNumber("epochs", TIPS["epochs"], minimum=1, maximum=J.MAX_EPOCHS, default=3)
        self.ap_multiplier = AutoNumber("learning_rate_multiplier", TIPS["learning_rate_multiplier"], decimals=2,
                                        minimum=0.01, maximum=J.MAX_LR_MULTIPLIER, default=1.0, step=0.1)
        self.ap_adapter = _combo(ap)
        self.ap_adapter.setObjectName("adapter_size")
        _tip(self.ap_adapter, "adapter_size", "Adapter size")
        self.ap_mode = _combo(ap)
        self.ap_mode.setObjectName("tuning_mode")
        _tip(self.ap_mode, "tuning_mode", "Tuning mode")
        self.ap_validation = QCheckBox("Use the project's validation examples", ap)
        self.ap_validation.setObjectName("use_validation")
        self.ap_validation.setChecked(True)
        _tip(self.ap_validation, "use_validation", "Validation set")
        self.ap_export_last = QCheckBox("Keep only the final model (no per-epoch checkpoints)", ap)
        self.ap_export_last.setObjectName("export_last_checkpoint_only")
        _tip(self.ap_export_last, "export_last_checkpoint_only", "Export last checkpoint only")
        for label, widget in (("Epochs:", self.ap_epochs), ("Learning-rate multiplier:", self.ap_multiplier),
                              ("Adapter size:", self.ap_adapter), ("Tuning mode:", self.ap_mode),
                              ("Validation set:", self.ap_validation), ("Checkpoints:", self.ap_export_last)):
            form.addRow(label, widget)
        for w in (self.ap_epochs, self.ap_multiplier):
            w.changed.connect(self._emit_changed)
        for c in (self.ap_adapter, self.ap_mode):
            c.currentIndexChanged.connect(self._emit_changed)
        for cb in (self.ap_validation, self.ap_export_last):
            cb.toggled.connect(self._emit_changed)
        return ap

    def _build_gemini_api_page(self, box: QWidget) -> QWidget:
        ga = QWidget(box)
        gform = QFormLayout(ga)
        self.ga_epochs = self._spin(ga, "ga_epochs", J.MAX_EPOCHS, J.GEMINI_DEFAULT_EPOCHS, "epochs", "Epochs")
        self.ga_batch = self._spin(ga, "batch_size", J.MAX_BATCH, J.GEMINI_DEFAULT_BATCH, "batch_size", "Batch size")
        self.ga_rate_radio = QRadioButton("Learning rate", ga)
        self.ga_mult_radio = QRadioButton("Multiplier of the default rate", ga)
        self.ga_rate_radio.setChecked(True)
        for r in (self.ga_rate_radio, self.ga_mult_radio):
            _tip(r, "learning_rate_mode", r.text())
        group = QButtonGroup(ga)
        group.addButton(self.ga_rate_radio)
        group.addButton(self.ga_mult_radio)
        self.ga_rate = self._double(ga, "learning_rate", 5, (0.00001, 1.0), 0.0001, J.GEMINI_DEFAULT_LR,
                                    "learning_rate", "Learning rate")
        self.ga_mult = self._double(ga, "ga_learning_rate_multiplier", 2, (0.01, J.MAX_LR_MULTIPLIER), 0.1, 1.0,
                                    "learning_rate_multiplier", "Learning-rate multiplier")
        rate_row = QHBoxLayout()
        for w in (self.ga_rate_radio, self.ga_rate, self.ga_mult_radio, self.ga_mult):
            rate_row.addWidget(w)
        rate_row.addStretch(1)
        gform.addRow("Epochs:", self.ga_epochs)
        gform.addRow("Batch size:", self.ga_batch)
        gform.addRow("Learning rate:", rate_row)
        self.ga_rate_radio.toggled.connect(self._emit_changed)
        return ga

    def _spin(self, parent: QWidget, name: str, maximum: int, value: int, tip: str, label: str) -> QSpinBox:
        spin = QSpinBox(parent)
        spin.setObjectName(name)
        spin.setRange(1, maximum)
        spin.setValue(value)
        _tip(spin, tip, label)
        spin.valueChanged.connect(self._emit_changed)
        return spin

    def _double(self, parent: QWidget, name: str, decimals: int, limits: tuple[float, float], step: float,
                value: float, tip: str, label: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(parent)
        spin.setObjectName(name)
        spin.setDecimals(decimals)
        spin.setRange(*limits)
        spin.setSingleStep(step)
        spin.setValue(value)
        _tip(spin, tip, label)
        spin.valueChanged.connect(self._emit_changed)
        return spin

    def focus_order(self) -> list[QWidget]:
        """The form's controls top to bottom, left to right (for the tab's focus chain)."""
        return [self.model_combo, self.edit_models_button, self.name_edit, *self.presets.focus_order(),
                *self.method.focus_order(), *self.pref_page.focus_order(),
                self.ap_epochs.spin, self.ap_epochs.auto, self.ap_multiplier.spin, self.ap_multiplier.auto,
                self.ap_adapter, self.ap_mode, self.ap_validation, self.ap_export_last,
                self.ga_epochs, self.ga_batch, self.ga_rate_radio, self.ga_rate, self.ga_mult_radio, self.ga_mult]

    # -- backend and models -------------------------------------------------------------------
    def set_backend(self, backend: Backend) -> None:
        self.backend = backend
        if backend is not Backend.AGENT_PLATFORM:
            self.method.set_preference(False)
        self._show_page()
        self.edit_models_button.setVisible(backend is Backend.AGENT_PLATFORM)

    def _show_page(self) -> None:
        """The settings of the backend and method: supervised on Agent Platform, Gemini API, or preference.

        The box is as tall as the page shown (the others' sizes are ignored) and the page as wide as the box:
        the layouts are told the sizes changed, nothing is resized by hand."""
        current = 1 if self.backend is Backend.GEMINI_API else 2 if self.method.preference else 0
        self.hyper_pages.setCurrentIndex(current)
        for i, page in enumerate((self.ap_page, self.ga_page, self.pref_page)):
            policy = QSizePolicy.Policy.Preferred if i == current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
            page.updateGeometry()
        self.hyper_pages.updateGeometry()

    def _on_method_changed(self) -> None:
        self._show_page()
        self.model_combo.setEnabled(self.method.start() is None and self.hyper_pages.isEnabled())
        self._emit_changed()

    @property
    def is_preference(self) -> bool:
        return self.backend is Backend.AGENT_PLATFORM and self.method.preference

    def start_point(self) -> StartingPoint:
        """Where the job starts: the tuned model or checkpoint chosen under "Start from", else the base model."""
        chosen = self.method.start()
        return chosen if chosen is not None else StartingPoint(str(self.model_combo.currentData() or ""))

    def method_values(self) -> dict[str, Any]:
        """The method, and for preference tuning its settings, as a preset keeps them."""
        if not self.is_preference:
            return {"method": "supervised"}
        return {"method": "preference", **self.pref_page.values()}

    def preference_spec(self) -> PreferenceSpec:
        """The form's values as a :class:`PreferenceSpec` (for the Preference method)."""
        return PreferenceSpec(self.start_point(), self.name_edit.text().strip(), **self.pref_page.values())

    def clear_models(self) -> None:
        self.models = []
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.blockSignals(False)

    def set_models(self, models: list[J.ModelInfo]) -> None:
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
        self._on_model_changed()

    def current_model(self) -> J.ModelInfo | None:
        model_id = self.model_combo.currentData()
        return next((info for info in self.models if info.id == model_id), None)

    def _on_model_changed(self, *_: object) -> None:
        info = self.current_model()
        sizes = info.adapter_sizes if info else J.DEFAULT_ADAPTER_SIZES
        current = self.ap_adapter.currentData()
        self.ap_adapter.blockSignals(True)
        self.ap_adapter.clear()
        self.ap_adapter.addItem("Automatic (recommended for a first job)", None)
        for s in sizes:
            self.ap_adapter.addItem(str(s), s)
        self.ap_adapter.setCurrentIndex(max(0, self.ap_adapter.findData(current)))
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
        self.pref_page.set_adapter_sizes(tuple(s for s in sizes if s in R.ADAPTER_SIZES))
        self.model_changed.emit()
        self._emit_changed()

    # -- values -------------------------------------------------------------------------------
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
            self._choose_model(spec.base_model)
        if "display_name" in values and spec.display_name:
            self.name_edit.setText(spec.display_name)
        if self.backend is Backend.GEMINI_API:
            self._set_gemini_values(spec, values)
        else:
            self._set_agent_platform_values(spec, values)
            self._set_method_values(values)
        self._emit_changed()

    def _set_method_values(self, values: dict[str, Any]) -> None:
        """The method, starting point and preference settings of a re-run (a job's stored settings)."""
        if "method" not in values:
            return
        preference = values.get("method") == "preference"
        model, checkpoint = str(values.get("start_model") or ""), str(values.get("start_checkpoint") or "")
        point = next((p for p in self.method.points if p.model == model and p.checkpoint_id == checkpoint), None)
        if point is None or not self.method.choose_start(point):
            self.method.start_combo.setCurrentIndex(0)  # from the base model, and said so: never silently
            if model:
                self.method.start_words.setText(
                    "⚠ The job you are re-running continued from a tuned model that is not among this project's "
                    "finished jobs now, so this one starts from the base model above. Choose another starting "
                    "point here if you want to continue tuning.")
        self.method.set_preference(preference)
        if preference:
            self.pref_page.set_values(values)

    def _choose_model(self, model: str) -> None:
        i = self.model_combo.findData(model)
        if i < 0 and self.backend is Backend.GEMINI_API:
            i = self.model_combo.findData(J.gemini_model_name(model))
        if i < 0:
            self.models.append(J.ModelInfo(model, model))
            self.model_combo.addItem(f"{model} (not in the usual list)", model)
            i = self.model_combo.count() - 1
        self.model_combo.setCurrentIndex(i)

    def _set_gemini_values(self, spec: J.JobSpec, values: dict[str, Any]) -> None:
        if "epochs" in values and spec.epochs:
            self.ga_epochs.setValue(spec.epochs)
        if "batch_size" in values and spec.batch_size:
            self.ga_batch.setValue(spec.batch_size)
        if spec.learning_rate is not None and "learning_rate" in values:
            self.ga_rate.setValue(spec.learning_rate)
        if spec.learning_rate_multiplier is not None and "learning_rate_multiplier" in values:
            self.ga_mult.setValue(spec.learning_rate_multiplier)
        (self.ga_mult_radio if spec.learning_rate_mode == "multiplier" else self.ga_rate_radio).setChecked(True)

    def _set_agent_platform_values(self, spec: J.JobSpec, values: dict[str, Any]) -> None:
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

    def name_limit(self) -> int:
        return J.MAX_NAME_CHARS[self.backend.value]

    def _emit_changed(self, *_: object) -> None:
        limit = self.name_limit()
        n = len(self.name_edit.text().strip())
        self.name_count.setText(f"{n} / {limit}" + ("  — too long" if n > limit else ""))
        self.changed.emit()

    def set_locked(self, locked: bool) -> None:
        """While a job is being started nothing it was started with can change."""
        for w in (self.name_edit, self.hyper_pages, self.presets.load_button, self.method):
            w.setEnabled(not locked)
        self.model_combo.setEnabled(not locked and self.method.start() is None)

    # -- fields with a problem ----------------------------------------------------------------
    def field_widget(self, field: str) -> QWidget | None:
        """The control of a :class:`JobSpec` field on this backend's page (None when the form has none)."""
        if field == "start":
            return self.method.start_combo
        if field == "method":
            return self.method.preference_radio
        if self.is_preference:
            widget = self.pref_page.field_widget(field)
            if widget is not None:
                return widget
        ga = self.backend is Backend.GEMINI_API
        return {
            "display_name": self.name_edit, "base_model": self.model_combo,
            "epochs": self.ga_epochs if ga else self.ap_epochs.spin,
            "learning_rate_multiplier": self.ga_mult if ga else self.ap_multiplier.spin,
            "adapter_size": self.ap_adapter, "tuning_mode": self.ap_mode, "batch_size": self.ga_batch,
            "learning_rate": self.ga_rate, "use_validation": self.ap_validation,
        }.get(field)

    def focus_field(self, field: str) -> None:
        w = self.field_widget(field)
        if w is not None:
            w.setFocus()


def mark_problem(widget: QWidget) -> None:
    """Frame a control in red and say so to screen readers."""
    widget.setProperty("problem", True)
    widget.setStyleSheet(PROBLEM_STYLE)
    widget.setAccessibleDescription("Problem: this setting needs to be changed. " + (widget.toolTip() or ""))


def clear_problem(widget: QWidget) -> None:
    if widget.property("problem"):
        widget.setProperty("problem", False)
        widget.setStyleSheet("")
        widget.setAccessibleDescription(widget.toolTip() or "")
