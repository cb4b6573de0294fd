"""The settings a sweep tries: up to three settings, each with the values to try, checked as they are typed.

A setting is a generation setting (temperature, top-p, top-k, max output tokens) or a safety blocking
threshold, for all harm categories at once or for one. The example grids of :data:`core.sweep_grid.EXAMPLE_GRIDS`
fill the rows in one click. :meth:`GridEditor.axes` gives the checked values (:func:`core.sweep_grid.parse_values`)
or raises :class:`~gemtune_desktop.core.sweep_grid.SweepError` saying what to change, and where.

Signals:
    changed(): a setting or its values changed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from gemtune_desktop.core import sweep_grid as sg
from gemtune_desktop.core.generation import HarmCategory, Threshold

NO_AXIS = ""
THRESHOLD_NAMES = ", ".join(t.value for t in Threshold if t.value)


def axis_choices() -> list[tuple[str, str]]:
    """(axis, label) in the order the drop-downs offer them."""
    choices = [(NO_AXIS, "(none)")] + [(a, sg.axis_label(a)) for a in sg.GENERATION_AXES]
    choices.append((sg.ALL_CATEGORIES, sg.axis_label(sg.ALL_CATEGORIES)))
    choices += [(f"{sg.SAFETY_PREFIX}{c.value}", sg.axis_label(f"{sg.SAFETY_PREFIX}{c.value}")) for c in HarmCategory]
    return choices


def values_text(axis: str, values: list[float | str]) -> str:
    return ", ".join(str(v) if axis.startswith(sg.SAFETY_PREFIX) else f"{v:g}" for v in values)


class GridEditor(QGroupBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Settings to try", parent)
        layout = QGridLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Example grid", self))
        self.examples = QComboBox(self)
        self.examples.setObjectName("sweepExampleGrid")
        self.examples.setAccessibleName("Example grid")
        self.examples.addItem("Choose an example…", "")
        for name in sg.EXAMPLE_GRIDS:
            self.examples.addItem(name, name)
        self.examples.setToolTip("Fill the settings below with a grid Google's guide suggests.")
        self.examples.activated.connect(self._example_chosen)
        top.addWidget(self.examples, 1)
        layout.addLayout(top, 0, 0, 1, 2)
        self.axis_boxes: list[QComboBox] = []
        self.value_edits: list[QLineEdit] = []
        for i in range(sg.MAX_AXES):
            box = QComboBox(self)
            box.setObjectName(f"sweepAxis{i + 1}")
            box.setAccessibleName(f"Setting {i + 1} to vary")
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(16)
            for axis, label in axis_choices():
                box.addItem(label, axis)
            edit = QLineEdit(self)
            edit.setObjectName(f"sweepValues{i + 1}")
            edit.setAccessibleName(f"Values of setting {i + 1}")
            box.currentIndexChanged.connect(lambda _i, n=i: self._axis_changed(n))
            edit.textChanged.connect(lambda _t: self.changed.emit())
            layout.addWidget(box, i + 1, 0)
            layout.addWidget(edit, i + 1, 1)
            self.axis_boxes.append(box)
            self.value_edits.append(edit)
            self._axis_changed(i)
        layout.setColumnStretch(0, 2)
        layout.setColumnStretch(1, 3)
        self.check = QLabel(self)
        self.check.setObjectName("sweepGridCheck")
        self.check.setTextFormat(Qt.TextFormat.PlainText)
        self.check.setWordWrap(True)
        layout.addWidget(self.check, sg.MAX_AXES + 1, 0, 1, 2)

    def _axis_changed(self, index: int) -> None:
        axis = str(self.axis_boxes[index].currentData() or "")
        edit = self.value_edits[index]
        edit.setEnabled(bool(axis))
        if axis.startswith(sg.SAFETY_PREFIX):
            edit.setPlaceholderText("e.g. BLOCK_LOW_AND_ABOVE, BLOCK_ONLY_HIGH")
            edit.setToolTip(f"Thresholds separated by commas: {THRESHOLD_NAMES}.")
        elif axis:
            _label, _kind, low, high = sg.GENERATION_AXES[axis]
            edit.setPlaceholderText(f"values from {low:g} to {high:g}, e.g. {low:g}, {(low + high) / 2:g}, {high:g}")
            edit.setToolTip("Numbers separated by commas (a dot for decimals).")
        else:
            edit.setPlaceholderText("")
            edit.clear()
        self.changed.emit()

    def _example_chosen(self, _index: int) -> None:
        name = str(self.examples.currentData() or "")
        if name:
            self.set_axes(sg.EXAMPLE_GRIDS[name])

    def set_axes(self, axes: dict[str, list[float | str]]) -> None:
        items = list(axes.items())
        for i, (box, edit) in enumerate(zip(self.axis_boxes, self.value_edits, strict=True)):
            axis, values = items[i] if i < len(items) else (NO_AXIS, [])
            box.setCurrentIndex(max(0, box.findData(axis)))
            edit.setText(values_text(axis, values) if axis else "")

    def axes(self) -> dict[str, list[object]]:
        """The checked grid; :class:`sg.SweepError` names the setting and what to change."""
        axes: dict[str, list[object]] = {}
        for box, edit in zip(self.axis_boxes, self.value_edits, strict=True):
            axis = str(box.currentData() or "")
            if not axis:
                continue
            if axis in axes:
                raise sg.SweepError(f"{sg.axis_label(axis).capitalize()} is chosen twice.", "Choose it once.")
            axes[axis] = list(sg.parse_values(axis, edit.text()))
        sg.Grid.of(axes)  # the combination: at most three settings, at most 48 points
        return axes
