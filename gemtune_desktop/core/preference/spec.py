"""The preference-tuning, continued-tuning and rebase requests, their checks, the lineage and the estimate.

Facts, checked against the aiplatform discovery documents shipped with google-api-python-client
(``aiplatform.v1.json`` and ``aiplatform.v1beta1.json``, revision 20261106) and google-genai 3.6.1:

* ``TuningJob.preferenceOptimizationSpec`` (``GoogleCloudAiplatformV1[beta1]PreferenceOptimizationSpec``):
  ``trainingDatasetUri`` (required), ``validationDatasetUri``, ``exportLastCheckpointOnly`` and
  ``hyperParameters`` (``…PreferenceOptimizationHyperParameters``: ``epochCount`` int64, ``learningRateMultiplier``
  double, ``adapterSize`` enum ``ADAPTER_SIZE_{ONE,TWO,FOUR,EIGHT,SIXTEEN,THIRTY_TWO}``, ``beta`` double, "weight
  for KL Divergence regularization"). The same in v1 and v1beta1.
* Continued tuning: ``TuningJob.preTunedModel`` (``…PreTunedModel``): ``tunedModelName``
  (``projects/{p}/locations/{l}/models/{m}[@version|@alias]``), ``checkpointId`` ("if not specified, the default
  checkpoint will be used"), ``baseModel`` output only. ``tunedModelDisplayName``: "for continuous tuning … by
  default use the same display name as the pre-tuned model. If a new display name is provided, the tuning job
  will create a new model instead of a new version."
* The SDK: ``Tunings.tune`` (tunings.py) sends ``preTunedModel`` instead of ``baseModel`` when ``base_model``
  starts with ``projects/``, taking the checkpoint from ``getattr(config, 'pre_tuned_model_checkpoint_id')`` — so
  ``config`` must be a ``CreateTuningJobConfig`` object, not a dict (a dict's checkpoint is silently dropped).
  ``_CreateTuningJobConfig_to_vertex`` routes ``epoch_count``, ``learning_rate_multiplier``, ``adapter_size``,
  ``export_last_checkpoint_only`` and ``validation_dataset`` under ``preferenceOptimizationSpec`` when
  ``method == "PREFERENCE_TUNING"``, and ``beta`` there always; ``_TuningDataset_to_vertex`` puts the training
  ``gcs_uri`` in ``preferenceOptimizationSpec.trainingDatasetUri``. ``evaluation_config`` is also routed there,
  but the schema has no ``evaluationConfig`` in ``PreferenceOptimizationSpec``, so it is never sent.
* Rebase: ``POST {parent}/tuningJobs:rebaseTunedModel`` (``…RebaseTunedModelRequest``: ``tunedModelRef``
  {``tunedModel`` | ``tuningJob`` | ``pipelineJob``} required, ``tuningJob`` "to overwrite tuning configs",
  ``artifactDestination`` {``outputUriPrefix``}, ``deployToSameEndpoint``) answers a long-running Operation. The
  SDK has no call for it. Which field names the new base model is not documented: this module sends it as
  ``tuningJob.baseModel`` (UNCERTAIN until tried on the service).
* Billing: "the number of tokens in the prompt multiplied by 2, plus the number of completion tokens"
  (gemini-preference-tuning page, Pricing). No sourced price for preference tuning exists (reference item 13).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.job_spec import (
    LABEL_KEY,
    Problem,
    agent_hyperparameters,
    cost_rows,
    fingerprint,
    label_value,
    priced,
    range_problems,
)
from gemtune_desktop.core.preference import rules as P
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.tokens import estimate_tokens

SUPERVISED = "SUPERVISED_FINE_TUNING"
PREFERENCE = "PREFERENCE_TUNING"
MAX_NAME_CHARS = 128
TUNED_MODEL_RE = re.compile(r"^projects/[^/]+/locations/[^/]+/models/[^/@]+(@[^/@]+)?$")
DESCRIPTION = "Preference-tuned with GemTune Desktop"

# Plain-words explanations for the Tune tab ("Automatic" leaves each to the service).
EXPLAIN = {
    "epochs": "How many times tuning goes through all preference examples. Automatic: the service chooses.",
    "learning_rate_multiplier": "How big each learning step is, relative to the service's default (1). Raise it "
                                "to learn faster, lower it if the model drifts. Automatic: 1.",
    "adapter_size": "How much the tuned model can change: larger adapters learn more complex preferences but need "
                    "more examples and time. Automatic: the service chooses.",
    "beta": "How closely the tuned model stays to where it started. Lower values follow the preferences more "
            "strongly; higher values change the model less. It must be above 0 (at 0 nothing is learned). "
            "Automatic: the service chooses (Google's preference-tuning notebook starts at 0.1).",
}


@dataclass(slots=True, frozen=True)
class StartingPoint:
    """Where tuning starts: a base model (``gemini-2.5-flash``), or a tuned model and optionally one of its
    checkpoints (continued tuning). ``base_model`` names the base a tuned model came from (for the capability
    check and the lineage); ``job_label`` the job that made it."""

    model: str
    checkpoint_id: str = ""
    base_model: str = ""
    job_label: str = ""

    @property
    def continued(self) -> bool:
        return self.model.startswith("projects/")

    @property
    def root_model(self) -> str:
        """The publisher base model this chain of tuning started from."""
        return self.base_model if self.continued else self.model


@dataclass(slots=True)
class PreferenceSpec:
    """The Tune form's values for a preference-tuning job. ``None`` means "Automatic": the service chooses.

    For continued tuning an empty ``display_name`` makes the job add a new version to the tuned model; a name
    creates a new model.
    """

    start: StartingPoint = field(default_factory=lambda: StartingPoint(""))
    display_name: str = ""
    epochs: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None
    beta: float | None = None
    use_validation: bool = True
    export_last_checkpoint_only: bool = False

    def hyperparameters(self) -> dict[str, Any]:
        """The settings as stored in a job record or a preset."""
        return {"method": "preference", "epochs": self.epochs, "learning_rate_multiplier":
                self.learning_rate_multiplier, "adapter_size": self.adapter_size, "beta": self.beta,
                "use_validation": self.use_validation, "export_last_checkpoint_only": self.export_last_checkpoint_only,
                "start_model": self.start.model, "start_checkpoint": self.start.checkpoint_id}


def check_preference_spec(spec: PreferenceSpec, *, adapter_sizes: Sequence[int] = P.ADAPTER_SIZES,
                          supports_preference: bool | None = None, model_label: str = "") -> list[Problem]:
    """Every setting the service would refuse, with the field named and a fix in plain words.

    ``supports_preference`` is what ``models.json`` says of the starting point's base model: False refuses
    here; None (not known) lets the service decide.
    """
    problems: list[Problem] = []
    start = spec.start
    name = spec.display_name.strip()
    if not name and not start.continued:
        problems.append(Problem("display_name", "Give the tuned model a name, so you can find it later."))
    elif len(name) > MAX_NAME_CHARS:
        problems.append(Problem("display_name", f"The name is {len(name)} characters long; Agent Platform allows at "
                                                f"most {MAX_NAME_CHARS}. Shorten it."))
    if not start.model:
        problems.append(Problem("start", "Choose a base model or a tuned model to start from."))
    elif start.continued and not TUNED_MODEL_RE.match(start.model):
        problems.append(Problem("start", "A tuned model to continue from is named projects/…/locations/…/models/…; "
                                         "choose it from the list of your tuned models."))
    elif start.checkpoint_id and not start.continued:
        problems.append(Problem("start", "A checkpoint belongs to a tuned model; choose the tuned model to start "
                                         "from, then its checkpoint."))
    if supports_preference is False:
        what = model_label or start.root_model or "This model"
        problems.append(Problem("method", f"{what} does not take preference tuning. Choose another base model, or "
                                          f"use supervised tuning."))
    problems += range_problems(spec.epochs, spec.learning_rate_multiplier)
    if spec.adapter_size is not None and spec.adapter_size not in adapter_sizes:
        sizes = ", ".join(str(s) for s in adapter_sizes)
        problems.append(Problem("adapter_size", f"Adapter size {spec.adapter_size} is not offered for preference "
                                                f"tuning; choose one of {sizes}, or Automatic."))
    if spec.beta is not None and not spec.beta > 0:
        problems.append(Problem("beta", "β must be above 0: at 0 the model learns nothing from the preferences. "
                                        "Try 0.1, or leave it on Automatic."))
    return problems


def continued_config(start: StartingPoint) -> dict[str, Any]:
    """``CreateTuningJobConfig`` fields for starting from a tuned model's checkpoint (any method)."""
    return {"pre_tuned_model_checkpoint_id": start.checkpoint_id} if start.continued and start.checkpoint_id else {}


def sdk_call(spec: PreferenceSpec, train_uri: str, validation_uri: str | None = None,
             submit_key: str = "") -> dict[str, Any]:
    """Keyword arguments for ``client.tunings.tune``, as plain dicts (``config`` are ``CreateTuningJobConfig``
    fields; build the object from them, see the module notes). Settings on Automatic are left out."""
    config: dict[str, Any] = {"method": PREFERENCE, "description": DESCRIPTION,
                              "export_last_checkpoint_only": bool(spec.export_last_checkpoint_only)}
    if spec.display_name.strip():
        config["tuned_model_display_name"] = spec.display_name.strip()
    config.update(agent_hyperparameters(spec))
    if spec.beta is not None:
        config["beta"] = float(spec.beta)
    if validation_uri and spec.use_validation:
        config["validation_dataset"] = {"gcs_uri": validation_uri}
    if submit_key:
        config["labels"] = {LABEL_KEY: label_value(submit_key)}
    config.update(continued_config(spec.start))
    return {"base_model": spec.start.model, "training_dataset": {"gcs_uri": train_uri}, "config": config}


def request_body(spec: PreferenceSpec, train_uri: str, validation_uri: str | None = None,
                 submit_key: str = "") -> dict[str, Any]:
    """The ``tuningJobs.create`` body (a ``TuningJob``) that :func:`sdk_call` makes the SDK send."""
    body: dict[str, Any] = {}
    start = spec.start
    if start.continued:
        pre: dict[str, Any] = {"tunedModelName": start.model}
        if start.checkpoint_id:
            pre["checkpointId"] = start.checkpoint_id
        body["preTunedModel"] = pre
    else:
        body["baseModel"] = start.model
    pos: dict[str, Any] = {"trainingDatasetUri": train_uri}
    if validation_uri and spec.use_validation:
        pos["validationDatasetUri"] = validation_uri
    hp = agent_hyperparameters(spec, rest=True)
    if spec.beta is not None:
        hp["beta"] = float(spec.beta)
    if hp:
        pos["hyperParameters"] = hp
    pos["exportLastCheckpointOnly"] = bool(spec.export_last_checkpoint_only)
    body["preferenceOptimizationSpec"] = pos
    if spec.display_name.strip():
        body["tunedModelDisplayName"] = spec.display_name.strip()
    body["description"] = DESCRIPTION
    if submit_key:
        body["labels"] = {LABEL_KEY: label_value(submit_key)}
    return body


def lineage(method: str, start: StartingPoint) -> str:
    """Where a job started, in words: "Preference-tuned from checkpoint 2 of ‹job›"."""
    verb = "Preference-tuned" if method == PREFERENCE else "Tuned"
    if not start.continued:
        return f"{verb} from the base model {start.model}"
    what = start.job_label or start.model.rsplit("/", 1)[-1]
    if start.checkpoint_id:
        return f"{verb} from checkpoint {start.checkpoint_id} of {what}"
    return f"{verb} from {what} (its default checkpoint)"


def preference_dataset_hash(train: Sequence[PreferenceExample], validation: Sequence[PreferenceExample],
                            settings: PreferenceSettings) -> str:
    """A fingerprint of exactly what a preference job is sent: the examples in order, preamble and system
    instructions (as :func:`gemtune_desktop.core.job_spec.dataset_hash` does for supervised jobs)."""
    return fingerprint(settings.preamble, settings.system_instruction,
                       ((split, ((e.prompt, e.preferred, e.dispreferred, e.system_instruction) for e in items))
                        for split, items in (("train", train), ("validation", validation))))


# -- rebase ---------------------------------------------------------------------------------------------------

_PARENT_RE = re.compile(r"^(projects/[^/]+/locations/[^/]+)/")


def parent_of(resource: str) -> str:
    """``projects/P/locations/L`` of a resource name; ValueError for anything else."""
    m = _PARENT_RE.match(resource)
    if not m:
        raise ValueError(f"not a project resource name: {resource!r}")
    return m.group(1)


def rebase_request(tuned_model: str, new_base_model: str = "", *, deploy_to_same_endpoint: bool = False,
                   artifact_uri: str = "") -> tuple[str, dict[str, Any]]:
    """(path after the API version, body) of ``tuningJobs:rebaseTunedModel`` for a tuned model's resource name.

    Without ``new_base_model`` the service picks the newer base. ``deploy_to_same_endpoint`` replaces the old
    model on its endpoint ("the original model will be un-deployed"), so it stays off unless asked for.
    """
    path = f"{parent_of(tuned_model)}/tuningJobs:rebaseTunedModel"
    body: dict[str, Any] = {"tunedModelRef": {"tunedModel": tuned_model}}
    if new_base_model:
        body["tuningJob"] = {"baseModel": new_base_model}
    if deploy_to_same_endpoint:
        body["deployToSameEndpoint"] = True
    if artifact_uri:
        body["artifactDestination"] = {"outputUriPrefix": artifact_uri}
    return path, body


@dataclass(slots=True, frozen=True)
class RebaseOperation:
    """What a rebase answered: the long-running operation, and the new tuning job once it is named."""

    name: str
    done: bool
    tuning_job: str = ""
    error: str = ""


def parse_rebase_operation(op: Mapping[str, Any]) -> RebaseOperation:
    """Read a ``GoogleLongrunningOperation`` answered by a rebase (the new job may be in ``response`` or
    ``metadata``; both are looked at, as the payload types are not documented)."""
    job = ""
    for part in (op.get("response"), op.get("metadata")):
        if isinstance(part, Mapping):
            for key in ("name", "tuningJob"):
                value = part.get(key)
                if isinstance(value, str) and "/tuningJobs/" in value:
                    job = value
                    break
        if job:
            break
    err = op.get("error")
    message = str(err.get("message") or "") if isinstance(err, Mapping) else ""
    return RebaseOperation(str(op.get("name") or ""), bool(op.get("done")), job, message)


# -- estimate -------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class PreferenceEstimate:
    """The numbers shown before submitting a preference job.

    Billable tokens per epoch = prompt tokens × 2 + the tokens of both answers (prompt tokens include the
    preamble and the system instruction). ``epochs`` None: the service chooses, so the cost is per epoch.
    ``price_per_million`` None: no sourced price, and the estimate says so.
    """

    train_examples: int
    validation_examples: int
    epochs: int | None
    prompt_tokens: int
    answer_tokens: int
    billable_per_epoch: int
    billable_tokens: int | None
    price_per_million: float | None
    cost_per_epoch: float | None
    cost: float | None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[tuple[str, str]]:
        rows = [("Training examples", f"{self.train_examples:,}"),
                ("Validation examples", f"{self.validation_examples:,}" if self.validation_examples else "none"),
                ("Epochs", str(self.epochs) if self.epochs is not None else "chosen by the service"),
                ("Billed tokens per epoch", f"about {self.prompt_tokens:,} × 2 (prompts) + {self.answer_tokens:,} "
                                            f"(answers) = {self.billable_per_epoch:,}")]
        if self.billable_tokens is not None and self.epochs is not None:
            rows.append(("Billed tokens", f"about {self.billable_per_epoch:,} × {self.epochs} epochs = "
                                          f"{self.billable_tokens:,}"))
        return rows + cost_rows(self.price_per_million, self.cost, self.cost_per_epoch,
                                "price unknown: no published price for preference tuning on this model")


def example_billing_tokens(e: PreferenceExample, settings: PreferenceSettings) -> tuple[int, int]:
    """(prompt tokens with preamble and system instruction, tokens of both answers) of one example."""
    prompt = estimate_tokens(settings.prompt_for(e)) + estimate_tokens(settings.system_for(e))
    return prompt, estimate_tokens(e.preferred) + estimate_tokens(e.dispreferred)


def estimate_preference(spec: PreferenceSpec, train: Sequence[PreferenceExample],
                        validation: Sequence[PreferenceExample], settings: PreferenceSettings | None = None,
                        price_per_million: float | None = None) -> PreferenceEstimate:
    """Examples, billed tokens and (when a sourced price is given) cost for a preference job."""
    settings = settings or PreferenceSettings()
    prompt_tokens = answer_tokens = 0
    for e in train:
        p, a = example_billing_tokens(e, settings)
        prompt_tokens += p
        answer_tokens += a
    per_epoch = prompt_tokens * 2 + answer_tokens
    epochs = spec.epochs
    total = per_epoch * epochs if epochs is not None else None
    price, cost_epoch, cost = priced(per_epoch, total, price_per_million)
    notes = ["Google bills preference tuning as the prompt's tokens twice plus the tokens of both answers, for "
             "every epoch.",
             "Agent Platform chooses its own batch size; it reports the step count once the job starts.",
             "Token counts are estimated offline (about 4 characters per token); the service bills the exact count."]
    if epochs is None:
        notes.append("Epochs are on Automatic: the service picks them, so the tokens are shown per epoch.")
    n_val = len(validation) if spec.use_validation else 0
    return PreferenceEstimate(len(train), n_val, epochs, prompt_tokens, answer_tokens, per_epoch, total, price,
                              cost_epoch, cost, notes)
