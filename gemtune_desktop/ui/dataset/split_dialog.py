"""The Split dialog: train / validation / test ratios and the random seed, with a preview of the counts."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


class SplitDialog(QDialog):
    """Ratios (percent) and the random seed for a train / validation / test split."""

    ROWS_WORD = "examples"  # "About 80 train, 10 validation and 10 test examples of 100."

    def __init__(self, ratios: tuple[float, float, float], seed: int, total: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Split into Train, Validation and Test")
        # Wide enough for the title bar to show the whole title (window managers draw it bolder and bigger,
        # beside their buttons), not just the narrow form below it.
        title_width = self.fontMetrics().horizontalAdvance(self.windowTitle())
        self.setMinimumWidth(max(440, int(title_width * 1.4) + 160))
        self.total = total
        intro = QLabel("Examples are assigned at random with the ratios you pick. The same seed always gives "
                       "the same split. Identical inputs are kept on the same side so the model is not "
                       "tested on what it trained on.", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.spins: list[QDoubleSpinBox] = []
        for label, value, tip in (("&Train %", ratios[0], "Share of examples the model learns from"),
                                  ("&Validation %", ratios[1], "Share used to measure progress while tuning"),
                                  ("T&est %", ratios[2], "Share kept aside for your own evaluation")):
            spin = QDoubleSpinBox(self)
            spin.setRange(0.0, 100.0)
            spin.setDecimals(1)
            spin.setSuffix(" %")
            spin.setValue(round(value * 100, 1))
            spin.setToolTip(tip)
            spin.setAccessibleName(label.replace("&", ""))
            spin.valueChanged.connect(self._update)
            form.addRow(label, spin)
            self.spins.append(spin)
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setValue(seed)
        self.seed.setToolTip("Any number; change it to get a different random split")
        self.seed.setAccessibleName("Random seed")
        form.addRow("Random &seed", self.seed)
        self.preview = QLabel(self)
        self.preview.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Split")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.buttons)
        self._update()

    def ratios(self) -> tuple[float, float, float]:
        values = [s.value() for s in self.spins]
        total = sum(values) or 1.0
        return (values[0] / total, values[1] / total, values[2] / total)

    def _update(self) -> None:
        values = [s.value() for s in self.spins]
        ok = sum(values) > 0
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        if not ok:
            self.preview.setText("At least one share must be above 0 %.")
            return
        r = self.ratios()
        counts = [round(self.total * x) for x in r]
        text = (f"About {counts[0]:,} train, {counts[1]:,} validation and {counts[2]:,} test {self.ROWS_WORD} "
                f"of {self.total:,}.")
        if abs(sum(values) - 100.0) > 0.05:
            text += " (The shares are scaled to add up to 100 %.)"
        self.preview.setText(text)
