"""The main window: four tabs (Dataset, Tune, Monitor, Test), menus, and the status bar.

Each tab is built with the shared :class:`AppContext` and may add its actions to the
menus through ``install_actions(menus)``. The window remembers its geometry and the last
tab, shows the active connection and whether it is reachable, and shuts the worker
threads down cleanly on close.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QMenu, QTabWidget, QVBoxLayout, QWhatsThis, QWidget

from gemtune_desktop import APP_NAME
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent

log = logging.getLogger(__name__)

TAB_KEYS = ("dataset", "tune", "monitor", "test")
TAB_TITLES = ("&Dataset", "T&une", "&Monitor", "&Test")


def _plain_text() -> Any:
    from PySide6.QtCore import Qt

    return Qt.TextFormat.PlainText


def _tab_class(key: str) -> Any:
    """The tab's class, imported on first use (the tabs' imports are the bulk of start-up time)."""
    if key == "dataset":
        from gemtune_desktop.ui.dataset_tab import DatasetTab

        return DatasetTab
    if key == "tune":
        from gemtune_desktop.ui.tune_tab import TuneTab

        return TuneTab
    if key == "monitor":
        from gemtune_desktop.ui.monitor_tab import MonitorTab

        return MonitorTab
    from gemtune_desktop.ui.test_tab import TestTab

    return TestTab


class MainWindow(QMainWindow):
    """The app window.

    With ``lazy_tabs=True`` (the app's start-up path) the window is painted first with its menus,
    tab bar and status bar, the shown tab saying "Opening …"; :meth:`build_pending_tabs`, called
    right after that first paint, builds the shown tab at once and the others one per event-loop
    turn, and any tab is built when it is shown or asked for (:meth:`ensure_tab`).
    """

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, lazy_tabs: bool = False) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._lazy_tabs = lazy_tabs
        self._pending_tabs: dict[str, tuple[QWidget, str]] = {}  # key -> (placeholder, title)
        self._menu_tails: dict[str, list[QAction]] = {}
        self.setObjectName("MainWindow")
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 780)
        self.setAcceptDrops(True)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("MainTabs")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.menus: dict[str, QMenu] = {}
        self._build_menus()
        self._build_tabs()
        before = {key: list(menu.actions()) for key, menu in self.menus.items()}
        self._finish_menus()
        self._menu_tails = {key: [a for a in menu.actions() if a not in before[key]]
                            for key, menu in self.menus.items()}
        self._build_status_bar()

        ctx.show_tab_requested.connect(self.show_tab)
        ctx.status_message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        ctx.project_changed.connect(lambda _p: self._update_title())
        self._restore_state()
        if self._pending_tabs:  # connected after restoring the last tab, which is built after the first paint
            self.tabs.currentChanged.connect(self._build_shown_tab)
        self.tabs.currentChanged.connect(lambda i: ctx.settings.set(S.LAST_TAB, i))
        # Check the connection once the window is up, off the start-up path.
        QTimer.singleShot(0, ctx.connections.check_reachable)
        ctx.after_first_paint(self._maybe_welcome)

    def _maybe_welcome(self) -> None:
        from gemtune_desktop.ui.welcome_dialog import maybe_show_welcome

        maybe_show_welcome(self)  # first run only; skipped when GEMTUNE_NO_WELCOME is set

    # -- construction ---------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        for key, title in (("file", "&File"), ("edit", "&Edit"), ("view", "&View"),
                           ("settings", "&Settings"), ("help", "&Help")):
            menu = bar.addMenu(title)
            menu.setObjectName(f"menu_{key}")
            self.menus[key] = menu

    def _build_tabs(self) -> None:
        self.tab_widgets: dict[str, Any] = {}
        first = self.ctx.settings.get(S.LAST_TAB) if self._lazy_tabs else -1
        if self._lazy_tabs and not 0 <= first < len(TAB_KEYS):
            first = 0
        for index, (key, title) in enumerate(zip(TAB_KEYS, TAB_TITLES, strict=True)):
            if self._lazy_tabs:
                placeholder = self._placeholder(key, shown=index == first)
                self.tabs.addTab(placeholder, title)
                self._pending_tabs[key] = (placeholder, title)
                continue
            widget = _tab_class(key)(self.ctx, self)
            widget.setObjectName(f"tab_{key}")
            self.tabs.addTab(widget, title)
            self.tab_widgets[key] = widget
            install = getattr(widget, "install_actions", None)
            if callable(install):
                install(self.menus)

    def _placeholder(self, key: str, shown: bool) -> QWidget:
        """Stands in for a tab until it is built; the one shown at start says that the app is opening."""
        placeholder = QWidget(self)
        placeholder.setObjectName(f"tab_{key}_pending")
        if shown:
            # Centred by stretches rather than an alignment flag: touching the Qt namespace
            # creates its ~90 Python enums (~15 ms), which the first paint need not wait for.
            last = self.ctx.settings.get(S.LAST_PROJECT) if key == "dataset" else ""
            label = QLabel(f"Opening “{Path(last).stem}”…" if last else "Opening…", placeholder)
            label.setObjectName("openingLabel")
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(label)
            row.addStretch(1)
            column = QVBoxLayout(placeholder)
            column.addStretch(1)
            column.addLayout(row)
            column.addStretch(2)
        return placeholder

    def ensure_tab(self, key: str) -> Any:
        """The tab widget for ``key``, built now if it was deferred."""
        if key in self.tab_widgets or key not in self._pending_tabs:
            return self.tab_widgets.get(key)
        placeholder, title = self._pending_tabs.pop(key)
        widget = _tab_class(key)(self.ctx, self)
        widget.setObjectName(f"tab_{key}")
        index = self.tabs.indexOf(placeholder)
        was_current = self.tabs.currentIndex() == index
        self.tabs.blockSignals(True)
        try:
            self.tabs.insertTab(index, widget, title)
            self.tabs.removeTab(index + 1)
            if was_current:
                self.tabs.setCurrentIndex(index)
        finally:
            self.tabs.blockSignals(False)
        placeholder.deleteLater()
        self.tab_widgets[key] = widget
        install = getattr(widget, "install_actions", None)
        if callable(install):
            install(self.menus)
            # Keep the window's own items (Quit, tab shortcuts, About…) at the end of each menu.
            for menu_key, tail in self._menu_tails.items():
                menu = self.menus[menu_key]
                for action in tail:
                    menu.removeAction(action)
                    menu.addAction(action)
        return widget

    def build_shown_tab(self) -> None:
        """Build the shown tab if it was deferred."""
        self._build_shown_tab(self.tabs.currentIndex())

    def build_pending_tabs(self) -> None:
        """Build the deferred tabs: the shown one now, the others one per event-loop turn."""
        self.build_shown_tab()
        if self._pending_tabs:
            self.ensure_tab(next(iter(self._pending_tabs)))
            QTimer.singleShot(0, self.build_pending_tabs)

    def _build_shown_tab(self, index: int) -> None:
        for key, (placeholder, _title) in list(self._pending_tabs.items()):
            if self.tabs.widget(index) is placeholder:
                self.ensure_tab(key)

    def _finish_menus(self) -> None:
        # setShortcuts(), not setShortcut(): resolving the latter's overloads makes PySide create the
        # Qt namespace's ~90 Python enums (~15 ms), which the first paint does not otherwise need.
        file_menu = self.menus["file"]
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcuts(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view = self.menus["view"]
        for i, key in enumerate(TAB_KEYS):
            action = QAction(f"{key.capitalize()} tab", self)
            action.setShortcuts([QKeySequence(f"Ctrl+{i + 1}")])
            action.triggered.connect(lambda _=False, k=key: self.show_tab(k))
            view.addAction(action)

        connections = QAction("&Connections…", self)
        connections.setObjectName("action_connections")
        connections.setStatusTip("Choose the Sandbox, a Google Cloud project or a Gemini API key")
        connections.triggered.connect(self.open_connections)
        self.menus["settings"].addAction(connections)

        help_menu = self.menus["help"]
        guide = QAction("&Guide", self)
        guide.setObjectName("action_guide")
        guide.setShortcuts(QKeySequence.StandardKey.HelpContents)
        guide.setStatusTip("Open the offline guide: the flow step by step and every setting in plain words")
        guide.triggered.connect(self.show_guide)
        help_menu.addAction(guide)
        whats_this = QWhatsThis.createAction(self)
        whats_this.setObjectName("action_whats_this")
        whats_this.setShortcuts([QKeySequence("Shift+F1")])
        help_menu.addAction(whats_this)
        welcome = QAction("&Welcome and samples…", self)
        welcome.setObjectName("action_welcome")
        welcome.setStatusTip("The three connections explained, and the sample projects")
        welcome.triggered.connect(self.show_welcome)
        help_menu.addAction(welcome)
        diagnostics = QAction("Copy &diagnostics", self)
        diagnostics.setObjectName("action_copy_diagnostics")
        diagnostics.setStatusTip("Copy versions, system, connection kind and recent log lines (no keys) for support")
        diagnostics.triggered.connect(self.copy_diagnostics)
        help_menu.addAction(diagnostics)
        help_menu.addSeparator()
        about = QAction("&About GemTune Desktop", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        self.menus["help"].addAction(about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connectionStatus")
        self.connection_label.setAccessibleName("Active connection and whether it is reachable")
        self.connection_label.setWhatsThis(
            "Which service GemTune talks to — the Sandbox (offline simulation), Google Cloud or a Gemini API key — "
            "and whether it answered: ✔ reachable, ✖ not reachable (with the reason), … checking. Change it in "
            "Settings → Connections.")
        # Plain text, never rich text: reachability messages can quote a server. Set once the window is
        # painted (the Qt namespace's enums take ~15 ms to load); until then the label reads "<profile> —
        # … checking", since the first check waits for the first paint too.
        self.ctx.after_first_paint(lambda: self.connection_label.setTextFormat(_plain_text()))
        bar.addPermanentWidget(self.connection_label)
        conn = self.ctx.connections
        conn.connection_changed.connect(lambda _p: self._update_connection_label())
        conn.reachability_changed.connect(lambda _ok, _t: self._update_connection_label())
        self._update_connection_label()

    def _update_connection_label(self) -> None:
        conn = self.ctx.connections
        state = conn.reachable
        mark = {True: "✔ reachable", False: "✖ not reachable", None: "… checking"}[state]
        if state is False:
            mark = f"✖ not reachable: {conn.reachability_text}"
        self.connection_label.setText(f"{conn.profile.label} — {mark}")
        # What to do about a failed check (plain words from the connection manager); else where to change it.
        self.connection_label.setToolTip(conn.reachability_hint or "Change the connection in Settings → Connections.")

    def _update_title(self) -> None:
        project = self.ctx.project
        name = getattr(project, "display_name", "") if project is not None else ""
        self.setWindowTitle(f"{APP_NAME} — {name}" if name else APP_NAME)

    # -- state ----------------------------------------------------------------------------
    def _restore_state(self) -> None:
        settings = self.ctx.settings
        geometry = settings.get(S.WINDOW_GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        index = settings.get(S.LAST_TAB)
        if 0 <= index < self.tabs.count():
            self.tabs.setCurrentIndex(index)

    def closeEvent(self, event: QCloseEvent) -> None:
        for widget in self.tab_widgets.values():
            can_close = getattr(widget, "can_close", None)
            if callable(can_close) and not can_close():
                event.ignore()
                return
        self.ctx.settings.set(S.WINDOW_GEOMETRY, self.saveGeometry())
        self.ctx.settings.set(S.LAST_TAB, self.tabs.currentIndex())
        self.ctx.settings.sync()
        for widget in self.tab_widgets.values():
            shutdown = getattr(widget, "shutdown", None)
            if callable(shutdown):
                shutdown()
        self.ctx.shutdown()
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """A project or dataset file dropped anywhere on the window opens or imports it."""
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_path(files[0]))

    # -- actions --------------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Open a project, or import a dataset file into the current one (command line, drops)."""
        opener = getattr(self.ensure_tab("dataset"), "open_path", None)
        if callable(opener):
            self.show_tab("dataset")
            opener(path)

    def show_tab(self, key: str) -> None:
        self.ensure_tab(key)
        if key in self.tab_widgets:
            self.tabs.setCurrentWidget(self.tab_widgets[key])

    def open_connections(self) -> None:
        from gemtune_desktop.ui.connections_dialog import ConnectionsDialog

        dialog = ConnectionsDialog(self.ctx, self)
        dialog.exec()

    def show_guide(self) -> None:
        """The guide, opened at the section about the tab in front (F1 is context help)."""
        from gemtune_desktop.ui.guide_window import show_guide

        current = self.tabs.currentWidget()
        section = next((key for key, widget in self.tab_widgets.items() if widget is current), "")
        show_guide(self, section=section)

    def show_welcome(self) -> None:
        from gemtune_desktop.ui.welcome_dialog import show_welcome

        show_welcome(self)

    def copy_diagnostics(self) -> None:
        from PySide6.QtGui import QGuiApplication

        from gemtune_desktop.crash import diagnostics_text

        QGuiApplication.clipboard().setText(diagnostics_text(self.ctx.connections.active_kind.value))
        self.statusBar().showMessage("Diagnostics copied: paste them into your message to support.", 8000)

    def show_about(self) -> None:
        from gemtune_desktop.ui.about_dialog import AboutDialog

        AboutDialog(self).exec()
