"""``tuningJobs:rebaseTunedModel``: move one of the Sandbox's tuned models onto a newer base model.

``POST {parent}/tuningJobs:rebaseTunedModel`` (``RebaseTunedModelRequest``: ``tunedModelRef`` {``tunedModel`` |
``tuningJob`` | ``pipelineJob``}, ``tuningJob`` "to overwrite tuning configs", ``artifactDestination``,
``deployToSameEndpoint``) answers a long-running ``Operation`` whose metadata is a
``RebaseTunedModelOperationMetadata`` ({``genericMetadata``}) and whose response, once done, is the new
``TuningJob`` (googleapis ``genai_tuning_service.proto``: ``Operation<TuningJob,
RebaseTunedModelOperationMetadata>``). The operation is ``projects/P/locations/L/operations/ID``, read with
``operations.get`` (:mod:`.routes_models`).

In the Sandbox the new job re-runs the tuned model's own job (the same method, data and settings, and what
the model learned) on the new base, and makes a new tuned model; the operation finishes
:data:`REBASE_TICKS` training steps later, while the new job runs on. The new base is
``tuningJob.baseModel`` when given (which field names it is not documented; GemTune sends this one), else
:data:`~gemtune_desktop.sandbox.catalog.NEWER_BASE`. ``tuningJob`` may also set ``tunedModelDisplayName``,
``description`` and ``labels``; other overrides, ``pipelineJob`` references and ``deployToSameEndpoint`` are
valid for Agent Platform but not simulated (501).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import agent_views as views
from gemtune_desktop.sandbox import catalog, contract
from gemtune_desktop.sandbox.apierror import ApiError, bad_request, failed_precondition, not_found
from gemtune_desktop.sandbox.contract import enforced, request_body
from gemtune_desktop.sandbox.http import json_response, rfc3339
from gemtune_desktop.sandbox.routes_agent import check_location
from gemtune_desktop.sandbox.state import Run, SandboxState
from gemtune_desktop.sandbox.tuning_jobs import TUNED_MODEL_RE

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

TABLE = {"projects.locations.tuningJobs.rebaseTunedModel": "rebase"}
REBASE_TICKS = 3.0
OVERRIDES = frozenset({"baseModel", "tunedModelDisplayName", "description", "labels"})


def rebase_operation_view(state: SandboxState, run: Run, op_id: str, name: str, version: str) -> dict[str, Any]:
    """The rebase operation stored on the rebased model's run ``run``."""
    op = run.info["operations"][op_id]
    done = views.operation_done(run, op_id)
    updated = op["start"] + op["seconds"] if done else time.time()
    view: dict[str, Any] = {"name": name, "metadata": {
        "@type": f"type.googleapis.com/google.cloud.aiplatform.{version}.RebaseTunedModelOperationMetadata",
        "genericMetadata": {"createTime": rfc3339(op["start"]), "updateTime": rfc3339(updated)}}}
    new = state.runs.get(str(op.get("new_job")))
    if done and new is not None:
        view["done"] = True
        view["response"] = {"@type": f"type.googleapis.com/google.cloud.aiplatform.{version}.TuningJob",
                            **views.job_view(new, version=version)}
    return view


def find_rebase(state: SandboxState, project: str, location: str, op_id: str) -> Run | None:
    """The run that holds rebase operation ``op_id``."""
    for run in state.find_runs("agent"):
        op = (run.info.get("operations") or {}).get(op_id)
        if op is not None and op.get("kind") == "rebase" and run.info["project"] == project and \
                op.get("location", run.info["location"]) == location:
            return run
    return None


class RebaseRoutes:
    def __init__(self, server: SandboxServer, jobs: Any) -> None:
        self.server = server
        self.state = server.state
        self.jobs = jobs  # the Agent Platform routes' JobMaker

    @staticmethod
    def rules() -> list[Rule]:
        return contract.rules("rebase", TABLE)

    def _tuned(self, project: str, location: str, ref: dict[str, Any]) -> Run:
        given = [k for k in ("tunedModel", "tuningJob", "pipelineJob") if ref.get(k)]
        if len(given) != 1:
            raise bad_request("tuned_model_ref needs exactly one of tuned_model, tuning_job and pipeline_job.")
        if given[0] == "pipelineJob":
            raise ApiError(501, "Rebasing from a pipeline job (the older PaLM tuning) is not simulated in the "
                                "Sandbox.")
        runs = self.state.find_runs("agent")
        if given[0] == "tunedModel":
            name = str(ref["tunedModel"])
            m = TUNED_MODEL_RE.fullmatch(name)
            if not m or (m.group(1), m.group(2)) != (project, location):
                raise bad_request(f"tuned_model_ref.tuned_model must name a model in projects/{project}/locations/"
                                  f"{location} (projects/…/locations/…/models/…), got {name!r}.")
            run = views.find_model(runs, project, location, m.group(3) + (m.group(4) or ""))
            if run is None:
                raise not_found(f"Model {name} does not exist.")
            return run
        name = str(ref["tuningJob"])
        job_id = name.rsplit("/", 1)[-1]
        found = self.state.runs.get(job_id)
        if found is None or found.kind != "agent" or name != views.names(found)["job"]:
            raise not_found(f"The TuningJob {name} does not exist.")
        if not views.live_model(found):
            raise failed_precondition(f"The TuningJob {name} has no tuned model to rebase (it has not succeeded, or "
                                      "its model was deleted).")
        return found

    def _new_base(self, source: Run, wanted: str) -> str:
        current = source.info["base_model"]
        current_id = current.rsplit("/", 1)[-1]
        if not wanted:
            newer = catalog.NEWER_BASE.get(current_id)
            if newer is None:
                raise failed_precondition(f"{current_id} is the newest base model the Sandbox offers for this tuned "
                                          "model; name another one in tuning_job.base_model.")
            wanted = current[: len(current) - len(current_id)] + newer
        wanted_id = wanted.rsplit("/", 1)[-1]
        if wanted_id not in catalog.AP_MODELS:
            raise not_found(f"Base model {wanted} was not found.")
        if wanted_id not in catalog.AP_TUNABLE:
            raise bad_request(f"Base model {wanted} cannot be tuned, so a tuned model cannot be moved onto it.")
        if wanted_id == current_id:
            raise failed_precondition(f"The tuned model is already on {current_id}; choose a newer base model.")
        return wanted

    @enforced
    def rebase(self, request: Request, project: str, location: str) -> Response:
        check_location(request, location)
        version = request.path.split("/", 2)[1]
        if location not in catalog.TUNING_REGIONS:
            raise bad_request(f"Tuning is not available in location '{location}'. Use one of: "
                              f"{', '.join(catalog.TUNING_REGIONS)}.")
        body = request_body(request)
        ref = body.get("tunedModelRef")
        if not isinstance(ref, dict) or not ref:
            raise bad_request("tuned_model_ref is required.")
        if body.get("deployToSameEndpoint"):
            raise ApiError(501, "deploy_to_same_endpoint (replacing the old model on its endpoint) is not simulated "
                                "in the Sandbox; the rebased model gets endpoints of its own.")
        overrides = dict(body.get("tuningJob") or {})
        other = sorted(set(overrides) - OVERRIDES)
        if other:
            raise ApiError(501, f"Overriding {', '.join(other)} in a rebase is not simulated in the Sandbox; it "
                                f"takes {', '.join(sorted(OVERRIDES))}.")
        with self.state.lock:
            source = self._tuned(project, location, ref)
            new_base = self._new_base(source, str(overrides.get("baseModel") or ""))
            new = self.jobs.rebase(source, new_base, overrides)
            op_id = views.new_operation(source, "rebase", REBASE_TICKS, self.state.pace, new_job=new.id,
                                        location=location)
            self.state.save_run(source)
            name = f"projects/{project}/locations/{location}/operations/{op_id}"
            return json_response(rebase_operation_view(self.state, source, op_id, name, version))
