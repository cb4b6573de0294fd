"""The blind review of an evaluation run, opened from the evaluation view, and what it writes to the project.

Votes are stored per example (:func:`evals_repo.set_review`); a correction typed in the review can
replace the example's expected output (one undoable step) or become preference data. :class:`PreferenceMaker`
turns votes and corrections into preference examples (:mod:`gemtune_desktop.core.preference.from_review`):
the picked answer preferred, the other dispreferred, ties skipped; a correction preferred over the model's
answer. Each is stored in the project's preference examples in one transaction: through the project's
preference session when the Dataset tab has the pairs open (one step its Undo takes back), else straight
into the file (``preference_repo``); ``AppContext.preference_examples_changed`` tells the views to count
again. A vote or correction already turned into an example is not added twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from gemtune_desktop.core.preference import from_review
from gemtune_desktop.core.preference.from_review import Harvest
from gemtune_desktop.core.project import evals_repo, preference_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.preference_session import existing_preference_session
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.services.eval_plan import group_rows
from gemtune_desktop.ui.playground import project_edits
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

if TYPE_CHECKING:
    from gemtune_desktop.ui.playground.eval_panel import EvalPanel
    from gemtune_desktop.ui.playground.review_dialog import BlindReviewDialog


class PreferenceMaker:
    """Preference examples from one run's review, written to ``project``; every method answers in plain words."""

    def __init__(self, ctx: AppContext, project: ProjectSession, run: EvalRun) -> None:
        self.ctx = ctx
        self.project = project
        self.run = run

    def count(self) -> int:
        """Preference examples this run's review produced so far (kept in the project)."""
        return from_review.count_from_run(preference_repo.sources(self.project.store), self.run.id)

    def from_votes(self, only: list[int] | None = None) -> str:
        """The run's votes (or those on ``only``) as preference examples."""
        store = self.project.store
        harvest = from_review.examples_from_votes(
            self.run, evals_repo.list_rows(store, self.run.id), evals_repo.reviews(store, self.run.id),
            existing_sources=preference_repo.sources(store, f"review:{self.run.id}:"), only=only)
        return self._store(harvest)

    def from_correction(self, example_id: int, text: str) -> str:
        """``text`` preferred over each model's answer to the example."""
        store = self.project.store
        answers = from_review.group_answers(evals_repo.list_rows(store, self.run.id)).get(example_id, {})
        harvest = from_review.examples_from_correction(
            self.run, answers, text, existing_sources=preference_repo.sources(store, f"correction:{self.run.id}:"))
        return self._store(harvest)

    def _store(self, harvest: Harvest) -> str:
        if not harvest.examples:
            return harvest.summary()
        session = existing_preference_session(self.project)
        if session is not None:  # the pairs are open for editing: add them there, as one step its Undo takes back
            count = len(harvest.examples)
            text = f"Add {count} preference example{'' if count == 1 else 's'} from the review"
            if not session.import_pairs(harvest.examples, text):
                return Tone.ERROR.value + "The preference examples could not be stored; the votes stay as they are."
            self.ctx.preference_examples_changed.emit()
            return Tone.OK.value + harvest.summary()
        store = self.project.store
        try:
            with store.transaction():
                positions = preference_repo.positions_before(store, None, len(harvest.examples))
                preference_repo.insert(store, harvest.examples, positions)
        except Exception as exc:  # nothing was stored: say so, the votes stay as they are
            from gemtune_desktop.services.errors import describe

            return error_text(describe(exc), "The preference examples could not be stored:", hint=False)
        self.ctx.preference_examples_changed.emit()
        return Tone.OK.value + harvest.summary()


def open_review(panel: EvalPanel) -> BlindReviewDialog | None:
    """Open the blind review of the run shown in ``panel`` (two models only)."""
    run = panel.selected_run()
    project = panel.ctx.project
    if run is None or project is None or len(run.models) != 2:
        return None
    from gemtune_desktop.ui.playground.review_dialog import BlindReviewDialog

    store = project.store
    groups = group_rows(evals_repo.list_rows(store, run.id), {})

    def record(example_id: int, choice: str) -> None:
        evals_repo.set_review(store, run.id, example_id, choice)

    def correct(example_id: int, text: str) -> None:
        try:
            project_edits.set_output(project, example_id, text)
        except Exception as exc:
            from gemtune_desktop.services.errors import describe

            QMessageBox.warning(panel, "Correction", error_text(describe(exc), "The correction could not be "
                                                                "saved:", tone=Tone.PLAIN, hint=False))
            return
        panel.ctx.status_message.emit(f"Example {example_id}'s expected output was corrected.", 4000)

    dialog = BlindReviewDialog(run.id, groups, evals_repo.reviews(store, run.id), record, correct, panel,
                               preferences=PreferenceMaker(panel.ctx, project, run))
    dialog.setObjectName("blindReview")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.finished.connect(lambda _r: panel.show_run(panel.selected_run()))
    dialog.open()
    return dialog
