"""Blind review: two models' answers in random order, without names; the expert picks the better one.

Votes are stored per example as "a" (the run's first model), "b" (the second) or "tie"; the
order shown is fixed per example (seeded by run and example), so coming back shows the same
sides. Nothing in the dialog says which model wrote which answer: the sides are random, the
tally counts only votes and ties, and the names appear in the evaluation view once the dialog is
closed. A correction typed here can replace the example's expected output in the dataset, or
become the preferred answer of preference examples; each vote (or all of them at once) can become
a preference example too (:class:`~gemtune_desktop.ui.playground.review_flow.PreferenceMaker`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.eval_metrics import preference_tally
from gemtune_desktop.services.eval_plan import RowGroup
from gemtune_desktop.ui.playground.eval_rows_model import answer_words


class Preferences(Protocol):
    """Turns the review's verdicts into preference examples; each call answers in plain words."""

    def count(self) -> int: ...

    def from_votes(self, only: list[int] | None = None) -> str: ...

    def from_correction(self, example_id: int, text: str) -> str: ...


def swapped(run_id: int, example_id: int) -> bool:
    """Whether the second model is shown on the left for this example (stable per run and example)."""
    return random.Random(run_id * 1_000_003 + example_id).random() < 0.5


class BlindReviewDialog(QDialog):
    """Steps through the examples both models answered.

    Args:
        record: called with (example_id, "a" | "b" | "tie") for each vote.
        correct: called with (example_id, new expected output) to send a correction to the dataset.
        preferences: makes preference examples of votes and corrections (None: not offered).
    """

    def __init__(self, run_id: int, groups: list[RowGroup], votes: dict[int, str],
                 record: Callable[[int, str], None], correct: Callable[[int, str], None] | None,
                 parent: QWidget | None = None, preferences: Preferences | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Blind review")
        self.run_id = run_id
        self.groups = [g for g in groups if all(s in g.answers and not g.answers[s].error for s in (0, 1))]
        self.votes = dict(votes)
        self._record = record
        self._correct = correct
        self._preferences = preferences
        self.index = 0
        for i, g in enumerate(self.groups):  # start at the first example without a vote
            if g.example_id not in self.votes:
                self.index = i
                break

        layout = QVBoxLayout(self)
        self.counter = QLabel(self)
        self.counter.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.counter)
        self.prompt = QPlainTextEdit(self)
        self.prompt.setReadOnly(True)
        self.prompt.setMaximumHeight(90)
        self.prompt.setAccessibleName("The example's input")
        layout.addWidget(QLabel("Input", self))
        layout.addWidget(self.prompt)
        self.show_expected = QCheckBox("Show the expected output", self)
        self.show_expected.setToolTip("Hide it to judge the answers on their own.")
        self.show_expected.setChecked(True)
        self.expected = QPlainTextEdit(self)
        self.expected.setReadOnly(True)
        self.expected.setMaximumHeight(70)
        self.expected.setAccessibleName("Expected output")
        self.show_expected.toggled.connect(self.expected.setVisible)
        layout.addWidget(self.show_expected)
        layout.addWidget(self.expected)

        grid = QGridLayout()
        self.answer_edits: list[QPlainTextEdit] = []
        for col, title in enumerate(("Answer 1", "Answer 2")):
            grid.addWidget(QLabel(title, self), 0, col)
            edit = QPlainTextEdit(self)
            edit.setReadOnly(True)
            edit.setObjectName(f"blindAnswer{col + 1}")
            edit.setAccessibleName(title)
            grid.addWidget(edit, 1, col)
            self.answer_edits.append(edit)
        layout.addLayout(grid, 1)
        layout.addLayout(self._build_votes_row())
        layout.addLayout(self._build_correction_row(correct is not None))
        layout.addLayout(self._build_preference_row())
        self.tally = QLabel(self)
        self.tally.setObjectName("reviewTally")
        self.tally.setTextFormat(Qt.TextFormat.PlainText)
        self.tally.setWordWrap(True)
        layout.addWidget(self.tally)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(900, 640)
        self._show()

    def _build_votes_row(self) -> QHBoxLayout:
        votes_row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (("1", "Answer 1 is better", "Shortcut: 1"), ("tie", "Tie", "Shortcut: T"),
                               ("2", "Answer 2 is better", "Shortcut: 2")):
            button = QPushButton(text, self)
            button.setObjectName(f"vote_{key}")
            button.setToolTip(tip)
            button.setShortcut({"1": "1", "tie": "T", "2": "2"}[key])
            button.clicked.connect(lambda _=False, k=key: self.vote(k))
            votes_row.addWidget(button)
            self.buttons[key] = button
        self.back = QPushButton("Back", self)
        self.back.clicked.connect(lambda: self._go(self.index - 1))
        self.skip = QPushButton("Skip", self)
        self.skip.clicked.connect(lambda: self._go(self.index + 1))
        votes_row.addWidget(self.back)
        votes_row.addWidget(self.skip)
        return votes_row

    def _build_correction_row(self, can_correct: bool) -> QHBoxLayout:
        correction_row = QHBoxLayout()
        self.correction = QPlainTextEdit(self)
        self.correction.setObjectName("correction")
        self.correction.setMaximumHeight(70)
        self.correction.setPlaceholderText("Type the correct output here to fix the example in the dataset…")
        self.correction.setAccessibleName("Corrected output for this example")
        self.send_correction = QPushButton("Send correction to dataset", self)
        self.send_correction.setObjectName("sendCorrection")
        self.send_correction.setToolTip("Replace this example's expected output with the text on the left.")
        self.send_correction.clicked.connect(self._send_correction)
        self.send_correction.setEnabled(can_correct)
        self.prefer_correction = QPushButton("Prefer the correction", self)
        self.prefer_correction.setObjectName("preferCorrection")
        self.prefer_correction.setToolTip("Make preference examples: the text on the left preferred over each "
                                          "answer shown.")
        self.prefer_correction.clicked.connect(self._prefer_correction)
        correction_row.addWidget(self.correction, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_correction)
        buttons.addWidget(self.prefer_correction)
        correction_row.addLayout(buttons)
        return correction_row

    def _build_preference_row(self) -> QVBoxLayout:
        box = QVBoxLayout()
        row = QHBoxLayout()
        box.addLayout(row)
        self.vote_to_preference = QPushButton("This vote → preference example", self)
        self.vote_to_preference.setObjectName("voteToPreference")
        self.vote_to_preference.setToolTip("The answer you picked becomes the preferred answer, the other the "
                                           "dispreferred one (a tie teaches no preference). Shortcut: P")
        self.vote_to_preference.setShortcut("P")
        self.vote_to_preference.clicked.connect(self._vote_to_preference)
        self.all_to_preference = QPushButton("All votes → preference examples", self)
        self.all_to_preference.setObjectName("allVotesToPreference")
        self.all_to_preference.setToolTip("Every vote of this review at once; ties, and votes already turned into "
                                          "examples, are skipped.")
        self.all_to_preference.clicked.connect(self._all_to_preference)
        self.auto_preference = QCheckBox("Each vote also becomes a preference example", self)
        self.auto_preference.setObjectName("autoPreference")
        self.auto_preference.setToolTip("As you vote, the answer you pick becomes a preferred answer and the other a "
                                        "dispreferred one, in the project's preference examples.")
        self.preference_status = QLabel(self)
        self.preference_status.setObjectName("preferenceStatus")
        self.preference_status.setTextFormat(Qt.TextFormat.PlainText)
        self.preference_status.setWordWrap(True)
        row.addWidget(self.auto_preference)
        row.addWidget(self.vote_to_preference)
        row.addWidget(self.all_to_preference)
        row.addStretch(1)
        box.addWidget(self.preference_status)  # a line of its own: the summary can be long
        offered = self._preferences is not None
        for widget in (self.auto_preference, self.vote_to_preference, self.all_to_preference, self.prefer_correction):
            widget.setVisible(offered)
        return box

    def current(self) -> RowGroup | None:
        return self.groups[self.index] if 0 <= self.index < len(self.groups) else None

    def shown_order(self, group: RowGroup) -> tuple[int, int]:
        """Slots shown as (answer 1, answer 2)."""
        return (1, 0) if swapped(self.run_id, group.example_id) else (0, 1)

    def _show(self) -> None:
        g = self.current()
        done = sum(1 for x in self.groups if x.example_id in self.votes)
        self.counter.setText(f"Example {self.index + 1} of {len(self.groups)} · {done} judged"
                             if g else "No example has answers from both models yet.")
        for b in (*self.buttons.values(), self.correction, self.send_correction, self.prefer_correction):
            b.setEnabled(g is not None and (b is not self.send_correction or self._correct is not None))
        self.vote_to_preference.setEnabled(g is not None and self.votes.get(g.example_id, "tie") != "tie")
        self.all_to_preference.setEnabled(any(v != "tie" for v in self.votes.values()))
        self.back.setEnabled(self.index > 0)
        self.skip.setEnabled(self.index < len(self.groups) - 1)
        if g is None:
            self._update_tally()
            return
        self.prompt.setPlainText(g.input)
        self.expected.setPlainText(g.expected)
        for edit, slot in zip(self.answer_edits, self.shown_order(g), strict=True):
            edit.setPlainText(answer_words(g.answers.get(slot)))
        self.correction.setPlainText("")
        vote = self.votes.get(g.example_id)
        for key, button in self.buttons.items():
            chosen = vote is not None and self._to_key(g, vote) == key
            button.setText(button.text().removeprefix("✔ "))
            if chosen:
                button.setText("✔ " + button.text())
        self._update_tally()

    def _to_choice(self, g: RowGroup, key: str) -> str:
        if key == "tie":
            return "tie"
        slot = self.shown_order(g)[int(key) - 1]
        return "a" if slot == 0 else "b"

    def _to_key(self, g: RowGroup, choice: str) -> str:
        if choice == "tie":
            return "tie"
        slot = 0 if choice == "a" else 1
        return str(self.shown_order(g).index(slot) + 1)

    def vote(self, key: str) -> None:
        g = self.current()
        if g is None:
            return
        choice = self._to_choice(g, key)
        self.votes[g.example_id] = choice
        self._record(g.example_id, choice)
        if self._preferences is not None and self.auto_preference.isChecked() and choice != "tie":
            self.preference_status.setText(self._preferences.from_votes([g.example_id]))
        self._go(self.index + 1 if self.index < len(self.groups) - 1 else self.index)
        self.all_to_preference.setEnabled(any(v != "tie" for v in self.votes.values()))

    def _go(self, pos: int) -> None:
        self.index = max(0, min(pos, len(self.groups) - 1))
        self._show()

    def _update_tally(self) -> None:
        t = preference_tally(self.votes.get(g.example_id, "") for g in self.groups)
        judged = t["a"] + t["b"] + t["tie"]
        made = self._preferences.count() if self._preferences is not None else 0
        made_text = f" Preference examples from this review: {made}." if self._preferences is not None else ""
        if judged == 0:
            self.tally.setText("No votes yet. Which model wrote which answer is shown in the evaluation view after "
                               f"you close the review.{made_text}")
            return
        self.tally.setText(f"{judged} of {len(self.groups)} judged, {t['tie']} tie{'' if t['tie'] == 1 else 's'}. "
                           f"Which model you preferred is shown after you close the review.{made_text}")

    def _send_correction(self) -> None:
        g = self.current()
        text = self.correction.toPlainText()
        if g is None or self._correct is None or not text.strip():
            return
        self._correct(g.example_id, text)
        g.expected = text
        self.expected.setPlainText(text)
        self.correction.setPlainText("")

    def _prefer_correction(self) -> None:
        g = self.current()
        text = self.correction.toPlainText()
        if g is None or self._preferences is None:
            return
        if not text.strip():
            self.preference_status.setText("✖ Type the answer you would have wanted in the box on the left first.")
            self.correction.setFocus()
            return
        self.preference_status.setText(self._preferences.from_correction(g.example_id, text))
        self._update_tally()

    def _vote_to_preference(self) -> None:
        g = self.current()
        if g is None or self._preferences is None:
            return
        if g.example_id not in self.votes:
            self.preference_status.setText("✖ Vote on this example first (1, 2 or T).")
            return
        self.preference_status.setText(self._preferences.from_votes([g.example_id]))
        self._update_tally()

    def _all_to_preference(self) -> None:
        if self._preferences is None:
            return
        self.preference_status.setText(self._preferences.from_votes())
        self._update_tally()
