"""The dialog shown when something unexpected goes wrong: a plain message, diagnostics, the log folder.

Opened by :mod:`gemtune_desktop.crash` for an uncaught exception. It says in plain words that the
app hit a problem, that the work is saved and that the user can keep going; the technical detail
is one click away ("Show details"). "Copy diagnostics" puts versions, operating system, connection
kind, the error and the last log lines (secrets redacted) on the clipboard for a support request;
"Open log folder" shows the rotating log files in the file manager.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop import APP_NAME, paths
from gemtune_desktop.crash import CrashReport, diagnostics_text

PLAIN_MESSAGE = (
    f"{APP_NAME} ran into a problem it did not expect. Your work is safe: the project file is saved on every "
    "edit, and you can keep working.")
SUPPORT_HINT = (
    "If it happens again, click “Copy diagnostics” and paste the text into your message to support, with a "
    "sentence about what you were doing. The diagnostics hold no keys or passwords.")


class ErrorDialog(QDialog):
    """Plain explanation of one or more unexpected errors, with support tools."""

    def __init__(self, reports: list[CrashReport], connection_kind: Callable[[], str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorDialog")
        self.setWindowTitle(f"{APP_NAME} — something went wrong")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.reports: list[CrashReport] = []
        self._connection_kind = connection_kind or (lambda: "unknown")

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        icon = QLabel(self)
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(40, 40))
        icon.setAccessibleName("Warning")
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        self.message_label = QLabel(PLAIN_MESSAGE, self)
        self.message_label.setObjectName("errorMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        texts.addWidget(self.message_label)
        self.user_label = QLabel(self)
        self.user_label.setObjectName("errorUserMessage")
        self.user_label.setWordWrap(True)
        self.user_label.setTextFormat(Qt.TextFormat.PlainText)
        self.user_label.hide()
        texts.addWidget(self.user_label)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("errorCount")
        self.count_label.hide()
        texts.addWidget(self.count_label)
        hint = QLabel(SUPPORT_HINT, self)
        hint.setWordWrap(True)
        texts.addWidget(hint)
        top.addLayout(texts, 1)
        layout.addLayout(top)

        self.details = QPlainTextEdit(self)
        self.details.setObjectName("errorDetails")
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Technical details of the error")
        self.details.setMinimumHeight(160)
        self.details.hide()
        layout.addWidget(self.details, 1)

        self.feedback = QLabel(self)
        self.feedback.setObjectName("errorFeedback")
        self.feedback.setAccessibleName("Result of the last action")
        layout.addWidget(self.feedback)
        layout.addWidget(self._build_buttons())
        self.resize(560, 260)

        for report in reports:
            self.add_report(report)

    def _build_buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(self)
        self.details_button = QPushButton("Show &details", self)
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the technical description of the error (for support)")
        self.details_button.toggled.connect(self._toggle_details)
        self.copy_button = QPushButton("&Copy diagnostics", self)
        self.copy_button.setObjectName("copyDiagnostics")
        self.copy_button.setToolTip("Copy versions, system, connection kind, the error and recent log lines "
                                    "(without any keys) to the clipboard")
        self.copy_button.setWhatsThis("Copies a text for support: the app's and libraries' versions, your operating "
                                      "system, the kind of connection, the error and the last log lines. Keys, "
                                      "tokens and passwords are removed.")
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.log_button = QPushButton("Open &log folder", self)
        self.log_button.setObjectName("openLogFolder")
        self.log_button.setToolTip(f"Show the folder with the log files: {paths.log_dir()}")
        self.log_button.setWhatsThis("Opens the folder with the app's log files in your file manager. Old logs are "
                                     "rotated away automatically, so the folder stays small.")
        self.log_button.clicked.connect(self.open_log_folder)
        buttons.addButton(self.details_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.log_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton("&Keep working", QDialogButtonBox.ButtonRole.AcceptRole)
        close.setObjectName("keepWorking")
        close.setToolTip("Close this message and go back to the app")
        close.setDefault(True)
        buttons.accepted.connect(self.accept)
        return buttons

    # -- content --------------------------------------------------------------------------
    def add_report(self, report: CrashReport) -> None:
        self.reports.append(report)
        if report.user_message:
            self.user_label.setText(report.user_message)
            self.user_label.show()
        if len(self.reports) > 1:
            self.count_label.setText(f"This happened {len(self.reports)} times since this message opened.")
            self.count_label.show()
        self.details.setPlainText("\n\n".join(
            f"{r.when} — {r.summary}\n{r.details.rstrip()}" for r in self.reports))

    def diagnostics(self) -> str:
        try:
            kind = self._connection_kind()
        except Exception:
            kind = "unknown"
        return diagnostics_text(kind, self.reports)

    # -- actions --------------------------------------------------------------------------
    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide &details" if shown else "Show &details")
        self.adjustSize()

    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostics())
        self._say("Diagnostics copied. Paste them into your message to support.")

    def open_log_folder(self) -> None:
        folder = paths.log_dir()
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            QGuiApplication.clipboard().setText(str(folder))
            self._say(f"Could not open a file manager. The folder's path was copied: {folder}")
        else:
            self._say(f"Opened {folder}")

    def _say(self, text: str) -> None:
        self.feedback.setText(text)
        QTimer.singleShot(8000, self.feedback,
                          lambda: self.feedback.setText("") if self.feedback.text() == text else None)
