"""Keeps the console's choices with the open project: generation and safety settings, the models, the switches.

When a project opens, its stored choices (:mod:`gemtune_desktop.core.project.playground_repo`) are put
back; a model not listed yet is chosen as soon as it appears. Every change is written to the project at
once (one small write to the ``meta`` table; a value that did not change is not written again), so
nothing is pending when another project opens or the app is killed. A project that cannot be written
keeps working with the choices on screen.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from gemtune_desktop.core.project import playground_repo
from gemtune_desktop.core.project.playground_repo import ConsoleChoices
from gemtune_desktop.qtcore.project_session import ProjectSession

if TYPE_CHECKING:
    from gemtune_desktop.ui.playground.console_panel import ConsolePanel

log = logging.getLogger(__name__)



class ConsoleState(QObject):
    """Loads and saves the console's choices for ``console.ctx.project``."""

    def __init__(self, console: ConsolePanel) -> None:
        super().__init__(console)
        self.console = console
        self._project: ProjectSession | None = None
        self._applying = False
        self._written = ""  # the value last stored in (or read from) the project
        console.generation.changed.connect(self.schedule)
        console.safety.changed.connect(self.schedule)
        console.picker_a.model_changed.connect(lambda _r: self.schedule())
        console.picker_b.model_changed.connect(lambda _r: self.schedule())
        console.compare.toggled.connect(lambda _on: self.schedule())
        console.texts_box.changed.connect(self.schedule)

    def current(self) -> ConsoleChoices:
        c = self.console
        return ConsoleChoices(generation=c.generation.settings(), safety=c.safety.settings(),
                               model=c.picker_a.chosen_model(), compare=c.compare.isChecked(),
                               compare_model=c.picker_b.chosen_model(), apply_texts=c.apply_dataset.isChecked(),
                               share_texts=c.share_texts.isChecked())

    def project_changed(self, project: ProjectSession | None) -> None:
        """Show ``project``'s choices."""
        self._project = project
        stored = ConsoleChoices()
        if project is not None:
            try:
                stored = playground_repo.load(project.store)
            except Exception:  # an unreadable value: start from the defaults
                log.warning("could not read the Test tab's settings from the project", exc_info=True)
        self.apply(stored)
        self._written = playground_repo.encode(self.current())

    def apply(self, s: ConsoleChoices) -> None:
        c = self.console
        self._applying = True
        try:
            c.generation.set_settings(s.generation)
            c.safety.set_settings(s.safety)
            c.apply_dataset.setChecked(s.apply_texts)
            c.share_texts.setChecked(s.share_texts)
            c.compare.setChecked(s.compare)
            for picker, model in ((c.picker_a, s.model), (c.picker_b, s.compare_model)):
                if model:
                    picker.select_model(model)
                else:
                    picker.forget_wanted()
        finally:
            self._applying = False

    def schedule(self) -> None:
        if not self._applying and self._project is not None:
            self.save_now()

    def save_now(self) -> None:
        project = self._project
        if project is None or project.is_closed or not project.can_edit:
            return
        value = playground_repo.encode(self.current())
        if value == self._written:
            return
        try:
            playground_repo.save(project.store, self.current())
            self._written = value
        except Exception:  # the choices stay on screen; only their copy in the project is missing
            log.warning("could not store the Test tab's settings in the project", exc_info=True)
