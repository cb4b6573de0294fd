"""What the Tune tab's method and starting point need from the project: its preference examples, its tuned
models and checkpoints, what ``models.json`` says of the base model, and the supervised set built from the
preference examples.

:class:`MethodSupport` keeps the form's :class:`~gemtune_desktop.ui.tune.method.MethodBox` up to date: the
starting points (:func:`~gemtune_desktop.core.preference.lineage.starting_points` of the project's jobs),
whether Preference is offered (:func:`~gemtune_desktop.ui.tune.method.availability_words`), the count behind
"Add the preferred answers as supervised examples", and the preference estimate
(:func:`~gemtune_desktop.core.preference.spec.estimate_preference`). The supervised set goes into the project's
examples through the session's undo stack (:class:`~gemtune_desktop.qtcore.undo.InsertRowsCommand`), as one
step.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.model_catalog import ModelInfo, catalog_models, find_model
from gemtune_desktop.core.preference.from_review import SupervisedSet, supervised_from_preferences
from gemtune_desktop.core.preference.lineage import starting_points
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.preference.spec import PreferenceEstimate, estimate_preference
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.ui.tune.form import TuneForm
from gemtune_desktop.ui.tune.method import NOT_ON_GEMINI_API, availability_words

log = logging.getLogger(__name__)

BUILD_TEXT = "Add supervised examples from the preference examples"
SFT_EPOCHS = 2  # the upper end of Google's 1–2 supervised epochs before preference tuning


def new_supervised(built: SupervisedSet, existing: list[Example]) -> list[Example]:
    """The built supervised examples the project does not have yet (same input and output)."""
    have = {(e.input, e.output) for e in existing}
    return [e for e in built.examples if (e.input, e.output) not in have]


class MethodSupport(QObject):
    """Keeps the method and starting point in step with the project and the connection (see the module docstring).

    Signals:
        said(str): what the one-click supervised set did, for the status line.
        failed(object): a :class:`UserError` when it could not be added.
    """

    said = Signal(str)
    failed = Signal(object)

    def __init__(self, ctx: AppContext, form: TuneForm, catalog: Mapping[str, Any],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.form = form
        self.google = catalog_models(catalog)  # what Google's documentation says (models.json)
        self.examples: list[PreferenceExample] = []
        self.settings = PreferenceSettings()
        form.method.build_requested.connect(self.build_supervised)

    # -- the project's preference examples and tuned models --------------------------------------
    def reload(self) -> None:
        """Read the project's preference examples again (they are edited in the Dataset and Test tabs)."""
        from gemtune_desktop.core.project import preference_repo

        project = self.ctx.project
        examples: list[PreferenceExample] = []
        if project is not None:
            try:
                examples = preference_repo.load(project.store)
            except (sqlite3.Error, UserError) as exc:
                log.warning("the preference examples could not be read: %s", type(exc).__name__)
        self.examples = examples
        self.settings = PreferenceSettings.from_dataset(project.settings if project is not None else None)
        self.show_build()

    def show_build(self) -> None:
        project = self.ctx.project
        existing = project.examples if project is not None else []
        new = new_supervised(supervised_from_preferences(self.examples, self.settings), existing)
        writable = project is not None and not project.read_only
        self.form.method.show_build(len(new) if writable else 0, len(self.examples))

    def set_records(self, records: list[JobRecord]) -> None:
        self.form.method.set_points(starting_points(records))

    # -- is Preference offered -------------------------------------------------------------------
    def base_facts(self) -> ModelInfo | None:
        """The facts of the starting point's base model as this connection lists it."""
        start = self.form.start_point()
        root = start.root_model
        if not root:
            return None
        listed = find_model(root, self.form.models)
        return listed if listed is not None else self.google.get(root.rsplit("/", 1)[-1])

    def supports_preference(self) -> bool | None:
        facts = self.base_facts()
        return None if facts is None else facts.preference_tuning

    def model_label(self) -> str:
        facts = self.base_facts()
        return facts.label if facts is not None else self.form.start_point().root_model

    def update_availability(self) -> None:
        if self.form.backend is not Backend.AGENT_PLATFORM:
            self.form.method.show_availability(False, NOT_ON_GEMINI_API)
            return
        facts = self.base_facts()
        google = self.google.get(facts.id) if facts is not None else None
        if not self.form.start_point().root_model:
            self.form.method.show_availability(True, "")
            return
        self.form.method.show_availability(*availability_words(facts, google))

    # -- the estimate ----------------------------------------------------------------------------
    def estimate(self, price_per_million: float | None) -> PreferenceEstimate:
        spec = self.form.preference_spec()
        train = [e for e in self.examples if e.split is Split.TRAIN]
        validation = [e for e in self.examples if e.split is Split.VALIDATION]
        return estimate_preference(spec, train, validation, self.settings, price_per_million)

    # -- the supervised set, in one click --------------------------------------------------------
    def build_supervised(self) -> None:
        """Add each distinct prompt → preferred answer to the project's examples, as one undoable step, and
        set the form for Google's first step (supervised, 2 epochs)."""
        from gemtune_desktop.qtcore.undo import InsertRowsCommand

        project = self.ctx.project
        if project is None or project.read_only:
            return
        self.reload()
        built = supervised_from_preferences(self.examples, self.settings)
        new = new_supervised(built, project.examples)
        if not new:
            self.said.emit("The preferred answers are already among the project's examples: nothing was added.")
            return
        command = InsertRowsCommand(project, len(project.examples), new,
                                    f"Add {len(new):,} supervised examples from preference examples")
        try:
            project.undo_stack.push(command)
        except (sqlite3.Error, OSError) as exc:
            log.warning("adding the supervised examples failed: %s", type(exc).__name__)
            command.failed = True
        if command.failed:
            self.failed.emit(UserError("The supervised examples could not be added to the project.",
                                       "Nothing was changed. Check that the disk is not full and the file is still "
                                       "there."))
            return
        self.form.method.set_preference(False)
        self.form.set_values({"epochs": SFT_EPOCHS})
        skipped = [f"{built.merged:,} repeated a prompt and preferred answer"] if built.merged else []
        if built.own_system:
            skipped.append(f"{built.own_system:,} have their own system instruction, which supervised examples do "
                           "not carry (the project's is used)")
        more = f" ({'; '.join(skipped)}.)" if skipped else ""
        self.said.emit(f"Added {len(new):,} supervised examples (prompt → preferred answer) to the project's "
                       f"examples; Edit → Undo in the Dataset tab takes them out again.{more} The form is set to "
                       f"Supervised with {SFT_EPOCHS} epochs: start this job, then preference-tune from its "
                       "checkpoint.")
        self.show_build()
