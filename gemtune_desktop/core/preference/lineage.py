"""Where a job started, in words, read from its record: "Preference-tuned from checkpoint 2 of “Lease desk”".

A job record keeps its method and starting point in its hyperparameters
(:func:`gemtune_desktop.services.submit_flow.start_hyperparameters`; jobs found on the service get them from
the job's ``preTunedModel``): ``method`` ("supervised" or "preference"), ``start_model`` and
``start_checkpoint`` for continued tuning, ``rebased_from`` (and ``rebased_from_label``) for a tuned model moved
onto a newer base. The tuned model a job started from is named by the job that made it when that job is in the
project (its display name), else by the model's id.
"""

from __future__ import annotations

from collections.abc import Iterable

from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.preference.spec import PREFERENCE, SUPERVISED, StartingPoint, lineage


def _model_id(name: str) -> str:
    return name.split("@", 1)[0]


def maker_of(tuned_model: str, records: Iterable[JobRecord]) -> JobRecord | None:
    """The job in the project that made ``tuned_model`` (``…/models/ID@VERSION``; the version must match when
    given, since continued tuning adds versions to the same model)."""
    found = [r for r in records if r.tuned_model and (r.tuned_model == tuned_model or (
        "@" not in tuned_model and _model_id(r.tuned_model) == tuned_model))]
    return found[-1] if found else None


def _label(record: JobRecord | None, tuned_model: str) -> str:
    if record is not None and record.display_name:
        return f"“{record.display_name}”"
    return tuned_model.rsplit("/", 1)[-1] if tuned_model else "a tuned model"


def start_of(record: JobRecord, records: Iterable[JobRecord] = ()) -> StartingPoint:
    """The job's starting point, with the making job's name when it is in ``records``."""
    hp = record.hyperparameters or {}
    model = str(hp.get("start_model") or "")
    if not model.startswith("projects/"):
        return StartingPoint(record.base_model or model or str(hp.get("base_model") or ""))
    maker = maker_of(model, records)
    label = _label(maker, model) if maker is not None else str(hp.get("start_job") or "") or _label(None, model)
    return StartingPoint(model, str(hp.get("start_checkpoint") or ""), record.base_model, label)


def lineage_of(record: JobRecord, records: Iterable[JobRecord] = ()) -> str:
    """The job's lineage in words (``records``: the project's jobs, to name the one it continued from)."""
    records = list(records)
    hp = record.hyperparameters or {}
    rebased = str(hp.get("rebased_from") or "")
    if rebased:
        maker = maker_of(rebased, records)
        name = _label(maker, rebased) if maker is not None else (
            f"“{hp['rebased_from_label']}”" if hp.get("rebased_from_label") else _label(None, rebased))
        old = str(hp.get("rebased_from_base") or (maker.base_model if maker is not None else "") or "")
        was = f" ({old})" if old else ""
        return f"Moved from {name}{was} onto the newer base model {record.base_model}"
    method = PREFERENCE if hp.get("method") == "preference" else SUPERVISED
    return lineage(method, start_of(record, records))


def starting_points(records: Iterable[JobRecord]) -> list[StartingPoint]:
    """What the Tune tab offers under "Start from → a tuned model": each tuned model the project's succeeded Agent
    Platform jobs made (its default checkpoint first, then each checkpoint), newest job first. Models the user
    deleted are left out."""
    from gemtune_desktop.core.jobs import JobState

    out: list[StartingPoint] = []
    done = [r for r in records if r.state is JobState.SUCCEEDED and r.tuned_model.startswith("projects/")
            and r.backend == "agent-platform" and not r.data_stats.get("tuned_model_deleted")]
    for r in sorted(done, key=lambda rec: rec.created_at, reverse=True):
        label = _label(r, r.tuned_model)
        out.append(StartingPoint(r.tuned_model, "", r.base_model, label))
        for cp in r.checkpoints:
            cp_id = str(cp.get("checkpoint_id") or "")
            if cp_id:
                out.append(StartingPoint(r.tuned_model, cp_id, r.base_model, label))
    return out
