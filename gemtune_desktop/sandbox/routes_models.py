"""Agent Platform routes for what a finished job leaves behind: the tuned model, its endpoints, operations.

* ``models.get/list/patch/delete``: the tuned model (``labels.tune-type`` = ``sft``; list
  ``filter``s honoured). ``models.delete`` takes the model without an ``@version`` suffix and fails
  with FAILED_PRECONDITION while any endpoint still serves it (the models.delete reference: "A model
  cannot be deleted if any Endpoint resource has a DeployedModel based on the model"); it answers
  with a long-running operation that finishes a moment later.
* ``endpoints.get`` and ``endpoints.undeployModel`` (an operation too); the model's endpoint and
  each checkpoint's endpoint are separate deployments.
* ``endpoints.generateContent/streamGenerateContent/countTokens`` answer only on the emulated
  ``us``/``eu`` multi-region hosts (tuned models are served only there, since May 2026); the
  location segment may be the multi-region or the tuning region, since which one the real
  ``tunedModel.endpoint`` carries is not documented.
* ``operations.get`` for the model's and the endpoints' operations, and for rebases
  (:mod:`~gemtune_desktop.sandbox.routes_rebase`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import agent_views as views
from gemtune_desktop.sandbox import contract
from gemtune_desktop.sandbox.apierror import bad_request, failed_precondition, not_found
from gemtune_desktop.sandbox.contract import enforced, request_body
from gemtune_desktop.sandbox.filters import compile_filter
from gemtune_desktop.sandbox.generation import tuned_label
from gemtune_desktop.sandbox.http import json_response, list_response
from gemtune_desktop.sandbox.routes_agent import check_location
from gemtune_desktop.sandbox.routes_rebase import find_rebase, rebase_operation_view
from gemtune_desktop.sandbox.state import Run

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

SERVED = frozenset(f"projects.locations.endpoints.{m}" for m in ("generateContent", "streamGenerateContent",
                                                                  "countTokens"))
TABLE = {
    "projects.locations.models.get": "get_model", "projects.locations.models.list": "list_models",
    "projects.locations.models.patch": "update_model", "projects.locations.models.delete": "delete_model",
    "projects.locations.endpoints.get": "get_endpoint", "projects.locations.endpoints.undeployModel": "undeploy_model",
    **{m: "endpoint_generate" for m in SERVED},
    "projects.locations.operations.get": "get_operation",
    "projects.locations.endpoints.operations.get": "get_endpoint_operation",
}
SERVING_HOST = {"us": "aiplatform.us.rep.googleapis.com", "eu": "aiplatform.eu.rep.googleapis.com"}


def _version(request: Request) -> str:
    return "v1" if "/v1/" in request.path else "v1beta1"


class ModelRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state

    @staticmethod
    def rules() -> list[Rule]:
        return contract.rules("models", TABLE, serving_host=SERVED)

    # -- lookups --------------------------------------------------------------------------------
    def _tuned_runs(self, project: str, location: str) -> list[Run]:
        """The newest live version of every tuned model here."""
        latest: dict[str, Run] = {}
        for r in self.state.find_runs("agent"):
            if r.info["location"] == location and r.info["project"] == project and views.live_model(r):
                old = latest.get(r.info["model_id"])
                if old is None or views.model_version(r) > views.model_version(old):
                    latest[r.info["model_id"]] = r
        return sorted(latest.values(), key=lambda r: -r.created_wall)

    def _model_run(self, project: str, location: str, model_ref: str) -> Run:
        """The run behind ``ID``, ``ID@VERSION`` or ``ID@default``."""
        run = views.find_model(self.state.find_runs("agent"), project, location, model_ref)
        if run is None:
            raise not_found(f"Model projects/{project}/locations/{location}/models/{model_ref} does not exist.")
        return run

    def _versions(self, run: Run) -> list[Run]:
        return views.model_versions(self.state.find_runs("agent"), run.info["project"], run.info["location"],
                                    run.info["model_id"])

    def _endpoint(self, project: str, location: str, endpoint_id: str) -> Run:
        """The run whose model an endpoint serves (``location``: the multi-region or the tuning region)."""
        for run in self.state.find_runs("agent"):
            if run.info["project"] != project or location not in (run.info["serving_location"], run.info["location"]):
                continue
            if run.status().state == "SUCCEEDED" and endpoint_id in views.deployments(run):
                return run
        raise not_found(f"Endpoint projects/{project}/locations/{location}/endpoints/{endpoint_id} not found.")

    # -- tuned models ---------------------------------------------------------------------------
    @enforced
    def list_models(self, request: Request, project: str, location: str) -> Response:
        check_location(request, location)
        keep = compile_filter(request.args.get("filter"))
        with self.state.lock:
            items = [v for v in (views.model_view(r) for r in self._tuned_runs(project, location)) if keep(v)]
        return list_response(request, "models", items)

    @enforced
    def get_model(self, request: Request, project: str, location: str, model_id: str) -> Response:
        check_location(request, location)
        with self.state.lock:
            run = self._model_run(project, location, model_id)
            return json_response(views.model_view(run, latest=run is self._versions(run)[-1]))

    @enforced
    def update_model(self, request: Request, project: str, location: str, model_id: str) -> Response:
        check_location(request, location)
        body = request_body(request)
        mask = [m.strip() for m in request.args.get("updateMask", "").split(",") if m.strip()] or list(body)
        with self.state.lock:
            run = self._model_run(project, location, model_id.split("@", 1)[0])
            for field in mask:
                key = contract.check.camel(field)
                if key == "displayName":
                    name = str(body.get("displayName") or "")
                    if not name or len(name) > 128:
                        raise bad_request("model.display_name must be 1 to 128 characters.")
                    run.info["model_display_name"] = name
                elif key == "description":
                    run.info["model_description"] = str(body.get("description") or "")
                elif key not in ("defaultCheckpointId", "labels"):
                    raise bad_request(f"Field {field!r} of a tuned model cannot be updated.")
            self.state.save_run(run)
            return json_response(views.model_view(run))

    @enforced
    def delete_model(self, request: Request, project: str, location: str, model_id: str) -> Response:
        check_location(request, location)
        name = f"projects/{project}/locations/{location}/models/{model_id}"
        if "@" in model_id:
            raise bad_request(f"Model name {name} names a version; models.delete takes the model without "
                              "\"@version\" (projects/{project}/locations/{location}/models/{model}).")
        with self.state.lock:
            run = self._model_run(project, location, model_id)
            versions = self._versions(run)
            serving_at = f"projects/{project}/locations/{run.info['serving_location']}/endpoints/"
            busy = [serving_at + e for v in versions for e in views.deployments(v) if views.serving(v, e)]
            if busy:
                raise failed_precondition(
                    f"The Model \"{name}\" is deployed or being deployed at the following Endpoint(s): "
                    f"{', '.join(busy)}. A model cannot be deleted if any Endpoint resource has a DeployedModel "
                    "based on the model in its deployed_models field.")
            if run.info.get("delete_op") is None:  # every version goes with the model
                run.info["delete_op"] = views.new_operation(run, "delete", views.DELETE_TICKS, self.state.pace)
                for other in versions:
                    other.info["delete_op"] = run.info["delete_op"]
                    other.info.setdefault("operations", {})[run.info["delete_op"]] = \
                        run.info["operations"][run.info["delete_op"]]
                    self.state.save_run(other)
                self.state.save_run(run)
            op_id = run.info["delete_op"]
            return json_response(views.operation_view(run, op_id, f"projects/{project}/locations/{location}/"
                                                                  f"operations/{op_id}", _version(request)))

    # -- endpoints ------------------------------------------------------------------------------
    @enforced
    def get_endpoint(self, request: Request, project: str, location: str, endpoint_id: str) -> Response:
        check_location(request, location)
        with self.state.lock:
            return json_response(views.endpoint_view(self._endpoint(project, location, endpoint_id), endpoint_id))

    @enforced
    def undeploy_model(self, request: Request, project: str, location: str, endpoint_id: str) -> Response:
        check_location(request, location)
        wanted = str(request_body(request).get("deployedModelId") or "")
        with self.state.lock:
            run = self._endpoint(project, location, endpoint_id)
            dep = views.deployments(run)[endpoint_id]
            if not wanted or wanted != dep["deployed_model_id"]:
                raise not_found(f"Deployed model {wanted or '(none given)'} is not deployed at endpoint "
                                f"projects/{project}/locations/{location}/endpoints/{endpoint_id}.")
            if dep.get("undeploy_op") is None:
                dep["undeploy_op"] = views.new_operation(run, "undeploy", views.UNDEPLOY_TICKS, self.state.pace,
                                                         endpoint_id=endpoint_id)
                self.state.save_run(run)
            op_id = dep["undeploy_op"]
            name = f"projects/{project}/locations/{location}/endpoints/{endpoint_id}/operations/{op_id}"
            return json_response(views.operation_view(run, op_id, name, _version(request)))

    @enforced
    def endpoint_generate(self, request: Request, project: str, location: str, endpoint_id: str,
                          serving_host: str | None) -> Response:
        check_location(request, location)
        name = f"projects/{project}/locations/{location}/endpoints/{endpoint_id}"
        with self.state.lock:
            run = self._endpoint(project, location, endpoint_id)
            if not views.serving(run, endpoint_id) or views.model_deleted(run):
                raise not_found(f"Endpoint {name} has no deployed model.")
            wanted_host = SERVING_HOST[run.info["serving_location"]]
            if serving_host != wanted_host:
                raise failed_precondition(
                    f"Tuned models are served only on the {run.info['serving_location']} multi-region endpoint "
                    f"({wanted_host}); this request reached {serving_host or 'a regional endpoint'}. (Sandbox "
                    "emulation: the real service's answer to a call on another host is not documented.)")
            dep = views.deployments(run)[endpoint_id]
            if endpoint_id == run.info["endpoint_id"]:
                label = tuned_label(run.info["display_name"])
            else:
                label = tuned_label(run.info["display_name"], checkpoint=dep["checkpoint_id"])
        verb = request.path.rsplit(":", 1)[-1]
        return self.server.generate_response(request, verb, name, run.examples, label)

    # -- operations -----------------------------------------------------------------------------
    @enforced
    def get_operation(self, request: Request, project: str, location: str, operation_id: str) -> Response:
        check_location(request, location)
        name = f"projects/{project}/locations/{location}/operations/{operation_id}"
        with self.state.lock:
            for run in self.state.find_runs("agent"):
                if run.info["project"] == project and run.info["location"] == location and \
                        run.info.get("delete_op") == operation_id:
                    return json_response(views.operation_view(run, operation_id, name, _version(request)))
            rebased = find_rebase(self.state, project, location, operation_id)
            if rebased is not None:
                return json_response(rebase_operation_view(self.state, rebased, operation_id, name,
                                                           _version(request)))
        raise not_found(f"Operation projects/{project}/locations/{location}/operations/{operation_id} not found.")

    @enforced
    def get_endpoint_operation(self, request: Request, project: str, location: str, endpoint_id: str,
                               operation_id: str) -> Response:
        check_location(request, location)
        name = f"projects/{project}/locations/{location}/endpoints/{endpoint_id}/operations/{operation_id}"
        with self.state.lock:
            run = self._endpoint(project, location, endpoint_id)
            if views.deployments(run)[endpoint_id].get("undeploy_op") != operation_id:
                raise not_found(f"Operation {name} not found.")
            return json_response(views.operation_view(run, operation_id, name, _version(request)))
