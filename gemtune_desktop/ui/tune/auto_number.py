"""A number with an "Automatic" switch, for Tune tab settings where Google can choose the value."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QSpinBox, QWidget

from gemtune_desktop.ui.tune.tips import AUTOMATIC


class AutoNumber(QWidget):
    """A spin box with an "Automatic" check box: ``value()`` is None while Automatic is on.

    Signals:
        changed(): the value or the Automatic switch changed.
    """

    changed = Signal()

    def __init__(self, name: str, tip: str, *, decimals: int = 0, minimum: float = 1, maximum: float = 100,
                 default: float = 1, step: float = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.auto = QCheckBox(AUTOMATIC, self)
        self.auto.setObjectName(f"{name}_auto")
        self.auto.setAccessibleName(f"{name.replace('_', ' ')}: automatic")
        self.spin: QSpinBox | QDoubleSpinBox
        if decimals:
            spin = QDoubleSpinBox(self)
            spin.setDecimals(decimals)
            spin.setSingleStep(step)
            spin.setRange(minimum, maximum)
            spin.setValue(default)
            spin.valueChanged.connect(lambda _v: self.changed.emit())
            self.spin = spin
        else:
            ispin = QSpinBox(self)
            ispin.setRange(int(minimum), int(maximum))
            ispin.setValue(int(default))
            ispin.valueChanged.connect(lambda _v: self.changed.emit())
            self.spin = ispin
        self.spin.setObjectName(name)
        self.spin.setAccessibleName(name.replace("_", " "))
        for w in (self, self.auto, self.spin):
            w.setToolTip(tip)
        layout.addWidget(self.spin)
        layout.addWidget(self.auto, 1)
        self.auto.toggled.connect(self._toggled)
        self.auto.setChecked(True)

    def _toggled(self, on: bool) -> None:
        self.spin.setEnabled(not on)
        self.changed.emit()

    def value(self) -> float | int | None:
        if self.auto.isChecked():
            return None
        return self.spin.value()

    def set_value(self, value: float | int | None) -> None:
        if value is None:
            self.auto.setChecked(True)
            return
        self.spin.setValue(value)  # type: ignore[arg-type]
        self.auto.setChecked(False)
