"""Closing the window while jobs run: say that they keep running on the service and are picked up next time.

Tuning jobs and batch-engine evaluations run on Google's service (or the Sandbox, which keeps its own
clock), not in the app, so closing the window stops nothing. The project keeps their records; the next
time it is opened, the Monitor checks them again and fetches the rest of each curve and the results.

Set the environment variable ``GEMTUNE_NO_CLOSE_NOTICE=1`` to close without the notice (the test suite
does, as it does for the welcome; the tests of this notice unset it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.project.batch_jobs_repo import BatchJobRecord

NO_NOTICE_ENV = "GEMTUNE_NO_CLOSE_NOTICE"
CLOSE = "Close GemTune"
STAY = "Keep it open"


def notice_text(jobs: Sequence[JobRecord], batch: Sequence[BatchJobRecord]) -> str:
    """What to tell the user about the jobs still running ("" when none is)."""
    running = [j for j in jobs if j.state.active]
    open_batch = [b for b in batch if not b.ended]
    if not running and not open_batch:
        return ""
    parts = []
    if running:
        names = ", ".join(f"“{j.display_name or 'unnamed job'}”" for j in running[:3])
        more = f" and {len(running) - 3} more" if len(running) > 3 else ""
        verb = "is" if len(running) == 1 else "are"
        parts.append(f"{names}{more} {verb} still running.")
    if open_batch:
        noun = "evaluation job" if len(open_batch) == 1 else "evaluation jobs"
        parts.append(f"{len(open_batch)} batch {noun} {'is' if len(open_batch) == 1 else 'are'} still running.")
    parts.append("Closing GemTune does not stop them: they keep running on the service. The next time you open "
                 "this project, GemTune picks them up again — their state, the rest of each loss curve and the "
                 "results — with nothing lost.")
    if any(j.state.being_submitted for j in running):
        parts.append("GemTune also goes on checking whether the job it could not confirm has started.")
    return " ".join(parts)


def running_jobs_notice(parent: QWidget, jobs: Sequence[JobRecord], batch: Sequence[BatchJobRecord]) -> bool:
    """Tell the user about running jobs before the window closes; returns whether to close."""
    text = notice_text(jobs, batch)
    if not text or os.environ.get(NO_NOTICE_ENV):
        return True
    box = QMessageBox(QMessageBox.Icon.Information, "Jobs keep running", text, QMessageBox.StandardButton.NoButton,
                      parent)
    box.setObjectName("closingNotice")
    close = box.addButton(CLOSE, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(STAY, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(close)
    box.exec()
    closing = box.clickedButton() is close
    box.deleteLater()
    return closing
