"""Connection profiles: Google Cloud Agent Platform, a Gemini API key, or the offline Sandbox.

A profile holds only non-secret fields (project, region, bucket, auth mode, key-file
path). Secrets (the API key, an imported service-account key) live in the OS keyring,
see :mod:`gemtune_desktop.services.secrets`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass, field
from typing import Any


class ConnectionKind(enum.StrEnum):
    SANDBOX = "sandbox"
    AGENT_PLATFORM = "agent_platform"
    GEMINI_API = "gemini_api"

    @property
    def label(self) -> str:
        return {
            "sandbox": "Sandbox (offline simulation)",
            "agent_platform": "Google Cloud (Agent Platform)",
            "gemini_api": "Gemini API key",
        }[self.value]


class Backend(enum.StrEnum):
    """Which REST API a session speaks; the Sandbox speaks either."""

    AGENT_PLATFORM = "agent-platform"
    GEMINI_API = "gemini-api"

    @property
    def label(self) -> str:
        return {"agent-platform": "Agent Platform", "gemini-api": "Gemini API"}[self.value]


class AuthMode(enum.StrEnum):
    ADC = "adc"  # Application Default Credentials (gcloud auth application-default login)
    SERVICE_ACCOUNT = "service_account"  # a service-account key (file path, or imported into the keyring)


AGENT_PLATFORM_REGIONS = ("us-central1", "europe-west4")
SERVING_LOCATIONS = {"us-central1": "us", "europe-west4": "eu"}


@dataclass(slots=True)
class ConnectionProfile:
    kind: ConnectionKind = ConnectionKind.SANDBOX
    # Agent Platform
    project: str = ""
    region: str = "us-central1"
    bucket: str = ""
    auth_mode: AuthMode = AuthMode.ADC
    service_account_file: str = ""
    service_account_in_keyring: bool = False
    # Sandbox: which API it emulates for tuning (both are served).
    sandbox_backend: Backend = Backend.AGENT_PLATFORM
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def backend(self) -> Backend:
        if self.kind is ConnectionKind.AGENT_PLATFORM:
            return Backend.AGENT_PLATFORM
        if self.kind is ConnectionKind.GEMINI_API:
            return Backend.GEMINI_API
        return self.sandbox_backend

    @property
    def is_sandbox(self) -> bool:
        return self.kind is ConnectionKind.SANDBOX

    @property
    def label(self) -> str:
        if self.kind is ConnectionKind.AGENT_PLATFORM:
            where = f"{self.project or '(no project)'} · {self.region}"
            return f"Google Cloud: {where}"
        if self.kind is ConnectionKind.GEMINI_API:
            return "Gemini API key"
        return f"Sandbox ({self.sandbox_backend.label}, simulated)"

    @property
    def connection_id(self) -> str:
        """The identity a job records for the connection it was made on: a model is called only where it
        was tuned (the Cloud project and region, the Sandbox's API flavour, or the Gemini API)."""
        if self.kind is ConnectionKind.AGENT_PLATFORM:
            return f"{self.project}/{self.region}"
        if self.kind is ConnectionKind.SANDBOX:
            return f"sandbox/{self.sandbox_backend.value}"
        return "gemini-api"

    @property
    def serving_location(self) -> str:
        """Tuned 3.x models are served only on the ``us`` / ``eu`` multi-region endpoints."""
        return SERVING_LOCATIONS.get(self.region, "us")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["auth_mode"] = self.auth_mode.value
        data["sandbox_backend"] = self.sandbox_backend.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectionProfile:
        def pick(enum_cls: type[enum.StrEnum], value: Any, default: enum.StrEnum) -> Any:
            try:
                return enum_cls(value)
            except ValueError:
                return default

        return cls(
            kind=pick(ConnectionKind, data.get("kind"), ConnectionKind.SANDBOX),
            project=str(data.get("project", "")),
            region=str(data.get("region", "us-central1")) or "us-central1",
            bucket=str(data.get("bucket", "")),
            auth_mode=pick(AuthMode, data.get("auth_mode"), AuthMode.ADC),
            service_account_file=str(data.get("service_account_file", "")),
            service_account_in_keyring=bool(data.get("service_account_in_keyring", False)),
            sandbox_backend=pick(Backend, data.get("sandbox_backend"), Backend.AGENT_PLATFORM),
            extra={str(k): str(v) for k, v in dict(data.get("extra", {})).items()},
        )


# -- checking what the user typed ------------------------------------------------------------------
PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


@dataclass(frozen=True)
class ProfileProblem:
    """What must be fixed in a profile before it is saved, and which field (``project`` or ``bucket``)."""

    field: str
    message: str


def normalize_bucket(text: str) -> str:
    """``gs://my-bucket/`` → ``my-bucket``."""
    value = text.strip()
    if value.lower().startswith("gs://"):
        value = value[5:]
    return value.strip("/").split("/")[0]


def check_profile(profile: ConnectionProfile, in_use: bool) -> ProfileProblem | None:
    """A plain-words problem that blocks saving ``profile`` (``in_use``: it is the connection chosen), or None."""
    if profile.kind is not ConnectionKind.AGENT_PLATFORM:
        return None
    if profile.project and not PROJECT_RE.match(profile.project):
        return ProfileProblem("project", "The Google Cloud project ID should be 6–30 characters: lowercase letters, "
                                         "digits and hyphens, starting with a letter (for example my-tuning-project).")
    if profile.bucket and not BUCKET_RE.match(profile.bucket):
        return ProfileProblem("bucket", "The bucket name should use lowercase letters, digits, dots, hyphens or "
                                        "underscores (for example my-tuning-data).")
    if in_use and not profile.project:
        return ProfileProblem("project", "To use Google Cloud, enter the project ID (or choose another connection).")
    return None
