"""The main window frame: title, tabs, menus, status bar, remembered state."""

from __future__ import annotations

from gemtune_desktop.qtcore import settings as S


def test_window_has_four_tabs_and_menus(fake_window) -> None:
    assert fake_window.windowTitle().startswith("GemTune Desktop")
    titles = [fake_window.tabs.tabText(i).replace("&", "") for i in range(fake_window.tabs.count())]
    assert titles == ["Dataset", "Tune", "Monitor", "Test"]
    menus = [a.text().replace("&", "") for a in fake_window.menuBar().actions()]
    for name in ("File", "Edit", "View", "Help"):
        assert name in menus


def test_last_tab_and_geometry_are_remembered(fake_ctx, qtbot) -> None:
    from gemtune_desktop.ui.main_window import MainWindow

    window = MainWindow(fake_ctx)
    qtbot.addWidget(window)
    window.show()
    window.move(40, 30)
    window.tabs.setCurrentIndex(2)
    geometry = window.geometry()
    window.close()
    assert fake_ctx.settings.get(S.LAST_TAB) == 2

    again = MainWindow(fake_ctx)
    qtbot.addWidget(again)
    again.show()
    assert again.tabs.currentIndex() == 2
    assert again.geometry() == geometry
    again.close()



def test_the_project_s_name_is_in_the_title_before_its_tab_is_built(fake_ctx, qtbot, tmp_path) -> None:
    from gemtune_desktop.ui.main_window import MainWindow

    fake_ctx.settings.set(S.LAST_PROJECT, str(tmp_path / "Contract clauses.gemtune"))
    window = MainWindow(fake_ctx, lazy_tabs=True)  # the start-up path: tabs built after the first paint
    qtbot.addWidget(window)
    assert window.windowTitle() == "GemTune Desktop — Contract clauses"
    assert window.project_notices.label.text() == "Opening “Contract clauses”…"
    window.close()


def test_every_dataset_side_tab_is_in_view_at_the_smallest_window(fake_window, qtbot) -> None:
    fake_window.resize(fake_window.minimumSizeHint())
    tab = fake_window.dataset_tab()
    qtbot.waitUntil(lambda: tab.session is not None)
    bar = tab.side.tabBar()
    for i in range(bar.count()):
        assert bar.tabRect(i).right() <= bar.width(), bar.tabText(i)
