"""Gemini API (v1beta, also v1) routes: models, generation, and the legacy ``tunedModels`` resource.

``POST tunedModels`` takes inline ``tuningTask.trainingData.examples.examples[{textInput, output}]``
(the SDK 3.4.0 drops them, so an SDK-made request gets the 400 the real service would give)
and answers with a long-running operation; ``GET tunedModels/ID`` shows state CREATING →
ACTIVE (or FAILED) and ``tuningTask.snapshots[{step, epoch, meanLoss, computeTime}]`` growing
as the simulated run advances (reference §2).
"""

from __future__ import annotations

import math
import re
import secrets
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import catalog, training
from gemtune_desktop.sandbox.apierror import ApiError, bad_request, failed_precondition, not_found, unknown_fields
from gemtune_desktop.sandbox.datasets import TrainingExample
from gemtune_desktop.sandbox.generation import tuned_label
from gemtune_desktop.sandbox.http import body_json, json_response, list_response, require_api_key, rfc3339
from gemtune_desktop.sandbox.state import Run

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

TUNED_FIELDS = frozenset({"displayName", "description", "baseModel", "tunedModelSource", "tuningTask", "temperature",
                          "topP", "topK", "readerProjectNumbers", "name"})
TASK_FIELDS = frozenset({"hyperparameters", "trainingData"})
HYPER_FIELDS = frozenset({"epochCount", "batchSize", "learningRate", "learningRateMultiplier"})
ID_RE = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?")
DEFAULT_LR = 0.001
METADATA_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.CreateTunedModelMetadata"


class GeminiApiRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state

    @staticmethod
    def rules() -> list[Rule]:
        rules = []
        for v in ("/v1beta", "/v1"):
            rules += [
                Rule(v + "/models", endpoint="gemini.list_models", methods=["GET"]),
                Rule(v + "/models/<seg:model>", endpoint="gemini.get_model", methods=["GET"]),
                Rule(v + "/tunedModels", endpoint="gemini.create_tuned", methods=["POST"]),
                Rule(v + "/tunedModels", endpoint="gemini.list_tuned", methods=["GET"]),
                Rule(v + "/tunedModels/<seg:tuned_id>", endpoint="gemini.get_tuned", methods=["GET"]),
                Rule(v + "/tunedModels/<seg:tuned_id>", endpoint="gemini.patch_tuned", methods=["PATCH"]),
                Rule(v + "/tunedModels/<seg:tuned_id>", endpoint="gemini.delete_tuned", methods=["DELETE"]),
                Rule(v + "/tunedModels/<seg:tuned_id>/operations/<seg:op_id>", endpoint="gemini.get_operation",
                     methods=["GET"]),
            ]
            for method in ("generateContent", "streamGenerateContent", "countTokens"):
                rules.append(Rule(f"{v}/models/<seg:model>:{method}", endpoint="gemini.base_generate",
                                  methods=["POST"], defaults={"method": method}))
                rules.append(Rule(f"{v}/tunedModels/<seg:tuned_id>:{method}", endpoint="gemini.tuned_generate",
                                  methods=["POST"], defaults={"method": method}))
        return rules

    # -- base models ---------------------------------------------------------------------------
    def list_models(self, request: Request) -> Response:
        require_api_key(request)
        items = [catalog.gemini_model(m) for m in catalog.GEMINI_MODELS]
        return list_response(request, "models", items)

    def get_model(self, request: Request, model: str) -> Response:
        require_api_key(request)
        name = f"models/{model}"
        if name not in catalog.GEMINI_MODELS:
            raise not_found(f"models/{model} is not found for API version v1beta, or is not supported for "
                            "generateContent. Call ListModels to see the list of available models and their "
                            "supported methods.")
        return json_response(catalog.gemini_model(name))

    def base_generate(self, request: Request, model: str, method: str) -> Response:
        require_api_key(request)
        name = f"models/{model}"
        info = catalog.GEMINI_MODELS.get(name)
        if info is None or (method != "countTokens" and "generateContent" not in info["methods"]):
            raise not_found(f"models/{model} is not found for API version v1beta, or is not supported for "
                            f"{method}. Call ListModels to see the list of available models and their supported "
                            "methods.")
        return self.server.generate_response(request, method, name, None, "")

    # -- tuned models ---------------------------------------------------------------------------
    def create_tuned(self, request: Request) -> Response:
        require_api_key(request)
        body = body_json(request)
        unknown_fields(body, TUNED_FIELDS)
        requested_id = request.args.get("tunedModelId")
        if requested_id is not None and not ID_RE.fullmatch(requested_id):
            raise bad_request(f"tunedModelId {requested_id!r} must match [a-z]([a-z0-9-]{{0,38}}[a-z0-9])?.")
        base = str(body.get("baseModel") or "")
        if body.get("tunedModelSource"):
            raise bad_request("Tuning from another tuned model (tunedModelSource) is not available in the Sandbox.")
        if not base:
            raise bad_request("baseModel is required.")
        if base not in catalog.GEMINI_MODELS:
            raise not_found(f"Base model {base} was not found.")
        if base not in catalog.GEMINI_TUNABLE:
            raise bad_request(f"Base model {base} does not support createTunedModel. Tunable models: "
                              f"{', '.join(catalog.GEMINI_TUNABLE)}.")
        display = str(body.get("displayName") or "")
        if len(display) > 40:
            raise bad_request(f"displayName must be at most 40 characters, got {len(display)}.")
        task = body.get("tuningTask")
        if task is None:
            task = {}
        if not isinstance(task, dict):
            raise bad_request("tuningTask must be an object.")
        unknown_fields(task, TASK_FIELDS, "tuned_model.tuning_task")
        hyper = task.get("hyperparameters") or {}
        if not isinstance(hyper, dict):
            raise bad_request("tuningTask.hyperparameters must be an object.")
        unknown_fields(hyper, HYPER_FIELDS, "tuned_model.tuning_task.hyperparameters")
        examples = _examples(task.get("trainingData"))
        epochs = _int(hyper, "epochCount", 5)
        batch = _int(hyper, "batchSize", 4 if len(examples) < 1000 else 16)
        if not 1 <= epochs <= 1000:
            raise bad_request(f"hyperparameters.epochCount must be between 1 and 1000, got {epochs}.")
        if not 1 <= batch <= 64:
            raise bad_request(f"hyperparameters.batchSize must be between 1 and 64, got {batch}.")
        if "learningRate" in hyper and "learningRateMultiplier" in hyper:
            raise bad_request("Set either hyperparameters.learningRate or learningRateMultiplier, not both.")
        hyper_out: dict[str, Any] = {"epochCount": epochs, "batchSize": batch}
        if "learningRateMultiplier" in hyper:
            multiplier = _float(hyper, "learningRateMultiplier")
            hyper_out["learningRateMultiplier"] = multiplier
        else:
            rate = _float(hyper, "learningRate") if "learningRate" in hyper else DEFAULT_LR
            multiplier = rate / DEFAULT_LR
            hyper_out["learningRate"] = rate
        for key in ("temperature", "topP"):
            if key in body and not 0 <= float(body[key]) <= (2 if key == "temperature" else 1):
                raise bad_request(f"{key} is out of range: {body[key]}.")
        with self.state.lock:
            tuned_id = requested_id or _new_id(display)
            if tuned_id in self.state.runs:
                raise ApiError(409, f"Tuned model tunedModels/{tuned_id} already exists.")
            plan = training.Plan(example_count=len(examples), batch_size=batch, epochs=epochs, multiplier=multiplier,
                                 has_validation=False, seed=training.seed_for(tuned_id))
            forced = self.server.take_forced_failure()
            info = {"display_name": display or tuned_id, "description": body.get("description") or "",
                    "base_model": base, "hyper": hyper_out, "operation_id": secrets.token_hex(6),
                    "temperature": body.get("temperature", 1.0), "top_p": body.get("topP", 0.95),
                    "top_k": body.get("topK", 64)}
            clock = self.state.new_clock()
            run = Run(kind="gemini", id=tuned_id, created_wall=clock.anchor_wall, clock=clock, plan=plan,
                      examples=examples, info=info,
                      failure={"code": 13, "message": forced} if forced else None)
            self.state.add_run(run)
            return json_response(self.operation_view(run))

    def _tuned(self, tuned_id: str) -> Run:
        run = self.state.runs.get(tuned_id)
        if run is None or run.kind != "gemini":
            raise ApiError(404, f"Tuned model tunedModels/{tuned_id} does not exist.")
        return run

    def list_tuned(self, request: Request) -> Response:
        require_api_key(request)
        with self.state.lock:
            items = [self.tuned_view(r) for r in self.state.find_runs("gemini")]
        return list_response(request, "tunedModels", items, 10)

    def get_tuned(self, request: Request, tuned_id: str) -> Response:
        require_api_key(request)
        with self.state.lock:
            return json_response(self.tuned_view(self._tuned(tuned_id)))

    def patch_tuned(self, request: Request, tuned_id: str) -> Response:
        require_api_key(request)
        body = body_json(request)
        unknown_fields(body, TUNED_FIELDS)
        default_mask = ",".join(k for k in ("displayName", "description") if k in body)
        mask = [m.strip() for m in request.args.get("updateMask", default_mask).split(",") if m.strip()]
        with self.state.lock:
            run = self._tuned(tuned_id)
            for field in mask:
                if field in ("displayName", "display_name"):
                    name = str(body.get("displayName", ""))
                    if len(name) > 40:
                        raise bad_request("displayName must be at most 40 characters.")
                    run.info["display_name"] = name
                elif field == "description":
                    run.info["description"] = str(body.get("description", ""))
                else:
                    raise bad_request(f"Field {field!r} cannot be updated.")
            self.state.save_run(run)
            return json_response(self.tuned_view(run))

    def delete_tuned(self, request: Request, tuned_id: str) -> Response:
        require_api_key(request)
        with self.state.lock:
            self._tuned(tuned_id)
            self.state.delete_run(tuned_id)
        return json_response({})

    def get_operation(self, request: Request, tuned_id: str, op_id: str) -> Response:
        require_api_key(request)
        with self.state.lock:
            run = self._tuned(tuned_id)
            if run.info["operation_id"] != op_id:
                raise not_found(f"Operation tunedModels/{tuned_id}/operations/{op_id} not found.")
            return json_response(self.operation_view(run))

    def tuned_generate(self, request: Request, tuned_id: str, method: str) -> Response:
        require_api_key(request)
        with self.state.lock:
            run = self._tuned(tuned_id)
            state = _state(run.status())
        if state != "ACTIVE":
            raise failed_precondition(f"Tuned model tunedModels/{tuned_id} is not ready to use: its state is "
                                      f"{state}.")
        return self.server.generate_response(request, method, f"tunedModels/{tuned_id}", run.examples,
                                             tuned_label(run.info['display_name']))

    # -- views ----------------------------------------------------------------------------------
    def _snapshots(self, run: Run, completed: int) -> list[dict[str, Any]]:
        spe = run.plan.steps_per_epoch
        return [{"step": s, "epoch": (s - 1) // spe + 1, "meanLoss": training.train_loss(run.plan, s),
                 "computeTime": rfc3339(run.wall(training.step_tick(s)))} for s in range(1, completed + 1)]

    def tuned_view(self, run: Run) -> dict[str, Any]:
        """The tuned model as at one reading of the clock (state, times and snapshots agree)."""
        st = run.status()
        info = run.info
        task: dict[str, Any] = {"hyperparameters": dict(info["hyper"])}
        if st.start_tick is not None:
            task["startTime"] = rfc3339(run.wall(st.start_tick))
        if st.end_tick is not None:
            task["completeTime"] = rfc3339(run.wall(st.end_tick))
        task["snapshots"] = self._snapshots(run, st.completed_steps if run.failure is None else 0)
        end = st.end_tick if st.end_tick is not None else run.ticks()
        return {
            "name": f"tunedModels/{run.id}", "baseModel": info["base_model"], "displayName": info["display_name"],
            "description": info["description"], "temperature": info["temperature"], "topP": info["top_p"],
            "topK": info["top_k"], "state": _state(st), "createTime": rfc3339(run.created_wall),
            "updateTime": rfc3339(run.wall(end)), "tuningTask": task,
        }

    def operation_view(self, run: Run) -> dict[str, Any]:
        st = run.status()
        completed = st.completed_steps if run.failure is None else 0
        total = run.plan.total_steps
        meta: dict[str, Any] = {"@type": METADATA_TYPE, "totalSteps": total, "tunedModel": f"tunedModels/{run.id}"}
        if completed:
            meta.update(completedSteps=completed, completedPercent=round(100 * completed / total, 2),
                        snapshots=self._snapshots(run, completed)[-1:])
        op: dict[str, Any] = {"name": f"tunedModels/{run.id}/operations/{run.info['operation_id']}",
                              "metadata": meta}
        if st.ended:
            op["done"] = True
            if run.failure is not None:
                op["error"] = dict(run.failure)
            else:
                op["response"] = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.TunedModel",
                                  **self.tuned_view(run)}
        return op


def _state(st: training.Status) -> str:
    if st.state == "SUCCEEDED":
        return "ACTIVE"
    if st.state in ("FAILED", "CANCELLED"):
        return "FAILED"
    return "CREATING"


def _new_id(display: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", display.lower()).strip("-")[:24].strip("-")
    if not slug or not slug[0].isalpha():
        slug = "tuned-model" + (f"-{slug}" if slug else "")
    return f"{slug[:26].strip('-')}-{secrets.token_hex(5)}"


def _int(hyper: dict[str, Any], key: str, default: int) -> int:
    if key not in hyper or hyper[key] is None:
        return default
    try:
        return int(hyper[key])
    except (TypeError, ValueError):
        raise bad_request(f"Invalid value at 'hyperparameters.{key}': {hyper[key]!r}.") from None


def _float(hyper: dict[str, Any], key: str) -> float:
    try:
        value = float(hyper[key])
    except (TypeError, ValueError):
        raise bad_request(f"Invalid value at 'hyperparameters.{key}': {hyper[key]!r}.") from None
    if not math.isfinite(value) or value <= 0:
        raise bad_request(f"hyperparameters.{key} must be greater than 0, got {hyper[key]}.")
    return value


def _examples(data: Any) -> list[TrainingExample]:
    examples = None
    if isinstance(data, dict) and isinstance(data.get("examples"), dict):
        examples = data["examples"].get("examples")
    if not examples:
        raise bad_request("Training data is required: tuningTask.trainingData.examples.examples is empty. (The "
                          "google-genai SDK drops inline examples for the Gemini API; send this request yourself.)")
    if not isinstance(examples, list):
        raise bad_request("tuningTask.trainingData.examples.examples must be a list.")
    out = []
    for i, ex in enumerate(examples):
        if not isinstance(ex, dict):
            raise bad_request(f"Example {i}: must be an object with textInput and output.")
        unknown_fields(ex, {"textInput", "output"}, f"tuning_task.training_data.examples.examples[{i}]")
        text, output = str(ex.get("textInput") or ""), str(ex.get("output") or "")
        if not text.strip() or not output.strip():
            raise bad_request(f"Example {i}: textInput and output must both be non-empty.")
        if len(text) > 40_000:
            raise bad_request(f"Example {i}: textInput has {len(text)} characters; the limit is 40000.")
        if len(output) > 5_000:
            raise bad_request(f"Example {i}: output has {len(output)} characters; the limit is 5000.")
        out.append(TrainingExample(text, output, "", 2, 0))
    return out
