"""Help → Guide: the offline guide shipped in ``resources/guide/`` shown in a browser window.

The guide is plain HTML with pictures (``resources/guide/index.html`` and ``images/``); it works
without a network. Links inside the guide (``#dataset``) stay in the window; links to Google's
documentation (http/https) open in the user's web browser. Back, Forward, Home and Find
(Ctrl+F) are on the toolbar.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QMainWindow,
    QTextBrowser,
    QToolBar,
    QWidget,
)

from gemtune_desktop import APP_NAME
from gemtune_desktop.resources import resource_path

EXTERNAL_SCHEMES = ("http", "https", "mailto")


def guide_index() -> QUrl:
    """The guide's start page as a file URL."""
    return QUrl.fromLocalFile(str(resource_path("guide", "index.html")))


class GuideWindow(QMainWindow):
    """A small help browser over the shipped guide."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("GuideWindow")
        self.setWindowTitle(f"{APP_NAME} — Guide")
        self.resize(860, 760)

        self.browser = QTextBrowser(self)
        self.browser.setObjectName("guideBrowser")
        self.browser.setAccessibleName("Guide text")
        self.browser.setOpenLinks(False)  # _on_anchor decides: inside the guide, or the web browser
        self.browser.setSearchPaths([str(resource_path("guide"))])
        self.browser.anchorClicked.connect(self._on_anchor)
        self.setCentralWidget(self.browser)

        bar = QToolBar("Guide navigation", self)
        bar.setObjectName("guideToolbar")
        self.addToolBar(bar)
        self.back_action = QAction("◀ &Back", self)
        self.back_action.setShortcut(QKeySequence.StandardKey.Back)
        self.back_action.setToolTip("Go back to the previous place in the guide (Alt+Left)")
        self.back_action.triggered.connect(self.browser.backward)
        self.back_action.setEnabled(False)
        self.browser.backwardAvailable.connect(self.back_action.setEnabled)
        self.forward_action = QAction("&Forward ▶", self)
        self.forward_action.setShortcut(QKeySequence.StandardKey.Forward)
        self.forward_action.setToolTip("Go forward again (Alt+Right)")
        self.forward_action.triggered.connect(self.browser.forward)
        self.forward_action.setEnabled(False)
        self.browser.forwardAvailable.connect(self.forward_action.setEnabled)
        self.home_action = QAction("&Contents", self)
        self.home_action.setToolTip("Go to the start of the guide")
        self.home_action.triggered.connect(self.go_home)
        for action in (self.back_action, self.forward_action, self.home_action):
            bar.addAction(action)
        bar.addSeparator()
        find_label = QLabel("Find:", self)
        bar.addWidget(find_label)
        self.find_edit = QLineEdit(self)
        self.find_edit.setObjectName("guideFind")
        self.find_edit.setPlaceholderText("word to find (Enter: next)")
        self.find_edit.setAccessibleName("Find in the guide")
        self.find_edit.setToolTip("Type a word and press Enter to find it in the guide; Enter again finds the "
                                  "next place")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.setMaximumWidth(260)
        self.find_edit.returnPressed.connect(self.find_next)
        find_label.setBuddy(self.find_edit)
        bar.addWidget(self.find_edit)
        self.find_status = QLabel(self)
        self.find_status.setAccessibleName("Find result")
        bar.addWidget(self.find_status)
        find_action = QAction("Find", self)
        find_action.setShortcut(QKeySequence.StandardKey.Find)
        find_action.triggered.connect(self.focus_find)
        self.addAction(find_action)

        self.go_home()

    def go_home(self) -> None:
        self.browser.setSource(guide_index())

    def show_section(self, anchor: str) -> None:
        """Show the guide at a section, e.g. ``show_section("tune")``."""
        url = guide_index()
        url.setFragment(anchor)
        self.browser.setSource(url)

    def focus_find(self) -> None:
        self.find_edit.setFocus()
        self.find_edit.selectAll()

    def find_next(self) -> bool:
        text = self.find_edit.text().strip()
        if not text:
            self.find_status.setText("")
            return False
        found = self.browser.find(text)
        if not found:  # wrap around to the top once
            cursor = self.browser.textCursor()
            cursor.movePosition(cursor.MoveOperation.Start)
            self.browser.setTextCursor(cursor)
            found = self.browser.find(text, QTextDocument.FindFlag(0))
        self.find_status.setText("" if found else f"  “{text}” is not in the guide")
        return found

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() in EXTERNAL_SCHEMES:
            QDesktopServices.openUrl(url)
            return
        self.browser.setSource(self.browser.source().resolved(url))


_open_guides: list[GuideWindow] = []


def show_guide(parent: QWidget | None = None, section: str = "") -> GuideWindow:
    """Open (or raise) the guide window, optionally at a section."""
    window = next((w for w in _open_guides if w.parent() is parent), None)
    if window is None:
        window = GuideWindow(parent)
        _open_guides.append(window)
        window.destroyed.connect(lambda _=None, w=window: _open_guides.remove(w) if w in _open_guides else None)
    if section:
        window.show_section(section)
    already_open = window.isVisible()
    window.show()
    if already_open and QGuiApplication.platformName() != "offscreen":  # offscreen cannot raise windows
        window.raise_()
        window.activateWindow()
    return window
