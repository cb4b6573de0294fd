"""Agent Platform routes: publisher models, base-model generation and tuning jobs (v1 and v1beta1).

Every route sits at its published path and is held to the published schema by
:mod:`gemtune_desktop.sandbox.contract`. Any project ID is accepted, as Google's own emulators do;
jobs are kept per project and location. Tuned models, endpoints and their operations are in
:mod:`~gemtune_desktop.sandbox.routes_models`; the loss curves in
:mod:`~gemtune_desktop.sandbox.routes_tensorboard`; the JSON views in
:mod:`~gemtune_desktop.sandbox.agent_views`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import catalog, contract, datasets, training
from gemtune_desktop.sandbox.agent_views import job_view
from gemtune_desktop.sandbox.apierror import bad_request, failed_precondition, not_found
from gemtune_desktop.sandbox.contract import enforced, request_body
from gemtune_desktop.sandbox.filters import compile_filter
from gemtune_desktop.sandbox.http import json_response, list_response, require_bearer
from gemtune_desktop.sandbox.state import Run, new_numeric_id

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
VALIDATION_LIMIT = 5000  # examples (supervised-tuning page, reference §5.2)
VALIDATION_SHARE = 0.3  # …or 30 % of the training examples when there are more than 1,000 validation examples
OTHER_SPECS = ("preferenceOptimizationSpec", "distillationSpec", "reinforcementTuningSpec", "partnerModelTuningSpec",
               "fullFineTuningSpec", "veoTuningSpec", "veoLoraTuningSpec")


def check_location(request: Request, location: str | None) -> None:
    """Agent Platform calls need an OAuth token and a location the Sandbox serves; any project will do."""
    require_bearer(request)
    if location is not None and location not in catalog.ALL_LOCATIONS:
        raise bad_request(f"Location '{location}' is not supported. Use one of: {', '.join(catalog.ALL_LOCATIONS)}.")


def validation_limit(n_train: int, n_validation: int) -> int:
    """The most validation examples a job may have (the rule as the docs word it, read strictly)."""
    if n_validation > 1000:
        return min(VALIDATION_LIMIT, math.floor(VALIDATION_SHARE * n_train))
    return VALIDATION_LIMIT


class AgentPlatformRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state

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
        version = request.path.split("/", 2)[1]
        if location not in catalog.TUNING_REGIONS:
            raise bad_request(f"Tuning is not available in location '{location}'. Use one of: "
                              f"{', '.join(catalog.TUNING_REGIONS)}.")
        body = request_body(request)
        base = str(body.get("baseModel") or "")
        if not base:
            raise bad_request("base_model is required.")
        base_id = base.rsplit("/", 1)[-1]
        if base_id not in catalog.AP_MODELS:
            raise not_found(f"Base model {base} was not found.")
        other = [k for k in OTHER_SPECS if k in body]
        spec = body.get("supervisedTuningSpec")
        if not other and not isinstance(spec, dict):
            raise bad_request("A tuning spec is required: supervised_tuning_spec for supervised tuning.")
        if base_id not in catalog.AP_TUNABLE:
            raise bad_request(f"Base model {base} does not support supervised tuning. Supported base models: "
                              f"{', '.join(catalog.AP_TUNABLE)}.")
        display = str(body.get("tunedModelDisplayName") or "")
        if len(display) > 128:
            raise bad_request("tuned_model_display_name must be at most 128 characters.")
        labels = _labels(body.get("labels") or {})
        if other:
            return self._create_other(project, location, version, body, base, display, labels, other[0])
        assert isinstance(spec, dict)
        settings = _settings(spec, base_id)
        job_id = new_numeric_id()
        parsed, val_count, failure = self._read_data(settings["train_uri"], settings["val_uri"])
        forced = self.server.take_forced_failure()
        if forced and failure is None:
            failure = {"code": 13, "message": forced}
        n = len(parsed.examples)
        epochs = settings["epochs"] if settings["epochs"] is not None else training.auto_epochs(n)
        plan = training.Plan(example_count=max(n, 1), batch_size=training.auto_batch_size(n), epochs=epochs,
                             multiplier=settings["multiplier"], has_validation=bool(settings["val_uri"]),
                             seed=training.seed_for(job_id))
        info = {
            "project": project, "location": location, "serving_location": catalog.SERVING_LOCATION.get(location, "us"),
            "base_model": base, "display_name": display or f"{base_id}-sandbox-{job_id[-6:]}",
            "description": body.get("description"), "labels": labels, "training_uri": settings["train_uri"],
            "validation_uri": settings["val_uri"], "validation_count": val_count,
            "hyper": {"epochCount": str(epochs), "learningRateMultiplier": plan.multiplier,
                      "adapterSize": settings["adapter"]},
            "export_last_only": bool(spec.get("exportLastCheckpointOnly", False)),
            "tuning_mode": spec.get("tuningMode"), "evaluation_config": spec.get("evaluationConfig"),
            "stats": datasets.supervised_stats(parsed, epochs, plan.total_steps) if parsed.usable else None,
            "model_id": new_numeric_id(), "endpoint_id": new_numeric_id(),
            "checkpoint_endpoints": {str(e): new_numeric_id() for e in range(1, epochs + 1)},
            "experiment_id": f"tuning-experiment-{job_id}",
        }
        return self._add(job_id, plan, parsed.examples, info, failure, version)

    def _create_other(self, project: str, location: str, version: str, body: dict[str, Any], base: str,
                      display: str, labels: dict[str, str], spec_key: str) -> Response:
        """A valid job of a kind the Sandbox does not simulate: accepted, then failed with the reason."""
        job_id = new_numeric_id()
        plan = training.Plan(example_count=1, batch_size=1, epochs=1, multiplier=1.0, has_validation=False,
                             seed=training.seed_for(job_id))
        info = {"project": project, "location": location, "serving_location": catalog.SERVING_LOCATION[location],
                "base_model": base, "display_name": display or f"sandbox-{job_id[-6:]}",
                "description": body.get("description"), "labels": labels, "training_uri": "", "validation_uri": "",
                "validation_count": 0, "hyper": {}, "export_last_only": False, "spec_key": spec_key,
                "other_spec": body[spec_key], "model_id": new_numeric_id(), "endpoint_id": new_numeric_id(),
                "checkpoint_endpoints": {"1": new_numeric_id()}, "experiment_id": f"tuning-experiment-{job_id}"}
        failure = {"code": 12, "message": f"The Sandbox simulates supervised tuning only; this job's {spec_key} is "
                                          "valid for Agent Platform but is not simulated. Use a Google Cloud "
                                          "connection to run it."}
        return self._add(job_id, plan, [], info, failure, version)

    def _add(self, job_id: str, plan: training.Plan, examples: list[datasets.TrainingExample], info: dict[str, Any],
             failure: dict[str, Any] | None, version: str) -> Response:
        clock = self.state.new_clock()
        run = Run(kind="agent", id=job_id, created_wall=clock.anchor_wall, clock=clock, plan=plan,
                  examples=examples, info=info, failure=failure)
        self.state.add_run(run)
        return json_response(job_view(run, now=run.created_wall, version=version))

    def _read_data(self, train_uri: str, val_uri: str) -> tuple[datasets.ParsedDataset, int, dict[str, Any] | None]:
        raw = self.state.read_gcs_uri(train_uri)
        parsed = datasets.ParsedDataset()
        if raw is None:
            return parsed, 0, {"code": 5, "message": f"Training dataset {train_uri} was not found. Upload the file "
                                                     "first, or check the bucket and object name."}
        parsed = datasets.parse_agent_platform_jsonl(raw)
        if not parsed.usable:
            first = parsed.dropped_reasons[0] if parsed.dropped_reasons else "no examples"
            return parsed, 0, {"code": 3, "message": f"Training dataset {train_uri} has no usable examples "
                                                     f"({parsed.dropped_count} rejected). First problem: {first}"}
        if not val_uri:
            return parsed, 0, None
        val_raw = self.state.read_gcs_uri(val_uri)
        if val_raw is None:
            return parsed, 0, {"code": 5, "message": f"Validation dataset {val_uri} was not found."}
        val_parsed = datasets.parse_agent_platform_jsonl(val_raw)
        n_val = len(val_parsed.examples)
        if not val_parsed.usable:
            return parsed, 0, {"code": 3, "message": f"Validation dataset {val_uri} has no usable examples."}
        limit = validation_limit(len(parsed.examples), n_val)
        if n_val > limit:
            return parsed, n_val, {"code": 3, "message": (
                f"Validation dataset {val_uri} has {n_val} examples; the maximum is 5000, or 30% of the number of "
                f"training examples ({len(parsed.examples)}) if there are more than 1000 validation examples: "
                f"{limit} here.")}
        return parsed, n_val, None

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


def _labels(labels: dict[str, Any]) -> dict[str, str]:
    """Label keys and values: at most 64 characters, no upper-case letters (TuningJob.labels)."""
    for key, value in labels.items():
        text = str(value)
        if not key or len(key) > 64 or len(text) > 64 or key != key.lower() or text != text.lower():
            raise bad_request(f"Label {key!r} is not valid: keys and values must be lowercase and at most "
                              "64 characters.")
    return {str(k): str(v) for k, v in labels.items()}


def _settings(spec: dict[str, Any], base_id: str) -> dict[str, Any]:
    train_uri = str(spec.get("trainingDatasetUri") or "")
    if not train_uri.startswith("gs://") or "/" not in train_uri[5:]:
        raise bad_request(f"supervised_tuning_spec.training_dataset_uri must be a gs://bucket/object URI, got "
                          f"{train_uri!r}.")
    val_uri = str(spec.get("validationDatasetUri") or "")
    if val_uri and not val_uri.startswith("gs://"):
        raise bad_request(f"supervised_tuning_spec.validation_dataset_uri must be a gs:// URI, got {val_uri!r}.")
    hyper = spec.get("hyperParameters") or {}
    for oss in ("batchSize", "learningRate"):
        if oss in hyper:
            raise bad_request(f"supervised_tuning_spec.hyper_parameters.{oss} is only supported for open models; "
                              "for Gemini use epochCount, learningRateMultiplier and adapterSize.")
    epochs = int(hyper["epochCount"]) if hyper.get("epochCount") is not None else None
    if epochs is not None and not 1 <= epochs <= 100:
        raise bad_request(f"hyperParameters.epochCount must be between 1 and 100, got {epochs}.")
    multiplier = float(hyper["learningRateMultiplier"]) if hyper.get("learningRateMultiplier") is not None else None
    if multiplier is not None and not (math.isfinite(multiplier) and 0 < multiplier <= 100):
        raise bad_request(f"hyperParameters.learningRateMultiplier must be greater than 0 and at most 100, "
                          f"got {multiplier}.")
    adapter = hyper.get("adapterSize") or catalog.AP_DEFAULT_ADAPTER
    if adapter == "ADAPTER_SIZE_UNSPECIFIED":
        adapter = catalog.AP_DEFAULT_ADAPTER
    if adapter not in catalog.AP_ADAPTER_SIZES:
        raise bad_request(f"hyperParameters.adapterSize {adapter} is not supported for {base_id}. Supported: "
                          f"{', '.join(catalog.AP_ADAPTER_SIZES)}.")
    return {"train_uri": train_uri, "val_uri": val_uri, "epochs": epochs,
            "multiplier": multiplier if multiplier is not None else 1.0, "adapter": adapter}

