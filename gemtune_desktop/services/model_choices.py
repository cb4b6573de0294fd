"""The models of the project that the Test tab can call: each succeeded job's tuned model and checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.services.console import ModelRef

PROJECT_GROUP = "Tuned on this project"


def _checkpoint_field(cp: dict[str, Any], *names: str) -> Any:
    for name in names:
        if cp.get(name) not in (None, ""):
            return cp[name]
    return None


def tuned_model_refs(jobs: Sequence[JobRecord], backend: str) -> list[ModelRef]:
    """Tuned models (and checkpoints) of the succeeded jobs of one API flavour, newest job first.

    A Sandbox job of the other API flavour cannot be called, so only ``backend``'s jobs are offered.
    """
    refs: list[ModelRef] = []
    for job in jobs:
        if job.state is not JobState.SUCCEEDED or job.backend != backend:
            continue
        name = job.display_name or job.resource_name.rsplit("/", 1)[-1]
        target = job.endpoint or job.tuned_model
        if not target:
            continue
        refs.append(ModelRef(model=target, label=f"{name} (tuned from {job.base_model or 'base'})", kind="tuned",
                             job_id=job.id, group=PROJECT_GROUP))
        refs.extend(_checkpoint_refs(job, name, target))
    return refs


def _checkpoint_refs(job: JobRecord, name: str, target: str) -> list[ModelRef]:
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
                             job_id=job.id, group=PROJECT_GROUP))
    return refs
