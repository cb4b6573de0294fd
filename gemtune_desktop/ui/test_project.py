"""How the Test tab reads and changes the open project: examples, dataset texts, new examples, corrections.

Changes go through the project session's undo commands (``qtcore/undo.py``), so the Dataset
tab's view and Edit → Undo stay in step; a bare store (no session) is written through
``core/project/examples_repo``.
"""

from __future__ import annotations

import logging
from typing import Any

from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.qtcore.context import AppContext

log = logging.getLogger(__name__)


def store_of(ctx: AppContext) -> Any:
    return getattr(ctx.project, "store", None) if ctx.project is not None else None


def examples(ctx: AppContext) -> list[Example]:
    project = ctx.project
    if project is None:
        return []
    listed = getattr(project, "examples", None)
    if isinstance(listed, list):
        return listed
    store = store_of(ctx)
    if store is None:
        return []
    from gemtune_desktop.core.project import examples_repo

    return examples_repo.load_examples(store)


def dataset_settings(ctx: AppContext) -> DatasetSettings:
    project = ctx.project
    if project is None:
        return DatasetSettings()
    value = getattr(project, "settings", None)
    if isinstance(value, DatasetSettings):
        return value
    store = store_of(ctx)
    if store is None:
        return DatasetSettings()
    from gemtune_desktop.core.project import examples_repo

    return examples_repo.load_settings(store)


def add_example(ctx: AppContext, example: Example) -> int:
    """Append ``example`` to the project as one undoable step (Edit → Undo removes it); returns its id."""
    project = ctx.project
    if project is None:
        raise RuntimeError("no project is open")
    undo_stack = getattr(project, "undo_stack", None)
    if undo_stack is not None and hasattr(project, "insert"):
        from gemtune_desktop.qtcore.undo import InsertRowsCommand

        undo_stack.push(InsertRowsCommand(project, len(project.examples), [example], "Add example from Test tab"))
        return int(example.id)
    from gemtune_desktop.core.project import examples_repo

    store = store_of(ctx)
    examples_repo.insert(store, [example], examples_repo.positions_before(store, None, 1))
    return int(example.id)


def set_output(ctx: AppContext, example_id: int, output: str) -> None:
    """Replace an example's expected output (a correction from a review), as one undoable step."""
    project = ctx.project
    if project is None:
        raise RuntimeError("no project is open")
    by_id = getattr(project, "by_id", None)
    example = by_id(example_id) if callable(by_id) else None
    undo_stack = getattr(project, "undo_stack", None)
    if example is not None and undo_stack is not None:
        from gemtune_desktop.qtcore.undo import SetFieldsCommand

        undo_stack.push(SetFieldsCommand(project, [(example, "output", output)], "Correct output from review"))
        return
    if example is None and callable(by_id):
        raise ValueError(f"Example {example_id} is no longer in the dataset.")
    from gemtune_desktop.core.project import examples_repo

    examples_repo.update_fields(store_of(ctx), [(example_id, "output", output)])


def split_examples(ctx: AppContext, splits: set[Split]) -> list[Example]:
    return [e for e in examples(ctx) if e.split in splits]


def examples_by_row_numbers(ctx: AppContext, spec: str) -> list[Example]:
    """Rows picked as "1-20, 35, 40-42" (1-based as the Dataset tab shows them).

    Raises ValueError with a plain message for a malformed or out-of-range spec.
    """
    rows = examples(ctx)
    chosen: list[int] = []
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                lo_text, hi_text = part.split("-", 1)
                lo, hi = int(lo_text), int(hi_text)
            else:
                lo = hi = int(part)
        except ValueError:
            raise ValueError(f"“{part}” is not a row number or a range like 3-10.") from None
        if lo < 1 or hi > len(rows) or lo > hi:
            raise ValueError(f"Rows {part} are outside 1–{len(rows)}.")
        chosen.extend(range(lo, hi + 1))
    seen: set[int] = set()
    result = []
    for n in chosen:
        if n not in seen:
            seen.add(n)
            result.append(rows[n - 1])
    return result
