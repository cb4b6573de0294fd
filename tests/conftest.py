"""Test-wide setup: offscreen Qt, isolated app folders and settings, an in-memory keyring.

* ``QT_QPA_PLATFORM=offscreen`` and ``QT_API=pyside6`` before Qt loads.
* ``GEMTUNE_HOME`` points every app folder (config, data, cache, logs) at a temp dir.
* The keyring is an in-memory backend (set with ``keyring.set_keyring``).
* Environment variables the genai SDK reads are cleared, so nothing reaches Google.
* Qt warnings fail tests (``qt_log_level_fail`` in pyproject.toml); every test ends with
  the thread pool idle.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.helpers.sandbox_fixture", "tests.helpers.contract_capture"]

# A desktop-sized virtual screen (the offscreen default is 800×600, smaller than the window).
_SCREEN = Path(__file__).parent / "helpers" / "offscreen-screen.json"
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"
os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QT_SCALE_FACTOR", "1")
os.environ["GEMTUNE_NO_WELCOME"] = "1"  # the first-run welcome only in tests/ui/test_first_run.py

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


@pytest.fixture(autouse=True)
def _thread_pool_idle(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(15000)
