"""The Tune tab's estimate: steps, tokens and cost of the job as set up, and the price it is computed with.

The shipped prices (``resources/models.json``, with the date they were read) can be overridden per
model; the user's prices live in settings (``MODEL_PRICES``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.ui.tune.tips import TIPS


@dataclass(frozen=True)
class DatasetSummary:
    """What the estimate needs of the dataset, counted once per backend (tokens walk every example)."""

    backend: str
    train: int
    validation: int
    tokens: int

    @classmethod
    def of(cls, examples: list[Example], settings: DatasetSettings, backend: str) -> DatasetSummary:
        train = [e for e in examples if e.split is Split.TRAIN]
        validation = sum(1 for e in examples if e.split is Split.VALIDATION)
        tokens = sum(J.example_tokens(e, settings, backend) for e in train)
        return cls(backend, len(train), validation, tokens)


class PriceBook:
    """Prices per million training tokens: the user's own, else the shipped estimate."""

    def __init__(self, settings: Settings, prices_as_of: str) -> None:
        self._settings = settings
        self.as_of = prices_as_of

    def user_prices(self) -> dict[str, float]:
        return self._settings.read(S.MODEL_PRICES)

    def price(self, info: J.ModelInfo | None, models: list[J.ModelInfo]) -> float | None:
        return J.model_price(info.id, models, self.user_prices()) if info is not None else None

    def set_price(self, model: str, value: float) -> None:
        prices = self.user_prices()
        prices[model] = float(value)
        self._settings.write(S.MODEL_PRICES, prices)

    def forget(self, model: str) -> None:
        prices = self.user_prices()
        if model in prices:
            del prices[model]
            self._settings.write(S.MODEL_PRICES, prices)

    def note(self, info: J.ModelInfo | None) -> str:
        """Where the price comes from, in a few words."""
        model = info.id if info else ""
        shipped = info.price_per_million if info else None
        if model in self.user_prices():
            return "your price" + (f" (shipped: ${shipped:.2f}, as of {self.as_of})" if shipped is not None else "")
        if shipped is not None:
            return f"shipped estimate as of {self.as_of}"
        return "no shipped price for this model: enter one for a cost estimate"


def _html(value: object) -> str:
    return html.escape(str(value), quote=False)


def estimate_html(est: J.Estimate) -> str:
    rows = "".join(f"<tr><td>{_html(k)}:&nbsp;</td><td><b>{_html(v)}</b></td></tr>" for k, v in est.lines())
    notes = "".join(f"<br><small>{_html(n)}</small>" for n in est.notes)
    return f"<table>{rows}</table>{notes}"


class EstimateBox(QGroupBox):
    """The estimate and the price field.

    Signals:
        price_edited(float): the user typed a price for the chosen model.
        price_reset_requested(): the user wants the shipped price back.
    """

    price_edited = Signal(float)
    price_reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Estimate", parent)
        v = QVBoxLayout(self)
        self.estimate_label = QLabel("", self)
        self.estimate_label.setObjectName("tuneEstimate")
        self.estimate_label.setTextFormat(Qt.TextFormat.RichText)
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.estimate_label)
        row = QHBoxLayout()
        row.addWidget(QLabel("Price (USD per 1M training tokens):", self))
        self.price_spin = QDoubleSpinBox(self)
        self.price_spin.setObjectName("tunePrice")
        self.price_spin.setDecimals(2)
        self.price_spin.setRange(0.0, 10_000.0)
        self.price_spin.setSpecialValueText("unknown")
        self.price_spin.setToolTip(TIPS["price"])
        self.price_spin.setAccessibleName("Price per million training tokens")
        self.price_spin.setAccessibleDescription(TIPS["price"])
        self.price_spin.valueChanged.connect(self.price_edited)
        self.price_note = QLabel("", self)
        self.price_note.setObjectName("tunePriceNote")
        self.price_reset = QPushButton("Use shipped price", self)
        self.price_reset.setToolTip("Forget your price for this model and use the price shipped with the app.")
        self.price_reset.clicked.connect(self.price_reset_requested)
        row.addWidget(self.price_spin)
        row.addWidget(self.price_reset)
        row.addWidget(self.price_note, 1)
        v.addLayout(row)

    def show_price(self, price: float | None, note: str, resettable: bool) -> None:
        self.price_spin.blockSignals(True)
        self.price_spin.setValue(price if price is not None else 0.0)
        self.price_spin.blockSignals(False)
        self.price_note.setText(note)
        self.price_reset.setEnabled(resettable)

    def show_estimate(self, est: J.Estimate | None) -> None:
        self.estimate_label.setText(estimate_html(est) if est is not None else
                                    "Open or create a project in the Dataset tab to see the estimate.")
