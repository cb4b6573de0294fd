"""The "Add to dataset" dialog: the prompt and a (correctable) answer become a new example."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.examples import Example, Split


class AddExampleDialog(QDialog):
    """Edit the input and output, choose the split, then OK adds one example."""

    def __init__(self, prompt: str, answer: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add to dataset")
        layout = QVBoxLayout(self)
        intro = QLabel("Correct the answer so it is exactly what the model should have said; it becomes a new "
                       "example at the end of the dataset.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        layout.addLayout(form)
        self.input_edit = QPlainTextEdit(prompt, self)
        self.input_edit.setObjectName("newInput")
        self.input_edit.setAccessibleName("Input of the new example")
        self.output_edit = QPlainTextEdit(answer, self)
        self.output_edit.setObjectName("newOutput")
        self.output_edit.setAccessibleName("Output of the new example")
        self.split = QComboBox(self)
        self.split.setObjectName("newSplit")
        self.split.setAccessibleName("Split of the new example")
        self.split.setToolTip("Train examples teach the model; validation and test examples measure it.")
        for s in Split:
            self.split.addItem(s.label, s.value)
        form.addRow("Input", self.input_edit)
        form.addRow("Output (corrected)", self.output_edit)
        form.addRow("Split", self.split)
        self.problem = QLabel(self)
        self.problem.setStyleSheet("color: #a40000;")
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add example")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(640, 480)

    def example(self) -> Example:
        return Example(self.input_edit.toPlainText(), self.output_edit.toPlainText(),
                       Split(self.split.currentData()))

    def _accept(self) -> None:
        ex = self.example()
        if not ex.input.strip() or not ex.output.strip():
            self.problem.setText("✖ Both the input and the output need some text.")
            return
        self.accept()
