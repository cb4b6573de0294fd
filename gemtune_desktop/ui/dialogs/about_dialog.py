"""Help → About: what the app is, and the versions of everything it runs on."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from gemtune_desktop import APP_NAME, __version__


def component_versions() -> list[tuple[str, str]]:
    """(name, version) of the app and the libraries a support request needs."""
    rows = [(APP_NAME, __version__), ("Python", platform.python_version()),
            ("Qt", qVersion()), ("PySide6", pyside_version)]
    for dist in ("google-genai", "google-cloud-storage", "pyqtgraph", "keyring"):
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, "not installed"))
    rows.append(("Operating system", f"{platform.system()} {platform.release()} ({platform.machine()})"))
    return rows


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        layout = QVBoxLayout(self)
        title = QLabel(f"<h2>{APP_NAME} {__version__}</h2>"
                       "<p>Turn a spreadsheet of examples into a tuned Gemini model, watch it train, "
                       "and try it out.</p>", self)
        title.setWordWrap(True)
        layout.addWidget(title)
        table = "".join(f"<tr><td><b>{n}</b></td><td>{v}</td></tr>" for n, v in component_versions())
        versions = QLabel(f"<table cellspacing=4>{table}</table>", self)
        versions.setObjectName("aboutVersions")
        versions.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(versions)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

