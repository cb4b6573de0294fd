"""What a batch evaluation covers: which examples (a split, or rows by number) and which model, or two."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from gemtune_desktop.services.eval_plan import SOURCES
from gemtune_desktop.ui.playground.model_picker import ModelCatalog, ModelPicker


class EvalChoices(QWidget):
    """Examples [split or rows] · Model [A] and [B]."""

    def __init__(self, catalog: ModelCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.source = QComboBox(self)
        self.source.setObjectName("evalSource")
        self.source.setAccessibleName("Which examples to evaluate")
        self.source.setToolTip("Held-out examples the model did not train on give an honest score.")
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.rows_spec = QLineEdit(self)
        self.rows_spec.setObjectName("evalRows")
        self.rows_spec.setPlaceholderText("e.g. 1-20, 35")
        self.rows_spec.setAccessibleName("Row numbers to evaluate")
        self.rows_spec.setToolTip("Row numbers as the Dataset tab shows them; ranges with a dash.")
        self.rows_spec.setEnabled(False)
        self.rows_spec.setMaximumWidth(140)
        self.source.currentIndexChanged.connect(lambda _i: self.rows_spec.setEnabled(self.source.currentData() ==
                                                                                      "rows"))
        row.addWidget(QLabel("Examples", self))
        row.addWidget(self.source)
        row.addWidget(self.rows_spec)
        row.addSpacing(12)
        row.addWidget(QLabel("Model", self))
        self.picker_a = ModelPicker(catalog, self, "First model to evaluate")
        self.picker_a.setObjectName("evalModelA")
        row.addWidget(self.picker_a, 1)
        self.two_models = QCheckBox("and", self)
        self.two_models.setObjectName("evalTwoModels")
        self.two_models.setToolTip("Evaluate a second model on the same examples (e.g. base vs tuned).")
        self.picker_b = ModelPicker(catalog, self, "Second model to evaluate")
        self.picker_b.setObjectName("evalModelB")
        self.picker_b.setEnabled(False)
        self.two_models.toggled.connect(self.picker_b.setEnabled)
        row.addWidget(self.two_models)
        row.addWidget(self.picker_b, 1)
