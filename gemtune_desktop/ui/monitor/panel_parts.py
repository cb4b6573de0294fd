"""Building blocks of the Monitor tab's side panels: plain or rich labels, headings, a box rebuilt per job."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QVBoxLayout, QWidget

HYPER_WORDS = {
    "epoch_count": "Epochs", "epochs": "Epochs", "learning_rate_multiplier": "Learning-rate multiplier",
    "learning_rate": "Learning rate", "adapter_size": "Adapter size", "batch_size": "Batch size", "beta": "β",
}


def text_label(text: str, parent: QWidget, rich: bool = False) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction if rich
                                  else Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(f"<b>{html.escape(text)}</b>", parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


class ClearableBox(QWidget):
    """A vertical box whose contents are rebuilt from scratch for each job."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(4, 4, 4, 4)

    def clear(self) -> None:
        empty_layout(self.box)


def empty_layout(layout: QLayout) -> None:
    """Remove and delete everything in ``layout``, including widgets inside nested layouts."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.deleteLater()
        else:
            inner = item.layout()
            if inner is not None:
                empty_layout(inner)
                inner.deleteLater()
