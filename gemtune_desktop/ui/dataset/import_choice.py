"""Importing into a project that already has examples: Add, Replace or Merge, with the counts before anything
changes, and applying the choice as one undo step."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.merge import MergePlan, count_repeated_inputs, plan_merge
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import (
    CompositeCommand,
    InsertRowsCommand,
    RemoveRowsCommand,
    SafeCommand,
    SetFieldsCommand,
)


class ImportMode(enum.Enum):
    ADD = "add"
    REPLACE = "replace"
    MERGE = "merge"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("s" if count != 1 else "")


def describe_choices(file_name: str, existing: Sequence[Example], incoming: Sequence[Example],
                     plan: MergePlan) -> tuple[str, str]:
    """(question, the three choices with their counts) for the box."""
    repeated = count_repeated_inputs(existing, incoming)
    question = f"This project already has {_n(len(existing), 'example')}. How should the " \
               f"{_n(len(incoming), 'example')} from “{file_name}” come in?"
    add = f"Add: put them after the examples already here ({len(existing) + len(incoming):,} in all"
    add += f"; {_n(repeated, 'row')} repeat an input already in the project)." if repeated else ")."
    replace = f"Replace: remove the {_n(len(existing), 'example')} now in the project and put these in their place."
    merge = (f"Merge: update {_n(plan.updated, 'example')} whose input matches, add {_n(len(plan.added), 'new one')}, "
             f"leave {_n(plan.unchanged, 'row')} of the file that {'is' if plan.unchanged == 1 else 'are'} "
             "already here as they are.")
    if plan.empty:
        merge = f"Merge: every row of “{file_name}” is already here as it is; nothing would change."
    tail = "Each is one step: Undo (Ctrl+Z) takes it back."
    return question, "\n\n".join((add, replace, merge, tail))


def ask_import_mode(parent: QWidget, file_name: str, existing: Sequence[Example], incoming: Sequence[Example],
                    on_choice: Callable[[ImportMode, MergePlan], object]) -> QMessageBox:
    """A window-modal box with Add, Replace, Merge and Cancel; ``on_choice`` runs with the chosen mode."""
    plan = plan_merge(existing, incoming)
    question, choices = describe_choices(file_name, existing, incoming, plan)
    box = QMessageBox(QMessageBox.Icon.Question, "Import into this project", question, parent=parent)
    box.setObjectName("importChoiceBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setInformativeText(choices)
    buttons: dict[QAbstractButton, ImportMode] = {}
    default = ImportMode.MERGE if plan.matching else ImportMode.ADD
    for mode, text in ((ImportMode.ADD, "&Add"), (ImportMode.REPLACE, "&Replace"), (ImportMode.MERGE, "&Merge")):
        button = box.addButton(text, QMessageBox.ButtonRole.AcceptRole)
        button.setObjectName(f"import_{mode.value}")
        buttons[button] = mode
        if mode is default:
            box.setDefaultButton(button)
    box.addButton(QMessageBox.StandardButton.Cancel)

    def clicked(button: QAbstractButton) -> None:
        mode = buttons.get(button)
        if mode is not None:
            on_choice(mode, plan)

    box.buttonClicked.connect(clicked)
    box.open()
    return box


def import_command(session: ProjectSession, mode: ImportMode, examples: list[Example], file_name: str,
                   settings: DatasetSettings | None, plan: MergePlan | None = None) -> tuple[SafeCommand | None, int]:
    """The one undo step for the chosen mode, and the list index of the first new row (-1: none)."""
    s = session
    if mode is ImportMode.ADD:
        first = len(s.examples)
        return InsertRowsCommand(s, first, examples, f"Import {file_name}", settings=settings, action="import"), first
    if mode is ImportMode.REPLACE:
        steps: list[SafeCommand] = [RemoveRowsCommand(s, list(s.examples)),
                                    InsertRowsCommand(s, 0, examples, "", settings=settings)]
        return CompositeCommand(s, f"Replace the examples with {file_name}", steps, action="import"), 0
    plan = plan if plan is not None else plan_merge(s.examples, examples)
    steps = []
    if plan.changes:
        steps.append(SetFieldsCommand(s, plan.changes, ""))
    first = len(s.examples) if plan.added else -1
    if plan.added or settings is not None:
        steps.append(InsertRowsCommand(s, len(s.examples), plan.added, "", settings=settings))
    if not steps:
        return None, -1
    return CompositeCommand(s, f"Merge {file_name}", steps, action="import"), first


def merge_report(plan: MergePlan, file_name: str) -> str:
    return (f"Merged {file_name}: {_n(plan.updated, 'example')} updated, {_n(len(plan.added), 'example')} added, "
            f"{_n(plan.unchanged, 'row')} already here.")
