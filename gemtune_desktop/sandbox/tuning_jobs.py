"""Simulated tuning runs made from a ``TuningJob`` body (``tuningJobs.create``), or re-run on a newer base.

* Supervised tuning (``supervisedTuningSpec``) reads Agent Platform JSONL (:mod:`.datasets`).
* Preference tuning (``preferenceOptimizationSpec``, hyperparameters ``epochCount``, ``learningRateMultiplier``,
  ``adapterSize`` and ``beta``) reads preference JSONL (:mod:`.preference_data`) and reports
  ``tuningDataStats.preferenceOptimizationDataStats``; its curves are in :mod:`.series`.
* Continued tuning: ``preTunedModel {tunedModelName, checkpointId}`` in place of ``baseModel`` names one of the
  Sandbox's own tuned models (``…/models/ID``, ``ID@VERSION`` or ``ID@default``) and optionally a checkpoint
  ("if not specified, the default checkpoint will be used"). The job gets a new version of the same model unless
  ``tunedModelDisplayName`` names another one ("If a new display name is provided, the tuning job will create a
  new model instead of a new version"); what the new model knows starts from what the checkpoint's model knew.
  The job's ``preTunedModel`` echoes the output-only ``baseModel``: the publisher model the chain started from.
* Other specs (distillation, reinforcement tuning, …) are valid for Agent Platform: the job is accepted, then
  fails saying that the Sandbox does not simulate it.
* :meth:`JobMaker.rebase` re-runs a tuned model's job on a newer base model (``tuningJobs:rebaseTunedModel``).

Every refusal names the field the way Google's errors do (``preference_optimization_spec.hyper_parameters.beta``),
so the app can point at the form field. The Sandbox refuses β at or below 0; the real service's range for β is
not documented.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gemtune_desktop.sandbox import agent_views as views
from gemtune_desktop.sandbox import catalog, datasets, preference_data, training
from gemtune_desktop.sandbox.apierror import bad_request, not_found
from gemtune_desktop.sandbox.state import Run, new_numeric_id

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

SUPERVISED, PREFERENCE = "supervised", "preference"
SPEC_FIELD = {SUPERVISED: "supervised_tuning_spec", PREFERENCE: "preference_optimization_spec"}
NOT_SIMULATED = ("distillationSpec", "reinforcementTuningSpec", "partnerModelTuningSpec", "fullFineTuningSpec",
                 "veoTuningSpec", "veoLoraTuningSpec")
VALIDATION_LIMIT = 5000  # examples (supervised- and preference-tuning limits, reference §5.2)
VALIDATION_SHARE = 0.3  # …or 30 % of the training examples when there are more than 1,000 validation examples
TUNED_MODEL_RE = re.compile(r"projects/([^/]+)/locations/([^/]+)/models/([^/@]+)(@[^/@]+)?")


def validation_limit(n_train: int, n_validation: int) -> int:
    """The most validation examples a job may have (the rule as the docs word it, read strictly)."""
    if n_validation > 1000:
        return min(VALIDATION_LIMIT, math.floor(VALIDATION_SHARE * n_train))
    return VALIDATION_LIMIT


@dataclass
class Source:
    """Where a job starts: a publisher base model, or a tuned model's checkpoint (``parent``)."""

    base_model: str  # the publisher base model the chain of tuning started from, as the request named it
    parent: Run | None = None
    pre_tuned: dict[str, str] = field(default_factory=dict)

    @property
    def base_id(self) -> str:
        return self.base_model.rsplit("/", 1)[-1]


@dataclass
class Data:
    """What a job read from its files: the examples count, the statistics, what the model will know."""

    count: int = 0
    validation_count: int = 0
    knowledge: list[datasets.TrainingExample] = field(default_factory=list)
    stats: Callable[[int, int], dict[str, Any]] | None = None  # (epochs, steps) → the data stats, once usable
    failure: dict[str, Any] | None = None


def labels_of(labels: dict[str, Any]) -> dict[str, str]:
    """Label keys and values: at most 64 characters, no upper-case letters (TuningJob.labels)."""
    for key, value in labels.items():
        text = str(value)
        if not key or len(key) > 64 or len(text) > 64 or key != key.lower() or text != text.lower():
            raise bad_request(f"Label {key!r} is not valid: keys and values must be lowercase and at most "
                              "64 characters.")
    return {str(k): str(v) for k, v in labels.items()}


def read_settings(spec: dict[str, Any], method: str, base_id: str) -> dict[str, Any]:
    """The spec's data files and hyperparameters, checked (400 naming the field)."""
    where = SPEC_FIELD[method]
    train_uri = str(spec.get("trainingDatasetUri") or "")
    if not train_uri.startswith("gs://") or "/" not in train_uri[5:]:
        raise bad_request(f"{where}.training_dataset_uri must be a gs://bucket/object URI, got {train_uri!r}.")
    val_uri = str(spec.get("validationDatasetUri") or "")
    if val_uri and not val_uri.startswith("gs://"):
        raise bad_request(f"{where}.validation_dataset_uri must be a gs:// URI, got {val_uri!r}.")
    hyper = spec.get("hyperParameters") or {}
    for oss in ("batchSize", "learningRate"):
        if oss in hyper:
            raise bad_request(f"{where}.hyper_parameters.{oss} is only supported for open models; for Gemini use "
                              "epochCount, learningRateMultiplier and adapterSize.")
    epochs = int(hyper["epochCount"]) if hyper.get("epochCount") is not None else None
    if epochs is not None and not 1 <= epochs <= 100:
        raise bad_request(f"{where}.hyper_parameters.epoch_count must be between 1 and 100, got {epochs}.")
    multiplier = float(hyper["learningRateMultiplier"]) if hyper.get("learningRateMultiplier") is not None else None
    if multiplier is not None and not (math.isfinite(multiplier) and 0 < multiplier <= 100):
        raise bad_request(f"{where}.hyper_parameters.learning_rate_multiplier must be greater than 0 and at most "
                          f"100, got {multiplier}.")
    adapter = hyper.get("adapterSize") or catalog.AP_DEFAULT_ADAPTER
    if adapter == "ADAPTER_SIZE_UNSPECIFIED":
        adapter = catalog.AP_DEFAULT_ADAPTER
    if adapter not in catalog.AP_ADAPTER_SIZES:
        raise bad_request(f"{where}.hyper_parameters.adapter_size {adapter} is not supported for {base_id}. "
                          f"Supported: {', '.join(catalog.AP_ADAPTER_SIZES)}.")
    beta = float(hyper["beta"]) if hyper.get("beta") is not None else None
    if beta is not None and not (math.isfinite(beta) and beta > 0):
        raise bad_request(f"{where}.hyper_parameters.beta must be greater than 0, got {beta:g}.")
    return {"train_uri": train_uri, "val_uri": val_uri, "epochs": epochs,
            "multiplier": multiplier if multiplier is not None else 1.0, "adapter": adapter, "beta": beta}


class JobMaker:
    """Builds and stores the runs of new tuning jobs (see the module docstring)."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state

    # -- where a job starts -------------------------------------------------------------------------
    def source(self, project: str, location: str, body: dict[str, Any]) -> Source:
        base = str(body.get("baseModel") or "")
        pre = body.get("preTunedModel")
        if base and pre:
            raise bad_request("Only one of base_model and pre_tuned_model may be set.")
        if not pre:
            if not base:
                raise bad_request("base_model is required.")
            if base.rsplit("/", 1)[-1] not in catalog.AP_MODELS:
                raise not_found(f"Base model {base} was not found.")
            return Source(base)
        name = str(pre.get("tunedModelName") or "")
        m = TUNED_MODEL_RE.fullmatch(name)
        if not m:
            raise bad_request(f"pre_tuned_model.tuned_model_name must be projects/{{project}}/locations/{{location}}/"
                              f"models/{{model}}[@version], got {name!r}.")
        if (m.group(1), m.group(2)) != (project, location):
            raise bad_request(f"pre_tuned_model.tuned_model_name {name} is not in projects/{project}/locations/"
                              f"{location}, where this tuning job runs.")
        with self.state.lock:
            parent = views.find_model(self.state.find_runs("agent"), project, location,
                                      m.group(3) + (m.group(4) or ""))
        if parent is None:
            raise not_found(f"Model {name} does not exist.")
        checkpoint = str(pre.get("checkpointId") or "")
        ids = [c["checkpointId"] for c in views.checkpoints(parent)]
        if checkpoint and checkpoint not in ids:
            raise bad_request(f"pre_tuned_model.checkpoint_id {checkpoint!r} is not a checkpoint of {name}; its "
                              f"checkpoints are {', '.join(ids)}.")
        echoed = {"tunedModelName": name, **({"checkpointId": checkpoint} if checkpoint else {}),
                  "baseModel": parent.info["base_model"]}
        return Source(parent.info["base_model"], parent, echoed)

    # -- reading the data ---------------------------------------------------------------------------
    def read_data(self, method: str, train_uri: str, val_uri: str, parent: Run | None) -> Data:
        parse = datasets.parse_agent_platform_jsonl if method == SUPERVISED else preference_data.parse_preference_jsonl
        raw = self.state.read_gcs_uri(train_uri)
        if raw is None:
            return Data(failure={"code": 5, "message": f"Training dataset {train_uri} was not found. Upload the file "
                                                       "first, or check the bucket and object name."})
        parsed: Any = parse(raw)
        if not parsed.usable:
            first = parsed.dropped_reasons[0] if parsed.dropped_reasons else "no examples"
            return Data(failure={"code": 3, "message": f"Training dataset {train_uri} has no usable examples "
                                                       f"({parsed.dropped_count} rejected). First problem: {first}"})
        inherited = parent.examples if parent is not None else []
        if method == SUPERVISED:
            data = Data(len(parsed.examples), knowledge=preference_data.continued_knowledge(parsed.examples, inherited),
                        stats=lambda epochs, steps: datasets.supervised_stats(parsed, epochs, steps))
        else:
            data = Data(len(parsed.pairs), knowledge=preference_data.knowledge(parsed.pairs, inherited),
                        stats=lambda epochs, steps: preference_data.preference_stats(parsed, epochs, steps))
        if val_uri:
            data.validation_count, data.failure = self._validation(parse, val_uri, data.count)
        return data

    def _validation(self, parse: Callable[[bytes], datasets.ParsedFile], val_uri: str,
                    n_train: int) -> tuple[int, dict[str, Any] | None]:
        val_raw = self.state.read_gcs_uri(val_uri)
        if val_raw is None:
            return 0, {"code": 5, "message": f"Validation dataset {val_uri} was not found."}
        parsed = parse(val_raw)
        n_val = parsed.count
        if not parsed.usable:
            return 0, {"code": 3, "message": f"Validation dataset {val_uri} has no usable examples."}
        limit = validation_limit(n_train, n_val)
        if n_val > limit:
            return n_val, {"code": 3, "message": (
                f"Validation dataset {val_uri} has {n_val} examples; the maximum is 5000, or 30% of the number of "
                f"training examples ({n_train}) if there are more than 1000 validation examples: {limit} here.")}
        return n_val, None

    # -- making runs --------------------------------------------------------------------------------
    def create(self, project: str, location: str, body: dict[str, Any]) -> Run:
        """Check a ``tuningJobs.create`` body, read its data and store the new run (400/404 on a bad body)."""
        labels = labels_of(body.get("labels") or {})
        display = str(body.get("tunedModelDisplayName") or "")
        if len(display) > 128:
            raise bad_request("tuned_model_display_name must be at most 128 characters.")
        specs = [k for k in (views.SPEC_KEYS[SUPERVISED], views.SPEC_KEYS[PREFERENCE], *NOT_SIMULATED) if k in body]
        if len(specs) > 1:
            raise bad_request(f"A tuning job takes one tuning spec; this one has {' and '.join(specs)}.")
        if not specs:
            raise bad_request("A tuning spec is required: supervised_tuning_spec for supervised tuning, "
                              "preference_optimization_spec for preference tuning.")
        source = self.source(project, location, body)
        if specs[0] in NOT_SIMULATED:
            return self._other(project, location, body, source, display, labels, specs[0])
        method = SUPERVISED if specs[0] == views.SPEC_KEYS[SUPERVISED] else PREFERENCE
        if source.base_id not in catalog.AP_TUNABLE:
            what = "supervised tuning" if method == SUPERVISED else "preference tuning"
            raise bad_request(f"Base model {source.base_model} does not support {what}. Supported base models: "
                              f"{', '.join(catalog.AP_TUNABLE)}.")
        spec = body[specs[0]]
        settings = read_settings(spec, method, source.base_id)
        data = self.read_data(method, settings["train_uri"], settings["val_uri"], source.parent)
        forced = self.server.take_forced_failure()
        if forced and data.failure is None:
            data.failure = {"code": 13, "message": forced}
        hyper: dict[str, Any] = {"adapterSize": settings["adapter"]}
        if settings["beta"] is not None:
            hyper["beta"] = settings["beta"]
        extra = {"tuning_mode": spec.get("tuningMode"), "evaluation_config": spec.get("evaluationConfig")} \
            if method == SUPERVISED else {"beta": settings["beta"]}
        return self._store(project, location, method, source, data, settings, hyper, {
            "display_name": display, "description": body.get("description"), "labels": labels,
            "export_last_only": bool(spec.get("exportLastCheckpointOnly", False)), **extra})

    def _store(self, project: str, location: str, method: str, source: Source, data: Data,
               settings: dict[str, Any], hyper: dict[str, Any], fields: dict[str, Any]) -> Run:
        job_id = new_numeric_id()
        n = data.count
        epochs = settings["epochs"] if settings["epochs"] is not None else training.auto_epochs(n)
        plan = training.Plan(example_count=max(n, 1), batch_size=training.auto_batch_size(n), epochs=epochs,
                             multiplier=settings["multiplier"], has_validation=bool(settings["val_uri"]),
                             seed=training.seed_for(job_id))
        model_id, version, display = self._model_identity(project, location, source, fields.pop("display_name"),
                                                          job_id)
        info = {
            "project": project, "location": location, "serving_location": catalog.SERVING_LOCATION.get(location, "us"),
            "method": method, "base_model": source.base_model, "pre_tuned": source.pre_tuned,
            "display_name": display, "training_uri": settings["train_uri"], "validation_uri": settings["val_uri"],
            "validation_count": data.validation_count,
            "hyper": {"epochCount": str(epochs), "learningRateMultiplier": plan.multiplier, **hyper},
            "stats": data.stats(epochs, plan.total_steps) if data.stats is not None else None,
            "model_id": model_id, "model_version": version, "endpoint_id": new_numeric_id(),
            "checkpoint_endpoints": {str(e): new_numeric_id() for e in range(1, epochs + 1)},
            "experiment_id": f"tuning-experiment-{job_id}", **fields,
        }
        return self._add(job_id, plan, data.knowledge, info, data.failure)

    def _model_identity(self, project: str, location: str, source: Source, display: str,
                        job_id: str) -> tuple[str, int, str]:
        """(model id, version, display name): a new version of the starting model unless a new name is given."""
        parent = source.parent
        if parent is not None:
            parent_name = parent.info.get("model_display_name") or parent.info["display_name"]
            if not display or display == parent_name:
                model_id = parent.info["model_id"]
                with self.state.lock:
                    used = [views.model_version(r) for r in self.state.find_runs("agent")
                            if r.info.get("model_id") == model_id and r.info["project"] == project]
                return model_id, max(used, default=1) + 1, parent_name
        return new_numeric_id(), 1, display or f"{source.base_id}-sandbox-{job_id[-6:]}"

    def _other(self, project: str, location: str, body: dict[str, Any], source: Source, display: str,
               labels: dict[str, str], spec_key: str) -> Run:
        """A valid job of a kind the Sandbox does not simulate: accepted, then failed with the reason."""
        job_id = new_numeric_id()
        plan = training.Plan(example_count=1, batch_size=1, epochs=1, multiplier=1.0, has_validation=False,
                             seed=training.seed_for(job_id))
        info = {"project": project, "location": location, "serving_location": catalog.SERVING_LOCATION[location],
                "base_model": source.base_model, "pre_tuned": source.pre_tuned,
                "display_name": display or f"sandbox-{job_id[-6:]}", "description": body.get("description"),
                "labels": labels, "training_uri": "", "validation_uri": "", "validation_count": 0, "hyper": {},
                "export_last_only": False, "spec_key": spec_key, "other_spec": body[spec_key],
                "model_id": new_numeric_id(), "endpoint_id": new_numeric_id(),
                "checkpoint_endpoints": {"1": new_numeric_id()}, "experiment_id": f"tuning-experiment-{job_id}"}
        failure = {"code": 12, "message": f"The Sandbox simulates supervised and preference tuning only; this job's "
                                          f"{spec_key} is valid for Agent Platform but is not simulated. Use a Google "
                                          "Cloud connection to run it."}
        return self._add(job_id, plan, [], info, failure)

    def _add(self, job_id: str, plan: training.Plan, examples: list[datasets.TrainingExample],
             info: dict[str, Any], failure: dict[str, Any] | None) -> Run:
        clock = self.state.new_clock()
        run = Run(kind="agent", id=job_id, created_wall=clock.anchor_wall, clock=clock, plan=plan,
                  examples=examples, info=info, failure=failure)
        self.state.add_run(run)
        return run

    # -- rebase -------------------------------------------------------------------------------------
    def rebase(self, source_run: Run, new_base: str, overrides: dict[str, Any]) -> Run:
        """A new job that re-runs ``source_run``'s tuning on ``new_base``: the same method, data, settings and
        what the model learned, as a new tuned model (version 1) on the newer base."""
        i = source_run.info
        job_id = new_numeric_id()
        plan = training.Plan(example_count=source_run.plan.example_count, batch_size=source_run.plan.batch_size,
                             epochs=source_run.plan.epochs, multiplier=source_run.plan.multiplier,
                             has_validation=source_run.plan.has_validation, seed=training.seed_for(job_id))
        kept = ("project", "location", "serving_location", "training_uri", "validation_uri", "validation_count",
                "hyper", "export_last_only", "stats", "method", "beta", "tuning_mode", "evaluation_config")
        info: dict[str, Any] = {key: i[key] for key in kept if key in i}
        info.update({
            "base_model": new_base, "pre_tuned": {}, "rebased_from": views.model_ref(source_run),
            "display_name": str(overrides.get("tunedModelDisplayName") or i.get("model_display_name")
                                or i["display_name"]),
            "description": overrides.get("description") or f"Rebased from {views.model_ref(source_run)}",
            "labels": labels_of(overrides.get("labels") or {}), "model_id": new_numeric_id(), "model_version": 1,
            "endpoint_id": new_numeric_id(),
            "checkpoint_endpoints": {str(e): new_numeric_id() for e in range(1, plan.epochs + 1)},
            "experiment_id": f"tuning-experiment-{job_id}"})
        return self._add(job_id, plan, list(source_run.examples), info, None)
