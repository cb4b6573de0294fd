"""Help → Guide: the shipped offline guide opens from the menu (F1), shows pictures and links out."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication

from gemtune_desktop.resources import resource_path
from gemtune_desktop.ui.dialogs.guide_window import GuideWindow
from tests.helpers.urls import opened_urls

TAB_IMAGES = ("dataset.png", "tune.png", "monitor.png", "test.png")


def _guide_windows() -> list[GuideWindow]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, GuideWindow) and w.isVisible()]


def test_f1_opens_the_guide_from_the_main_window(fake_window, qtbot) -> None:
    action = next(a for a in fake_window.menus.help.actions() if a.objectName() == "action_guide")
    assert action.shortcut().toString() == "F1"
    action.trigger()
    qtbot.waitUntil(lambda: len(_guide_windows()) == 1)
    guide = _guide_windows()[0]
    text = guide.browser.toPlainText()
    for section in ("Dataset", "Tune", "Monitor", "Test", "Epochs", "Learning rate", "Temperature"):
        assert section in text
    guide.close()


def test_guide_pictures_are_shipped_and_load(qtbot) -> None:
    html = resource_path("guide", "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert {s.split("/")[-1] for s in sources} >= set(TAB_IMAGES)
    window = GuideWindow()
    qtbot.addWidget(window)
    document = window.browser.document()
    for src in sources:
        assert resource_path("guide", src).is_file(), src
        image = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(src))
        assert image is not None and not image.isNull(), f"{src} did not load in the guide"


def test_every_hyperparameter_and_setting_is_explained() -> None:
    text = resource_path("guide", "index.html").read_text(encoding="utf-8")
    for term in ("Epochs", "Batch size", "Learning rate", "Learning-rate multiplier", "Adapter size",
                 "Validation examples", "Checkpoints (keep only the final model)", "Tuning mode", "Temperature",
                 "Top-P and Top-K", "Maximum output tokens", "Stop sequences", "Seed", "Thinking",
                 "Safety settings", "Preamble", "System instruction", "Prepare for"):
        assert f"<dt>{term}</dt>" in text or f"<b>{term}" in text, term


def test_links_to_google_open_in_the_web_browser_and_anchors_stay_inside(qtbot) -> None:
    with opened_urls("https") as opened:
        window = GuideWindow()
        qtbot.addWidget(window)
        window.show()
        html = resource_path("guide", "index.html").read_text(encoding="utf-8")
        google = re.findall(r'href="(https://[^"]+)"', html)
        assert any("docs.cloud.google.com" in u for u in google) and any("ai.google.dev" in u for u in google)
        start = window.browser.source()
        window.browser.anchorClicked.emit(QUrl(google[0]))
        assert [u.toString() for u in opened] == [google[0]]
        assert window.browser.source() == start  # the guide did not try to load the web page itself

        window.browser.anchorClicked.emit(QUrl("#tune"))
        assert window.browser.source().fragment() == "tune"
        assert window.back_action.isEnabled()
        window.back_action.trigger()
        assert window.browser.source().fragment() == ""


def test_find_in_the_guide(qtbot) -> None:
    window = GuideWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.keyClicks(window.find_edit, "adapter")
    qtbot.keyClick(window.find_edit, Qt.Key.Key_Return)
    assert window.browser.textCursor().selectedText().lower() == "adapter"
    window.find_edit.setText("zzz-not-there")
    assert not window.find_next()
    assert "not in the guide" in window.find_status.text()


def test_f1_opens_the_section_about_the_tab_in_front(fake_window, qtbot) -> None:
    fake_window.show_tab("monitor")
    fake_window.show_guide()
    qtbot.waitUntil(lambda: len(_guide_windows()) == 1)
    guide = _guide_windows()[0]
    assert guide.browser.source().fragment() == "monitor"
    fake_window.show_tab("test")
    fake_window.show_guide()  # the same window, now at the Test section
    assert _guide_windows() == [guide]
    assert guide.browser.source().fragment() == "test"
    guide.close()
