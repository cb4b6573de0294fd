"""The main window frame: title, tabs, menus, status bar, remembered state."""

from __future__ import annotations

from gemtune_desktop.qtcore import settings as S


def test_window_has_four_tabs_and_menus(main_window) -> None:
    assert main_window.windowTitle().startswith("GemTune Desktop")
    titles = [main_window.tabs.tabText(i).replace("&", "") for i in range(main_window.tabs.count())]
    assert titles == ["Dataset", "Tune", "Monitor", "Test"]
    menus = [a.text().replace("&", "") for a in main_window.menuBar().actions()]
    for name in ("File", "Edit", "View", "Help"):
        assert name in menus


def test_last_tab_and_geometry_are_remembered(ctx, qtbot) -> None:
    from gemtune_desktop.ui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.move(40, 30)
    window.tabs.setCurrentIndex(2)
    geometry = window.geometry()
    window.close()
    assert ctx.settings.get(S.LAST_TAB) == 2

    again = MainWindow(ctx)
    qtbot.addWidget(again)
    again.show()
    assert again.tabs.currentIndex() == 2
    assert again.geometry() == geometry
    again.close()
