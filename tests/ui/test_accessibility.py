"""Keyboard and accessibility audit of the main window and the help/first-run/error windows.

Walks every control and asks Qt's accessibility layer for its name (what a screen reader says:
the accessible name, the button's text, or the text of a label whose buddy it is). Controls
without one are reported for every tab; the test fails for the window frame (menus, status bar)
and for the welcome, guide and error windows. It also checks the standard shortcuts.
"""

from __future__ import annotations

from PySide6.QtGui import QAccessible, QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from gemtune_desktop.crash import CrashReport
from gemtune_desktop.ui.dialogs.error_dialog import ErrorDialog
from gemtune_desktop.ui.dialogs.guide_window import GuideWindow
from gemtune_desktop.ui.dialogs.welcome_dialog import WelcomeDialog

CONTROL_TYPES = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractSlider, QPlainTextEdit,
                 QTextEdit, QAbstractItemView)
STANDARD_SHORTCUTS = {"New": "Ctrl+N", "Open": "Ctrl+O", "Save": "Ctrl+S", "Undo": "Ctrl+Z", "Redo": "Ctrl+Y",
                      "Find": "Ctrl+F"}


def accessible_name(widget: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(widget)
    return iface.text(QAccessible.Text.Name).strip() if iface is not None else ""


def is_qt_internal(widget: QWidget) -> bool:
    """Helpers Qt creates itself (tab-bar scroll arrows, toolbar extension, clear buttons, scroll bars)."""
    return type(widget).__name__ in ("QToolBarExtension", "QLineEditIconButton", "QScrollBar") or \
        widget.objectName().startswith("qt_") or widget.objectName() in ("ScrollLeftButton", "ScrollRightButton")


def unnamed_controls(root: QWidget) -> list[QWidget]:
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROL_TYPES) or not widget.isVisibleTo(root):
            continue
        if isinstance(widget.parent(), QComboBox | QAbstractSpinBox):  # the line edit inside a combo/spin box
            continue
        if is_qt_internal(widget):
            continue
        if not accessible_name(widget):
            found.append(widget)
    return found


def describe(widget: QWidget) -> str:
    chain, w = [], widget
    while w is not None and len(chain) < 4:
        chain.append(w.objectName() or type(w).__name__)
        w = w.parentWidget()
    return f"{type(widget).__name__} [{' < '.join(chain)}] tooltip={widget.toolTip()[:40]!r}"


def owner_tab(window, widget: QWidget) -> str | None:
    for key, tab in window.tab_widgets.items():
        if tab.isAncestorOf(widget):
            return key
    return None


def test_main_window_controls_have_accessible_names(fake_window) -> None:
    frame_missing, by_tab = [], {}
    for widget in unnamed_controls(fake_window):
        key = owner_tab(fake_window, widget)
        if key is None:
            frame_missing.append(describe(widget))
        else:
            by_tab.setdefault(key, []).append(describe(widget))
    # Report the tabs' controls for their owners (visible with `pytest -s`); assert on the frame.
    for key in fake_window.tab_widgets:
        fake_window.show_tab(key)
        for widget in unnamed_controls(fake_window.tab_widgets[key]):
            text = describe(widget)
            if text not in by_tab.setdefault(key, []):
                by_tab[key].append(text)
    for key, items in by_tab.items():
        if items:
            print(f"\n[accessibility] {key} tab: {len(items)} control(s) without an accessible name:")
            for item in items:
                print("   ", item)
    assert frame_missing == []
    assert fake_window.tabs.accessibleName() or all(
        fake_window.tabs.tabText(i).replace("&", "") for i in range(fake_window.tabs.count()))


def test_menus_and_tabs_have_keyboard_mnemonics(fake_window) -> None:
    for action in fake_window.menuBar().actions():
        assert "&" in action.text(), f"menu {action.text()!r} has no Alt+letter"
    letters = [fake_window.tabs.tabText(i) for i in range(fake_window.tabs.count())]
    assert all("&" in t for t in letters)
    mnemonics = [t[t.index("&") + 1].lower() for t in letters]
    assert len(set(mnemonics)) == len(mnemonics)


def test_standard_shortcuts(fake_window) -> None:
    shortcuts: dict[str, list[str]] = {}
    for action in fake_window.findChildren(QAction):
        for seq in action.shortcuts():
            text = seq.toString(QKeySequence.SequenceFormat.PortableText)
            if text:
                shortcuts.setdefault(text, []).append(action.text().replace("&", ""))
    # The frame's own shortcuts: help, what's this, tabs (Quit's key depends on the platform: Ctrl+Q, Alt+F4).
    for seq in ("F1", "Shift+F1", "Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4"):
        assert seq in shortcuts, seq
    missing = [f"{name} ({seq})" for name, seq in STANDARD_SHORTCUTS.items() if seq not in shortcuts]
    clashes = {seq: names for seq, names in shortcuts.items() if len(names) > 1}
    if missing:
        print(f"\n[accessibility] standard shortcuts not bound yet: {', '.join(missing)}")
    if clashes:
        print(f"\n[accessibility] shortcuts bound to more than one action: {clashes}")
    frame = {"F1", "Shift+F1", "Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4"}
    assert not [seq for seq in clashes if seq in frame]


def test_welcome_guide_and_error_windows_are_fully_named(qtbot) -> None:
    welcome = WelcomeDialog()
    guide = GuideWindow()
    error = ErrorDialog([CrashReport("ValueError: x", "Traceback ...", "MainThread", "now")])
    for window in (welcome, guide, error):
        qtbot.addWidget(window)
        window.show()
        assert [describe(w) for w in unnamed_controls(window)] == []
        for button in window.findChildren(QAbstractButton):
            if button.isVisibleTo(window) and button.text():
                assert button.toolTip() or button.whatsThis() or isinstance(button.parent(), QWidget), button.text()


def test_status_shown_in_words_not_only_colour(fake_window) -> None:
    text = fake_window.connection_label.text()
    assert any(word in text for word in ("reachable", "checking"))


def focus_chain(root: QWidget) -> list[QWidget]:
    """The widgets Tab visits inside ``root``, in order."""
    from PySide6.QtCore import Qt

    chain: list[QWidget] = []
    start = root.nextInFocusChain()
    widget = start
    for _ in range(2000):
        if widget is root:
            break
        if root.isAncestorOf(widget) and widget.isVisibleTo(root) and widget.isEnabled() and \
                widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.focusProxy() is None:
            chain.append(widget)
        widget = widget.nextInFocusChain()
        if widget is start:
            break
    return chain


def reading_order_breaks(root: QWidget) -> list[str]:
    """Places where Tab jumps backwards (up, or left on the same line) against the reading order."""
    from PySide6.QtCore import QPoint

    breaks = []
    chain = focus_chain(root)
    spots = [w.mapTo(root, QPoint(0, 0)) for w in chain]
    for (a, pa), (b, pb) in zip(zip(chain, spots, strict=True), list(zip(chain, spots, strict=True))[1:],
                                strict=False):
        same_line = abs(pa.y() - pb.y()) < min(a.height(), b.height()) // 2
        next_column = pb.x() >= pa.x() + a.width()  # moving up into a column to the right is reading order
        if (same_line and pb.x() < pa.x()) or (not same_line and pb.y() < pa.y() and not next_column):
            breaks.append(f"{describe(a)} → {describe(b)}")
    return breaks


def test_tab_order_follows_the_layout_in_the_welcome_and_error_windows(qtbot) -> None:
    welcome = WelcomeDialog()
    error = ErrorDialog([CrashReport("ValueError: x", "Traceback ...", "MainThread", "now")])
    for window in (welcome, error):
        qtbot.addWidget(window)
        window.show()
        assert len(focus_chain(window)) >= 3
        assert reading_order_breaks(window) == []


def test_tab_order_report_for_the_tabs(fake_window) -> None:
    """Reported for the tabs' owners (pytest -s); the frame itself has nothing to order but the tab bar."""
    for key, tab in fake_window.tab_widgets.items():
        fake_window.show_tab(key)
        breaks = reading_order_breaks(tab)
        if breaks:
            print(f"\n[accessibility] {key} tab: Tab jumps against the reading order {len(breaks)} time(s):")
            for item in breaks[:10]:
                print("   ", item)
    assert fake_window.tabs.tabBar().focusPolicy() != 0


def missing_help(root: QWidget) -> list[QWidget]:
    """Controls with neither a tooltip nor a "What's this?" text."""
    return [w for w in root.findChildren(QWidget)
            if isinstance(w, CONTROL_TYPES) and w.isVisibleTo(root) and not is_qt_internal(w)
            and not isinstance(w.parent(), QComboBox | QAbstractSpinBox) and not (w.toolTip() or w.whatsThis())]


def test_tooltips_in_the_welcome_guide_and_error_windows_and_report_for_tabs(fake_window, qtbot) -> None:
    for key, tab in fake_window.tab_widgets.items():
        fake_window.show_tab(key)
        items = missing_help(tab)
        if items:
            print(f"\n[accessibility] {key} tab: {len(items)} control(s) without tooltip or What's this:")
            for item in items[:15]:
                print("   ", describe(item))
    windows = (WelcomeDialog(), GuideWindow(), ErrorDialog([CrashReport("E: x", "tb", "MainThread", "now")]))
    for window in windows:
        qtbot.addWidget(window)
        window.show()
        # The error dialog's read-only details box is text, not a control to explain.
        assert [describe(w) for w in missing_help(window) if w.objectName() not in ("errorDetails", "guideBrowser")] \
            == []
