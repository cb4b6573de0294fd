"""Hyperparameter presets of the Tune tab: save, load and delete named settings (settings key TUNE_PRESETS)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import TunePreset
from gemtune_desktop.services.connections import Backend

if TYPE_CHECKING:
    from PySide6.QtWidgets import QComboBox

    from gemtune_desktop.core.job_spec import JobSpec
    from gemtune_desktop.qtcore.context import AppContext


class TunePresetsMixin:
    """Presets for :class:`~gemtune_desktop.ui.tune_tab.TuneTab`, stored as JSON: name → backend and settings."""

    if TYPE_CHECKING:  # provided by TuneTab
        ctx: AppContext
        backend: Backend
        preset_combo: QComboBox

        def spec(self) -> JobSpec: ...
        def set_values(self, values: dict[str, Any]) -> None: ...
        def _show_status(self, text: str) -> None: ...

    # -- presets ------------------------------------------------------------------------------
    def _presets(self) -> dict[str, TunePreset]:
        return self.ctx.settings.read(S.TUNE_PRESETS)

    def _reload_presets(self) -> None:
        text = self.preset_combo.currentText()
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        for name in sorted(self._presets()):
            self.preset_combo.addItem(name)
        self.preset_combo.setEditText(text)
        self.preset_combo.blockSignals(False)

    def save_preset(self) -> None:
        name = self.preset_combo.currentText().strip()
        if not name:
            self._show_status("Type a name for the preset first (in the Preset box).")
            return
        spec = self.spec()
        presets = self._presets()
        presets[name] = TunePreset(spec.backend, {"base_model": spec.base_model, **spec.hyperparameters()})
        self.ctx.settings.write(S.TUNE_PRESETS, presets)
        self._reload_presets()
        self.preset_combo.setEditText(name)
        self._show_status(f"Preset “{name}” saved.")

    def load_preset(self) -> None:
        name = self.preset_combo.currentText().strip()
        preset = self._presets().get(name)
        if preset is None:
            self._show_status(f"There is no preset called “{name}”." if name else "Choose a preset first.")
            return
        note = ""
        if preset.backend and preset.backend != self.backend.value:
            note = (f" It was saved for {Backend(preset.backend).label}; settings that do not apply here were "
                    "skipped.")
        self.set_values(dict(preset.values))
        self._show_status(f"Preset “{name}” loaded.{note}")

    def delete_preset(self) -> None:
        name = self.preset_combo.currentText().strip()
        presets = self._presets()
        if name in presets:
            del presets[name]
            self.ctx.settings.write(S.TUNE_PRESETS, presets)
            self._reload_presets()
            self.preset_combo.setEditText("")
            self._show_status(f"Preset “{name}” deleted.")
