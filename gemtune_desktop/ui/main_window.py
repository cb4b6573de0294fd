"""The main window: four tabs (Dataset, Tune, Monitor, Test), menus, and the status bar.

Each tab is built with the shared :class:`AppContext` and may add its actions to the
menus through ``install_actions(menus)``. The window remembers its geometry and the last
tab, shows the active connection and whether it is reachable, and shuts the worker
threads down cleanly on close.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QTabWidget, QWidget

from gemtune_desktop import APP_NAME
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext

log = logging.getLogger(__name__)

TAB_KEYS = ("dataset", "tune", "monitor", "test")


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
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
        self._finish_menus()
        self._build_status_bar()

        ctx.show_tab_requested.connect(self.show_tab)
        ctx.status_message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        ctx.project_changed.connect(lambda _p: self._update_title())
        self._restore_state()
        self.tabs.currentChanged.connect(lambda i: ctx.settings.set(S.LAST_TAB, i))
        # Check the connection once the window is up, off the start-up path.
        QTimer.singleShot(0, ctx.connections.check_reachable)

    # -- construction ---------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        for key, title in (("file", "&File"), ("edit", "&Edit"), ("view", "&View"),
                           ("settings", "&Settings"), ("help", "&Help")):
            menu = bar.addMenu(title)
            menu.setObjectName(f"menu_{key}")
            self.menus[key] = menu

    def _build_tabs(self) -> None:
        from gemtune_desktop.ui.dataset_tab import DatasetTab
        from gemtune_desktop.ui.monitor_tab import MonitorTab
        from gemtune_desktop.ui.test_tab import TestTab
        from gemtune_desktop.ui.tune_tab import TuneTab

        self.tab_widgets: dict[str, Any] = {}
        for key, cls, title in (("dataset", DatasetTab, "&Dataset"), ("tune", TuneTab, "T&une"),
                                ("monitor", MonitorTab, "&Monitor"), ("test", TestTab, "&Test")):
            widget = cls(self.ctx, self)
            widget.setObjectName(f"tab_{key}")
            self.tabs.addTab(widget, title)
            self.tab_widgets[key] = widget
            install = getattr(widget, "install_actions", None)
            if callable(install):
                install(self.menus)

    def _finish_menus(self) -> None:
        file_menu = self.menus["file"]
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view = self.menus["view"]
        for i, key in enumerate(TAB_KEYS):
            action = QAction(f"{key.capitalize()} tab", self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _=False, k=key: self.show_tab(k))
            view.addAction(action)

        connections = QAction("&Connections…", self)
        connections.setObjectName("action_connections")
        connections.setStatusTip("Choose the Sandbox, a Google Cloud project or a Gemini API key")
        connections.triggered.connect(self.open_connections)
        self.menus["settings"].addAction(connections)

        about = QAction("&About GemTune Desktop", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        self.menus["help"].addAction(about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connectionStatus")
        self.connection_label.setAccessibleName("Active connection and whether it is reachable")
        self.connection_label.setTextFormat(Qt.TextFormat.PlainText)
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

    # -- actions --------------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Open a project, or import a dataset file into the current one (command line, drops)."""
        opener = getattr(self.tab_widgets.get("dataset"), "open_path", None)
        if callable(opener):
            self.show_tab("dataset")
            opener(path)

    def show_tab(self, key: str) -> None:
        if key in self.tab_widgets:
            self.tabs.setCurrentWidget(self.tab_widgets[key])

    def open_connections(self) -> None:
        from gemtune_desktop.ui.connections_dialog import ConnectionsDialog

        dialog = ConnectionsDialog(self.ctx, self)
        dialog.exec()

    def show_about(self) -> None:
        from gemtune_desktop.ui.about_dialog import AboutDialog

        AboutDialog(self).exec()
