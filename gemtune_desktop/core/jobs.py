"""Tuning jobs as the project records them, and their states in plain words.

One :class:`JobRecord` per job, whichever backend ran it: Agent Platform tuning jobs
(``projects/P/locations/L/tuningJobs/ID``), Gemini API tuned models (``tunedModels/ID``)
and the Sandbox's simulations of either. States follow Agent Platform's ``JobState``
(the Gemini API's CREATING/ACTIVE/FAILED are mapped onto it) plus three local ones:
SUBMITTING (recorded before the create call), SUBMIT_UNKNOWN (the create was sent but whether
the job exists is not known yet: it is looked up in the background until it is) and
SUBMIT_FAILED (certainly not started; the job can be started again).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


class JobState(enum.StrEnum):
    SUBMITTING = "SUBMITTING"
    SUBMIT_UNKNOWN = "SUBMIT_UNKNOWN"
    SUBMIT_FAILED = "SUBMIT_FAILED"
    QUEUED = "JOB_STATE_QUEUED"
    PENDING = "JOB_STATE_PENDING"
    RUNNING = "JOB_STATE_RUNNING"
    SUCCEEDED = "JOB_STATE_SUCCEEDED"
    FAILED = "JOB_STATE_FAILED"
    CANCELLING = "JOB_STATE_CANCELLING"
    CANCELLED = "JOB_STATE_CANCELLED"
    PAUSED = "JOB_STATE_PAUSED"
    EXPIRED = "JOB_STATE_EXPIRED"
    UPDATING = "JOB_STATE_UPDATING"
    PARTIALLY_SUCCEEDED = "JOB_STATE_PARTIALLY_SUCCEEDED"
    UNKNOWN = "JOB_STATE_UNSPECIFIED"

    @classmethod
    def parse(cls, value: str | None) -> JobState:
        """Accept Agent Platform names (with or without prefix) and Gemini API states."""
        if not value:
            return cls.UNKNOWN
        text = str(value).upper()
        if "." in text:  # e.g. "JobState.JOB_STATE_RUNNING"
            text = text.rsplit(".", 1)[1]
        gemini = {"CREATING": cls.RUNNING, "ACTIVE": cls.SUCCEEDED, "FAILED": cls.FAILED,
                  "STATE_UNSPECIFIED": cls.UNKNOWN}
        if text in gemini:
            return gemini[text]
        if not text.startswith("JOB_STATE_") and text not in _LOCAL_STATES:
            text = "JOB_STATE_" + text
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN

    @property
    def ended(self) -> bool:
        return self in ENDED_STATES

    @property
    def active(self) -> bool:
        return not self.ended

    @property
    def being_submitted(self) -> bool:
        """Sent (or being sent) to the service, and not known yet to exist there."""
        return self in (JobState.SUBMITTING, JobState.SUBMIT_UNKNOWN)


_LOCAL_STATES = ("SUBMITTING", "SUBMIT_UNKNOWN", "SUBMIT_FAILED")


ENDED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED,
                          JobState.PARTIALLY_SUCCEEDED, JobState.SUBMIT_FAILED})

_PHASE_WORDS = {
    "TUNING_JOB_STATE_WAITING_FOR_QUOTA": "waiting for quota",
    "TUNING_JOB_STATE_PROCESSING_DATASET": "preparing data",
    "TUNING_JOB_STATE_WAITING_FOR_CAPACITY": "waiting for capacity",
    "TUNING_JOB_STATE_TUNING": "training",
    "TUNING_JOB_STATE_POST_PROCESSING": "finishing up",
}

_STATE_WORDS = {
    JobState.SUBMITTING: "submitting",
    JobState.SUBMIT_UNKNOWN: "checking whether it started…",
    JobState.SUBMIT_FAILED: "not started",
    JobState.QUEUED: "queued",
    JobState.PENDING: "starting",
    JobState.RUNNING: "training",
    JobState.SUCCEEDED: "succeeded",
    JobState.FAILED: "failed",
    JobState.CANCELLING: "cancelling",
    JobState.CANCELLED: "cancelled",
    JobState.PAUSED: "paused",
    JobState.EXPIRED: "expired",
    JobState.UPDATING: "updating",
    JobState.PARTIALLY_SUCCEEDED: "partly succeeded",
    JobState.UNKNOWN: "unknown",
}


def state_in_words(state: JobState, phase: str = "", completed: int = 0, total: int = 0) -> str:
    """``"training 41%"``, ``"preparing data"``, ``"waiting for capacity"``, ``"succeeded"``…"""
    if state is JobState.RUNNING:
        phase_key = str(phase).upper().rsplit(".", 1)[-1]
        words = _PHASE_WORDS.get(phase_key, "training")
        if words == "training" and total > 0:
            pct = int(100 * min(completed, total) / total)
            return f"training {pct}%"
        return words
    return _STATE_WORDS.get(state, state.value.lower())


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        text = value.replace("Z", "+00:00")
        dt = datetime.fromisoformat(text)
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(slots=True)
class JobRecord:
    """One row of the project's ``jobs`` table."""

    connection_kind: str
    backend: str
    display_name: str = ""
    base_model: str = ""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    dataset_hash: str = ""
    dataset_name: str = ""
    train_count: int = 0
    validation_count: int = 0
    train_tokens: int = 0
    submit_key: str | None = None
    connection_id: str = ""
    resource_name: str = ""
    from_project: bool = True
    created_at: str = field(default_factory=now_iso)
    started_at: str = ""
    ended_at: str = ""
    updated_at: str = ""
    state: JobState = JobState.SUBMITTING
    phase: str = ""
    total_steps: int = 0
    completed_steps: int = 0
    tuned_model: str = ""
    endpoint: str = ""
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    data_stats: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    experiment: str = ""
    deleted: bool = False
    id: int = 0

    @property
    def state_words(self) -> str:
        return state_in_words(self.state, self.phase, self.completed_steps, self.total_steps)

    @property
    def start_time(self) -> datetime | None:
        """When the job started on the service, else when it was recorded; None when neither is known."""
        return parse_time(self.started_at) or parse_time(self.created_at)

    @property
    def progress(self) -> float | None:
        """Fraction of steps done, or None when the total is not known yet."""
        if self.state is JobState.SUCCEEDED:
            return 1.0
        if self.total_steps <= 0:
            return None
        return min(1.0, self.completed_steps / self.total_steps)

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("hyperparameters", "checkpoints", "data_stats"):
                value = json.dumps(value, sort_keys=True)
            elif f.name in ("from_project", "deleted"):
                value = int(bool(value))
            elif isinstance(value, enum.Enum):
                value = value.value
            row[f.name] = value
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobRecord:
        kwargs: dict[str, Any] = {}
        names = {f.name for f in fields(cls)}
        for key, value in row.items():
            if key not in names:
                continue
            if key in ("hyperparameters", "data_stats"):
                value = _json_or(value, {})
            elif key == "checkpoints":
                value = _json_or(value, [])
            elif key in ("from_project", "deleted"):
                value = bool(value)
            elif key == "state":
                value = JobState.parse(value)
            kwargs[key] = value
        return cls(**kwargs)


def _json_or(value: Any, default: Any) -> Any:
    if isinstance(value, dict | list):
        return value
    try:
        parsed = json.loads(value or "null")
    except (TypeError, ValueError):
        return default
    return parsed if isinstance(parsed, type(default)) else default
