"""The Tune tab's method and starting point: supervised or preference tuning, from a base model or a tuned model.

:class:`MethodBox` offers Supervised or Preference (with whether the starting point's base model takes
preference tuning, in words: :func:`availability_words`), "Start from" (the base model chosen above, or a
tuned model of the project or one of its checkpoints: continued tuning, from
:func:`gemtune_desktop.core.preference.lineage.starting_points`), and Google's recommended order (1–2 epochs
of supervised tuning on the preferred answers, then preference tuning from that checkpoint) with a button
that builds that supervised set from the project's preference examples.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.model_catalog import ModelInfo
from gemtune_desktop.core.preference.catalog import preference_availability
from gemtune_desktop.core.preference.rules import RECOMMENDED_SFT_EPOCHS
from gemtune_desktop.core.preference.spec import StartingPoint

SUPERVISED_WORDS = ("Supervised: the model learns to give your examples' outputs. Needs examples (input → "
                    "output) in the Dataset tab.")
PREFERENCE_WORDS = ("Preference: the model learns which of two answers is better, from your preference examples "
                    "(a prompt, a preferred and a dispreferred answer).")
FROM_BASE = "The base model chosen above"
NOT_ON_GEMINI_API = ("Preference tuning runs only on Google Cloud (Agent Platform). Use a Google Cloud connection, "
                     "or the Sandbox set to Agent Platform.")
LO, HI = RECOMMENDED_SFT_EPOCHS
RECOMMENDED_ORDER = (f"Google recommends this order: first {LO}–{HI} epochs of supervised tuning on the preferred "
                     f"answers, then preference tuning that starts from that job's checkpoint (Start from → the "
                     f"checkpoint, once the first job has finished).")


def availability_words(facts: ModelInfo | None, google: ModelInfo | None) -> tuple[bool, str]:
    """(offer Preference?, why) for the starting point's base model: ``facts`` as the connection lists it,
    ``google`` what Google's documentation says of it (``models.json``; differs from ``facts`` on the Sandbox)."""
    ok, words = preference_availability(facts)
    if facts is not None and facts.simulated:
        label = facts.label
        if google is None or google.preference_tuning is None:
            real = (f"On Google Cloud it is not known: Google's documentation does not say whether {label} takes "
                    "preference tuning.")
        elif google.preference_tuning is False:
            real = f"On Google Cloud, {label} does not take preference tuning."
        else:
            real = f"On Google Cloud, Google documents preference tuning for {label}."
        words = f"{words} {real}"
    if not ok:
        words += " Choose another base model, or use supervised tuning."
    return ok, words


def start_label(point: StartingPoint) -> str:
    """A starting point in the "Start from" list: "“Lease desk” — checkpoint 2"."""
    what = point.job_label or point.model.rsplit("/", 1)[-1]
    if point.checkpoint_id:
        return f"{what} — checkpoint {point.checkpoint_id}"
    return f"{what} — its final model"


class MethodBox(QGroupBox):
    """Method and starting point (see the module docstring).

    Signals:
        changed(): the method or the starting point changed.
        build_requested(): the user wants the supervised set built from the preference examples.
    """

    changed = Signal()
    build_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Method and starting point", parent)
        self.points: list[StartingPoint] = []
        self._preference_count = 0
        self._offered, self._availability_words = True, ""
        form = self._form = QFormLayout(self)
        methods = QVBoxLayout()
        methods.setSpacing(2)
        self.supervised_radio = QRadioButton("Supervised", self)
        self.supervised_radio.setObjectName("tuneMethodSupervised")
        self.supervised_radio.setToolTip(SUPERVISED_WORDS)
        self.preference_radio = QRadioButton("Preference", self)
        self.preference_radio.setObjectName("tuneMethodPreference")
        self.preference_radio.setToolTip(PREFERENCE_WORDS)
        self.supervised_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.supervised_radio)
        group.addButton(self.preference_radio)
        row = QHBoxLayout()
        row.addWidget(self.supervised_radio)
        row.addWidget(self.preference_radio)
        row.addStretch(1)
        methods.addLayout(row)
        self.method_words = self._label("tuneMethodWords", SUPERVISED_WORDS)
        methods.addWidget(self.method_words)
        self.availability = self._label("tunePreferenceAvailability", "")
        methods.addWidget(self.availability)
        form.addRow("Method:", methods)
        self.start_combo = QComboBox(self)
        self.start_combo.setObjectName("tuneStartFrom")
        self.start_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.start_combo.setMinimumContentsLength(18)
        self.start_combo.setAccessibleName("Start from")
        self.start_combo.setToolTip("Start from the base model, or continue tuning one of this project's tuned models "
                                    "from its final model or one of its checkpoints.")
        self.start_combo.addItem(FROM_BASE, -1)
        starts = QVBoxLayout()
        starts.setSpacing(2)
        starts.addWidget(self.start_combo)
        self.start_words = self._label("tuneStartWords", "")
        starts.addWidget(self.start_words)
        form.addRow("Start from:", starts)
        self.order_words = self._label("tuneRecommendedOrder", RECOMMENDED_ORDER)
        self.build_button = QPushButton("Add the preferred answers as supervised examples", self)
        self.build_button.setObjectName("tuneBuildSupervised")
        self.build_button.setEnabled(False)
        self.build_words = self._label("tuneBuildWords", "")
        tip = QVBoxLayout()
        tip.setSpacing(2)
        tip.addWidget(self.order_words)
        button_row = QHBoxLayout()
        button_row.addWidget(self.build_button)
        button_row.addStretch(1)
        tip.addLayout(button_row)
        tip.addWidget(self.build_words)
        form.addRow("Recommended:", tip)
        self._tip = tip
        group.buttonToggled.connect(lambda _b, on: self._method_toggled() if on else None)
        self.start_combo.currentIndexChanged.connect(self._start_changed)
        self.build_button.clicked.connect(self.build_requested)

    def _label(self, name: str, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setWordWrap(True)
        return label

    # -- method ---------------------------------------------------------------------------------
    @property
    def preference(self) -> bool:
        return self.preference_radio.isChecked()

    def set_preference(self, on: bool) -> None:
        (self.preference_radio if on else self.supervised_radio).setChecked(True)

    def _method_toggled(self) -> None:
        self.method_words.setText(PREFERENCE_WORDS if self.preference else SUPERVISED_WORDS)
        self._show_what_applies()
        self.changed.emit()

    def show_availability(self, offered: bool, words: str) -> None:
        """Whether Preference can be chosen for the starting point's base model, and why (in words)."""
        self._offered, self._availability_words = offered, words
        self.preference_radio.setEnabled(offered)
        self.preference_radio.setToolTip(PREFERENCE_WORDS + (f"\n{words}" if words else ""))
        self.availability.setText(words)
        if not offered and self.preference:
            self.set_preference(False)
        self._show_what_applies()

    def _show_what_applies(self) -> None:
        """Preference words only where they matter: with Preference chosen, when it cannot be chosen (why), or
        when the project has preference examples (the recommended order and its one-click supervised set)."""
        preference = self.preference
        self.availability.setVisible(bool(self._availability_words) and (preference or not self._offered))
        self._form.setRowVisible(self._tip, preference or self._preference_count > 0)

    # -- starting point ---------------------------------------------------------------------------
    def set_points(self, points: list[StartingPoint]) -> None:
        """The tuned models and checkpoints offered (the one chosen stays chosen while it is offered)."""
        current = self.start()
        self.points = list(points)
        self.start_combo.blockSignals(True)
        self.start_combo.clear()
        self.start_combo.addItem(FROM_BASE, -1)
        for i, point in enumerate(self.points):
            self.start_combo.addItem(start_label(point), i)
        chosen = self.points.index(current) + 1 if current is not None and current in self.points else 0
        self.start_combo.setCurrentIndex(chosen)
        self.start_combo.blockSignals(False)
        self._start_changed()

    def start(self) -> StartingPoint | None:
        """The tuned model (and checkpoint) chosen to continue from; None: the base model chosen above."""
        i = self.start_combo.currentData()
        return self.points[i] if isinstance(i, int) and 0 <= i < len(self.points) else None

    def choose_start(self, point: StartingPoint) -> bool:
        if point not in self.points:
            return False
        self.start_combo.setCurrentIndex(self.points.index(point) + 1)
        return True

    def _start_changed(self, *_: object) -> None:
        point = self.start()
        if point is None:
            self.start_words.setText("A new tuned model is made from the base model. To continue tuning (for example "
                                     "preference tuning after supervised tuning), choose a checkpoint here."
                                     if self.points else
                                     "When a job of this project has finished, its tuned model and checkpoints "
                                     "are offered here, to continue tuning from them.")
        else:
            base = point.base_model.rsplit("/", 1)[-1]
            self.start_words.setText(f"Tuning continues from this tuned model (base model {base}); the base model "
                                     f"above is not used.")
        self.changed.emit()

    # -- the supervised set -----------------------------------------------------------------------
    def show_build(self, new: int, preference_count: int) -> None:
        """How many supervised examples the button would add (``new``) from ``preference_count`` examples."""
        self.build_button.setEnabled(new > 0)
        self._preference_count = preference_count
        self._show_what_applies()
        if preference_count == 0:
            self.build_words.setText("The project has no preference examples yet: add them in the Dataset tab or "
                                     "from a blind review in the Test tab.")
        elif new == 0:
            self.build_words.setText(f"The preferred answers of the {preference_count:,} preference examples are "
                                     "already among the project's examples.")
        else:
            self.build_words.setText(f"Adds {new:,} supervised example{'s' if new != 1 else ''} (prompt → "
                                     f"preferred answer) from the {preference_count:,} preference examples to the "
                                     "project's examples, as one step you can undo.")

    def focus_order(self) -> list[QWidget]:
        return [self.supervised_radio, self.preference_radio, self.start_combo, self.build_button]
