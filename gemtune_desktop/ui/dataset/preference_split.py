"""The Split dialog for preference pairs: the Examples view's dialog, in words about pairs.

Pairs are assigned to train, validation and test at random with the ratios picked; pairs that share a prompt
are kept on the same side, so that a validation score never comes from a prompt the model trained on.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from gemtune_desktop.ui.dataset.split_dialog import SplitDialog

INTRO = ("Pairs are assigned at random with the ratios you pick. The same seed always gives the same split. "
         "Pairs with the same prompt are kept on the same side, so the model is not measured on prompts it "
         "trained on.")


class PairSplitDialog(SplitDialog):
    """Ratios (percent) and the random seed for a train / validation / test split of preference pairs."""

    ROWS_WORD = "pairs"

    def __init__(self, ratios: tuple[float, float, float], seed: int, total: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(ratios, seed, total, parent)
        self.setWindowTitle("Split Preference Pairs")
        self.setObjectName("pairSplitDialog")
        layout = self.layout()
        first = layout.itemAt(0) if layout is not None else None
        intro = first.widget() if first is not None else None
        if isinstance(intro, QLabel):
            intro.setText(INTRO)
