"""The Tune tab's estimate: steps, tokens and cost of the job as set up, and the price it is computed with.

A price is shipped only with its source and date (``resources/models.json``); where none is known the
estimate says "price unknown — enter your price" and links to the price field. The user's prices are
remembered per model in settings (``MODEL_PRICES``) and win over a shipped one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.model_catalog import PRICE_UNKNOWN, PriceInfo, price_info
from gemtune_desktop.core.preference.spec import PreferenceEstimate
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
    """Prices per million training tokens: the user's own (remembered per model), else Google's price with its
    source and date (``models.json``), else unknown (:func:`~gemtune_desktop.core.model_catalog.price_info`)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def user_prices(self) -> dict[str, float]:
        return self._settings.read(S.MODEL_PRICES)

    def info(self, model: J.ModelInfo | None, models: list[J.ModelInfo]) -> PriceInfo:
        return price_info(model.id, models, self.user_prices()) if model is not None else PriceInfo(None)

    def price(self, model: J.ModelInfo | None, models: list[J.ModelInfo]) -> float | None:
        return self.info(model, models).usd_per_million

    def set_price(self, model: str, value: float) -> None:
        prices = self.user_prices()
        prices[model] = float(value)
        self._settings.write(S.MODEL_PRICES, prices)

    def forget(self, model: str) -> None:
        prices = self.user_prices()
        if model in prices:
            del prices[model]
            self._settings.write(S.MODEL_PRICES, prices)


def _html(value: object) -> str:
    return html.escape(str(value), quote=False)


#: After "price unknown — enter your price" under the price field.
UNKNOWN_PRICE_NOTE = (": GemTune knows no price from Google, with its source, for this model. The price you type "
                      "here is remembered for this model.")
#: The link in the estimate that puts the cursor in the price field.
PRICE_LINK = "#price"


def _value_html(value: str) -> str:
    if value == PRICE_UNKNOWN:  # say where to enter it
        head, _, tail = value.partition("— ")
        return f'{_html(head)}— <a href="{PRICE_LINK}">{_html(tail)}</a>'
    return _html(value)


def estimate_html(est: J.Estimate) -> str:
    rows = "".join(f"<tr><td>{_html(k)}:&nbsp;</td><td><b>{_value_html(v)}</b></td></tr>" for k, v in est.lines())
    notes = "".join(f"<br><small>{_html(n)}</small>" for n in est.notes)
    return f"<table>{rows}</table>{notes}"


class EstimateBox(QGroupBox):
    """The estimate and the price field.

    Signals:
        price_edited(float): the user typed a price for the chosen model.
        price_reset_requested(): the user wants to forget their price for it.
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
        flags = Qt.TextInteractionFlag
        self.estimate_label.setTextInteractionFlags(flags.TextSelectableByMouse | flags.LinksAccessibleByMouse
                                                    | flags.LinksAccessibleByKeyboard)
        v.addWidget(self.estimate_label)
        self.estimate_label.linkActivated.connect(self._link)
        row = QHBoxLayout()
        caption = QLabel("&Price (USD per 1M training tokens):", self)
        row.addWidget(caption)
        self.price_spin = QDoubleSpinBox(self)
        self.price_spin.setObjectName("tunePrice")
        caption.setBuddy(self.price_spin)
        self.price_spin.setDecimals(2)
        self.price_spin.setRange(0.0, 10_000.0)
        self.price_spin.setSpecialValueText("unknown")
        self.price_spin.setToolTip(TIPS["price"])
        self.price_spin.setAccessibleName("Price per million training tokens")
        self.price_spin.setAccessibleDescription(TIPS["price"])
        self.price_spin.valueChanged.connect(self.price_edited)
        self.price_reset = QPushButton("Forget my price", self)
        self.price_reset.setObjectName("tunePriceReset")
        self.price_reset.clicked.connect(self.price_reset_requested)
        self.price_reset.hide()
        row.addWidget(self.price_spin)
        row.addWidget(self.price_reset)
        row.addStretch(1)
        v.addLayout(row)
        self.price_note = QLabel("", self)
        self.price_note.setObjectName("tunePriceNote")
        self.price_note.setWordWrap(True)
        self.price_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.price_note)

    def _link(self, href: str) -> None:
        if href == PRICE_LINK:
            self.price_spin.setFocus(Qt.FocusReason.OtherFocusReason)
            self.price_spin.selectAll()

    def show_price(self, info: PriceInfo, shipped_known: bool) -> None:
        """The price in use and where it comes from; the button forgets a price the user entered."""
        self.price_spin.blockSignals(True)
        self.price_spin.setValue(info.usd_per_million if info.usd_per_million is not None else 0.0)
        self.price_spin.blockSignals(False)
        self.price_note.setText(info.words if info.known else info.words + UNKNOWN_PRICE_NOTE)
        self.price_reset.setVisible(info.from_user)
        self.price_reset.setText("Use Google's price" if shipped_known else "Forget my price")
        self.price_reset.setToolTip("Forget the price you entered for this model and use Google's price, with its "
                                    "source and date." if shipped_known else
                                    "Forget the price you entered for this model (its price is then unknown).")

    def show_preference(self, est: PreferenceEstimate) -> None:
        """The preference job's estimate: the prompt's tokens counted twice plus both answers, as Google bills."""
        rows = "".join(f"<tr><td>{_html(k)}:&nbsp;</td><td><b>{_html(v)}</b></td></tr>" for k, v in est.lines())
        notes = "".join(f"<br><small>{_html(n)}</small>" for n in est.notes)
        self.estimate_label.setText(f"<table>{rows}</table>{notes}")

    def show_estimate(self, est: J.Estimate | None) -> None:
        self.estimate_label.setText(estimate_html(est) if est is not None else
                                    "Open or create a project in the Dataset tab to see the estimate.")
