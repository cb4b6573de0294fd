"""A bar across the window that says one thing that matters now, with at most two buttons to act on it.

Used under the menu bar for what the user must know whatever tab is in front: the project cannot be saved
(read-only, the file was replaced or deleted, a damaged file opened with repairs) or the active connection
cannot work. Plain text only (messages can quote file names and servers). Its parts are made when it is
first shown: the window's first paint does not wait for them (nor for the Qt namespace they need).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget


class Level(enum.Enum):
    INFO = ("#e8f0fe", "#1a3d7c", "ℹ")
    WARNING = ("#fff4ce", "#5c4300", "⚠")
    ERROR = ("#fde7e9", "#7a0010", "✖")


class NoticeBar(QFrame):
    """A message, up to two action buttons and (optionally) a close button; hidden until :meth:`show_notice`."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._actions: list[Callable[[], object] | None] = [None, None]
        self.label: QLabel | None = None
        self.buttons: list[QPushButton] = []
        self.close_button: QToolButton | None = None
        self.hide()

    def _build(self) -> None:
        from PySide6.QtCore import Qt

        name = self.objectName()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setObjectName(f"{name}Text")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.buttons = [QPushButton(self), QPushButton(self)]
        for i, button in enumerate(self.buttons):
            button.setObjectName(f"{name}Button{i + 1}")
            button.clicked.connect(lambda _c=False, k=i: self._clicked(k))
            layout.addWidget(button)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName(f"{name}Close")
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this message")
        self.close_button.setAccessibleName("Hide this message")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.close_button)

    @property
    def closable(self) -> bool:
        return self.close_button is not None and not self.close_button.isHidden()

    def show_notice(self, text: str, level: Level = Level.WARNING,
                    actions: list[tuple[str, Callable[[], object]]] | None = None, closable: bool = True,
                    tip: str = "") -> None:
        if self.label is None:
            self._build()
        assert self.label is not None and self.close_button is not None
        background, color, mark = level.value
        self.setStyleSheet(f"#{self.objectName()} {{ background: {background}; border: 1px solid {color}; "
                           f"border-radius: 3px; }} #{self.objectName()} QLabel {{ color: {color}; }}")
        self.label.setText(f"{mark} {text}")
        self.label.setToolTip(tip)
        self.setAccessibleDescription(text)
        actions = (actions or [])[:2]
        for i, button in enumerate(self.buttons):
            if i < len(actions):
                button.setText(actions[i][0])
                button.setAccessibleName(actions[i][0].replace("&", "").rstrip("…"))
                self._actions[i] = actions[i][1]
                button.show()
            else:
                self._actions[i] = None
                button.hide()
        self.close_button.setVisible(closable)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.label is not None and self.isVisible() else ""

    def _clicked(self, i: int) -> None:
        action = self._actions[i]
        if action is not None:
            action()
