"""Agent Platform (v1beta1) routes: publisher models, tuning jobs, tuned models and endpoints, loss series.

Resource names follow the real service: jobs ``projects/P/locations/L/tuningJobs/ID``; tuned
models ``projects/P/locations/L/models/ID@1``; endpoints on the serving multi-region
(``projects/P/locations/us/endpoints/ID`` for a job in us-central1, ``eu`` for europe-west4,
reference §3.5), one per checkpoint as well; the loss curves in a TensorBoard reached from
``job.experiment`` (contract in the module docstring of :mod:`gemtune_desktop.sandbox.server`).
int64 fields are JSON strings, as Google sends them.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import catalog, datasets, training
from gemtune_desktop.sandbox.apierror import ApiError, bad_request, failed_precondition, not_found, unknown_fields
from gemtune_desktop.sandbox.generation import tuned_label
from gemtune_desktop.sandbox.http import body_json, json_response, list_response, require_bearer, rfc3339
from gemtune_desktop.sandbox.state import Run, new_numeric_id

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

V = "/v1beta1"
LOC = V + "/projects/<seg:project>/locations/<seg:location>"
TENSORBOARD_ID = "5500000000000000001"

JOB_FIELDS = frozenset({
    "baseModel", "supervisedTuningSpec", "tunedModelDisplayName", "description", "labels", "encryptionSpec",
    "serviceAccount", "preTunedModel", "evaluationConfig", "outputUri", "customBaseModel", "name",
    "tuningJobState", "state",
})
SPEC_FIELDS = frozenset({"trainingDatasetUri", "validationDatasetUri", "hyperParameters", "exportLastCheckpointOnly",
                         "tuningMode", "evaluationConfig"})
HYPER_FIELDS = frozenset({"epochCount", "learningRateMultiplier", "adapterSize", "batchSize", "learningRate"})


class AgentPlatformRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state

    @staticmethod
    def rules() -> list[Rule]:
        r = Rule
        gen = ("generateContent", "streamGenerateContent", "countTokens")
        rules = [
            r(V + "/publishers/google/models", endpoint="agent.list_publisher_models", methods=["GET"]),
            r(V + "/publishers/google/models/<seg:model>", endpoint="agent.get_publisher_model", methods=["GET"]),
            r(LOC + "/publishers/google/models", endpoint="agent.list_publisher_models", methods=["GET"]),
            r(LOC + "/publishers/google/models/<seg:model>", endpoint="agent.get_publisher_model", methods=["GET"]),
            r(LOC + "/tuningJobs", endpoint="agent.create_job", methods=["POST"]),
            r(LOC + "/tuningJobs", endpoint="agent.list_jobs", methods=["GET"]),
            r(LOC + "/tuningJobs/<seg:job_id>", endpoint="agent.get_job", methods=["GET"]),
            r(LOC + "/tuningJobs/<seg:job_id>:cancel", endpoint="agent.cancel_job", methods=["POST"]),
            r(LOC + "/models", endpoint="agent.list_models", methods=["GET"]),
            r(LOC + "/models/<seg:model_id>", endpoint="agent.get_model", methods=["GET"]),
            r(LOC + "/models/<seg:model_id>", endpoint="agent.delete_model", methods=["DELETE"]),
            r(LOC + "/models/<seg:model_id>", endpoint="agent.update_model", methods=["PATCH"]),
            r(LOC + "/metadataStores/default/contexts/<seg:context_id>", endpoint="agent.get_context", methods=["GET"]),
            r(LOC + "/tensorboards/<seg:tb>/experiments/<seg:exp>/runs", endpoint="agent.list_runs", methods=["GET"]),
            r(LOC + "/tensorboards/<seg:tb>/experiments/<seg:exp>/runs/<seg:run>/timeSeries",
              endpoint="agent.list_time_series", methods=["GET"]),
            r(LOC + "/tensorboards/<seg:tb>:batchRead", endpoint="agent.batch_read", methods=["GET"]),
        ]
        for method in gen:
            rules.append(r(f"{V}/publishers/google/models/<seg:model>:{method}", endpoint="agent.base_generate",
                           methods=["POST"], defaults={"method": method, "project": None, "location": None}))
            rules.append(r(f"{LOC}/publishers/google/models/<seg:model>:{method}", endpoint="agent.base_generate",
                           methods=["POST"], defaults={"method": method}))
            rules.append(r(f"{LOC}/endpoints/<seg:endpoint_id>:{method}", endpoint="agent.endpoint_generate",
                           methods=["POST"], defaults={"method": method}))
        return rules

    # -- common checks -------------------------------------------------------------------------
    def _check(self, request: Request, project: str | None, location: str | None) -> None:
        require_bearer(request)
        if project is not None and project != catalog.PROJECT:
            raise ApiError(403, f"Permission denied on resource project {project} (the Sandbox only has "
                                f"project '{catalog.PROJECT}').")
        if location is not None and location not in catalog.ALL_LOCATIONS:
            raise bad_request(f"Location '{location}' is not supported. Use one of: "
                              f"{', '.join(catalog.ALL_LOCATIONS)}.")

    # -- publisher models ----------------------------------------------------------------------
    def list_publisher_models(self, request: Request, project: str | None = None,
                              location: str | None = None) -> Response:
        self._check(request, project, location)
        items = [catalog.publisher_model(m) for m in catalog.AP_MODELS]
        return list_response(request, "publisherModels", items)

    def get_publisher_model(self, request: Request, model: str, project: str | None = None,
                            location: str | None = None) -> Response:
        self._check(request, project, location)
        if model not in catalog.AP_MODELS:
            raise not_found(f"Publisher Model `publishers/google/models/{model}` not found.")
        return json_response(catalog.publisher_model(model))

    def base_generate(self, request: Request, model: str, method: str, project: str | None,
                      location: str | None) -> Response:
        self._check(request, project, location)
        if model not in catalog.AP_MODELS:
            where = f"projects/{project}/locations/{location}/" if project else ""
            raise not_found(f"Publisher Model `{where}publishers/google/models/{model}` was not found or your "
                            "project does not have access to it.")
        return self.server.generate_response(request, method, f"publishers/google/models/{model}", None, "")

    # -- tuning jobs ---------------------------------------------------------------------------
    def create_job(self, request: Request, project: str, location: str) -> Response:
        self._check(request, project, location)
        if location not in catalog.TUNING_REGIONS:
            raise bad_request(f"Tuning is not available in location '{location}'. Use one of: "
                              f"{', '.join(catalog.TUNING_REGIONS)}.")
        body = body_json(request)
        unknown_fields(body, JOB_FIELDS)
        base = str(body.get("baseModel") or "")
        if not base:
            raise bad_request("baseModel is required.")
        base_id = base.rsplit("/", 1)[-1]
        if base_id not in catalog.AP_MODELS:
            raise not_found(f"Base model {base} was not found.")
        if base_id not in catalog.AP_TUNABLE:
            raise bad_request(f"Base model {base} does not support supervised tuning. Supported base models: "
                              f"{', '.join(catalog.AP_TUNABLE)}.")
        spec = body.get("supervisedTuningSpec")
        if not isinstance(spec, dict):
            raise bad_request("supervisedTuningSpec is required for Gemini tuning.")
        unknown_fields(spec, SPEC_FIELDS, "supervised_tuning_spec")
        train_uri = str(spec.get("trainingDatasetUri") or "")
        if not train_uri.startswith("gs://") or "/" not in train_uri[5:]:
            raise bad_request(f"supervisedTuningSpec.trainingDatasetUri must be a gs://bucket/object URI, got "
                              f"{train_uri!r}.")
        val_uri = str(spec.get("validationDatasetUri") or "")
        if val_uri and not val_uri.startswith("gs://"):
            raise bad_request(f"supervisedTuningSpec.validationDatasetUri must be a gs:// URI, got {val_uri!r}.")
        hyper = spec.get("hyperParameters") or {}
        if not isinstance(hyper, dict):
            raise bad_request("hyperParameters must be an object.")
        unknown_fields(hyper, HYPER_FIELDS, "supervised_tuning_spec.hyper_parameters")
        for oss in ("batchSize", "learningRate"):
            if oss in hyper:
                raise bad_request(f"hyperParameters.{oss} is only supported for open models; for Gemini use "
                                  "epochCount, learningRateMultiplier and adapterSize.")
        epochs = _number(hyper, "epochCount", int)
        if epochs is not None and not 1 <= epochs <= 100:
            raise bad_request(f"hyperParameters.epochCount must be between 1 and 100, got {epochs}.")
        multiplier = _number(hyper, "learningRateMultiplier", float)
        if multiplier is not None and not 0 < multiplier <= 100:
            raise bad_request(f"hyperParameters.learningRateMultiplier must be greater than 0 and at most 100, "
                              f"got {multiplier}.")
        adapter = hyper.get("adapterSize") or catalog.AP_DEFAULT_ADAPTER
        if adapter not in catalog.AP_ADAPTER_SIZES:
            raise bad_request(f"hyperParameters.adapterSize {adapter} is not supported for {base_id}. Supported: "
                              f"{', '.join(catalog.AP_ADAPTER_SIZES)}.")
        mode = spec.get("tuningMode")
        if mode is not None and mode not in ("TUNING_MODE_FULL", "TUNING_MODE_PEFT_ADAPTER"):
            raise bad_request(f"supervisedTuningSpec.tuningMode {mode!r} is not valid; use TUNING_MODE_FULL or "
                              "TUNING_MODE_PEFT_ADAPTER.")
        display = str(body.get("tunedModelDisplayName") or "")
        if len(display) > 128:
            raise bad_request("tunedModelDisplayName must be at most 128 characters.")
        labels = body.get("labels") or {}
        if not isinstance(labels, dict):
            raise bad_request("labels must be an object of strings.")
        for key, value in labels.items():
            if len(key) > 63 or len(str(value)) > 63 or key != key.lower() or str(value) != str(value).lower():
                raise bad_request(f"Label {key!r} is not valid: keys and values must be lowercase and at most "
                                  "63 characters.")

        job_id = new_numeric_id()
        failure: dict[str, Any] | None = None
        raw = self.state.read_gcs_uri(train_uri)
        parsed = datasets.ParsedDataset()
        if raw is None:
            failure = {"code": 5, "message": f"Training dataset {train_uri} was not found. Upload the file "
                                             "first, or check the bucket and object name."}
        else:
            parsed = datasets.parse_agent_platform_jsonl(raw)
            if not parsed.usable:
                first = parsed.dropped_reasons[0] if parsed.dropped_reasons else "no examples"
                failure = {"code": 3, "message": f"Training dataset {train_uri} has no usable examples "
                                                 f"({parsed.dropped_count} lines rejected). First problem: {first}"}
        val_count = 0
        if val_uri and failure is None:
            val_raw = self.state.read_gcs_uri(val_uri)
            if val_raw is None:
                failure = {"code": 5, "message": f"Validation dataset {val_uri} was not found."}
            else:
                val_parsed = datasets.parse_agent_platform_jsonl(val_raw)
                val_count = len(val_parsed.examples)
                if not val_parsed.usable:
                    failure = {"code": 3, "message": f"Validation dataset {val_uri} has no usable examples."}
                elif val_count > 5000:
                    failure = {"code": 3, "message": f"Validation dataset {val_uri} has {val_count} examples; "
                                                     "the limit is 5000."}
        forced = self.server.take_forced_failure()
        if forced and failure is None:
            failure = {"code": 13, "message": forced}
        n = len(parsed.examples)
        used_epochs = epochs if epochs is not None else training.auto_epochs(n)
        plan = training.Plan(example_count=max(n, 1), batch_size=training.auto_batch_size(n), epochs=used_epochs,
                             multiplier=multiplier if multiplier is not None else 1.0,
                             has_validation=bool(val_uri), seed=training.seed_for(job_id))
        serving = catalog.SERVING_LOCATION.get(location, "us")
        info = {
            "project": project, "location": location, "serving_location": serving, "base_model": base,
            "display_name": display or f"{base_id}-sandbox-{job_id[-6:]}", "description": body.get("description"),
            "labels": labels, "training_uri": train_uri, "validation_uri": val_uri, "validation_count": val_count,
            "hyper": {"epochCount": str(used_epochs), "learningRateMultiplier": plan.multiplier,
                      "adapterSize": adapter},
            "export_last_only": bool(spec.get("exportLastCheckpointOnly", False)), "tuning_mode": mode,
            "stats": datasets.supervised_stats(parsed, used_epochs, plan.total_steps) if parsed.usable else None,
            "model_id": new_numeric_id(), "endpoint_id": new_numeric_id(),
            "checkpoint_endpoints": {str(e): new_numeric_id() for e in range(1, used_epochs + 1)},
            "experiment_id": f"tuning-experiment-{job_id}",
        }
        clock = self.state.new_clock()
        run = Run(kind="agent", id=job_id, created_wall=clock.anchor_wall, clock=clock, plan=plan,
                  examples=parsed.examples, info=info, failure=failure)
        self.state.add_run(run)
        return json_response(self.job_view(run, now=run.created_wall))

    def _job(self, project: str, location: str, job_id: str) -> Run:
        run = self.state.runs.get(job_id)
        if run is None or run.kind != "agent" or run.info["location"] != location:
            raise not_found(f"The TuningJob projects/{project}/locations/{location}/tuningJobs/{job_id} does "
                            "not exist.")
        return run

    def list_jobs(self, request: Request, project: str, location: str) -> Response:
        self._check(request, project, location)
        with self.state.lock:
            runs = [r for r in self.state.find_runs("agent") if r.info["location"] == location]
            items = [self.job_view(r) for r in runs]
        flt = request.args.get("filter", "")
        if flt.startswith("state="):
            want = flt.split("=", 1)[1].strip().strip('"')
            items = [i for i in items if i["state"] == want]
        return list_response(request, "tuningJobs", items)

    def get_job(self, request: Request, project: str, location: str, job_id: str) -> Response:
        self._check(request, project, location)
        with self.state.lock:
            return json_response(self.job_view(self._job(project, location, job_id)))

    def cancel_job(self, request: Request, project: str, location: str, job_id: str) -> Response:
        self._check(request, project, location)
        with self.state.lock:
            run = self._job(project, location, job_id)
            status = run.status()
            if status.ended or status.state == "CANCELLING":
                raise failed_precondition(f"Cannot cancel tuning job {job_id} because it is in state "
                                          f"JOB_STATE_{status.state}.")
            run.cancel_tick = run.ticks()
            self.state.save_run(run)
        return json_response({})

    # -- views -----------------------------------------------------------------------------------
    def _names(self, run: Run) -> dict[str, str]:
        i = run.info
        parent = f"projects/{i['project']}/locations/{i['location']}"
        serving = f"projects/{i['project']}/locations/{i['serving_location']}"
        tb = f"{parent}/tensorboards/{TENSORBOARD_ID}"
        exp = f"{tb}/experiments/{i['experiment_id']}"
        run_name = f"{exp}/runs/run-{run.id}"
        return {
            "job": f"{parent}/tuningJobs/{run.id}", "model": f"{parent}/models/{i['model_id']}",
            "endpoint": f"{serving}/endpoints/{i['endpoint_id']}", "serving": serving,
            "experiment": f"{parent}/metadataStores/default/contexts/{i['experiment_id']}",
            "tensorboard": tb, "tb_experiment": exp, "run": run_name,
            "train_series": f"{run_name}/timeSeries/{run.id[-9:]}01",
            "eval_series": f"{run_name}/timeSeries/{run.id[-9:]}02",
        }

    def checkpoints(self, run: Run) -> list[dict[str, str]]:
        names = self._names(run)
        spe = run.plan.steps_per_epoch
        epochs = range(1, run.plan.epochs + 1)
        if run.info.get("export_last_only"):
            epochs = range(run.plan.epochs, run.plan.epochs + 1)
        return [{"checkpointId": str(e), "epoch": str(e), "step": str(e * spe),
                 "endpoint": f"{names['serving']}/endpoints/{run.info['checkpoint_endpoints'][str(e)]}"}
                for e in epochs]

    def job_view(self, run: Run, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        st = run.status(now)
        i = run.info
        names = self._names(run)
        spec: dict[str, Any] = {"trainingDatasetUri": i["training_uri"], "hyperParameters": dict(i["hyper"]),
                                "exportLastCheckpointOnly": i["export_last_only"]}
        if i["validation_uri"]:
            spec["validationDatasetUri"] = i["validation_uri"]
        if i.get("tuning_mode"):
            spec["tuningMode"] = i["tuning_mode"]
        update_tick = min(run.ticks(now), st.end_tick) if st.end_tick is not None else run.ticks(now)
        view: dict[str, Any] = {
            "name": names["job"], "tunedModelDisplayName": i["display_name"], "baseModel": i["base_model"],
            "state": f"JOB_STATE_{st.state}", "createTime": rfc3339(run.created_wall),
            "updateTime": rfc3339(run.wall(update_tick)), "supervisedTuningSpec": spec,
            "serviceAccount": f"service-{catalog.PROJECT}@gcp-sa-aiplatform-ft.iam.gserviceaccount.com",
        }
        if i.get("description"):
            view["description"] = i["description"]
        if i.get("labels"):
            view["labels"] = i["labels"]
        if st.phase:
            view["tuningJobState"] = f"TUNING_JOB_STATE_{st.phase}"
        if st.start_tick is not None:
            view["startTime"] = rfc3339(run.wall(st.start_tick))
        if st.end_tick is not None:
            view["endTime"] = rfc3339(run.wall(st.end_tick))
        processed = run.ticks(now) >= training.QUEUED_TICKS + training.PENDING_TICKS and \
            (run.cancel_tick is None or run.cancel_tick >= training.QUEUED_TICKS + training.PENDING_TICKS)
        if processed and i.get("stats"):
            view["tuningDataStats"] = {"supervisedTuningDataStats": i["stats"]}
        started = st.start_tick is not None and run.failure is None
        if started:
            view["tuningJobMetadata"] = {
                "completedStepCount": str(st.completed_steps),
                "completedEpochCount": str(st.completed_steps // run.plan.steps_per_epoch)}
            view["experiment"] = names["experiment"]
        if st.state == "SUCCEEDED":
            view["tunedModel"] = {"model": f"{names['model']}@1", "endpoint": names["endpoint"],
                                  "checkpoints": self.checkpoints(run)}
        if st.state == "FAILED" and run.failure:
            view["error"] = dict(run.failure)
        if st.state == "CANCELLED":
            view["error"] = {"code": 1, "message": "CANCELED"}
        return view

    # -- tuned models (Vertex Model resources) ---------------------------------------------------
    def _model_view(self, run: Run) -> dict[str, Any]:
        names = self._names(run)
        st = run.status()
        base_id = run.info["base_model"].rsplit("/", 1)[-1]
        cps = self.checkpoints(run)
        return {
            "name": names["model"], "displayName": run.info.get("model_display_name") or run.info["display_name"],
            "versionId": "1",
            "description": run.info.get("model_description") or run.info.get("description")
            or "Tuned in the Sandbox (simulation).",
            "labels": {"google-vertex-llm-tuning-base-model-id": base_id.replace(".", "-"),
                       "google-vertex-llm-tuning-job-id": run.id, "tune-type": "sft"},
            "createTime": rfc3339(run.created_wall),
            "updateTime": rfc3339(run.wall(st.end_tick or run.ticks())),
            "deployedModels": [{"endpoint": names["endpoint"], "deployedModelId": run.info["endpoint_id"],
                                "checkpointId": cps[-1]["checkpointId"] if cps else ""}],
            "defaultCheckpointId": cps[-1]["checkpointId"] if cps else "",
            "checkpoints": [{"checkpointId": c["checkpointId"], "epoch": c["epoch"], "step": c["step"]} for c in cps],
        }

    def _succeeded_runs(self, location: str) -> list[Run]:
        return [r for r in self.state.find_runs("agent")
                if r.info["location"] == location and r.status().state == "SUCCEEDED"
                and not r.info.get("model_deleted")]

    def _model_run(self, project: str, location: str, model_id: str) -> Run:
        bare = model_id.split("@", 1)[0]
        for run in self._succeeded_runs(location):
            if run.info["model_id"] == bare:
                return run
        raise not_found(f"Model projects/{project}/locations/{location}/models/{model_id} does not exist.")

    def list_models(self, request: Request, project: str, location: str) -> Response:
        self._check(request, project, location)
        with self.state.lock:
            items = [self._model_view(r) for r in self._succeeded_runs(location)]
        return list_response(request, "models", items)

    def get_model(self, request: Request, project: str, location: str, model_id: str) -> Response:
        self._check(request, project, location)
        with self.state.lock:
            return json_response(self._model_view(self._model_run(project, location, model_id)))

    def update_model(self, request: Request, project: str, location: str, model_id: str) -> Response:
        self._check(request, project, location)
        body = body_json(request)
        unknown_fields(body, {"displayName", "description", "defaultCheckpointId", "labels"})
        with self.state.lock:
            run = self._model_run(project, location, model_id)
            if "displayName" in body:
                name = str(body["displayName"])
                if not name or len(name) > 128:
                    raise bad_request("displayName must be 1 to 128 characters.")
                run.info["model_display_name"] = name
            if "description" in body:
                run.info["model_description"] = str(body["description"])
            self.state.save_run(run)
            return json_response(self._model_view(run))

    def delete_model(self, request: Request, project: str, location: str, model_id: str) -> Response:
        self._check(request, project, location)
        with self.state.lock:
            run = self._model_run(project, location, model_id)
            run.info["model_deleted"] = True
            self.state.save_run(run)
        return json_response({"name": f"projects/{project}/locations/{location}/operations/{new_numeric_id()}",
                              "done": True, "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}})

    # -- endpoints --------------------------------------------------------------------------------
    def endpoint_generate(self, request: Request, project: str, location: str, endpoint_id: str,
                          method: str) -> Response:
        self._check(request, project, location)
        name = f"projects/{project}/locations/{location}/endpoints/{endpoint_id}"
        with self.state.lock:
            found: tuple[Run, str] | None = None
            for run in self.state.find_runs("agent"):
                if run.info["serving_location"] != location or run.status().state != "SUCCEEDED" \
                        or run.info.get("model_deleted"):
                    continue
                if run.info["endpoint_id"] == endpoint_id:
                    found = (run, tuned_label(run.info['display_name']))
                    break
                for epoch, eid in run.info["checkpoint_endpoints"].items():
                    if eid == endpoint_id:
                        found = (run, tuned_label(run.info['display_name'], checkpoint=epoch))
                        break
                if found:
                    break
        if found is None:
            raise not_found(f"Endpoint {name} not found.")
        run, label = found
        return self.server.generate_response(request, method, name, run.examples, label)

    # -- loss time series -------------------------------------------------------------------------
    def _run_by_experiment(self, project: str, location: str, experiment_id: str) -> Run:
        job_id = experiment_id.removeprefix("tuning-experiment-")
        run = self.state.runs.get(job_id)
        if run is None or run.kind != "agent" or run.info["location"] != location or \
                run.info["experiment_id"] != experiment_id or "experiment" not in self.job_view(run):
            raise not_found(f"Context projects/{project}/locations/{location}/metadataStores/default/contexts/"
                            f"{experiment_id} not found.")
        return run

    def get_context(self, request: Request, project: str, location: str, context_id: str) -> Response:
        self._check(request, project, location)
        with self.state.lock:
            run = self._run_by_experiment(project, location, context_id)
            names = self._names(run)
        return json_response({
            "name": names["experiment"], "displayName": context_id, "schemaTitle": "system.Experiment",
            "createTime": rfc3339(run.created_wall), "updateTime": rfc3339(time.time()),
            "metadata": {"backing_tensorboard_resource": names["tensorboard"], "experiment_deleted": False},
        })

    def _check_tb(self, project: str, location: str, tb: str) -> None:
        if tb != TENSORBOARD_ID:
            raise not_found(f"Tensorboard projects/{project}/locations/{location}/tensorboards/{tb} not found.")

    def list_runs(self, request: Request, project: str, location: str, tb: str, exp: str) -> Response:
        self._check(request, project, location)
        self._check_tb(project, location, tb)
        with self.state.lock:
            run = self._run_by_experiment(project, location, exp)
            names = self._names(run)
        return json_response({"tensorboardRuns": [{
            "name": names["run"], "displayName": f"run-{run.id}", "createTime": rfc3339(run.created_wall),
            "updateTime": rfc3339(time.time())}]})

    def _series(self, run: Run) -> list[tuple[str, str]]:
        names = self._names(run)
        series = [(names["train_series"], "/train_total_loss")]
        if run.plan.has_validation:
            series.append((names["eval_series"], "/eval_total_loss"))
        return series

    def list_time_series(self, request: Request, project: str, location: str, tb: str, exp: str,
                         run: str) -> Response:
        self._check(request, project, location)
        self._check_tb(project, location, tb)
        with self.state.lock:
            job = self._run_by_experiment(project, location, exp)
            if run != f"run-{job.id}":
                raise not_found(f"TensorboardRun {run} not found.")
            items = [{"name": name, "displayName": display, "valueType": "SCALAR", "pluginName": "scalars",
                      "createTime": rfc3339(job.created_wall)} for name, display in self._series(job)]
        return json_response({"tensorboardTimeSeries": items})

    def batch_read(self, request: Request, project: str, location: str, tb: str) -> Response:
        self._check(request, project, location)
        self._check_tb(project, location, tb)
        wanted = request.args.getlist("timeSeries")
        if not wanted:
            raise bad_request("At least one timeSeries is required.")
        if len(wanted) > 5:
            raise bad_request("batchRead accepts at most 5 time series per request.")
        out = []
        now = time.time()
        with self.state.lock:
            runs = [r for r in self.state.find_runs("agent") if r.info["location"] == location]
            for full in wanted:
                if not full.startswith(f"projects/{project}/locations/{location}/tensorboards/{tb}/"):
                    raise bad_request(f"Time series {full} does not belong to tensorboard {tb}.")
                match = None
                for r in runs:
                    for name, display in self._series(r):
                        if name == full:
                            match = (r, display)
                if match is None:
                    raise not_found(f"TensorboardTimeSeries {full} not found.")
                r, display = match
                out.append({"tensorboardTimeSeriesId": full.rsplit("/", 1)[1], "valueType": "SCALAR",
                            "values": self._values(r, display, now)})
        return json_response({"timeSeriesData": out})

    def _values(self, run: Run, display: str, now: float) -> list[dict[str, Any]]:
        st = run.status(now)
        done = st.completed_steps if run.failure is None else 0
        if display == "/train_total_loss":
            steps = list(range(1, done + 1))
            loss = training.train_loss
        else:
            steps = training.eval_steps(run.plan, done)
            loss = training.eval_loss
        steps = training.subsample(steps, training.seed_for(run.id + display))
        return [{"step": str(s), "wallTime": rfc3339(run.wall(training.step_tick(s))),
                 "scalar": {"value": loss(run.plan, s)}} for s in steps]


def _number(obj: dict[str, Any], key: str, kind: type) -> Any:
    if key not in obj or obj[key] is None:
        return None
    try:
        value = kind(obj[key])
    except (TypeError, ValueError):
        raise bad_request(f"Invalid value at 'hyper_parameters.{key}': {obj[key]!r}.") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise bad_request(f"Invalid value at 'hyper_parameters.{key}': {obj[key]!r}.")
    return value

