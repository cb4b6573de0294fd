"""Presets of the Tune tab: the row that saves, loads and deletes named settings, and where they are kept.

Presets live in settings (``TUNE_PRESETS``) as :class:`~gemtune_desktop.qtcore.settings.TunePreset` s: the
backend a preset was saved for and the form's values.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from gemtune_desktop.core.job_spec import JobSpec
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings, TunePreset
from gemtune_desktop.services.connections import Backend


class PresetsRow(QWidget):
    """An editable preset name with Load, Save and Delete.

    Signals:
        load_requested(str), save_requested(str), delete_requested(str): the preset name as typed.
    """

    load_requested = Signal(str)
    save_requested = Signal(str)
    delete_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setEditable(True)
        self.combo.setObjectName("tunePreset")
        edit = self.combo.lineEdit()
        if edit is not None:
            edit.setPlaceholderText("Preset name")
        self.load_button = QPushButton("Load", self)
        self.load_button.setToolTip("Fill the form with the chosen preset.")
        self.save_button = QPushButton("Save", self)
        self.save_button.setToolTip("Save the current settings under the name typed on the left.")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip("Forget the chosen preset.")
        row.addWidget(self.combo, 1)
        for button, signal in ((self.load_button, self.load_requested), (self.save_button, self.save_requested),
                               (self.delete_button, self.delete_requested)):
            row.addWidget(button)
            button.clicked.connect(lambda _c=False, s=signal: s.emit(self.name()))

    def name(self) -> str:
        return self.combo.currentText().strip()

    def set_name(self, name: str) -> None:
        self.combo.setEditText(name)

    def show_names(self, names: list[str]) -> None:
        """List these presets, keeping the name typed."""
        text = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        for name in names:
            self.combo.addItem(name)
        self.combo.setEditText(text)
        self.combo.blockSignals(False)

    def focus_order(self) -> list[QWidget]:
        return [self.combo, self.load_button, self.save_button, self.delete_button]


class Presets:
    """The saved presets, read from and written to settings; each method returns what to tell the user."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def names(self) -> list[str]:
        presets: dict[str, TunePreset] = self._settings.read(S.TUNE_PRESETS)
        return sorted(presets)

    def save(self, name: str, spec: JobSpec, method: Mapping[str, object] | None = None) -> str:
        """Save ``spec`` under ``name``; ``method``: the method and, for preference tuning, its settings."""
        if not name:
            return "Type a name for the preset first (in the Preset box)."
        presets = self._settings.read(S.TUNE_PRESETS)
        presets[name] = TunePreset(spec.backend, {"base_model": spec.base_model, **spec.hyperparameters(),
                                                  **(method or {})})
        self._settings.write(S.TUNE_PRESETS, presets)
        return f"Preset “{name}” saved."

    def get(self, name: str) -> TunePreset | None:
        return self._settings.read(S.TUNE_PRESETS).get(name)

    def load_note(self, name: str, preset: TunePreset, backend: Backend) -> str:
        note = ""
        if preset.backend and preset.backend != backend.value:
            note = (f" It was saved for {Backend(preset.backend).label}; settings that do not apply here were "
                    "skipped.")
        return f"Preset “{name}” loaded.{note}"

    def delete(self, name: str) -> str:
        presets = self._settings.read(S.TUNE_PRESETS)
        if name not in presets:
            return ""
        del presets[name]
        self._settings.write(S.TUNE_PRESETS, presets)
        return f"Preset “{name}” deleted."
