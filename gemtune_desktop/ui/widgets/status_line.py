"""One way to put a message, or an error in plain words, on a status line.

Every tab shows what just happened in a label under its controls. :func:`error_text` is the one
place a :class:`~gemtune_desktop.core.errors.UserError` (or anything else :class:`Explained`) becomes
a line of text (a mark, an optional lead such as "Could not cancel:", the message, then what to do);
:class:`StatusLine` is a label that shows such lines; :func:`show_error_box` is the same error as a
message box, with the technical detail one click away.
"""

from __future__ import annotations

import enum
from typing import Protocol

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from gemtune_desktop.core.errors import UserError


class Tone(enum.Enum):
    """How a status line reads: the mark put before the text."""

    PLAIN = ""
    OK = "✔ "
    WARNING = "⚠ "
    ERROR = "✖ "


class Explained(Protocol):
    """Anything said as a message and what to do about it: a UserError, a submit's report, a project notice."""

    @property
    def message(self) -> str: ...

    @property
    def hint(self) -> str: ...


def error_text(err: Explained, lead: str = "", *, tone: Tone = Tone.ERROR, hint: bool = True,
               hint_on_new_line: bool = False) -> str:
    """``"✖ <lead> <message> <hint>"`` with the empty parts left out."""
    body = " ".join(part for part in (lead, err.message) if part)
    if hint and err.hint:
        body += ("\n" if hint_on_new_line else " ") + err.hint
    return tone.value + body


class StatusLine:
    """A label under a tab's controls that says what just happened.

    Args:
        label: the label it writes to (it keeps its object name, word wrap and text format).
    """

    def __init__(self, label: QLabel) -> None:
        self.label = label
        self.last_error: UserError | None = None

    def say(self, text: str, tone: Tone = Tone.PLAIN) -> None:
        self.label.setText(tone.value + text)

    def error(self, err: UserError, lead: str = "", *, tone: Tone = Tone.ERROR, hint: bool = True,
              hint_on_new_line: bool = False) -> None:
        self.last_error = err
        self.label.setText(error_text(err, lead, tone=tone, hint=hint, hint_on_new_line=hint_on_new_line))

    def clear(self) -> None:
        self.label.setText("")

    def text(self) -> str:
        return self.label.text()


def show_error_box(parent: QWidget, err: UserError, title: str = "GemTune Desktop") -> QMessageBox:
    """The error as a window-modal message box (hint below, detail behind "Show Details…"), deleted when closed."""
    from PySide6.QtCore import Qt

    box = QMessageBox(QMessageBox.Icon.Warning, title, err.message, parent=parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if err.hint:
        box.setInformativeText(err.hint)
    if err.detail:
        box.setDetailedText(err.detail)
    box.open()
    return box
