"""Small widgets and texts for the Tune tab: a number with an "Automatic" switch, the tooltips in plain words."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QSpinBox, QWidget

AUTOMATIC = "Automatic (recommended for a first job)"

TIPS: dict[str, str] = {
    "base_model": "The Google model your examples will teach. Lite models are cheaper and quicker to tune and "
                  "to run; larger ones handle harder tasks. The list shows the models this connection can tune.",
    "display_name": "A name to recognise the tuned model by in the Monitor and Test tabs. The Gemini API allows "
                    "up to 40 characters, Google Cloud up to 128.",
    "epochs": "How many times training goes through all your examples. More epochs learn more, but too many "
              "make the model memorise the examples: lower it if the loss curve flattens early, raise it if "
              "the curve is still falling at the end. Automatic lets Google choose from your dataset size.",
    "learning_rate_multiplier": "Scales the size of each learning step (1 = Google's default). Raise it to "
                                "learn faster; lower it if the model memorises the examples or the loss curve "
                                "jumps around.",
    "adapter_size": "How much the tuned model can change: the size of the small add-on trained on top of the "
                    "base model. Larger sizes can learn more complex tasks but need more examples and time. "
                    "Automatic suits most first jobs.",
    "tuning_mode": "Adapter tuning trains a small add-on (quicker, cheaper, recommended). Full tuning changes "
                   "the whole model; only some models offer it.",
    "use_validation": "Check the model during training on your validation examples, which it does not learn "
                      "from. Google strongly recommends it: the validation curve in the Monitor tab shows when "
                      "the model starts memorising instead of learning.",
    "export_last_checkpoint_only": "Keep only the final model instead of one per epoch. Leave it off to be "
                                   "able to test earlier checkpoints and keep the best one.",
    "batch_size": "How many examples are used per learning step. Larger batches give fewer, smoother steps. "
                  "4 is the default; Google used 16 for large datasets.",
    "learning_rate": "The size of each learning step. 0.001 is the default; use a smaller value for small "
                     "datasets, or if the loss curve jumps around.",
    "learning_rate_mode": "The Gemini API takes either a learning rate or a multiplier of its default rate, "
                          "not both.",
    "price": "Price in US dollars per million training tokens, used only for the estimate. The shipped price "
             "is an estimate with the date shown; enter your own price if it differs.",
    "preset": "Save the current settings under a name to reuse them, or load saved settings.",
}


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
