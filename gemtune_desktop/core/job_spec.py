"""What a tuning job will be asked to do: hyperparameters per backend, their checks, the estimate, the request.

Qt-free and SDK-free. :class:`JobSpec` holds the form's values; :func:`check_spec` names every field
that the service would refuse; :func:`estimate` gives the numbers shown before submitting (examples,
steps, training tokens × epochs, cost); :func:`dataset_hash` fingerprints the data actually sent;
``JobSpec.gemini_api_body`` / ``JobSpec.agent_platform_call`` build the request (REST body for the
Gemini API, keyword arguments for ``client.tunings.tune`` on Agent Platform).

Facts from ``shared/docs/gemini-reference.md`` §2.1, §3.1 and §5.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.model_catalog import (  # noqa: F401  (re-exported: the Tune tab reads them from here)
    ADAPTER_WORDS,
    DEFAULT_ADAPTER_SIZES,
    PRICE_UNKNOWN,
    ModelInfo,
    agent_platform_models,
    model_price,
    opt_float,
    serving_host,
    serving_location,
)
from gemtune_desktop.core.tokens import estimate_tokens

AGENT_PLATFORM = "agent-platform"
GEMINI_API = "gemini-api"

MAX_NAME_CHARS = {GEMINI_API: 40, AGENT_PLATFORM: 128}
GEMINI_DEFAULT_EPOCHS = 5
GEMINI_DEFAULT_BATCH = 4
GEMINI_DEFAULT_LR = 0.001
MAX_EPOCHS = 100
MAX_BATCH = 64
MAX_LR_MULTIPLIER = 100.0
LABEL_KEY = "gemtune-submit"
TUNED_MODEL_ID_RE = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")

# Hyperparameter keys a preset or a "re-run with these settings" request may carry.
PRESET_KEYS = ("base_model", "display_name", "epochs", "learning_rate_multiplier", "adapter_size",
               "tuning_mode", "use_validation", "export_last_checkpoint_only", "batch_size", "learning_rate",
               "learning_rate_mode")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the settings: the field (as in :class:`JobSpec`) and what to do."""

    field: str
    message: str


@dataclass(slots=True)
class JobSpec:
    """The Tune form's values. ``None`` means "Automatic": the service chooses.

    Agent Platform uses epochs, learning_rate_multiplier, adapter_size, tuning_mode,
    use_validation and export_last_checkpoint_only. The Gemini API uses epochs, batch_size
    and either learning_rate or learning_rate_multiplier (``learning_rate_mode``).
    """

    backend: str = AGENT_PLATFORM
    base_model: str = ""
    display_name: str = ""
    epochs: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None
    tuning_mode: str = "adapter"  # adapter | full
    use_validation: bool = True
    export_last_checkpoint_only: bool = False
    batch_size: int | None = GEMINI_DEFAULT_BATCH
    learning_rate: float | None = GEMINI_DEFAULT_LR
    learning_rate_mode: str = "rate"  # rate | multiplier (Gemini API: the two are alternatives)

    @classmethod
    def defaults(cls, backend: str, base_model: str = "", display_name: str = "") -> JobSpec:
        """The documented defaults: automatic on Agent Platform; 5 / 4 / 0.001 on the Gemini API."""
        if backend == GEMINI_API:
            return cls(backend=backend, base_model=base_model, display_name=display_name,
                       epochs=GEMINI_DEFAULT_EPOCHS, batch_size=GEMINI_DEFAULT_BATCH,
                       learning_rate=GEMINI_DEFAULT_LR, learning_rate_mode="rate")
        return cls(backend=backend, base_model=base_model, display_name=display_name)

    # -- presets / records -------------------------------------------------------------------
    def hyperparameters(self) -> dict[str, Any]:
        """The settings that matter on this backend, as stored in a job record or a preset."""
        if self.backend == GEMINI_API:
            hp: dict[str, Any] = {"epochs": self.epochs, "batch_size": self.batch_size,
                                  "learning_rate_mode": self.learning_rate_mode}
            if self.learning_rate_mode == "multiplier":
                hp["learning_rate_multiplier"] = self.learning_rate_multiplier
            else:
                hp["learning_rate"] = self.learning_rate
            return hp
        return {"epochs": self.epochs, "learning_rate_multiplier": self.learning_rate_multiplier,
                "adapter_size": self.adapter_size, "tuning_mode": self.tuning_mode,
                "use_validation": self.use_validation,
                "export_last_checkpoint_only": self.export_last_checkpoint_only}

    def with_values(self, values: Mapping[str, Any]) -> JobSpec:
        """A copy with known keys from ``values`` applied (unknown keys and bad types ignored)."""
        data = asdict(self)
        for key in PRESET_KEYS:
            if key in values:
                data[key] = values[key]
        spec = JobSpec(**data)
        spec.epochs = _opt_int(spec.epochs)
        spec.adapter_size = _opt_int(spec.adapter_size)
        spec.batch_size = _opt_int(spec.batch_size)
        spec.learning_rate = _opt_float(spec.learning_rate)
        spec.learning_rate_multiplier = _opt_float(spec.learning_rate_multiplier)
        if "learning_rate_mode" not in values and self.backend == GEMINI_API:
            if values.get("learning_rate_multiplier") is not None and values.get("learning_rate") is None:
                spec.learning_rate_mode = "multiplier"
            elif values.get("learning_rate") is not None:
                spec.learning_rate_mode = "rate"
        spec.tuning_mode = "full" if str(spec.tuning_mode).lower() == "full" else "adapter"
        spec.learning_rate_mode = "multiplier" if spec.learning_rate_mode == "multiplier" else "rate"
        spec.display_name = str(spec.display_name or "")
        spec.base_model = str(spec.base_model or "")
        spec.use_validation = bool(spec.use_validation)
        spec.export_last_checkpoint_only = bool(spec.export_last_checkpoint_only)
        return spec

    # -- requests ------------------------------------------------------------------------
    def gemini_api_body(self, examples: Sequence[Mapping[str, str]]) -> dict[str, Any]:
        """The ``POST v1beta/tunedModels`` body (``TunedModel``) with the examples inline.

        ``examples`` are ``{"textInput": ..., "output": ...}`` pairs (preamble already applied).
        """
        hp: dict[str, Any] = {}
        if self.epochs is not None:
            hp["epochCount"] = int(self.epochs)
        if self.batch_size is not None:
            hp["batchSize"] = int(self.batch_size)
        if self.learning_rate_mode == "multiplier":
            if self.learning_rate_multiplier is not None:
                hp["learningRateMultiplier"] = float(self.learning_rate_multiplier)
        elif self.learning_rate is not None:
            hp["learningRate"] = float(self.learning_rate)
        return {
            "displayName": self.display_name,
            "description": "Tuned with GemTune Desktop",
            "baseModel": gemini_model_name(self.base_model),
            "tuningTask": {
                "hyperparameters": hp,
                "trainingData": {"examples": {"examples": [
                    {"textInput": str(e["textInput"]), "output": str(e["output"])} for e in examples]}},
            },
        }

    def agent_platform_call(self, train_uri: str, validation_uri: str | None,
                            submit_key: str = "") -> dict[str, Any]:
        """Keyword arguments for ``client.tunings.tune``, as plain dicts.

        ``config`` keys are ``CreateTuningJobConfig`` fields; fields left on Automatic are
        omitted so the service chooses.
        """
        config: dict[str, Any] = {"tuned_model_display_name": self.display_name,
                                  "description": "Tuned with GemTune Desktop",
                                  "export_last_checkpoint_only": bool(self.export_last_checkpoint_only),
                                  **agent_hyperparameters(self)}
        if self.tuning_mode == "full":
            config["tuning_mode"] = "TUNING_MODE_FULL"
        if validation_uri:
            config["validation_dataset"] = {"gcs_uri": validation_uri}
        if submit_key:
            config["labels"] = {LABEL_KEY: label_value(submit_key)}
        return {"base_model": self.base_model, "training_dataset": {"gcs_uri": train_uri}, "config": config}


class TunedSettings(Protocol):
    """The settings every Agent Platform tuning method takes (None: Automatic)."""

    @property
    def epochs(self) -> int | None: ...

    @property
    def learning_rate_multiplier(self) -> float | None: ...

    @property
    def adapter_size(self) -> int | None: ...


def agent_hyperparameters(spec: TunedSettings, *, rest: bool = False) -> dict[str, Any]:
    """Epochs, learning-rate multiplier and adapter size as Agent Platform takes them, each left out on
    Automatic: ``CreateTuningJobConfig`` fields (``epoch_count``), or with ``rest`` the REST body's
    ``hyperParameters`` (``epochCount``)."""
    names = ("epochCount", "learningRateMultiplier", "adapterSize") if rest else \
        ("epoch_count", "learning_rate_multiplier", "adapter_size")
    out: dict[str, Any] = {}
    if spec.epochs is not None:
        out[names[0]] = int(spec.epochs)
    if spec.learning_rate_multiplier is not None:
        out[names[1]] = float(spec.learning_rate_multiplier)
    if spec.adapter_size is not None:
        out[names[2]] = f"ADAPTER_SIZE_{ADAPTER_WORDS[int(spec.adapter_size)]}"
    return out


def gemini_model_name(model: str) -> str:
    return model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"


def label_value(text: str) -> str:
    """A Cloud label value: lowercase letters, digits, ``-`` and ``_``, at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:63]


def tuned_model_id(display_name: str, submit_key: str) -> str:
    """A Gemini API ``tunedModelId`` (``[a-z]([a-z0-9-]{0,38}[a-z0-9])?``) unique to this submit.

    The same submit key always gives the same id, so a retried create answers 409 instead of
    creating a second model.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")
    suffix = re.sub(r"[^a-z0-9]", "", submit_key.lower())[:8] or "job"
    slug = slug[: 39 - len(suffix) - 1].strip("-")
    if not slug or not slug[0].isalpha():
        slug = ("m" + slug)[: 39 - len(suffix) - 1].strip("-")
    result = f"{slug}-{suffix}"
    assert TUNED_MODEL_ID_RE.match(result), result
    return result


# -- checks -------------------------------------------------------------------------------
def range_problems(epochs: int | None, learning_rate_multiplier: float | None) -> list[Problem]:
    """Epochs and a learning-rate multiplier outside what the service takes (None: Automatic, always fine)."""
    problems = []
    if epochs is not None and not 1 <= epochs <= MAX_EPOCHS:
        problems.append(Problem("epochs", f"Epochs must be between 1 and {MAX_EPOCHS}."))
    if learning_rate_multiplier is not None and not 0 < learning_rate_multiplier <= MAX_LR_MULTIPLIER:
        problems.append(Problem("learning_rate_multiplier",
                                f"The learning-rate multiplier must be above 0 and at most {MAX_LR_MULTIPLIER:g} "
                                "(1 is the service's default)."))
    return problems


def check_spec(spec: JobSpec, *, adapter_sizes: Sequence[int] = DEFAULT_ADAPTER_SIZES,
               full_tuning: bool = False) -> list[Problem]:
    """Every setting the service would refuse, with the field named and a fix in plain words."""
    problems: list[Problem] = []
    name = spec.display_name.strip()
    limit = MAX_NAME_CHARS.get(spec.backend, 128)
    where = "the Gemini API" if spec.backend == GEMINI_API else "Agent Platform"
    if not name:
        problems.append(Problem("display_name", "Give the tuned model a name, so you can find it later."))
    elif len(name) > limit:
        problems.append(Problem("display_name", f"The name is {len(name)} characters long; {where} allows at "
                                                f"most {limit}. Shorten it."))
    if not spec.base_model:
        problems.append(Problem("base_model", "Choose a base model to tune."))
    uses_multiplier = spec.backend == AGENT_PLATFORM or spec.learning_rate_mode == "multiplier"
    problems += range_problems(spec.epochs, spec.learning_rate_multiplier if uses_multiplier else None)
    if spec.backend == GEMINI_API:
        if spec.batch_size is not None and not 1 <= spec.batch_size <= MAX_BATCH:
            problems.append(Problem("batch_size", f"Batch size must be between 1 and {MAX_BATCH} (4 is the default)."))
        if spec.learning_rate_mode == "rate" and spec.learning_rate is not None and \
                not 0 < spec.learning_rate <= 1:
            problems.append(Problem("learning_rate", "The learning rate must be above 0 and at most 1 "
                                                     "(0.001 is the default)."))
    else:
        if spec.adapter_size is not None and spec.adapter_size not in adapter_sizes:
            sizes = ", ".join(str(s) for s in adapter_sizes)
            problems.append(Problem("adapter_size", f"Adapter size {spec.adapter_size} is not offered for this "
                                                    f"model; choose one of {sizes}, or Automatic."))
        if spec.tuning_mode == "full" and not full_tuning:
            problems.append(Problem("tuning_mode", "Full tuning is not offered for this model; use adapter "
                                                   "tuning."))
    return problems


# -- estimate -----------------------------------------------------------------------------
def example_tokens(example: Example, settings: DatasetSettings, backend: str) -> int:
    """Tokens one training example costs: input with preamble, output, and the system instruction."""
    tokens = estimate_tokens(settings.apply_preamble(example.input)) + estimate_tokens(example.output)
    if backend == AGENT_PLATFORM and settings.system_instruction:
        tokens += estimate_tokens(settings.system_instruction)
    return tokens


@dataclass(slots=True)
class Estimate:
    """The numbers shown before submitting.

    ``steps`` and ``epochs`` are None when the service chooses them; ``cost`` is then the
    cost of one epoch (``cost_per_epoch``) and ``cost`` None.
    """

    train_examples: int
    validation_examples: int
    epochs: int | None
    steps: int | None
    tokens_per_epoch: int
    training_tokens: int | None
    price_per_million: float | None
    cost_per_epoch: float | None
    cost: float | None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs in plain words."""
        rows = [("Training examples", f"{self.train_examples:,}"),
                ("Validation examples", f"{self.validation_examples:,}" if self.validation_examples else "none")]
        rows.append(("Epochs", str(self.epochs) if self.epochs is not None else "chosen by the service"))
        rows.append(("Steps", f"{self.steps:,}" if self.steps is not None else "chosen by the service"))
        if self.training_tokens is not None and self.epochs is not None:
            rows.append(("Training tokens", f"about {self.tokens_per_epoch:,} × {self.epochs} epochs = "
                                            f"{self.training_tokens:,}"))
        else:
            rows.append(("Training tokens", f"about {self.tokens_per_epoch:,} per epoch"))
        return rows + cost_rows(self.price_per_million, self.cost, self.cost_per_epoch, PRICE_UNKNOWN)


def cost_rows(price_per_million: float | None, cost: float | None, cost_per_epoch: float | None,
              unknown: str) -> list[tuple[str, str]]:
    """The estimate's cost line: ``unknown`` without a sourced price, else the total, else the cost per epoch."""
    if price_per_million is None:
        return [("Cost estimate", unknown)]
    if cost is not None:
        return [("Cost estimate", f"about ${cost:,.2f}")]
    if cost_per_epoch is not None:
        return [("Cost estimate", f"about ${cost_per_epoch:,.2f} per epoch")]
    return []


def priced(tokens_per_epoch: int, total: int | None,
           price_per_million: float | None) -> tuple[float | None, float | None, float | None]:
    """(price, cost of one epoch, cost of the job): None without a sourced price above 0, and the job's cost
    None when the service chooses the epochs (``total`` None)."""
    price = price_per_million if price_per_million is not None and price_per_million > 0 else None
    if price is None:
        return None, None, None
    return price, tokens_per_epoch / 1_000_000 * price, total / 1_000_000 * price if total is not None else None


def estimate(spec: JobSpec, train: Sequence[Example], validation: Sequence[Example], settings: DatasetSettings,
             price_per_million: float | None) -> Estimate:
    """Examples, steps, tokens and cost for ``spec`` over these splits (see :func:`estimate_from_counts`)."""
    per_epoch = sum(example_tokens(e, settings, spec.backend) for e in train)
    return estimate_from_counts(spec, len(train), len(validation), per_epoch, price_per_million)


def estimate_from_counts(spec: JobSpec, n_train: int, n_validation: int, tokens_per_epoch: int,
                         price_per_million: float | None) -> Estimate:
    """The estimate from split sizes and the training tokens of one epoch.

    Gemini API: steps = ceil(examples / batch size) × epochs. Agent Platform: the service
    picks the batch size, so steps are reported by the service once the job starts; epochs
    left on Automatic are chosen from the dataset size.
    """
    n_val = n_validation if (spec.backend == AGENT_PLATFORM and spec.use_validation) else 0
    epochs = spec.epochs
    steps: int | None = None
    notes: list[str] = []
    if spec.backend == GEMINI_API:
        epochs = epochs if epochs is not None else GEMINI_DEFAULT_EPOCHS
        batch = spec.batch_size or GEMINI_DEFAULT_BATCH
        steps = math.ceil(n_train / batch) * epochs if n_train else 0
    else:
        notes.append("Agent Platform chooses its own batch size; it reports the step count once the job starts.")
        if epochs is None:
            notes.append("Epochs are on Automatic: the service picks them from the dataset size, so the cost is "
                         "shown per epoch.")
    notes.append("Token counts are estimated offline (about 4 characters per token); the service bills the exact "
                 "count.")
    total = tokens_per_epoch * epochs if epochs is not None else None
    price, cost_epoch, cost = priced(tokens_per_epoch, total, price_per_million)
    return Estimate(n_train, n_val, epochs, steps, tokens_per_epoch, total, price, cost_epoch, cost, notes)


# -- dataset snapshot ---------------------------------------------------------------------
def dataset_hash(train: Iterable[Example], validation: Iterable[Example], settings: DatasetSettings) -> str:
    """A fingerprint of exactly what is sent: the examples in order, preamble and system instruction."""
    return fingerprint(settings.preamble, settings.system_instruction,
                       (("train", ((e.input, e.output) for e in train)),
                        ("validation", ((e.input, e.output) for e in validation))))


def fingerprint(preamble: str, system_instruction: str,
                splits: Iterable[tuple[str, Iterable[Sequence[str]]]]) -> str:
    """16 hex digits of SHA-256 over the texts applied to every example and each split's examples in order
    (each example's fields, as sent, separated by unit separators)."""
    h = hashlib.sha256()
    for label, text in (("preamble", preamble), ("system", system_instruction)):
        h.update(f"{label}\x1f{text}\x1e".encode())
    for split, rows in splits:
        for fields in rows:
            h.update((split + "\x1f" + "\x1f".join(fields) + "\x1e").encode())
    return h.hexdigest()[:16]


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_opt_float = opt_float


# -- the validation set ---------------------------------------------------------------------------
MAX_VALIDATION_EXAMPLES = 5_000
VALIDATION_SHARE_LIMIT = 0.3
VALIDATION_SHARE_ABOVE = 1_000


def max_validation_examples(n_train: int, n_validation: int) -> int:
    """The most validation examples Agent Platform takes: "5000 examples, or 30% of the number of training
    examples if there are more than 1000 validation examples" (supervised-tuning and preference-tuning
    limits; reference §5.2). Read strictly: above 1,000 validation examples, the smaller of the two."""
    if n_validation > VALIDATION_SHARE_ABOVE:
        return min(MAX_VALIDATION_EXAMPLES, math.floor(VALIDATION_SHARE_LIMIT * n_train))
    return MAX_VALIDATION_EXAMPLES


def validation_set_problem(n_train: int, n_validation: int) -> str:
    """Why the validation split is too big for Agent Platform, in plain words ("" when it fits)."""
    limit = max_validation_examples(n_train, n_validation)
    if n_validation <= limit:
        return ""
    if limit < MAX_VALIDATION_EXAMPLES:
        return (f"{n_validation:,} examples are in the validation split. With more than {VALIDATION_SHARE_ABOVE:,} "
                f"validation examples, Agent Platform accepts at most 30 % of the training examples "
                f"({n_train:,} training examples → at most {limit:,}). Move {n_validation - limit:,} to train or "
                "test (Dataset › Split).")
    return (f"{n_validation:,} examples are in the validation split; Agent Platform accepts at most "
            f"{MAX_VALIDATION_EXAMPLES:,}. Move the rest to train or test (Dataset › Split).")


# -- fields named in the service's errors -------------------------------------------------------------
# The last part of a field path as services write it (``epoch_count`` or ``epochCount``, underscores
# and case removed) → the JobSpec field to highlight and its label on the form.
ERROR_FIELDS: dict[str, tuple[str, str]] = {
    "epochcount": ("epochs", "Epochs"),
    "learningratemultiplier": ("learning_rate_multiplier", "Learning-rate multiplier"),
    "learningrate": ("learning_rate", "Learning rate"),
    "adaptersize": ("adapter_size", "Adapter size"),
    "batchsize": ("batch_size", "Batch size"),
    "tunedmodeldisplayname": ("display_name", "Name"),
    "displayname": ("display_name", "Name"),
    "tuningmode": ("tuning_mode", "Tuning mode"),
    "basemodel": ("base_model", "Base model"),
    "trainingdataseturi": ("dataset", "Training data"),
    "validationdataseturi": ("use_validation", "Validation set"),
    "exportlastcheckpointonly": ("export_last_checkpoint_only", "Keep only the last checkpoint"),
    # Preference and continued tuning (the fields of core.preference.spec.PreferenceSpec and StartingPoint):
    "beta": ("beta", "β"),
    "tunedmodelname": ("start", "Start from"),
    "checkpointid": ("start", "Start from"),
    "pretunedmodel": ("start", "Start from"),
}
PROSE_WORDS = frozenset({"beta"})  # field names that are also ordinary words: only taken from a dotted path
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?)*")
_UNKNOWN_NAME = re.compile(r'Unknown name "([^"]+)"')


def field_for_error(message: str, field_paths: Sequence[str] = ()) -> tuple[str, str] | None:
    """The form field a service error is about, as ``(JobSpec field, label)``, or None.

    Reads field paths in either spelling, wherever they appear: the ``field`` of a
    ``google.rpc.BadRequest`` violation (``field_paths``), a quoted path in the message
    (``Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.epoch_count'``), a bare
    path (``tuning_job.supervised_tuning_spec.training_dataset_uri is required``), a camelCase name
    (``hyperParameters.epochCount``), or the name in ``Unknown name "…"``. The most specific part
    of a path wins (``…hyper_parameters.learning_rate_multiplier`` is the multiplier, not the rate).
    """
    named = list(field_paths) + _UNKNOWN_NAME.findall(message)
    candidates = named + _PATH.findall(message)
    for i, path in enumerate(candidates):
        parts = [re.sub(r"\[[^\]]*\]", "", p) for p in path.split(".")]
        for part in reversed(parts):
            key = part.replace("_", "").lower()
            if key in PROSE_WORDS and len(parts) == 1 and i >= len(named):
                continue  # "beta" in a sentence is not the β field; "hyper_parameters.beta" is
            if key in ERROR_FIELDS:
                return ERROR_FIELDS[key]
    return None
