"""Desktop notifications for jobs that finish while the window is in the background.

Uses a system-tray message (``QSystemTrayIcon.showMessage``) where the desktop has a tray,
and otherwise asks the window manager to flag the window (``QApplication.alert``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from gemtune_desktop import APP_NAME


class JobNotifier:
    """Tells the user about a job that ended, unless they are looking at the window."""

    def __init__(self, window_of: QWidget) -> None:
        self._widget = window_of
        self._tray: QSystemTrayIcon | None = None
        self.sent: list[tuple[str, str]] = []  # what was shown (title, text), newest last

    def window_is_active(self) -> bool:
        window = self._widget.window()
        app_active = QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive
        return bool(window.isVisible() and window.isActiveWindow() and app_active)

    def notify(self, title: str, text: str, force: bool = False) -> bool:
        """Show a message if the window is not active (or ``force``); returns whether one was shown."""
        if not force and self.window_is_active():
            return False
        self.sent.append((title, text))
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                icon = self._widget.window().windowIcon()
                if icon.isNull():
                    icon = QIcon.fromTheme("dialog-information")
                self._tray = QSystemTrayIcon(icon, self._widget)
                self._tray.setToolTip(APP_NAME)
            self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10000)
        else:
            QApplication.alert(self._widget.window(), 0)
        return True

    def close(self) -> None:
        if self._tray is not None:
            self._tray.hide()
            self._tray.deleteLater()
            self._tray = None
