"""How a simulated Agent Platform tuning run looks through the API: resource names and JSON views.

Names follow the real service: jobs ``projects/P/locations/L/tuningJobs/ID``; the tuned model
``projects/P/locations/L/models/ID`` (``@1`` in ``TuningJob.tunedModel.model``; continued tuning without a
new display name adds version ``@2``, ``@3``… of the same model); its endpoints,
one for the model and one per checkpoint, on the serving multi-region
(``projects/P/locations/us/endpoints/ID`` for a job in us-central1, ``eu`` for europe-west4); the
loss curves in a TensorBoard reached from ``job.experiment``. int64 fields are JSON strings, as
Google sends them. Deployments (which endpoint serves the model, and whether an ``undeployModel``
has finished) and long-running operations live in ``run.info``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from gemtune_desktop.sandbox import training
from gemtune_desktop.sandbox.http import rfc3339
from gemtune_desktop.sandbox.state import Run, new_numeric_id

TENSORBOARD_ID = "5500000000000000001"
UNDEPLOY_TICKS = 4.0  # an undeployModel operation takes this many training-step durations
DELETE_TICKS = 2.0
EVAL_SERIES = "/eval_total_loss"
TRAIN_SERIES = "/train_total_loss"
SPEC_KEYS = {"supervised": "supervisedTuningSpec", "preference": "preferenceOptimizationSpec"}
STATS_KEYS = {"supervised": "supervisedTuningDataStats", "preference": "preferenceOptimizationDataStats"}


def names(run: Run) -> dict[str, str]:
    i = run.info
    parent = f"projects/{i['project']}/locations/{i['location']}"
    serving = f"projects/{i['project']}/locations/{i['serving_location']}"
    tb = f"{parent}/tensorboards/{TENSORBOARD_ID}"
    exp = f"{tb}/experiments/{i['experiment_id']}"
    run_name = f"{exp}/runs/run-{run.id}"
    return {
        "parent": parent, "job": f"{parent}/tuningJobs/{run.id}", "model": f"{parent}/models/{i['model_id']}",
        "endpoint": f"{serving}/endpoints/{i['endpoint_id']}", "serving": serving,
        "experiment": f"{parent}/metadataStores/default/contexts/{i['experiment_id']}",
        "tensorboard": tb, "tb_experiment": exp, "run": run_name,
        "train_series": f"{run_name}/timeSeries/{run.id[-9:]}01",
        "eval_series": f"{run_name}/timeSeries/{run.id[-9:]}02",
    }


def method(run: Run) -> str:
    """"supervised" or "preference" (runs stored before preference tuning existed are supervised)."""
    return str(run.info.get("method") or "supervised")


def model_version(run: Run) -> int:
    return int(run.info.get("model_version") or 1)


def model_ref(run: Run) -> str:
    """``projects/P/locations/L/models/ID@VERSION`` of the run's tuned model."""
    return f"{names(run)['model']}@{model_version(run)}"


def live_model(run: Run) -> bool:
    return run.kind == "agent" and run.status().state == "SUCCEEDED" and not model_deleted(run)


def model_versions(runs: Iterable[Run], project: str, location: str, model_id: str) -> list[Run]:
    """The runs whose tuned model is a live version of ``model_id``, oldest version first."""
    found = [r for r in runs if r.kind == "agent" and r.info["project"] == project and r.info["location"] == location
             and r.info["model_id"] == model_id and live_model(r)]
    return sorted(found, key=model_version)


def find_model(runs: Iterable[Run], project: str, location: str, ref: str) -> Run | None:
    """The run behind ``ID``, ``ID@VERSION`` or ``ID@default`` (the newest version), or None."""
    model_id, _, version = ref.partition("@")
    found = model_versions(runs, project, location, model_id)
    if not found:
        return None
    if version and version != "default":
        return next((r for r in found if str(model_version(r)) == version), None)
    return found[-1]


def checkpoints(run: Run) -> list[dict[str, str]]:
    spe = run.plan.steps_per_epoch
    epochs = range(1, run.plan.epochs + 1)
    if run.info.get("export_last_only"):
        epochs = range(run.plan.epochs, run.plan.epochs + 1)
    serving = names(run)["serving"]
    return [{"checkpointId": str(e), "epoch": str(e), "step": str(e * spe),
             "endpoint": f"{serving}/endpoints/{run.info['checkpoint_endpoints'][str(e)]}"} for e in epochs]


# -- deployments and operations ---------------------------------------------------------------------
def deployments(run: Run) -> dict[str, dict[str, Any]]:
    """``{endpoint id: {"deployed_model_id", "checkpoint_id", "undeploy_op"}}`` (made on first use)."""
    found = run.info.get("deployments")
    if isinstance(found, dict):
        return found
    cps = checkpoints(run)
    table: dict[str, dict[str, Any]] = {
        run.info["endpoint_id"]: {"deployed_model_id": "1" + run.info["endpoint_id"][-11:],
                                  "checkpoint_id": cps[-1]["checkpointId"] if cps else "", "undeploy_op": None}}
    for cp in cps:
        endpoint_id = cp["endpoint"].rsplit("/", 1)[1]
        table[endpoint_id] = {"deployed_model_id": "2" + endpoint_id[-11:], "checkpoint_id": cp["checkpointId"],
                              "undeploy_op": None}
    run.info["deployments"] = table
    return table


def new_operation(run: Run, kind: str, ticks: float, pace: float, **extra: Any) -> str:
    """A long-running operation that finishes after ``ticks`` training-step durations at the Sandbox's pace."""
    op_id = new_numeric_id()
    run.info.setdefault("operations", {})[op_id] = {"kind": kind, "start": time.time(), "seconds": ticks / pace,
                                                    **extra}
    return op_id


def operation_done(run: Run, op_id: str | None) -> bool:
    op = (run.info.get("operations") or {}).get(op_id or "")
    return op is not None and time.time() >= op["start"] + op["seconds"]


def serving(run: Run, endpoint_id: str) -> bool:
    """Whether the endpoint still serves this run's model (its undeploy, if any, has not finished)."""
    dep = deployments(run).get(endpoint_id)
    return dep is not None and not operation_done(run, dep.get("undeploy_op"))


def model_deleted(run: Run) -> bool:
    return bool(run.info.get("model_deleted")) or operation_done(run, run.info.get("delete_op"))


def operation_view(run: Run, op_id: str, name: str, version: str) -> dict[str, Any]:
    op = run.info["operations"][op_id]
    kinds = {"undeploy": "UndeployModelOperationMetadata", "delete": "DeleteOperationMetadata"}
    done = operation_done(run, op_id)
    view: dict[str, Any] = {"name": name, "metadata": {
        "@type": f"type.googleapis.com/google.cloud.aiplatform.{version}.{kinds[op['kind']]}",
        "genericMetadata": {"createTime": rfc3339(op["start"]),
                            "updateTime": rfc3339(op["start"] + op["seconds"] if done else time.time())}}}
    if done:
        view["done"] = True
        view["response"] = {"@type": f"type.googleapis.com/google.cloud.aiplatform.{version}.UndeployModelResponse"
                            if op["kind"] == "undeploy" else "type.googleapis.com/google.protobuf.Empty"}
    return view


# -- the job -------------------------------------------------------------------------------------------
def job_view(run: Run, now: float | None = None, version: str = "v1beta1") -> dict[str, Any]:
    """The TuningJob; on ``v1`` without what only v1beta1 has (``tuningJobState``, ``tuningJobMetadata``,
    ``supervisedTuningSpec.tuningMode``)."""
    now = time.time() if now is None else now
    beta = version == "v1beta1"
    st = run.status(now)
    i = run.info
    n = names(run)
    spec: dict[str, Any] = {"trainingDatasetUri": i["training_uri"], "hyperParameters": dict(i["hyper"]),
                            "exportLastCheckpointOnly": i["export_last_only"]}
    if i["validation_uri"]:
        spec["validationDatasetUri"] = i["validation_uri"]
    if i.get("tuning_mode") and beta:
        spec["tuningMode"] = i["tuning_mode"]
    if i.get("evaluation_config"):
        spec["evaluationConfig"] = i["evaluation_config"]
    update_tick = min(run.ticks(now), st.end_tick) if st.end_tick is not None else run.ticks(now)
    view: dict[str, Any] = {
        "name": n["job"], "tunedModelDisplayName": i["display_name"],
        "state": f"JOB_STATE_{st.state}", "createTime": rfc3339(run.created_wall),
        "updateTime": rfc3339(run.wall(update_tick)),
        "serviceAccount": f"service-{i['project']}@gcp-sa-aiplatform-ft.iam.gserviceaccount.com",
    }
    if i.get("pre_tuned"):  # TuningJob.source_model is a oneof: base_model or pre_tuned_model
        view["preTunedModel"] = dict(i["pre_tuned"])
    else:
        view["baseModel"] = i["base_model"]
    spec_key = i.get("spec_key") or SPEC_KEYS[method(run)]
    view[spec_key] = spec if spec_key in SPEC_KEYS.values() else i.get("other_spec", {})
    for key, name in (("description", "description"), ("labels", "labels")):
        if i.get(key):
            view[name] = i[key]
    if st.phase and beta:
        view["tuningJobState"] = f"TUNING_JOB_STATE_{st.phase}"
    if st.start_tick is not None:
        view["startTime"] = rfc3339(run.wall(st.start_tick))
    if st.end_tick is not None:
        view["endTime"] = rfc3339(run.wall(st.end_tick))
    processed_at = training.QUEUED_TICKS + training.PENDING_TICKS
    processed = run.ticks(now) >= processed_at and (run.cancel_tick is None or run.cancel_tick >= processed_at)
    if processed and i.get("stats"):
        view["tuningDataStats"] = {STATS_KEYS[method(run)]: i["stats"]}
    if st.start_tick is not None and run.failure is None:
        if beta:
            view["tuningJobMetadata"] = {"completedStepCount": str(st.completed_steps),
                                         "completedEpochCount": str(st.completed_steps // run.plan.steps_per_epoch)}
        view["experiment"] = n["experiment"]
    if st.state == "SUCCEEDED":
        view["tunedModel"] = {"model": model_ref(run), "endpoint": n["endpoint"],
                              "checkpoints": checkpoints(run)}
    if st.state == "FAILED" and run.failure:
        view["error"] = dict(run.failure)
    if st.state == "CANCELLED":
        view["error"] = {"code": 1, "message": "CANCELED"}
    return view


# -- the tuned model and its endpoints ----------------------------------------------------------------
def model_view(run: Run, latest: bool = True) -> dict[str, Any]:
    """The tuned ``Model`` (one version of it; ``latest`` carries the ``default`` alias)."""
    n = names(run)
    st = run.status()
    base_id = run.info["base_model"].rsplit("/", 1)[-1]
    cps = checkpoints(run)
    serving_at = f"projects/{run.info['project']}/locations/{run.info['serving_location']}/endpoints/"
    deployed = [{"endpoint": serving_at + endpoint_id, "deployedModelId": dep["deployed_model_id"],
                 "checkpointId": dep["checkpoint_id"]}
                for endpoint_id, dep in deployments(run).items() if serving(run, endpoint_id)]
    view: dict[str, Any] = {
        "name": n["model"], "displayName": run.info.get("model_display_name") or run.info["display_name"],
        "versionId": str(model_version(run)), "versionAliases": ["default"] if latest else [],
        "description": run.info.get("model_description") or run.info.get("description")
        or "Tuned in the Sandbox (simulation).",
        "labels": {"google-vertex-llm-tuning-base-model-id": base_id.replace(".", "-"),
                   "google-vertex-llm-tuning-job-id": run.id,
                   # The label a preference-tuned model carries is not documented; supervised ones say "sft".
                   **({"tune-type": "sft"} if method(run) == "supervised" else {})},
        "createTime": rfc3339(run.created_wall),
        "updateTime": rfc3339(run.wall(st.end_tick or run.ticks())),
        "defaultCheckpointId": cps[-1]["checkpointId"] if cps else "",
        "checkpoints": [{"checkpointId": c["checkpointId"], "epoch": c["epoch"], "step": c["step"]} for c in cps],
    }
    if deployed:
        view["deployedModels"] = deployed
    return view


def endpoint_view(run: Run, endpoint_id: str) -> dict[str, Any]:
    n = names(run)
    dep = deployments(run)[endpoint_id]
    view: dict[str, Any] = {
        "name": f"projects/{run.info['project']}/locations/{run.info['serving_location']}/endpoints/{endpoint_id}",
        "displayName": f"{run.info['display_name']} (tuned model)", "createTime": rfc3339(run.created_wall),
        "updateTime": rfc3339(time.time())}
    if serving(run, endpoint_id):
        view["deployedModels"] = [{"id": dep["deployed_model_id"], "model": n["model"],
                                   "modelVersionId": str(model_version(run)),
                                   "checkpointId": dep["checkpoint_id"], "displayName": run.info["display_name"],
                                   "createTime": rfc3339(run.created_wall)}]
        view["trafficSplit"] = {dep["deployed_model_id"]: 100}
    return view
