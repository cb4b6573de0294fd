"""The Problems panel in the real window: one line per problem with its details on demand, a cell listed once,
quick fixes where the fix is obvious, right-click menus on the table and on the list, and an over-long example
flagged against the rest (issue 17, item 8)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.qtcore.undo import InsertRowsCommand, SettingsCommand, copy_settings
from gemtune_desktop.services.connections import ConnectionKind
from gemtune_desktop.ui.dataset.tab import DatasetTab


@pytest.fixture
def tab(fake_window: Any, qtbot: Any) -> DatasetTab:
    t = fake_window.tab_widgets["dataset"]
    fake_window.show_tab("dataset")
    qtbot.waitUntil(lambda: t.session is not None)
    t.side.setCurrentWidget(t.findings)
    return t


def clauses(n: int) -> list[Example]:
    rng = random.Random(7)
    return [Example(f"Clause {i}: " + ("The party shall notify the other in writing. " * rng.randint(4, 12)).strip(),
                    f"Risk: {'high' if i % 3 else 'low'}") for i in range(n)]


def load(tab: DatasetTab, examples: list[Example]) -> None:
    s = tab.session
    assert s.push(InsertRowsCommand(s, 0, examples, "seed"))
    tab.findings.refresh()


def line_of(tab: DatasetTab, words: str) -> int:
    model = tab.findings.model
    texts = [model.data(model.index(r, 2)) for r in range(model.rowCount())]
    return next(i for i, t in enumerate(texts) if words in t)


def test_an_over_long_example_is_flagged_against_the_rest(tab: DatasetTab) -> None:
    examples = clauses(61)
    examples[40] = Example("Clause 40: " + "x" * 4_089, "Risk: high")  # 4,100 characters
    load(tab, examples)
    r = line_of(tab, "This input has 4,100 characters, far longer than most")
    assert tab.findings.model.data(tab.findings.model.index(r, 1)) == "41, input"


def test_one_line_per_problem_details_on_demand_and_a_cell_listed_once(tab: DatasetTab) -> None:
    examples = clauses(30)
    examples[5].output = "  " + "A very long answer that goes on. " * 40  # padded and far longer than the rest
    load(tab, examples)
    view, model = tab.findings.view, tab.findings.model
    assert not view.wordWrap()
    heights = {view.rowHeight(r) for r in range(model.rowCount())}
    assert len(heights) == 1  # every problem is one line
    cells = [(f.example_id, f.field) for f in model.findings if f.example_id is not None]
    assert len(cells) == len(set(cells))  # no cell twice
    r = line_of(tab, "(+1 more in this cell)")
    view.clicked.emit(model.index(r, 2))
    details = tab.findings.details.text()
    assert details.startswith("Warning — Row 6, output") and "Also in this cell" in details
    assert tab.side.currentWidget() is tab.findings  # the details stay in view
    assert tab.table.currentIndex().row() == 5  # and the row is selected in the table
    view.doubleClicked.emit(model.index(r, 2))
    assert tab.side.currentWidget() is tab.detail


def test_quick_fixes_trim_and_remove_a_duplicate_each_one_undo_step(tab: DatasetTab) -> None:
    examples = clauses(10)
    examples[2].input = examples[2].input + "   \n"
    examples.append(Example(examples[4].input, examples[4].output))
    load(tab, examples)
    findings = tab.findings
    findings.view.clicked.emit(findings.model.index(line_of(tab, "ends with spaces"), 2))
    assert findings.fix_buttons[0].text() == "Trim this input" and findings.fix_buttons[0].isVisible()
    findings.fix_buttons[0].click()
    assert repo.load_examples(tab.session.store)[2].input == examples[2].input.strip()
    findings.refresh()
    findings.view.clicked.emit(findings.model.index(line_of(tab, "same input"), 2))
    assert [b.text() for b in findings.fix_buttons if b.isVisible()] == ["Remove this duplicate",
                                                                         "Remove every exact duplicate"]
    findings.fix_buttons[0].click()
    assert len(repo.load_examples(tab.session.store)) == 10
    tab.edit_actions.undo.trigger()
    assert len(repo.load_examples(tab.session.store)) == 11


def test_move_the_system_instruction_into_the_preamble(tab: DatasetTab) -> None:
    tab.ctx.connections.set_active(ConnectionKind.GEMINI_API)  # the Gemini API takes no system instruction
    load(tab, clauses(5))
    s = tab.session
    new = copy_settings(s.settings)
    new.system_instruction, new.preamble = "You are a careful paralegal.", "Rate the clause's risk."
    assert s.push(SettingsCommand(s, new, "x"))
    tab.findings.refresh()
    r = line_of(tab, "Gemini API tuning takes input and output only")
    menu = tab.quick_fixes.problem_menu(tab.findings.model.findings[r])
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Move the system instruction into the preamble", "&Copy the problem's text"]
    next(a for a in menu.actions() if a.text().startswith("Move")).trigger()
    saved = repo.load_settings(s.store)
    assert (saved.preamble, saved.system_instruction) == ("You are a careful paralegal.\n\nRate the clause's risk.",
                                                          "")
    assert tab.settings_panel.preamble.toPlainText().startswith("You are a careful paralegal.")


def test_a_validation_set_too_large_is_fixed_by_splitting_again(tab: DatasetTab, qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication

    from gemtune_desktop.core.examples import Split

    # Agent Platform takes at most 30 % of the training examples once there are over 1,000 validation examples.
    rows = [Example(f"Clause {i}: notify in writing?", f"Risk {i % 3}", Split.VALIDATION if i < 1100 else Split.TRAIN)
            for i in range(2000)]
    load(tab, rows)
    tab.findings.refresh()
    qtbot.waitUntil(lambda: any(f.rule == "validation-size" for f in tab.findings.model.findings), timeout=10000)
    finding = next(f for f in tab.findings.model.findings if f.rule == "validation-size")
    menu = tab.quick_fixes.problem_menu(finding)
    next(a for a in menu.actions() if a.text() == "Split the set again…").trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "splitDialog" and w.isVisible())
    dialog.accept()  # the ratios it proposes (mostly training)
    splits = [e.split for e in repo.load_examples(tab.session.store)]
    assert splits.count(Split.VALIDATION) < 0.3 * splits.count(Split.TRAIN)
    tab.findings.refresh()
    qtbot.waitUntil(lambda: not any(f.rule == "validation-size" for f in tab.findings.model.findings), timeout=10000)
    tab.edit_actions.undo.trigger()  # one step takes it back
    assert [e.split for e in repo.load_examples(tab.session.store)].count(Split.VALIDATION) == 1100


def test_the_table_has_a_right_click_menu_with_the_row_s_fixes(tab: DatasetTab) -> None:
    examples = clauses(6)
    examples[3].output = examples[3].output + "  "
    load(tab, examples)
    tab.table.select_list_indices([3])
    menu = tab.quick_fixes.table_menu()
    texts = [a.text().replace("&", "") for a in menu.actions() if a.text()]
    for words in ("Cut Rows", "Copy", "Paste", "Add Row", "Duplicate Rows", "Delete Rows", "Trim this output",
                  "Remove Exact Duplicates"):
        assert words in texts, words
    next(a for a in menu.actions() if a.text() == "Trim this output").trigger()
    assert repo.load_examples(tab.session.store)[3].output == examples[3].output.strip()
