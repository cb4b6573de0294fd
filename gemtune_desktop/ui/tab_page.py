"""What the main window needs from a tab: the :class:`TabPage` protocol, the tab keys and the window's menus."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtWidgets import QMenu


class TabKey(enum.StrEnum):
    """The four tabs, in the order they are shown (the values are what ``show_tab_requested`` carries)."""

    DATASET = "dataset"
    TUNE = "tune"
    MONITOR = "monitor"
    TEST = "test"


@dataclass(frozen=True)
class WindowMenus:
    """The menu bar's menus, which tabs add their actions to."""

    file: QMenu
    edit: QMenu
    view: QMenu
    settings: QMenu
    help: QMenu

    def all(self) -> list[QMenu]:
        return [self.file, self.edit, self.view, self.settings, self.help]


class TabPage(Protocol):
    """A tab of the main window."""

    def install_actions(self, menus: WindowMenus) -> None:
        """Add the tab's actions to the window's menus (called once, after the tab is built)."""
        ...

    def can_close(self) -> bool:
        """Whether the window may close now (False keeps it open; the tab has said why)."""
        ...

    def shutdown(self) -> None:
        """Stop the tab's tasks and timers and release what it holds (the window is closing)."""
        ...
