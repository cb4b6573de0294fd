"""The first-run welcome: the three connections in plain words, and a sample project to start from.

Shown once, the first time the main window opens (``FIRST_RUN_DONE`` in settings), and again
from Help → Welcome. It explains that the Sandbox lets the user try everything offline right
now, that Google Cloud is what tunes for real, and that an API key only tests Google's base
models; it offers the shipped sample datasets (``resources/samples/index.json``) and the next
step on each tab.

The main window shows it after its first paint when :func:`welcome_wanted` says so; set the
environment variable ``GEMTUNE_NO_WELCOME=1`` to skip it (the tests do).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop import APP_NAME, paths
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.resources import read_json, resource_path

NO_WELCOME_ENV = "GEMTUNE_NO_WELCOME"

CONNECTIONS_TEXT = [
    ("Sandbox — try everything offline, now",
     "A simulation of Google's services that runs on this computer. No account, no cost, nothing leaves your "
     "machine. Use it to walk the whole flow: import examples, start a tuning job, watch its curve and try the "
     "result. Its curves are computed and its “tuned model” answers with the closest training example, so it "
     "shows that your examples were learned — nothing more. It is active now."),
    ("Google Cloud — tune for real",
     "Tuning Gemini runs on Google Cloud (Gemini Enterprise Agent Platform, formerly Vertex AI). You need a "
     "Cloud project with billing, a region, a Cloud Storage bucket, and to sign in with gcloud or a "
     "service-account key file. Set it up in Settings → Connections."),
    ("An API key — test Google's base models",
     "A Gemini API key from Google AI Studio lets you try prompts on Google's base models in the Test tab. "
     "Since 2025 an API key alone cannot tune a model."),
]

NEXT_STEPS = [
    ("Dataset", "check your examples; problems are explained row by row."),
    ("Tune", "pick a base model, keep the suggested settings, and start a job."),
    ("Monitor", "watch the loss curve go down; the advice beside it says when to stop."),
    ("Test", "type a prompt and compare the tuned model with the base model."),
]


@dataclass(frozen=True)
class Sample:
    """One shipped sample dataset."""

    path: Path
    title: str
    description: str


def shipped_samples() -> list[Sample]:
    """The sample datasets listed in ``resources/samples/index.json`` that exist on disk."""
    result = []
    for item in read_json("samples", "index.json"):
        path = resource_path("samples", item["file"])
        if path.is_file():
            result.append(Sample(path=path, title=item["title"], description=item["description"]))
    return result


class WelcomeDialog(QDialog):
    """First-run guidance.

    Signals:
        sample_requested(str): the path of the sample dataset the user chose to open.
        connections_requested(): the user wants to set up a Google Cloud or API-key connection.
    """

    sample_requested = Signal(str)
    connections_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WelcomeDialog")
        self.setWindowTitle(f"Welcome to {APP_NAME}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = QVBoxLayout(self)

        intro = QLabel(
            f"<h2>Welcome to {APP_NAME}</h2>"
            "<p>Turn a spreadsheet of examples — an input and the output you want for it — into a tuned Gemini "
            "model, in four steps: <b>Dataset → Tune → Monitor → Test</b>.</p>", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        connections = QGroupBox("Three ways to connect", self)
        conn_layout = QVBoxLayout(connections)
        for title, text in CONNECTIONS_TEXT:
            label = QLabel(f"<b>{title}</b><br>{text}", connections)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            conn_layout.addWidget(label)
        self.connections_button = QPushButton("Set up a &connection…", connections)
        self.connections_button.setObjectName("welcomeConnections")
        self.connections_button.setToolTip("Open Settings → Connections to add a Google Cloud project or an API "
                                           "key (you can do this later)")
        self.connections_button.setWhatsThis("Opens Settings → Connections, where you add a Google Cloud project "
                                             "(to tune for real) or a Gemini API key (to test base models).")
        self.connections_button.clicked.connect(self._ask_connections)
        conn_layout.addWidget(self.connections_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(connections)

        samples_box = QGroupBox("Start from a sample", self)
        samples_layout = QVBoxLayout(samples_box)
        self.samples = shipped_samples()
        self.sample_group = QButtonGroup(self)
        for i, sample in enumerate(self.samples):
            radio = QRadioButton(sample.title, samples_box)
            radio.setObjectName(f"sample_{i}")
            radio.setToolTip(sample.description)
            radio.setWhatsThis(sample.description)
            radio.setAccessibleDescription(sample.description)
            self.sample_group.addButton(radio, i)
            samples_layout.addWidget(radio)
            desc = QLabel(sample.description, samples_box)
            desc.setWordWrap(True)
            desc.setIndent(24)
            samples_layout.addWidget(desc)
        if self.samples:
            self.sample_group.button(0).setChecked(True)
        layout.addWidget(samples_box)

        steps = QLabel("<b>Then, on each tab:</b><ul>" + "".join(
            f"<li><b>{tab}</b>: {text}</li>" for tab, text in NEXT_STEPS) +
            "</ul>Help → Guide (F1) explains every setting in plain words.", self)
        steps.setWordWrap(True)
        layout.addWidget(steps)

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)

        buttons = QDialogButtonBox(self)
        self.open_button = QPushButton("&Open sample project", self)
        self.open_button.setObjectName("welcomeOpenSample")
        self.open_button.setToolTip("Load the chosen sample examples into the Dataset tab")
        self.open_button.setEnabled(bool(self.samples))
        self.open_button.setDefault(True)
        self.open_button.setWhatsThis("Imports the chosen sample into the Dataset tab so you can try the whole "
                                      "flow on the Sandbox right away.")
        self.open_button.clicked.connect(self._open_sample)
        self.close_button = QPushButton("Start with my own &data", self)
        self.close_button.setObjectName("welcomeClose")
        self.close_button.setToolTip("Close this window and start from an empty project")
        self.close_button.clicked.connect(self.reject)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout.addWidget(buttons)
        # Word-wrapped labels: size the dialog to the height its text needs at this width.
        width = 700
        self.setMinimumSize(width, layout.totalHeightForWidth(width))

    def chosen_sample(self) -> Sample | None:
        index = self.sample_group.checkedId()
        return self.samples[index] if 0 <= index < len(self.samples) else None

    def _open_sample(self) -> None:
        sample = self.chosen_sample()
        self.accept()
        if sample is not None:
            self.sample_requested.emit(str(sample.path))

    def _ask_connections(self) -> None:
        self.accept()
        self.connections_requested.emit()


def sample_project_path(sample: Path) -> Path:
    """Where the project made from a shipped sample lives: the app's data folder, never the user's files."""
    return paths.data_dir() / "Samples" / f"{sample.stem}.gemtune"


def welcome_wanted(settings: Settings) -> bool:
    """Whether to show the welcome at start: the first run, unless ``GEMTUNE_NO_WELCOME`` is set."""
    return not os.environ.get(NO_WELCOME_ENV) and not settings.get(S.FIRST_RUN_DONE)
