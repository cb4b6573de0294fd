"""The app's start-up path paints the window before building any tab; the shown tab follows, then the rest."""

from __future__ import annotations

from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.ui.main_window import TAB_KEYS, MainWindow


def test_the_window_is_shown_first_then_the_shown_tab_then_the_others(fake_ctx, qtbot) -> None:
    fake_ctx.settings.set(S.LAST_TAB, 1)
    window = MainWindow(fake_ctx, lazy_tabs=True)
    qtbot.addWidget(window)
    assert window.tab_widgets == {}
    titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    assert titles == ["Dataset", "Tune", "Monitor", "Test"]
    assert window.tabs.currentIndex() == 1
    opening = window.tabs.currentWidget().findChild(object, "openingLabel")
    assert opening is not None and opening.text() == "Opening…"
    window.show()

    window.build_shown_tab()
    assert set(window.tab_widgets) == {"tune"}
    assert window.tabs.currentWidget() is window.tab_widgets["tune"]

    window.build_pending_tabs()
    qtbot.waitUntil(lambda: set(window.tab_widgets) == set(TAB_KEYS), timeout=10000)
    assert [window.tabs.widget(i) for i in range(4)] == [window.tab_widgets[k] for k in TAB_KEYS]
    assert window.tabs.currentWidget() is window.tab_widgets["tune"]
    assert fake_ctx.settings.get(S.LAST_TAB) == 1
    # The window's own items stay at the end of the menus the tabs added to.
    file_actions = [a for a in window.menus.file.actions() if not a.isSeparator()]
    assert file_actions[-1].text().replace("&", "") == "Quit"
    help_actions = [a for a in window.menus.help.actions() if not a.isSeparator()]
    assert help_actions[-1].text().replace("&", "").startswith("About")
    window.close()


def test_a_deferred_tab_is_built_when_shown_or_asked_for(fake_ctx, qtbot) -> None:
    window = MainWindow(fake_ctx, lazy_tabs=True)
    qtbot.addWidget(window)
    window.show()
    window.build_shown_tab()
    assert set(window.tab_widgets) == {"dataset"}
    window.tabs.setCurrentIndex(2)  # the user clicks the Monitor tab
    assert "monitor" in window.tab_widgets
    assert window.tabs.currentWidget() is window.tab_widgets["monitor"]
    assert fake_ctx.settings.get(S.LAST_TAB) == 2
    fake_ctx.show_tab_requested.emit("test")  # another tab asks for the Test tab
    assert window.tabs.currentWidget() is window.tab_widgets["test"]
    window.close()


def test_held_start_up_work_waits_for_the_first_paint(fake_ctx, qtbot) -> None:
    """Opening the last project waits for the window to be painted, then runs in the order asked."""
    ran: list[str] = []
    fake_ctx.hold_until_painted()
    fake_ctx.after_first_paint(lambda: ran.append("open project"))
    fake_ctx.after_first_paint(lambda: ran.append("welcome"))
    qtbot.wait(50)
    assert ran == []
    fake_ctx.window_painted()
    assert ran == ["open project", "welcome"]
    fake_ctx.after_first_paint(lambda: ran.append("later"))  # nothing held any more: runs on the next turn
    qtbot.waitUntil(lambda: ran[-1:] == ["later"], timeout=2000)
