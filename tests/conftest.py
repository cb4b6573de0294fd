"""Test-wide setup: offscreen Qt, isolated app folders and settings, an in-memory keyring.

* ``QT_QPA_PLATFORM=offscreen`` and ``QT_API=pyside6`` before Qt loads.
* ``GEMTUNE_HOME`` points every app folder (config, data, cache, logs) at a temp dir.
* The keyring is an in-memory backend (set with ``keyring.set_keyring``).
* Environment variables the genai SDK reads are cleared, so nothing reaches Google.
* Qt warnings and Python warnings fail tests (pyproject.toml), and so does anything logged at ERROR
  unless the test is marked ``logs_errors``; every test ends with the thread pool idle.
* ``ctx`` / ``main_window`` speak to the Sandbox over real HTTP; ``fake_ctx`` / ``fake_window`` to an
  in-process :class:`~tests.helpers.fakes.FakeCloud` (``cloud``) with tasks run inline, for tests of
  the widgets that are not about HTTP.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.helpers.sandbox_fixture", "tests.helpers.contract_capture"]

# A desktop-sized virtual screen (the offscreen default is 800×600, smaller than the window).
_SCREEN = Path(__file__).parent / "helpers" / "offscreen-screen.json"
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"
os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QT_SCALE_FACTOR", "1")
os.environ["GEMTUNE_NO_WELCOME"] = "1"  # the first-run welcome only in tests/ui/test_first_run.py
os.environ["GEMTUNE_NO_CLOSE_NOTICE"] = "1"  # "jobs keep running" on closing only in tests/ui/test_monitor_actions.py

GENAI_ENV = (
    "GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_GENAI_API_VERSION", "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_VERTEX_BASE_URL", "GOOGLE_APPLICATION_CREDENTIALS",
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "gemtune-home"
    home.mkdir()
    monkeypatch.setenv("GEMTUNE_HOME", str(home))
    for name in GENAI_ENV:
        monkeypatch.delenv(name, raising=False)
    yield home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[object]:
    import keyring

    from tests.helpers.keyrings import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def app_home(_isolated_env: Path) -> Path:
    """The temporary root of every app folder for this test."""
    return _isolated_env


@pytest.fixture
def ctx(qapp: object) -> Iterator[object]:
    """A fresh AppContext with isolated settings; shut down after the test."""
    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.settings import Settings

    context = AppContext(Settings())
    yield context
    context.shutdown()


@pytest.fixture
def main_window(ctx: object, qtbot: object) -> Iterator[object]:
    """The real main window over an isolated context, shown offscreen."""
    from gemtune_desktop.ui.main_window import MainWindow

    window = MainWindow(ctx)  # type: ignore[arg-type]
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    yield window
    window.close()


@pytest.fixture
def cloud() -> Any:
    """The in-process fake of Google's services (see tests/helpers/fakes.py)."""
    from tests.helpers.fakes import FakeCloud

    return FakeCloud()


@pytest.fixture
def fake_ctx(qapp: object, cloud: Any) -> Iterator[Any]:
    """An AppContext whose service is ``cloud`` and whose tasks run inline on the GUI thread."""
    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.settings import Settings
    from gemtune_desktop.qtcore.workers import InlineExecutor

    context = AppContext(Settings(), executor=InlineExecutor(), service_factory=cloud.factory)
    yield context
    context.shutdown()


@pytest.fixture
def fake_window(fake_ctx: Any, qtbot: Any) -> Iterator[Any]:
    """The real main window over the fake service, shown offscreen, its project open."""
    from gemtune_desktop.ui.main_window import MainWindow

    window = MainWindow(fake_ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: fake_ctx.project is not None)
    yield window
    window.close()


SERVER_LOGGERS = ("werkzeug",)


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _fail_on_logged_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    handler = _ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    # The Sandbox's HTTP server logs the faults a test injects (a dropped connection) as request errors.
    records = [r for r in handler.records if not r.name.startswith(SERVER_LOGGERS)]
    if records and request.node.get_closest_marker("logs_errors") is None:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in records[:10])
        pytest.fail(f"errors were logged during the test:\n{lines}", pytrace=False)


@pytest.fixture(autouse=True)
def _thread_pool_idle(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(15000)
