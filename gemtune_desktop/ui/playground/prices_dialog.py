"""The user's own prices for answers (input and output tokens), per model: GemTune ships none.

No price for generating answers with the 3.x models could be confirmed in any stored source (see
:mod:`gemtune_desktop.core.eval_cost`), so estimates show a cost only once the user has entered the
price from their Google Cloud pricing page. Prices are kept in the settings (``ANSWER_PRICES``), per
model; a tuned model is priced as its base model.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.eval_cost import Prices
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.services.console import ModelRef


def price_key(ref: ModelRef) -> str:
    """The model a price is kept for: a tuned model is priced as the model it was tuned from."""
    return ref.base_model or ref.model


def prices_for(settings: Settings, ref: ModelRef) -> Prices:
    pair = settings.read(S.ANSWER_PRICES).get(price_key(ref))
    return Prices(*pair) if pair is not None else Prices()


class PricesDialog(QDialog):
    """Input and output price per million tokens for one model; OK stores them, Clear forgets them."""

    def __init__(self, settings: Settings, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prices for answers")
        self.settings = settings
        self.model = model
        layout = QVBoxLayout(self)
        intro = QLabel(f"GemTune ships no price for answers of {model}: none could be confirmed. Enter the prices "
                       "from your Google Cloud or Gemini API pricing page (US dollars per million tokens). Batch "
                       "jobs are charged half of these (Google's batch discount).", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        layout.addLayout(form)
        stored = settings.read(S.ANSWER_PRICES).get(model, (0.0, 0.0))
        self.input_price = self._spin("Input price per million tokens", stored[0])
        self.output_price = self._spin("Output price per million tokens", stored[1])
        form.addRow("Input (prompt) tokens, $ per million", self.input_price)
        form.addRow("Output (answer) tokens, $ per million", self.output_price)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel |
                                   QDialogButtonBox.StandardButton.Reset, self)
        reset = buttons.button(QDialogButtonBox.StandardButton.Reset)
        reset.setText("Forget these prices")
        reset.clicked.connect(self._forget)
        buttons.accepted.connect(self._store)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _spin(self, name: str, value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setRange(0.0, 10_000.0)
        box.setDecimals(4)
        box.setValue(value)
        box.setAccessibleName(name)
        return box

    def _store(self) -> None:
        prices = self.settings.read(S.ANSWER_PRICES)
        prices[self.model] = (self.input_price.value(), self.output_price.value())
        self.settings.write(S.ANSWER_PRICES, prices)
        self.accept()

    def _forget(self) -> None:
        prices = self.settings.read(S.ANSWER_PRICES)
        prices.pop(self.model, None)
        self.settings.write(S.ANSWER_PRICES, prices)
        self.accept()
