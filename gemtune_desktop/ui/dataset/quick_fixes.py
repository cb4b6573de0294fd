"""Quick fixes for the problems the Dataset tab finds, and the right-click menus of the table and the problem list.

Where the fix is obvious the app offers it, as one undoable step: trim the spaces around a text (this cell, or
every padded cell), remove a duplicate (this one, or every exact duplicate), remove the preamble an input
repeats, move the system instruction into the preamble (the Gemini API does not take one), split the set
again (a validation set over the service's limit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.validation import Finding
from gemtune_desktop.core.validation import findings as F
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import (
    EditCellCommand,
    RemoveRowsCommand,
    SetFieldsCommand,
    SettingsCommand,
    copy_settings,
)
from gemtune_desktop.ui.dataset.edit_actions import EditActions
from gemtune_desktop.ui.dataset.examples_table import ExamplesTable
from gemtune_desktop.ui.dataset.findings_panel import FindingsPanel
from gemtune_desktop.ui.dataset.row_editor import RowEditor


@dataclass(frozen=True)
class QuickFix:
    label: str
    run: Callable[[], object]


def padded_cells(examples: list[Example]) -> list[tuple[Example, str, object]]:
    """Every input and output with spaces or blank lines at either end, trimmed."""
    out: list[tuple[Example, str, object]] = []
    for e in examples:
        for field in ("input", "output"):
            text = getattr(e, field)
            if text.strip() and text.strip() != text:
                out.append((e, field, text.strip()))
    return out


def system_into_preamble(session: ProjectSession) -> SettingsCommand:
    s = session.settings
    new = copy_settings(s)
    system = s.system_instruction.strip()
    new.preamble = f"{system}\n\n{s.preamble}" if s.preamble.strip() else system
    new.system_instruction = ""
    return SettingsCommand(session, new, "Move the system instruction into the preamble")


class QuickFixes(QObject):
    """Offers the fixes for a problem (in the problem list's details and menus) and builds both right-click menus."""

    def __init__(self, editor: RowEditor, findings: FindingsPanel, table: ExamplesTable, actions: EditActions,
                 flush: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.table = table
        self.actions = actions
        self._flush = flush
        self.findings = findings
        findings.fixes_for = self.fixes_for
        findings.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        findings.view.customContextMenuRequested.connect(self._problem_menu)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._table_menu)
        self.menu: QMenu | None = None

    @property
    def session(self) -> ProjectSession | None:
        return self.editor.session

    def fixes_for(self, f: Finding) -> list[QuickFix]:
        s = self.session
        if s is None or not s.can_edit:
            return []
        e = s.by_id(f.example_id) if f.example_id is not None else None
        field = f.field or ""
        fixes: list[QuickFix] = []
        if f.rule == F.WHITESPACE and e is not None and field in ("input", "output"):
            fixes.append(QuickFix(f"Trim this {field}", lambda: self.editor.push(
                EditCellCommand(s, e, field, getattr(e, field).strip()))))
            fixes.append(QuickFix("Trim every padded input and output", self.trim_all))
        elif f.rule == F.DUPLICATE and e is not None:
            fixes.append(QuickFix("Remove this duplicate", lambda: self.editor.push(
                RemoveRowsCommand(s, [e], "Remove a duplicate row"))))
            fixes.append(QuickFix("Remove every exact duplicate", self.editor.remove_exact_duplicates))
        elif f.rule == F.PREAMBLE_REPEATED and e is not None and s.settings.preamble:
            preamble = s.settings.preamble

            def unrepeat() -> object:
                text = e.input.lstrip()
                return self.editor.push(EditCellCommand(s, e, "input", text[len(preamble):].lstrip()))

            fixes.append(QuickFix("Remove the preamble from this input", unrepeat))
        elif f.rule == F.SYSTEM_INSTRUCTION_UNSUPPORTED:
            fixes.append(QuickFix("Move the system instruction into the preamble", self.move_system_instruction))
        elif f.rule == F.VALIDATION_SIZE:
            fixes.append(QuickFix("Split the set again…", self.editor.show_split_dialog))
        return fixes

    def trim_all(self) -> int:
        s = self.session
        if s is None:
            return 0
        changes = padded_cells(s.examples)
        if changes and self.editor.push(SetFieldsCommand(s, changes, "Trim " + plural(len(changes), "cell"))):
            return len(changes)
        return 0

    def move_system_instruction(self) -> bool:
        s = self.session
        if s is None or not s.settings.system_instruction.strip():
            return False
        self._flush()  # text still being typed in the Preamble tab first
        return self.editor.push(system_into_preamble(s))

    # -- menus ------------------------------------------------------------------------------------
    def _add_fixes(self, menu: QMenu, findings: list[Finding]) -> None:
        seen: set[str] = set()
        for f in findings:
            for fix in self.fixes_for(f):
                if fix.label not in seen:
                    seen.add(fix.label)
                    menu.addAction(fix.label).triggered.connect(lambda _c=False, run=fix.run: run())

    def problem_menu(self, f: Finding) -> QMenu:
        menu = QMenu(self.findings)
        menu.setObjectName("problemMenu")
        if f.example_id is not None:
            menu.addAction("&Go to the example").triggered.connect(
                lambda: self.findings.jump_requested.emit(int(f.example_id or 0), f.field or ""))
        self._add_fixes(menu, [f, *self.findings.model.more_for(f)])
        menu.addSeparator()
        menu.addAction("&Copy the problem's text").triggered.connect(
            lambda: QGuiApplication.clipboard().setText(self.findings.details_text(f)))
        return menu

    def _problem_menu(self, pos: QPoint) -> None:
        index = self.findings.view.indexAt(pos)
        if not index.isValid():
            return
        self.findings.view.setCurrentIndex(index)
        self.menu = self.problem_menu(self.findings.model.findings[index.row()])
        self.menu.popup(self.findings.view.viewport().mapToGlobal(pos))

    def table_menu(self) -> QMenu:
        a = self.actions
        menu = QMenu(self.table)
        menu.setObjectName("tableMenu")
        for group in ([a.cut, a.copy, a.paste], [a.add, a.duplicate, a.delete, a.up, a.down]):
            menu.addActions(group)
            menu.addSeparator()
        s = self.session
        examples = self.table.selected_examples()
        if s is not None and len(examples) == 1 and not s.checking:
            found = list(s.validator.findings_for(examples[0].id))
            self._add_fixes(menu, found)
        menu.addAction(a.dedupe)
        return menu

    def _table_menu(self, pos: QPoint) -> None:
        self.menu = self.table_menu()
        self.menu.popup(self.table.viewport().mapToGlobal(pos))


