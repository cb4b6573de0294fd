"""The one place that says the active connection cannot work, with one button to fix it or use the Sandbox.

A connection that cannot work (an API key kept "for this session only" is gone after a restart, a service
account key removed, the service refusing the credentials, the network down) is said once, in a bar under
the menu bar of every tab: what is wrong and what to do, with **Fix in Settings…** (Settings → Connections,
opened on the active connection's page) and **Use the Sandbox**. The status bar then only says
"✖ not reachable" and points at the bar, so the message is not repeated around the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from gemtune_desktop.qtcore.connection_manager import ConnectionManager
from gemtune_desktop.services.connections import ConnectionKind
from gemtune_desktop.ui.widgets.notice_bar import Level, NoticeBar


class ConnectionNotice(NoticeBar):
    """Shown while the active connection's last check failed; hidden when it works or is being checked."""

    def __init__(self, connections: ConnectionManager, open_settings: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__("connectionBar", parent)
        self._connections = connections
        self._open_settings = open_settings
        connections.connection_changed.connect(lambda _p: self.refresh())
        connections.reachability_changed.connect(lambda _ok, _t: self.refresh())

    @property
    def failing(self) -> bool:
        return self._connections.reachable is False

    def refresh(self) -> None:
        conn = self._connections
        if conn.reachable is not False:
            self.hide()
            return
        profile = conn.profile
        text = f"{profile.kind.label} cannot be used: {conn.reachability_text}"
        if conn.reachability_hint:
            text += f" {conn.reachability_hint}"
        actions: list[tuple[str, Callable[[], object]]] = [("&Fix in Settings…", self._open_settings)]
        if not profile.is_sandbox:
            actions.append(("Use the &Sandbox", self.use_sandbox))
        self.show_notice(text, Level.ERROR, actions, closable=True,
                         tip="Your projects, jobs, curves and history are kept whatever the connection's state.")

    def use_sandbox(self) -> None:
        self._connections.set_active(ConnectionKind.SANDBOX)
