"""The Test tab's generation settings and safety settings panels.

:class:`GenerationPanel` edits a :class:`GenerationSettings` (with Precise / Balanced /
Creative presets and Reset to defaults); :class:`SafetyPanel` a threshold per harm
category. Each control has a plain tooltip and an accessible name.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.generation import (
    DEFAULT_GENERATION,
    GENERATION_HELP,
    PRESET_HELP,
    PRESETS,
    THRESHOLD_HELP,
    GenerationSettings,
    HarmCategory,
    SafetySettings,
    ThinkingLevel,
    Threshold,
    apply_preset,
    matching_preset,
)


class GenerationPanel(QWidget):
    """Temperature, top-p, top-k, length, candidates, stop sequences, seed and thinking level.

    Signals:
        changed(): any value changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        presets = QHBoxLayout()
        self.preset_buttons: dict[str, QPushButton] = {}
        for name in PRESETS:
            button = QPushButton(name, self)
            button.setObjectName(f"preset_{name.lower()}")
            button.setToolTip(PRESET_HELP[name])
            button.setAccessibleName(f"{name} preset")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, n=name: self.apply_preset(n))
            presets.addWidget(button)
            self.preset_buttons[name] = button
        self.reset_button = QPushButton("Reset", self)
        self.reset_button.setObjectName("resetGeneration")
        self.reset_button.setToolTip("Put every generation setting back to its default.")
        self.reset_button.clicked.connect(self.reset)
        presets.addWidget(self.reset_button)
        outer.addLayout(presets)

        form = QFormLayout()
        outer.addLayout(form)
        self.temperature = self._double(0.0, 2.0, 0.05, 2, "temperature")
        self.top_p = self._double(0.0, 1.0, 0.01, 2, "top_p")
        self.top_k = self._int(1, 500, "top_k")
        self.max_tokens = self._int(1, 65536, "max_output_tokens")
        self.candidates = self._int(1, 8, "candidate_count")
        self.stops = QPlainTextEdit(self)
        self.stops.setObjectName("stopSequences")
        self.stops.setPlaceholderText("one per line")
        self.stops.setFixedHeight(48)
        self.stops.setToolTip(GENERATION_HELP["stop_sequences"])
        self.stops.setAccessibleName("Stop sequences")
        self.stops.textChanged.connect(self._emit)
        self.use_seed = QCheckBox("Fixed", self)
        self.use_seed.setToolTip(GENERATION_HELP["seed"])
        self.use_seed.setAccessibleName("Use a fixed seed")
        self.seed = QSpinBox(self)
        self.seed.setObjectName("seed")
        self.seed.setRange(0, 2_147_483_647)
        self.seed.setToolTip(GENERATION_HELP["seed"])
        self.seed.setAccessibleName("Seed")
        self.use_seed.toggled.connect(self.seed.setEnabled)
        self.use_seed.toggled.connect(self._emit)
        self.seed.valueChanged.connect(self._emit)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.use_seed)
        seed_row.addWidget(self.seed, 1)
        self.thinking = QComboBox(self)
        self.thinking.setObjectName("thinkingLevel")
        for level in ThinkingLevel:
            self.thinking.addItem(level.label, level.value)
        self.thinking.setToolTip(GENERATION_HELP["thinking_level"])
        self.thinking.setAccessibleName("Thinking level")
        self.thinking.currentIndexChanged.connect(self._emit)

        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Top-k", self.top_k)
        form.addRow("Max output tokens", self.max_tokens)
        form.addRow("Answers (candidates)", self.candidates)
        form.addRow("Stop sequences", self.stops)
        form.addRow("Seed", seed_row)
        self.thinking_label = QLabel("Thinking", self)
        self.thinking_label.setToolTip(self.thinking.toolTip())
        form.addRow(self.thinking_label)  # the level on a row of its own: "Lowest (advised for tuned models: …)"
        form.addRow(self.thinking)
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            label_widget = label.widget() if label is not None else None
            field_widget = field.widget() if field is not None else None
            if label_widget is not None and field_widget is not None:
                label_widget.setToolTip(field_widget.toolTip())
        outer.addStretch(1)
        self.set_settings(DEFAULT_GENERATION)

    def _double(self, lo: float, hi: float, step: float, decimals: int, key: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setObjectName(key)
        box.setRange(lo, hi)
        box.setSingleStep(step)
        box.setDecimals(decimals)
        box.setToolTip(GENERATION_HELP[key])
        box.setAccessibleName(key.replace("_", " ").capitalize())
        box.valueChanged.connect(self._emit)
        return box

    def _int(self, lo: int, hi: int, key: str) -> QSpinBox:
        box = QSpinBox(self)
        box.setObjectName(key)
        box.setRange(lo, hi)
        box.setToolTip(GENERATION_HELP[key])
        box.setAccessibleName(key.replace("_", " ").capitalize())
        box.valueChanged.connect(self._emit)
        return box

    def _emit(self, *_args: object) -> None:
        if self._loading:
            return
        self._sync_presets()
        self.changed.emit()

    def _sync_presets(self) -> None:
        current = matching_preset(self.settings())
        for name, button in self.preset_buttons.items():
            button.setChecked(name == current)

    def settings(self) -> GenerationSettings:
        stops = [line for line in self.stops.toPlainText().splitlines() if line]
        return GenerationSettings(
            temperature=round(self.temperature.value(), 4), top_p=round(self.top_p.value(), 4),
            top_k=self.top_k.value(), max_output_tokens=self.max_tokens.value(),
            candidate_count=self.candidates.value(), stop_sequences=stops,
            seed=self.seed.value() if self.use_seed.isChecked() else None,
            thinking_level=ThinkingLevel(self.thinking.currentData() or ""))

    def set_settings(self, s: GenerationSettings) -> None:
        self._loading = True
        try:
            self.temperature.setValue(s.temperature)
            self.top_p.setValue(s.top_p)
            self.top_k.setValue(s.top_k)
            self.max_tokens.setValue(s.max_output_tokens)
            self.candidates.setValue(s.candidate_count)
            self.stops.setPlainText("\n".join(s.stop_sequences))
            self.use_seed.setChecked(s.seed is not None)
            self.seed.setEnabled(s.seed is not None)
            self.seed.setValue(s.seed or 0)
            self.thinking.setCurrentIndex(max(0, self.thinking.findData(s.thinking_level.value)))
        finally:
            self._loading = False
        self._emit()

    def apply_preset(self, name: str) -> None:
        self.set_settings(apply_preset(self.settings(), name))

    def reset(self) -> None:
        self.set_settings(GenerationSettings())

    def set_thinking_supported(self, supported: bool, default_label: str = "") -> None:
        """Enable the thinking level for models that take one; ``default_label`` names what "Model default"
        means for the chosen models (a tuned model gets the least thinking its base model allows)."""
        self.thinking.setEnabled(supported)
        self.thinking.setItemText(0, default_label or ThinkingLevel.DEFAULT.label)
        tip = GENERATION_HELP["thinking_level"]
        if not supported:
            tip += " The chosen model does not take a thinking level, so it is not sent."
        elif default_label:
            tip += f" “{default_label}” is sent unless you choose a level."
        self.thinking.setToolTip(tip)


class SafetyPanel(QWidget):
    """A blocking threshold per text harm category.

    Signals:
        changed(): a threshold changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        intro = QLabel("Block an answer when harmful content is at least this likely.", self)
        intro.setWordWrap(True)
        outer.addWidget(intro)
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)
        self.combos: dict[HarmCategory, QComboBox] = {}
        for category in HarmCategory:
            combo = QComboBox(self)
            combo.setObjectName(f"safety_{category.name.lower()}")
            for threshold in Threshold:
                combo.addItem(threshold.label, threshold.value)
            combo.setToolTip(f"{category.label}: {THRESHOLD_HELP}")
            combo.setAccessibleName(f"{category.label} blocking threshold")
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
            form.addRow(category.label, combo)
            self.combos[category] = combo
        self.reset_button = QPushButton("Service defaults", self)
        self.reset_button.setToolTip("Send no safety settings: the service's defaults apply.")
        self.reset_button.clicked.connect(lambda: self.set_settings(SafetySettings()))
        form.addRow("", self.reset_button)

    def settings(self) -> SafetySettings:
        result = SafetySettings()
        for category, combo in self.combos.items():
            result.set(category, Threshold(combo.currentData() or ""))
        return result

    def set_settings(self, s: SafetySettings) -> None:
        for category, combo in self.combos.items():
            combo.setCurrentIndex(max(0, combo.findData(s.get(category).value)))
