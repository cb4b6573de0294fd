"""What the Monitor reads off a job record: steps per epoch, the learning rate used, a checkpoint, re-run settings.

Jobs store what was asked (``hyperparameters``) and what the service reported (``data_stats``, with
the service's own names such as ``epoch_count``); these helpers look in both, in that order of trust.
"""

from __future__ import annotations

from typing import Any

from gemtune_desktop.core.jobs import JobRecord


def _service_hyperparameters(job: JobRecord) -> dict[str, Any]:
    used = job.data_stats.get("hyper_parameters") if job.data_stats else None
    return used if isinstance(used, dict) else {}


def steps_per_epoch(job: JobRecord) -> float:
    """Training steps in one pass over the data, or 0 when the epochs or total steps are not known."""
    epochs = _service_hyperparameters(job).get("epoch_count")
    epochs = epochs or job.hyperparameters.get("epoch_count") or job.hyperparameters.get("epochs")
    try:
        n = float(epochs or 0)
    except (TypeError, ValueError):
        n = 0.0
    return job.total_steps / n if job.total_steps and n else 0.0


def learning_rate_multiplier(job: JobRecord) -> float | None:
    """The learning-rate multiplier the job ran with, when it is known."""
    value = job.hyperparameters.get("learning_rate_multiplier") or \
        _service_hyperparameters(job).get("learning_rate_multiplier")
    try:
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


def checkpoint_for(job: JobRecord, epoch: int | None, step: int | None) -> dict[str, Any] | None:
    """The job's checkpoint at ``epoch`` (or the last one at or before ``step``) that can be called."""
    cps = [c for c in job.checkpoints if c.get("endpoint")]
    if epoch is not None:
        for cp in cps:
            if int(cp.get("epoch") or 0) == epoch:
                return cp
    if step is not None:
        before = [c for c in cps if int(c.get("step") or 0) <= step]
        if before:
            return max(before, key=lambda c: int(c.get("step") or 0))
    return None


def rerun_settings(job: JobRecord) -> dict[str, Any]:
    """The job's own settings, as the Tune form's starting point for a re-run."""
    settings: dict[str, Any] = dict(job.hyperparameters)
    settings.pop("tuned_model_id", None)  # a re-run gets a new id
    for service_key, form_key in (("epoch_count", "epochs"),):  # names as the service reports them
        if service_key in settings:
            settings.setdefault(form_key, settings.pop(service_key))
    if job.base_model:
        settings.setdefault("base_model", job.base_model)
    if job.display_name:
        settings.setdefault("display_name", job.display_name)
    return settings
