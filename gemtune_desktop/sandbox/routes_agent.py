"""Agent Platform routes: publisher models, base-model generation and tuning jobs (v1 and v1beta1).

Tuning jobs are made by :class:`~gemtune_desktop.sandbox.tuning_jobs.JobMaker` (supervised and preference
tuning, from a base model or continued from a tuned model's checkpoint); rebasing is in
:mod:`~gemtune_desktop.sandbox.routes_rebase`.

Every route sits at its published path and is held to the published schema by
:mod:`gemtune_desktop.sandbox.contract`. Any project ID is accepted, as Google's own emulators do;
jobs are kept per project and location. Tuned models, endpoints and their operations are in
:mod:`~gemtune_desktop.sandbox.routes_models`; the loss curves in
:mod:`~gemtune_desktop.sandbox.routes_tensorboard`; the JSON views in
:mod:`~gemtune_desktop.sandbox.agent_views`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import catalog, contract
from gemtune_desktop.sandbox.agent_views import job_view
from gemtune_desktop.sandbox.apierror import bad_request, failed_precondition, not_found
from gemtune_desktop.sandbox.contract import enforced, request_body
from gemtune_desktop.sandbox.filters import compile_filter
from gemtune_desktop.sandbox.http import json_response, list_response, require_bearer
from gemtune_desktop.sandbox.state import Run
from gemtune_desktop.sandbox.tuning_jobs import JobMaker

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

GENERATE = ("generateContent", "streamGenerateContent", "countTokens")
TABLE = {
    "publishers.models.list": "list_publisher_models", "publishers.models.get": "get_publisher_model",
    **{f"publishers.models.{m}": "base_generate" for m in GENERATE},
    **{f"projects.locations.publishers.models.{m}": "base_generate" for m in GENERATE},
    "projects.locations.tuningJobs.create": "create_job", "projects.locations.tuningJobs.list": "list_jobs",
    "projects.locations.tuningJobs.get": "get_job", "projects.locations.tuningJobs.cancel": "cancel_job",
}


def check_location(request: Request, location: str | None) -> None:
    """Agent Platform calls need an OAuth token and a location the Sandbox serves; any project will do."""
    require_bearer(request)
    if location is not None and location not in catalog.ALL_LOCATIONS:
        raise bad_request(f"Location '{location}' is not supported. Use one of: {', '.join(catalog.ALL_LOCATIONS)}.")


class AgentPlatformRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state
        self.jobs = JobMaker(server)

    @staticmethod
    def rules() -> list[Rule]:
        return contract.rules("agent", TABLE)

    # -- publisher models ----------------------------------------------------------------------
    @enforced
    def list_publisher_models(self, request: Request, publisher: str) -> Response:
        check_location(request, None)
        items = [catalog.publisher_model(m) for m in catalog.AP_MODELS] if publisher == "google" else []
        return list_response(request, "publisherModels", items)

    @enforced
    def get_publisher_model(self, request: Request, publisher: str, model_id: str) -> Response:
        check_location(request, None)
        if publisher != "google" or model_id not in catalog.AP_MODELS:
            raise not_found(f"Publisher Model `publishers/{publisher}/models/{model_id}` not found.")
        return json_response(catalog.publisher_model(model_id))

    @enforced
    def base_generate(self, request: Request, publisher: str, model_id: str, project: str | None = None,
                      location: str | None = None) -> Response:
        check_location(request, location)
        if publisher != "google" or model_id not in catalog.AP_MODELS:
            where = f"projects/{project}/locations/{location}/" if project else ""
            raise not_found(f"Publisher Model `{where}publishers/{publisher}/models/{model_id}` was not found or "
                            "your project does not have access to it.")
        verb = request.path.rsplit(":", 1)[-1]
        return self.server.generate_response(request, verb, f"publishers/google/models/{model_id}", None, "")

    # -- tuning jobs ---------------------------------------------------------------------------
    @enforced
    def create_job(self, request: Request, project: str, location: str) -> Response:
        check_location(request, location)
        if location not in catalog.TUNING_REGIONS:
            raise bad_request(f"Tuning is not available in location '{location}'. Use one of: "
                              f"{', '.join(catalog.TUNING_REGIONS)}.")
        run = self.jobs.create(project, location, request_body(request))
        return json_response(job_view(run, now=run.created_wall, version=request.path.split("/", 2)[1]))

    def _job(self, project: str, location: str, job_id: str) -> Run:
        run = self.state.runs.get(job_id)
        if run is None or run.kind != "agent" or run.info["location"] != location or run.info["project"] != project:
            raise not_found(f"The TuningJob projects/{project}/locations/{location}/tuningJobs/{job_id} does "
                            "not exist.")
        return run

    @enforced
    def list_jobs(self, request: Request, project: str, location: str) -> Response:
        check_location(request, location)
        version = request.path.split("/", 2)[1]
        keep = compile_filter(request.args.get("filter"))
        with self.state.lock:
            runs = [r for r in self.state.find_runs("agent")
                    if r.info["location"] == location and r.info["project"] == project]
            items = [v for v in (job_view(r, version=version) for r in runs) if keep(v)]
        return list_response(request, "tuningJobs", items)

    @enforced
    def get_job(self, request: Request, project: str, location: str, job_id: str) -> Response:
        check_location(request, location)
        with self.state.lock:
            return json_response(job_view(self._job(project, location, job_id), version=request.path.split("/", 2)[1]))

    @enforced
    def cancel_job(self, request: Request, project: str, location: str, job_id: str) -> Response:
        check_location(request, location)
        with self.state.lock:
            run = self._job(project, location, job_id)
            status = run.status()
            if status.ended or status.state == "CANCELLING":
                raise failed_precondition(f"Cannot cancel tuning job {job_id} because it is in state "
                                          f"JOB_STATE_{status.state}.")
            run.cancel_tick = run.ticks()
            self.state.save_run(run)
        return json_response({})

