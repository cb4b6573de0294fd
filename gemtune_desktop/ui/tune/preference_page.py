"""The Tune tab's settings for preference tuning: epochs, learning-rate multiplier, adapter size and β.

Each has "Automatic" (the service chooses) and its explanation in plain words under it
(:data:`gemtune_desktop.core.preference.spec.EXPLAIN`); the validation split and "keep only the final model"
work as for supervised tuning. :meth:`PreferencePage.values` reads the page for a
:class:`~gemtune_desktop.core.preference.spec.PreferenceSpec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.preference import rules as R
from gemtune_desktop.core.preference.spec import EXPLAIN
from gemtune_desktop.ui.tune.auto_number import AutoNumber
from gemtune_desktop.ui.tune.tips import AUTOMATIC, TIPS

BETA_WORDS = "β (how far from the start):"


def _explained(parent: QWidget, control: QWidget, key: str) -> QWidget:
    """The control with its explanation in small print under it."""
    box = QWidget(parent)
    v = QVBoxLayout(box)
    v.setContentsMargins(0, 0, 0, 0)
    v.setSpacing(1)
    v.addWidget(control)
    words = QLabel(EXPLAIN[key], box)
    words.setObjectName(f"pref_{key}_explain")
    words.setWordWrap(True)
    words.setStyleSheet("color: palette(placeholder-text);")
    v.addWidget(words)
    control.setToolTip(EXPLAIN[key])
    control.setAccessibleDescription(EXPLAIN[key])
    return box


def _number(value: Any) -> float | None:
    """A stored setting as a number (None: Automatic, or not a number)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class PreferencePage(QWidget):
    """The preference-tuning settings (see the module docstring).

    Signals:
        changed(): a value changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.epochs = AutoNumber("pref_epochs", EXPLAIN["epochs"], minimum=1, maximum=J.MAX_EPOCHS, default=1)
        self.multiplier = AutoNumber("pref_learning_rate_multiplier", EXPLAIN["learning_rate_multiplier"],
                                     decimals=2, minimum=0.01, maximum=J.MAX_LR_MULTIPLIER, default=1.0, step=0.1)
        self.adapter = QComboBox(self)
        self.adapter.setObjectName("pref_adapter_size")
        self.adapter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.adapter.setMinimumContentsLength(18)
        self.adapter.setAccessibleName("Adapter size")
        self.beta = AutoNumber("pref_beta", EXPLAIN["beta"], decimals=3, minimum=0.001, maximum=10.0, default=0.1,
                               step=0.05)
        self.beta.spin.setAccessibleName("Beta")
        self.validation = QCheckBox("Use the project's validation preference examples", self)
        self.validation.setObjectName("pref_use_validation")
        self.validation.setChecked(True)
        self.validation.setToolTip(TIPS["use_validation"])
        self.export_last = QCheckBox("Keep only the final model (no per-epoch checkpoints)", self)
        self.export_last.setObjectName("pref_export_last_checkpoint_only")
        self.export_last.setToolTip(TIPS["export_last_checkpoint_only"])
        form.addRow("Epochs:", _explained(self, self.epochs, "epochs"))
        form.addRow("Learning-rate multiplier:", _explained(self, self.multiplier, "learning_rate_multiplier"))
        form.addRow("Adapter size:", _explained(self, self.adapter, "adapter_size"))
        form.addRow(BETA_WORDS, _explained(self, self.beta, "beta"))
        form.addRow("Validation set:", self.validation)
        form.addRow("Checkpoints:", self.export_last)
        for number in (self.epochs, self.multiplier, self.beta):
            number.changed.connect(self.changed)
        self.adapter.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for box in (self.validation, self.export_last):
            box.toggled.connect(lambda _on: self.changed.emit())
        self.set_adapter_sizes(R.ADAPTER_SIZES)

    def set_adapter_sizes(self, sizes: tuple[int, ...]) -> None:
        """The sizes offered for the chosen model (the one chosen stays when it is still offered)."""
        current = self.adapter.currentData()
        self.adapter.blockSignals(True)
        self.adapter.clear()
        self.adapter.addItem(AUTOMATIC, None)
        for s in sizes:
            self.adapter.addItem(str(s), s)
        self.adapter.setCurrentIndex(max(0, self.adapter.findData(current)))
        self.adapter.blockSignals(False)

    def values(self) -> dict[str, Any]:
        """The page as :class:`PreferenceSpec` fields (None: Automatic)."""
        epochs, mult, beta = self.epochs.value(), self.multiplier.value(), self.beta.value()
        return {"epochs": None if epochs is None else int(epochs),
                "learning_rate_multiplier": None if mult is None else float(mult),
                "adapter_size": self.adapter.currentData(), "beta": None if beta is None else float(beta),
                "use_validation": self.validation.isChecked(),
                "export_last_checkpoint_only": self.export_last.isChecked()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Fill the page from a job's settings (a re-run); keys not given are left as they are."""
        for key, number in (("epochs", self.epochs), ("learning_rate_multiplier", self.multiplier),
                            ("beta", self.beta)):
            if key in values:
                number.set_value(_number(values[key]))
        if "adapter_size" in values:
            size = _number(values["adapter_size"])
            self.adapter.setCurrentIndex(max(0, self.adapter.findData(int(size) if size is not None else None)))
        if "use_validation" in values:
            self.validation.setChecked(bool(values["use_validation"]))
        if "export_last_checkpoint_only" in values:
            self.export_last.setChecked(bool(values["export_last_checkpoint_only"]))

    def focus_order(self) -> list[QWidget]:
        return [self.epochs.spin, self.epochs.auto, self.multiplier.spin, self.multiplier.auto, self.adapter,
                self.beta.spin, self.beta.auto, self.validation, self.export_last]

    def field_widget(self, field: str) -> QWidget | None:
        return {"epochs": self.epochs.spin, "learning_rate_multiplier": self.multiplier.spin,
                "adapter_size": self.adapter, "beta": self.beta.spin, "use_validation": self.validation,
                "export_last_checkpoint_only": self.export_last}.get(field)
