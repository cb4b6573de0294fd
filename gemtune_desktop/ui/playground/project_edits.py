"""How the Test tab changes the open project: a new example from an answer, a corrected output from a review.

Changes go through the project session's undo commands (:mod:`gemtune_desktop.qtcore.undo`), so the
Dataset tab's view and Edit → Undo stay in step.
"""

from __future__ import annotations

from gemtune_desktop.core.examples import Example
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import InsertRowsCommand, SetFieldsCommand


def add_example(project: ProjectSession, example: Example) -> int:
    """Append ``example`` to the project as one undoable step (Edit → Undo removes it); returns its id."""
    project.undo_stack.push(InsertRowsCommand(project, len(project.examples), [example], "Add example from Test tab"))
    return int(example.id)


def set_output(project: ProjectSession, example_id: int, output: str) -> None:
    """Replace an example's expected output (a correction from a review), as one undoable step."""
    example = project.by_id(example_id)
    if example is None:
        raise ValueError(f"Example {example_id} is no longer in the dataset.")
    project.undo_stack.push(SetFieldsCommand(project, [(example, "output", output)], "Correct output from review"))
