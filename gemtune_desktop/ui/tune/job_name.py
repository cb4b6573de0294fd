"""The Tune form's name field: a default name from the project's name, unique among the project's jobs, and a
warning when a name is reused (the rules are in :mod:`gemtune_desktop.core.job_names`)."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QLabel, QLineEdit

from gemtune_desktop.core.job_names import default_job_name, job_named, taken_names
from gemtune_desktop.core.jobs import JobRecord


def reuse_warning(name: str, records: list[JobRecord]) -> str:
    """The warning under the name field ("" when no job of the project has this name)."""
    found = job_named(name, records)
    if found is None:
        return ""
    return (f"⚠ This project already has a job called “{found.display_name}”. A different name tells the two "
            "apart in the Monitor and Test tabs.")


class JobNamer:
    """Keeps the name field's default up to date and warns about reused names.

    A name the user typed is never replaced; an empty field or the default name follows the project,
    the connection's length limit and the project's jobs.
    """

    def __init__(self, edit: QLineEdit, warning: QLabel) -> None:
        self.edit = edit
        self.warning = warning
        self.default = ""
        self._records: list[JobRecord] = []
        edit.textChanged.connect(self._warn)
        self._warn()

    def update(self, project_name: str, records: list[JobRecord], limit: int) -> None:
        """Recompute the default from the project's name and jobs (the field takes it unless the user typed)."""
        self._records = list(records)
        current = self.edit.text().strip()
        if not current or current == self.default:
            self.default = default_job_name(project_name, taken_names(self._records), limit, date.today())
            if self.edit.text() != self.default:
                self.edit.setText(self.default)
        self._warn()

    def _warn(self, *_: object) -> None:
        text = reuse_warning(self.edit.text(), self._records)
        self.warning.setText(text)
        self.warning.setVisible(bool(text))
