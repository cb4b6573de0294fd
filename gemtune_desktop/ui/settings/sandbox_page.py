"""The Sandbox connection page: which Google service the simulation plays when tuning, and how fast it trains."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QWidget

from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.ui.settings.page import ConnectionPage, describe


class SandboxPage(ConnectionPage):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(ConnectionKind.SANDBOX, parent)
        self._settings = settings
        self.sandbox_api = QComboBox(self)
        self.sandbox_api.setObjectName("sandboxApi")
        self.sandbox_api.addItem("Agent Platform (Google Cloud tuning)", Backend.AGENT_PLATFORM.value)
        self.sandbox_api.addItem("Gemini API (the older API-key tuning)", Backend.GEMINI_API.value)
        describe(self.sandbox_api, "Simulated service",
                 "Which Google service the Sandbox pretends to be when you tune; Agent Platform is what you "
                 "will use for real tuning")
        self.form.addRow("Simulate tuning on:", self.sandbox_api)
        self.sandbox_speed = QDoubleSpinBox(self)
        self.sandbox_speed.setObjectName("sandboxSpeed")
        self.sandbox_speed.setRange(0.5, 200.0)
        self.sandbox_speed.setDecimals(1)
        self.sandbox_speed.setSuffix(" steps per second")
        describe(self.sandbox_speed, "Simulated training speed",
                 "How fast simulated tuning jobs advance; higher finishes sooner")
        self.form.addRow("Training speed:", self.sandbox_speed)
        self.box.addStretch(1)

    def load(self, profile: ConnectionProfile) -> None:
        super().load(profile)
        self.sandbox_api.setCurrentIndex(max(0, self.sandbox_api.findData(profile.sandbox_backend.value)))
        self.sandbox_speed.setValue(float(self._settings.get(S.SANDBOX_STEPS_PER_SECOND)))

    def edited(self) -> ConnectionProfile:
        profile = super().edited()
        profile.sandbox_backend = Backend(self.sandbox_api.currentData())
        return profile

    def save(self) -> None:
        self._settings.set(S.SANDBOX_STEPS_PER_SECOND, float(self.sandbox_speed.value()))
