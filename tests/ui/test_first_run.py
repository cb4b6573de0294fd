"""The first run walked in the real main window: welcome once, connections explained, sample opened."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.resources import resource_path
from gemtune_desktop.ui.dialogs.welcome_dialog import (
    NO_WELCOME_ENV,
    WelcomeDialog,
    sample_project_path,
    shipped_samples,
)


def _welcomes() -> list[WelcomeDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomeDialog) and w.isVisible()]


@pytest.fixture
def first_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NO_WELCOME_ENV, raising=False)


def _window(fake_ctx, qtbot):
    from gemtune_desktop.ui.main_window import MainWindow

    window = MainWindow(fake_ctx)
    qtbot.addWidget(window)
    window.show()
    return window


def test_welcome_on_first_run_only(first_run, fake_ctx, cloud, qtbot) -> None:
    assert not fake_ctx.settings.get(S.FIRST_RUN_DONE)
    window = _window(fake_ctx, qtbot)
    qtbot.waitUntil(lambda: len(_welcomes()) == 1)
    dialog = _welcomes()[0]
    assert dialog.parent() is window
    text = _all_text(dialog)
    for words in ("Sandbox", "offline", "Google Cloud", "tune for real", "API key", "base models"):
        assert words in text, words
    for tab in ("Dataset", "Tune", "Monitor", "Test"):
        assert f"<b>{tab}</b>:" in text  # the next step on each tab
    assert fake_ctx.settings.get(S.FIRST_RUN_DONE)

    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not _welcomes())
    window.close()

    # The second start: a new context over the same settings file, as after a restart.
    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.settings import Settings
    from gemtune_desktop.qtcore.workers import InlineExecutor

    second = AppContext(Settings(), executor=InlineExecutor(), service_factory=cloud.factory)
    again = _window(second, qtbot)
    QApplication.processEvents()
    QApplication.processEvents()
    assert not _welcomes()

    # Help → Welcome brings it back on demand.
    action = next(a for a in again.menus.help.actions() if a.objectName() == "action_welcome")
    action.trigger()
    qtbot.waitUntil(lambda: len(_welcomes()) == 1)
    _welcomes()[0].reject()
    again.close()
    second.shutdown()


def _all_text(dialog: WelcomeDialog) -> str:
    from PySide6.QtWidgets import QGroupBox, QLabel

    parts = [label.text() for label in dialog.findChildren(QLabel)]
    parts += [box.title() for box in dialog.findChildren(QGroupBox)]
    return " ".join(parts)


def test_no_welcome_when_disabled_by_environment(fake_ctx, qtbot) -> None:
    _window(fake_ctx, qtbot)
    QApplication.processEvents()
    QApplication.processEvents()
    assert not _welcomes()
    assert not fake_ctx.settings.get(S.FIRST_RUN_DONE)


def test_welcome_offers_both_samples_with_descriptions(qtbot) -> None:
    dialog = WelcomeDialog()
    qtbot.addWidget(dialog)
    titles = [s.title for s in dialog.samples]
    assert len(titles) == 2
    assert any("sequence" in t for t in titles) and any("support" in t.lower() for t in titles)
    assert dialog.chosen_sample() == dialog.samples[0]
    for button in dialog.sample_group.buttons():
        assert button.toolTip() and button.accessibleDescription()


def test_set_up_a_connection_asks_the_window(qtbot) -> None:
    dialog = WelcomeDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.connections_requested):
        qtbot.mouseClick(dialog.connections_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_open_sample_project_loads_the_rows_into_the_dataset_tab(first_run, fake_ctx, qtbot) -> None:
    window = _window(fake_ctx, qtbot)
    qtbot.waitUntil(lambda: len(_welcomes()) == 1)
    dialog = _welcomes()[0]
    sample = shipped_samples()[1]  # the support-ticket set
    dialog.sample_group.button(1).setChecked(True)
    with resource_path("samples", sample.path.name).open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fake_ctx.project is not None, timeout=20000)

    def stored() -> list[tuple[str, str]]:
        return [tuple(r) for r in fake_ctx.project.store.conn.execute(
            "SELECT input, output, split FROM examples ORDER BY pos")]

    qtbot.waitUntil(lambda: len(stored()) == len(expected), timeout=20000)
    assert stored() == [(r["input"], r["output"], r["split"]) for r in expected]
    assert window.tabs.currentWidget() is window.tab_widgets["dataset"]
    # The sample is its own project in the app's data folder, not mixed into the user's project.
    assert fake_ctx.project.path == sample_project_path(sample.path)

    # Opening the sample again (Help → Welcome) reopens that project; the rows are not imported twice.
    conn = fake_ctx.project.store.conn
    conn.execute("UPDATE examples SET note = 'my edit' WHERE pos = (SELECT MIN(pos) FROM examples)")
    conn.commit()
    dataset = window.tab_widgets["dataset"]
    dataset.files.open_untitled()
    qtbot.waitUntil(lambda: fake_ctx.project.path != sample_project_path(sample.path))
    again = window.show_welcome()
    again.sample_group.button(1).setChecked(True)
    qtbot.mouseClick(again.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fake_ctx.project.path == sample_project_path(sample.path))
    assert len(stored()) == len(expected)
    edited = fake_ctx.project.store.conn.execute("SELECT COUNT(*) FROM examples WHERE note = 'my edit'")
    assert edited.fetchone()[0] == 1
    window.close()


def test_the_window_is_named_gemtune_desktop_not_after_the_python_file(tmp_path) -> None:
    """Desktops group windows and find the menu entry by the X11 WM_CLASS instance (argv[0]'s name) and the
    Wayland app id (the desktop file name): both are "gemtune-desktop", also when started with ``python -m``."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import sys; sys.argv = ['/x/gemtune_desktop/__main__.py']\n"
            "from gemtune_desktop.app import create_app\n"
            "app = create_app(); print(app.arguments()[0], app.desktopFileName(), app.applicationName(), sep='|')")
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                         check=True).stdout.strip().splitlines()[-1]
    instance, app_id, name = out.split("|")
    assert os.path.basename(instance) == "gemtune-desktop"
    assert app_id == "gemtune-desktop" and name == "GemTune Desktop"
