"""The main window: four tabs (Dataset, Tune, Monitor, Test), menus, and the status bar.

Each tab is built with the shared :class:`AppContext` and is a :class:`~gemtune_desktop.ui.tab_page.TabPage`:
it adds its actions to the menus, may keep the window open, and shuts down with it. The window
remembers its geometry and the last tab, shows the active connection and whether it is reachable,
and shuts the worker threads down cleanly on close.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWhatsThis, QWidget

from gemtune_desktop import APP_NAME
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.ui.tab_page import TabKey, TabPage, WindowMenus

if TYPE_CHECKING:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent

    from gemtune_desktop.ui.dataset.tab import DatasetTab
    from gemtune_desktop.ui.dialogs.welcome_dialog import WelcomeDialog

log = logging.getLogger(__name__)

TAB_KEYS = tuple(TabKey)
TAB_TITLES = ("&Dataset", "T&une", "&Monitor", "&Test")


def _plain_text() -> Qt.TextFormat:
    from PySide6.QtCore import Qt

    return Qt.TextFormat.PlainText


def _create_tab(key: TabKey, ctx: AppContext, parent: QWidget) -> tuple[QWidget, TabPage]:
    """The tab's widget, its class imported on first use (the tabs' imports are the bulk of start-up time)."""
    if key is TabKey.DATASET:
        from gemtune_desktop.ui.dataset.tab import DatasetTab

        dataset = DatasetTab(ctx, parent)
        return dataset, dataset
    if key is TabKey.TUNE:
        from gemtune_desktop.ui.tune.tab import TuneTab

        tune = TuneTab(ctx, parent)
        return tune, tune
    if key is TabKey.MONITOR:
        from gemtune_desktop.ui.monitor.tab import MonitorTab

        monitor = MonitorTab(ctx, parent)
        return monitor, monitor
    from gemtune_desktop.ui.playground.tab import PlaygroundTab

    test = PlaygroundTab(ctx, parent)
    return test, test


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
        self._pending_tabs: dict[TabKey, tuple[QWidget, str]] = {}  # key -> (placeholder, title)
        self.tab_widgets: dict[TabKey, QWidget] = {}
        self._pages: dict[TabKey, TabPage] = {}
        self.welcome_dialog: WelcomeDialog | None = None
        self.setObjectName("MainWindow")
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 780)
        self.setAcceptDrops(True)

        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self.tabs = QTabWidget(central)
        self.tabs.setObjectName("MainTabs")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(central)
        self.menus = self._build_menus()
        self._build_tabs()
        before = {menu: list(menu.actions()) for menu in self.menus.all()}
        self._finish_menus()
        # The window's own items (Quit, tab shortcuts, About…) stay at the end of each menu.
        self._menu_tails = [(menu, [a for a in menu.actions() if a not in before[menu]]) for menu in self.menus.all()]
        self._build_notices(column)
        column.addWidget(self.tabs, 1)
        self._build_status_bar()

        ctx.show_tab_requested.connect(self.show_tab)
        ctx.status_message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self._restore_state()
        if self._pending_tabs:  # connected after restoring the last tab, which is built after the first paint
            self.tabs.currentChanged.connect(self._build_shown_tab)
        self.tabs.currentChanged.connect(lambda i: ctx.settings.set(S.LAST_TAB, i))
        # Check the connection once the window is up, off the start-up path.
        QTimer.singleShot(0, ctx.connections.check_reachable)
        ctx.after_first_paint(self._maybe_welcome)
        ctx.after_first_paint(self._watch_focus)

    def _maybe_welcome(self) -> None:
        from gemtune_desktop.ui.dialogs.welcome_dialog import welcome_wanted

        if welcome_wanted(self.ctx.settings):  # first run only; skipped when GEMTUNE_NO_WELCOME is set
            QTimer.singleShot(0, self, self.show_welcome)

    # -- construction ---------------------------------------------------------------------
    def _build_menus(self) -> WindowMenus:
        bar = self.menuBar()
        menus = []
        for key, title in (("file", "&File"), ("edit", "&Edit"), ("view", "&View"),
                           ("settings", "&Settings"), ("help", "&Help")):
            menu = bar.addMenu(title)
            menu.setObjectName(f"menu_{key}")
            menus.append(menu)
        return WindowMenus(*menus)

    def _build_tabs(self) -> None:
        first = self.ctx.settings.get(S.LAST_TAB) if self._lazy_tabs else -1
        if self._lazy_tabs and not 0 <= first < len(TAB_KEYS):
            first = 0
        for index, (key, title) in enumerate(zip(TAB_KEYS, TAB_TITLES, strict=True)):
            if self._lazy_tabs:
                placeholder = self._placeholder(key, shown=index == first)
                self.tabs.addTab(placeholder, title)
                self._pending_tabs[key] = (placeholder, title)
                continue
            self.tabs.addTab(self._create(key), title)

    def _create(self, key: TabKey) -> QWidget:
        widget, page = _create_tab(key, self.ctx, self)
        widget.setObjectName(f"tab_{key}")
        self.tab_widgets[key] = widget
        self._pages[key] = page
        page.install_actions(self.menus)
        return widget

    def _placeholder(self, key: TabKey, shown: bool) -> QWidget:
        """Stands in for a tab until it is built; the one shown at start says that the app is opening."""
        placeholder = QWidget(self)
        placeholder.setObjectName(f"tab_{key}_pending")
        if shown:
            # Centred by stretches rather than an alignment flag: touching the Qt namespace
            # creates its ~90 Python enums (~15 ms), which the first paint need not wait for.
            last = self.ctx.settings.get(S.LAST_PROJECT) if key is TabKey.DATASET else ""
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

    def ensure_tab(self, key: str) -> QWidget | None:
        """The tab widget for ``key``, built now if it was deferred."""
        tab = TabKey(key)
        if tab in self.tab_widgets or tab not in self._pending_tabs:
            return self.tab_widgets.get(tab)
        placeholder, title = self._pending_tabs.pop(tab)
        index = self.tabs.indexOf(placeholder)
        was_current = self.tabs.currentIndex() == index
        widget = self._create(tab)
        self.tabs.blockSignals(True)
        try:
            self.tabs.insertTab(index, widget, title)
            self.tabs.removeTab(index + 1)
            if was_current:
                self.tabs.setCurrentIndex(index)
        finally:
            self.tabs.blockSignals(False)
        placeholder.deleteLater()
        for menu, tail in self._menu_tails:
            for action in tail:
                menu.removeAction(action)
                menu.addAction(action)
        return widget

    def dataset_tab(self) -> DatasetTab:
        """The Dataset tab (built now if it was deferred)."""
        from gemtune_desktop.ui.dataset.tab import DatasetTab

        tab = self.ensure_tab(TabKey.DATASET)
        assert isinstance(tab, DatasetTab)
        return tab

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
        self.menus.file.addSeparator()
        quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.menus.file.addAction(quit_action)
        for i, key in enumerate(TAB_KEYS):
            self.menus.view.addAction(self._action(f"{key.value.capitalize()} tab", partial(self.show_tab, key),
                                                   [QKeySequence(f"Ctrl+{i + 1}")]))
        self.menus.settings.addAction(self._action(
            "&Connections…", self.open_connections, name="action_connections",
            tip="Choose the Sandbox, a Google Cloud project or a Gemini API key"))
        help_menu = self.menus.help
        help_menu.addAction(self._action(
            "&Guide", self.show_guide, QKeySequence.StandardKey.HelpContents, "action_guide",
            "Open the offline guide: the flow step by step and every setting in plain words"))
        whats_this = QWhatsThis.createAction(self)
        whats_this.setObjectName("action_whats_this")
        whats_this.setShortcuts([QKeySequence("Shift+F1")])
        help_menu.addAction(whats_this)
        help_menu.addAction(self._action("&Welcome and samples…", self.show_welcome, name="action_welcome",
                                         tip="The three connections explained, and the sample projects"))
        help_menu.addAction(self._action(
            "Copy &diagnostics", self.copy_diagnostics, name="action_copy_diagnostics",
            tip="Copy versions, system, connection kind and recent log lines (no keys) for support"))
        help_menu.addSeparator()
        about = self._action("&About GemTune Desktop", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    def _action(self, text: str, slot: Callable[[], object],
                shortcuts: QKeySequence.StandardKey | list[QKeySequence] | None = None, name: str = "",
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcuts is not None:
            action.setShortcuts(shortcuts)
        if name:
            action.setObjectName(name)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_notices(self, column: QVBoxLayout) -> None:
        """The bars under the menu bar (connection, project) and the project's name and save state."""
        from gemtune_desktop.ui.widgets.connection_notice import ConnectionNotice
        from gemtune_desktop.ui.widgets.project_notices import ProjectNotices

        self.connection_bar = ConnectionNotice(self.ctx.connections, self.open_connections, self)
        self.project_notices = ProjectNotices(
            self.ctx, self, self.setWindowTitle, save_copy=lambda: self.dataset_tab().files.save_as(),
            save_to_new_file=lambda: self.dataset_tab().files.save_to_new_file())
        column.addWidget(self.connection_bar)
        column.addWidget(self.project_notices.bar)
        if self._lazy_tabs:
            last = self.ctx.settings.get(S.LAST_PROJECT)
            self.project_notices.opening(Path(last).stem if last else "")

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.addPermanentWidget(self.project_notices.label)
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
        # A failure is explained once, in the bar under the menu bar; the status bar only points at it.
        mark = {True: "✔ reachable", False: "✖ not reachable (see the message above)", None: "… checking"}[state]
        self.connection_label.setText(f"{conn.profile.label} — {mark}")
        # What to do about a failed check (plain words from the connection manager); else where to change it.
        self.connection_label.setToolTip(conn.reachability_hint or "Change the connection in Settings → Connections.")

    # -- state ----------------------------------------------------------------------------
    def _restore_state(self) -> None:
        settings = self.ctx.settings
        geometry = settings.get(S.WINDOW_GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        index = settings.get(S.LAST_TAB)
        if 0 <= index < self.tabs.count():
            self.tabs.setCurrentIndex(index)

    def _watch_focus(self) -> None:
        """Coming back to the window checks that the project file is still the one open; leaving it writes
        what was typed and brings the file up to date in the background (watched once the window is painted)."""
        self._focus_watch = _FocusWatch(self)
        self.installEventFilter(self._focus_watch)

    def _came_back(self) -> None:
        project = self.ctx.project
        if project is not None:
            project.check_file()

    def _flush_on_leave(self) -> None:
        dataset = self.tab_widgets.get(TabKey.DATASET)
        if dataset is not None:
            self.dataset_tab().flush_edits()
        project = self.ctx.project
        if project is not None and project.can_edit:
            project.flush_soon()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not all(page.can_close() for page in self._pages.values()):
            event.ignore()
            return
        self.ctx.settings.set(S.WINDOW_GEOMETRY, self.saveGeometry())
        self.ctx.settings.set(S.LAST_TAB, self.tabs.currentIndex())
        self.ctx.settings.sync()
        for page in self._pages.values():
            page.shutdown()
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
            QTimer.singleShot(0, self, lambda: self.open_path(files[0]))

    # -- actions --------------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Open a project, or import a dataset file into the current one (command line, drops)."""
        dataset = self.dataset_tab()
        self.show_tab(TabKey.DATASET)
        dataset.open_path(path)

    def show_tab(self, key: str) -> None:
        widget = self.ensure_tab(key)
        if widget is not None:
            self.tabs.setCurrentWidget(widget)

    def open_connections(self) -> None:
        from PySide6.QtCore import Qt

        from gemtune_desktop.ui.settings.connections_dialog import ConnectionsDialog

        dialog = ConnectionsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exec()

    def show_guide(self) -> None:
        """The guide, opened at the section about the tab in front (F1 is context help)."""
        from gemtune_desktop.ui.dialogs.guide_window import show_guide

        current = self.tabs.currentWidget()
        section = next((key.value for key, widget in self.tab_widgets.items() if widget is current), "")
        show_guide(self, section=section)

    def show_welcome(self) -> WelcomeDialog:
        """The welcome, over this window; its buttons open a sample project or the connections."""
        from PySide6.QtCore import Qt

        from gemtune_desktop.ui.dialogs.welcome_dialog import WelcomeDialog

        dialog = WelcomeDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sample_requested.connect(self.open_sample)
        dialog.connections_requested.connect(lambda: QTimer.singleShot(0, self, self.open_connections))
        self.welcome_dialog = dialog
        self.ctx.settings.set(S.FIRST_RUN_DONE, True)
        dialog.open()
        return dialog

    def open_sample(self, path: str) -> None:
        """Open a shipped sample as its own project in the Dataset tab."""
        dataset = self.dataset_tab()
        self.show_tab(TabKey.DATASET)
        dataset.open_sample(Path(path))

    def copy_diagnostics(self) -> None:
        from PySide6.QtGui import QGuiApplication

        from gemtune_desktop.crash import diagnostics_text

        QGuiApplication.clipboard().setText(diagnostics_text(self.ctx.connections.active_kind.value))
        self.statusBar().showMessage("Diagnostics copied: paste them into your message to support.", 8000)

    def show_about(self) -> None:
        from PySide6.QtCore import Qt

        from gemtune_desktop.ui.dialogs.about_dialog import AboutDialog

        dialog = AboutDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exec()


class _FocusWatch(QObject):
    """Tells the window when it is activated or left (an event filter: no Python call per event before it exists)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.WindowActivate:
            self._window._came_back()
        elif kind == QEvent.Type.WindowDeactivate:
            self._window._flush_on_leave()
        return False
