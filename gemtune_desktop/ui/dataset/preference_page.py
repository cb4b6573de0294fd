"""The Dataset tab's two views — Examples and Preference pairs — and the switch between them, with their counts.

:func:`install_preference_view` is the Dataset tab's one hook for preference pairs. It puts the Examples view
(the tab's filter bar and splitter) and the :class:`~.preference_view.PreferenceView` one above the other, one
of them hidden, and a two-button switch, "Examples (n)" / "Preference pairs (n)", in the tab's top row.
Switching also switches:

* the Edit menu and File ▸ Export: the shown view's actions stand in the menu, the other view's are hidden
  (:class:`~.preference_actions.ActionSwap`), so Undo, Find or Delete act on what the user sees;
* "Prepare for" (the target of input → output examples), shown only with the Examples.

Files find their own view: every import into the tab (drop, File ▸ Open…, File ▸ Import…, the command line)
first asks :func:`~.preference_transfer.file_kind`; a preference file goes to the pairs, an input → output file
to the Examples, and the view it went to is shown. The tab's text still being typed is written with the pair
editor's (before a project is closed or copied).

To do this from one call at the end of the tab's construction, the page takes over two methods on the tab's
instances: ``tab.transfer.import_file`` (the routing above; it calls the Examples import for input → output
files) and ``tab.flush_edits`` (both views). Every caller reaches them through the instance, so the drop, the
Open and Import dialogs, the mapping dialog's second read and the command line all pass through the page.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.preference.model import ExampleKind
from gemtune_desktop.core.project import preference_repo
from gemtune_desktop.qtcore.project_session import ProjectSession

if TYPE_CHECKING:
    from gemtune_desktop.ui.dataset.preference_view import PreferenceView
    from gemtune_desktop.ui.dataset.tab import DatasetTab

SESSION_NAME = "preferenceSession"  # the object name of a project's PreferenceSession (found without importing it)

SWITCH_STYLE = """
QToolButton { padding: 3px 9px; border: 1px solid palette(mid); background: palette(button); }
QToolButton:checked { background: palette(highlight); color: palette(highlighted-text); }
QToolButton#examplesSwitch { border-top-left-radius: 4px; border-bottom-left-radius: 4px; }
QToolButton#pairsSwitch { border-left: none; border-top-right-radius: 4px; border-bottom-right-radius: 4px; }
"""


class KindSwitch(QWidget):
    """Two buttons, one pressed: the Examples or the Preference pairs view, each with its count.

    Signals:
        toggled(bool): True when the Preference pairs view was picked.
    """

    toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetKindSwitch")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 0)
        row.setSpacing(0)
        self.examples = QToolButton(self)
        self.examples.setObjectName("examplesSwitch")
        self.examples.setToolTip("Input → output examples: what supervised tuning learns from")
        self.pairs = QToolButton(self)
        self.pairs.setObjectName("pairsSwitch")
        self.pairs.setToolTip("Preference pairs: a prompt with a preferred and a dispreferred answer, what "
                              "preference tuning learns from")
        self.group = QButtonGroup(self)
        for b in (self.examples, self.pairs):
            b.setCheckable(True)
            b.setAutoRaise(False)
            self.group.addButton(b)
            row.addWidget(b)
        self.examples.setChecked(True)
        self.setStyleSheet(SWITCH_STYLE)
        self.pairs.toggled.connect(self.toggled)
        self.show_counts(0, 0)

    def show_counts(self, examples: int, pairs: int) -> None:
        self.examples.setText(f"E&xamples ({examples:,})")
        self.pairs.setText(f"Prefere&nce pairs ({pairs:,})")
        self.examples.setAccessibleName(f"Examples view, {examples:,} examples")
        self.pairs.setAccessibleName(f"Preference pairs view, {pairs:,} pairs")


class PreferencePage(QObject):
    """The two views, the switch, the menus and the file routing of the Dataset tab (see the module docstring).

    Only the switch is built with the tab (it is on screen at start-up); the preference view, its menus and
    its modules come the first time they are needed — the view shown, or a preference file imported.
    """

    def __init__(self, tab: DatasetTab) -> None:
        super().__init__(tab)
        self.tab = tab
        self._view: PreferenceView | None = None
        self._project: ProjectSession | None = None
        self.switch = KindSwitch(tab)
        layout = tab.layout()
        assert isinstance(layout, QVBoxLayout)
        first = layout.itemAt(0)
        top = first.layout() if first is not None else None
        assert isinstance(top, QHBoxLayout)
        top.insertWidget(1, self.switch)
        self.examples_widgets: list[QWidget] = [tab.filter_bar, tab.splitter]
        row = [item.widget() for item in (top.itemAt(i) for i in range(top.count())) if item is not None]
        self.target_widgets: list[QWidget] = [tab.target_combo, tab.target_note,
                                              *(w for w in row if isinstance(w, QLabel)
                                                and w.buddy() is tab.target_combo)]
        self._import_examples = tab.transfer.import_file
        tab.transfer.import_file = self.import_file  # type: ignore[method-assign]
        self._flush_examples = tab.flush_edits
        tab.flush_edits = self.flush_edits  # type: ignore[method-assign]
        self.switch.toggled.connect(self.show_pairs)
        tab.ctx.project_changed.connect(self.set_project)
        tab.ctx.preference_examples_changed.connect(self.update_counts)  # e.g. made from votes in the Test tab
        tab.ctx.rows_focus_requested.connect(lambda _ids: self.show_pairs(False))
        tab.transfer.imported.connect(lambda _first: self.show_pairs(False))
        tab.files.about_to_write.connect(self._flush_pairs)  # Save, Save As: the pair editor's typing too
        self.set_project(tab.session)

    @property
    def view(self) -> PreferenceView:
        """The preference view, built (under the tab's splitter, hidden) the first time it is asked for."""
        if self._view is None:
            self._view = self._build_view()
        return self._view

    def _build_view(self) -> PreferenceView:
        from gemtune_desktop.ui.dataset.preference_actions import ActionSwap, make_action
        from gemtune_desktop.ui.dataset.preference_view import PreferenceView

        tab = self.tab
        view = PreferenceView(tab.ctx, tab)
        view.hide()
        layout = tab.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(tab.splitter) + 1, view, 1)
        export = make_action(self, "export", "&Export Preference Pairs…", self._export,
                             tab.transfer.actions["export"].shortcut(),
                             "Write the preference pairs to JSONL, JSON, CSV, TSV or Excel")
        upload = make_action(self, "export_upload", "Export Preference &Upload File (Agent Platform)…",
                             lambda: self._export(upload=True), None,
                             "Write the exact preference file Agent Platform's preference tuning expects")
        t, m = tab.edit_actions, view.pair_actions
        self.swap = ActionSwap([(getattr(t, f.name), getattr(m, f.name)) for f in fields(m)]
                               + [(tab.transfer.actions["export"], export),
                                  (tab.transfer.actions["export_upload"], upload)])
        for signal in (view.model.modelReset, view.model.rowsInserted, view.model.rowsRemoved):
            signal.connect(self.update_counts)
        view.transfer.imported.connect(lambda _first: self.show_pairs(True))
        view.set_project(self._project)
        return view

    # -- the project ----------------------------------------------------------------------------------
    def set_project(self, project: ProjectSession | None) -> None:
        old = self._project
        if old is not None:
            for signal in (old.rows_inserted, old.rows_removed, old.reset_done):
                try:
                    signal.disconnect(self.update_counts)
                except (RuntimeError, TypeError):
                    pass
        self._project = project
        if project is not None:
            for signal in (project.rows_inserted, project.rows_removed, project.reset_done):
                signal.connect(self.update_counts)
        if self._view is not None:
            self._view.set_project(project)
        self.update_counts()

    def update_counts(self, *_args: object) -> None:
        project = self._project
        examples = pairs = 0
        if project is not None and not project.is_closed:
            examples = len(project.examples)
            loaded = getattr(project.findChild(QObject, SESSION_NAME), "examples", None)
            pairs = len(loaded) if loaded is not None else preference_repo.count(project.store)
        self.switch.show_counts(examples, pairs)

    # -- switching ------------------------------------------------------------------------------------
    @property
    def showing_pairs(self) -> bool:
        return self._view is not None and not self._view.isHidden()

    def show_pairs(self, on: bool) -> None:
        """Show the Preference pairs view (True) or the Examples view (False), with their menu actions."""
        if on != self.switch.pairs.isChecked():
            self.switch.blockSignals(True)
            (self.switch.pairs if on else self.switch.examples).setChecked(True)
            self.switch.blockSignals(False)
        if on == self.showing_pairs:
            return
        view = self.view
        (self._flush_examples if on else view.flush_edits)()
        for w in self.examples_widgets:
            w.setVisible(not on)
        view.setVisible(on)
        self.swap.show_preference(on)
        for w in self.target_widgets:
            w.setVisible(not on)
        view.update_actions()

    def flush_edits(self) -> None:
        """The tab's text still being typed, in both views."""
        self._flush_examples()
        self._flush_pairs()

    def _flush_pairs(self) -> None:
        if self._view is not None:
            self._view.flush_edits()

    # -- files ----------------------------------------------------------------------------------------
    def import_file(self, path: Path, mapping: object = None, sheet: str | None = None) -> bool:
        """Every import into the tab: a preference file goes to the pairs, the rest to the Examples."""
        if mapping is None and self.tab.session is not None and Path(path).suffix.lower() != ".gemtune":
            from gemtune_desktop.ui.dataset.preference_transfer import file_kind

            try:
                kind = file_kind(Path(path), self.showing_pairs)
            except UserError:
                kind = ExampleKind.SUPERVISED  # the Examples import says what is wrong with the file
            if kind is ExampleKind.PREFERENCE and self.view.ensure_session() is not None:
                self.show_pairs(True)
                return self.view.transfer.import_file(Path(path), sheet=sheet)
            self.show_pairs(False)
        return bool(self._import_examples(path, mapping, sheet))  # type: ignore[arg-type]

    def _export(self, upload: bool = False) -> None:
        self.view.flush_edits()
        self.view.transfer.export_dialog(self.tab.files.dialog_dir(), upload=upload)


def install_preference_view(tab: DatasetTab) -> PreferencePage:
    """Give the Dataset tab its Preference pairs view (see the module docstring); call once, at the end of the
    tab's construction."""
    return PreferencePage(tab)
