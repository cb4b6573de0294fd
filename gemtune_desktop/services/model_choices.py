"""The models of the project that the Test tab can call: each succeeded job's tuned model and checkpoints.

:func:`tuned_model_refs` gives one API flavour's models; :func:`project_model_refs` gives every tuned
model of the project, whatever connection is in use: those made on another connection are grouped apart
and :func:`job_connection_label` names the connection they belong to (a model is called only on the
connection it was tuned on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.console import ModelRef

PROJECT_GROUP = "Tuned on this project"
OTHER_CONNECTION_GROUP = "Tuned on this project, on another connection"


def _checkpoint_field(cp: dict[str, Any], *names: str) -> Any:
    for name in names:
        if cp.get(name) not in (None, ""):
            return cp[name]
    return None


def tuned_model_refs(jobs: Sequence[JobRecord], backend: str, group: str = PROJECT_GROUP) -> list[ModelRef]:
    """Tuned models (and checkpoints) of the succeeded jobs of one API flavour, newest job first.

    A Sandbox job of the other API flavour cannot be called, so only ``backend``'s jobs are offered.
    """
    refs: list[ModelRef] = []
    for job in jobs:
        if job.state is not JobState.SUCCEEDED or job.backend != backend:
            continue
        refs.extend(_job_refs(job, group))
    return refs


def _job_refs(job: JobRecord, group: str) -> list[ModelRef]:
    name = job.display_name or job.resource_name.rsplit("/", 1)[-1]
    target = job.endpoint or job.tuned_model
    if not target:
        return []
    ref = ModelRef(model=target, label=f"{name} (tuned from {job.base_model or 'base'})", kind="tuned",
                   job_id=job.id, group=group, base_model=job.base_model)
    return [ref, *_checkpoint_refs(job, name, target, group)]


def _checkpoint_refs(job: JobRecord, name: str, target: str, group: str) -> list[ModelRef]:
    refs = []
    for cp in job.checkpoints or []:
        if not isinstance(cp, dict):
            continue
        endpoint = _checkpoint_field(cp, "endpoint")
        if not endpoint or endpoint == target:
            continue
        step = _checkpoint_field(cp, "step")
        epoch = _checkpoint_field(cp, "epoch")
        cid = _checkpoint_field(cp, "checkpoint_id", "checkpointId")
        where = f"epoch {epoch}" if epoch is not None else (f"step {step}" if step is not None else f"#{cid}")
        refs.append(ModelRef(model=str(endpoint), label=f"    {name} · checkpoint {where}", kind="checkpoint",
                             job_id=job.id, group=group, base_model=job.base_model))
    return refs


# -- every tuned model of the project, whatever the connection -------------------------------------
def on_connection(job: JobRecord, profile: ConnectionProfile) -> bool:
    """Whether ``job``'s models can be called on ``profile`` (same kind, API flavour and, when recorded,
    the same Cloud project and region)."""
    if job.connection_kind != profile.kind.value or job.backend != profile.backend.value:
        return False
    return not job.connection_id or job.connection_id == profile.connection_id


def job_connection_label(job: JobRecord) -> str:
    """The connection a job was made on, as the status bar names connections."""
    try:
        backend = Backend(job.backend)
    except ValueError:
        backend = Backend.AGENT_PLATFORM
    if job.connection_kind == ConnectionKind.SANDBOX.value:
        return f"Sandbox ({backend.label}, simulated)"
    if job.connection_kind == ConnectionKind.GEMINI_API.value:
        return "Gemini API key"
    where = job.connection_id.replace("/", " · ") if job.connection_id else "another Cloud project"
    return f"Google Cloud: {where}"


@dataclass(frozen=True, slots=True)
class ProjectModels:
    """The project's tuned models: those the active connection can call, and those of other connections
    (``elsewhere[model]`` is the job each belongs to)."""

    here: list[ModelRef]
    other: list[ModelRef]
    elsewhere: dict[str, JobRecord]


def project_model_refs(jobs: Sequence[JobRecord], profile: ConnectionProfile) -> ProjectModels:
    """Every succeeded job's models, those of the active connection first."""
    here: list[ModelRef] = []
    other: list[ModelRef] = []
    elsewhere: dict[str, JobRecord] = {}
    for job in jobs:
        if job.state is not JobState.SUCCEEDED:
            continue
        if on_connection(job, profile):
            here.extend(_job_refs(job, PROJECT_GROUP))
            continue
        refs = _job_refs(job, OTHER_CONNECTION_GROUP)
        for ref in refs:
            if ref.kind == "tuned":
                ref.label = f"{ref.label} — {job_connection_label(job)}"
            elsewhere[ref.model] = job
        other.extend(refs)
    return ProjectModels(here, other, elsewhere)
