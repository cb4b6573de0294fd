"""Catch the URLs the app asks the desktop to open (QDesktopServices.openUrl) instead of opening them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices


class _Catcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)


@contextmanager
def opened_urls(scheme: str) -> Iterator[list[QUrl]]:
    """Within the block, URLs with ``scheme`` go into the yielded list instead of a browser or file manager."""
    catcher = _Catcher()
    QDesktopServices.setUrlHandler(scheme, catcher, "open")
    try:
        yield catcher.opened
    finally:
        QDesktopServices.unsetUrlHandler(scheme)
