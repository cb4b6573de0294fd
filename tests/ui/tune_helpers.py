"""Shared pieces of the Tune tab's tests: projects on disk, the Sandbox connection, waiting for the tab."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.project import examples_repo, jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile

_WORDS_TEXT = ("invoice refund parcel courier login password printer screen delivery charge discount voucher address "
         "warranty battery cable signal router upgrade contract cancel renewal receipt tracking damaged late "
         "missing account email mobile laptop keyboard speaker camera coupon balance payment transfer")
WORDS = _WORDS_TEXT.split()
SHOTS = os.environ.get("GEMTUNE_SHOTS", "")


def _sentences(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        text = " ".join(rnd.sample(WORDS, 7))
        if text not in out:
            out.append(text)
    return out


def make_project(path: Path, n_train: int, n_val: int, *, settings: DatasetSettings | None = None,
                 extra: list[Example] | None = None) -> Path:
    texts = _sentences(n_train + n_val, seed=n_train)
    examples = [Example(t, "billing" if i % 2 else "shipping",
                        Split.TRAIN if i < n_train else Split.VALIDATION) for i, t in enumerate(texts)]
    examples += extra or []
    store = ProjectStore.create(path)
    try:
        examples_repo.insert(store, examples, [float(i) for i in range(len(examples))])
        examples_repo.save_settings(store, settings or DatasetSettings(preamble="Route this ticket:"))
    finally:
        store.close()
    return path


def use_sandbox(ctx: Any, backend: Backend, bucket: str = "") -> None:
    ctx.connections.save_profile(ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=backend,
                                                   bucket=bucket))
    ctx.connections.set_active(ConnectionKind.SANDBOX)


def open_project(window: Any, qtbot: Any, path: Path) -> None:
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.ctx.project is not None and window.ctx.project.path == path)


def tune_tab(window: Any) -> Any:
    tab = window.tab_widgets["tune"]
    window.show_tab("tune")
    return tab


def wait_idle(qtbot: Any, tab: Any) -> None:
    qtbot.waitUntil(lambda: not tab.flow.busy, timeout=60000)


def models_ready(qtbot: Any, tab: Any) -> None:
    qtbot.waitUntil(lambda: tab.form.model_combo.count() > 0, timeout=30000)


def ready_tab(window: Any, qtbot: Any, backend: Backend, project: Path | None = None, bucket: str = "") -> Any:
    """The Tune tab on the Sandbox (``backend`` flavour), with ``project`` open, once its models are listed."""
    use_sandbox(window.ctx, backend, bucket)
    if project is not None:
        open_project(window, qtbot, project)
    tab = tune_tab(window)
    models_ready(qtbot, tab)
    return tab


def jobs(ctx: Any) -> list[Any]:
    return jobs_repo.list_jobs(ctx.project.store, include_deleted=True)


def shot(window: Any, name: str) -> None:
    """Save a screenshot of the window when GEMTUNE_SHOTS names a folder (run under Xvfb to look at them)."""
    if SHOTS:
        QApplication.processEvents()
        window.grab().save(str(Path(SHOTS) / f"tune_{name}.png"))


def answer_question(qtbot: Any, button_text: str) -> list[str]:
    """Click ``button_text`` in the next modal question; returns the texts of the questions seen."""
    seen: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            for b in box.buttons():
                if b.text() == button_text:
                    b.click()
                    return
        QTimer.singleShot(20, click)

    QTimer.singleShot(20, click)
    return seen
