"""Job settings: defaults per backend, the checks, the estimate, the snapshot hash and the requests built."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.resources import read_json


def _train(n: int, text: str = "abcd" * 10) -> list[Example]:
    return [Example(f"{text}{i}", "out", id=i + 1) for i in range(n)]


def test_defaults_follow_the_docs() -> None:
    ga = J.JobSpec.defaults(J.GEMINI_API, "models/m")
    assert (ga.epochs, ga.batch_size, ga.learning_rate, ga.learning_rate_mode) == (5, 4, 0.001, "rate")
    ap = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash")
    assert ap.epochs is None and ap.learning_rate_multiplier is None and ap.adapter_size is None  # Automatic
    assert ap.use_validation and not ap.export_last_checkpoint_only and ap.tuning_mode == "adapter"


@pytest.mark.parametrize(("backend", "limit"), [(J.GEMINI_API, 40), (J.AGENT_PLATFORM, 128)])
def test_display_name_length_rule_per_backend(backend: str, limit: int) -> None:
    ok = J.JobSpec.defaults(backend, "m", "n" * limit)
    assert not J.check_spec(ok)
    long = J.JobSpec.defaults(backend, "m", "n" * (limit + 1))
    (problem,) = J.check_spec(long)
    assert problem.field == "display_name" and f"at most {limit}" in problem.message
    (empty,) = J.check_spec(J.JobSpec.defaults(backend, "m", "  "))
    assert empty.field == "display_name"


def test_checks_name_each_refused_setting() -> None:
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash", "x").with_values(
        {"epochs": 0, "learning_rate_multiplier": -1, "adapter_size": 32, "tuning_mode": "full"})
    fields = {p.field for p in J.check_spec(spec, adapter_sizes=(1, 2, 4, 8, 16), full_tuning=False)}
    assert fields == {"epochs", "learning_rate_multiplier", "adapter_size", "tuning_mode"}
    ga = J.JobSpec.defaults(J.GEMINI_API, "models/m", "x").with_values({"batch_size": 500, "learning_rate": 2})
    assert {p.field for p in J.check_spec(ga)} == {"batch_size", "learning_rate"}
    assert {p.field for p in J.check_spec(J.JobSpec.defaults(J.AGENT_PLATFORM, "", "x"))} == {"base_model"}


def test_full_tuning_is_allowed_where_offered() -> None:
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "m", "x").with_values({"tuning_mode": "full"})
    assert not J.check_spec(spec, full_tuning=True)


def test_gemini_api_steps_are_batches_times_epochs() -> None:
    spec = J.JobSpec.defaults(J.GEMINI_API, "models/m", "x").with_values({"epochs": 3, "batch_size": 8})
    est = J.estimate(spec, _train(110), [], DatasetSettings(), 2.0)
    assert est.steps == math.ceil(110 / 8) * 3
    assert est.training_tokens == est.tokens_per_epoch * 3
    assert est.cost == pytest.approx(est.training_tokens / 1e6 * 2.0)
    assert ("Steps", "42") in est.lines()


def test_agent_platform_steps_and_epochs_left_to_the_service() -> None:
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash", "x")
    est = J.estimate(spec, _train(100), _train(10), DatasetSettings(), 5.0)
    assert est.steps is None and est.epochs is None and est.training_tokens is None and est.cost is None
    assert est.cost_per_epoch == pytest.approx(est.tokens_per_epoch / 1e6 * 5.0)
    lines = dict(est.lines())
    assert lines["Steps"] == "chosen by the service" and "per epoch" in lines["Cost estimate"]
    assert est.validation_examples == 10
    with_epochs = J.estimate(spec.with_values({"epochs": 4}), _train(100), [], DatasetSettings(), 5.0)
    assert with_epochs.training_tokens == with_epochs.tokens_per_epoch * 4 and with_epochs.cost is not None


def test_tokens_include_preamble_and_system_instruction_on_agent_platform() -> None:
    ex = Example("a" * 40, "b" * 8)
    settings = DatasetSettings(preamble="p" * 40, system_instruction="s" * 80)
    assert J.example_tokens(ex, settings, J.GEMINI_API) == 21 + 2  # "ppp…\naaa…" (81 chars) + output
    assert J.example_tokens(ex, settings, J.AGENT_PLATFORM) == 21 + 2 + 20


def test_no_price_gives_no_cost() -> None:
    est = J.estimate(J.JobSpec.defaults(J.GEMINI_API, "m", "x"), _train(20), [], DatasetSettings(), None)
    assert est.cost is None and dict(est.lines())["Cost estimate"] == "price unknown — enter your price"


def test_dataset_hash_tracks_exactly_what_is_sent() -> None:
    train, val, settings = _train(5), _train(2), DatasetSettings(preamble="P")
    h = J.dataset_hash(train, val, settings)
    assert h == J.dataset_hash([e.copy() for e in train], val, DatasetSettings(preamble="P")) and len(h) == 16
    changed = [e.copy() for e in train]
    changed[3].output = "other"
    assert J.dataset_hash(changed, val, settings) != h
    assert J.dataset_hash(train, val, DatasetSettings(preamble="Q")) != h
    assert J.dataset_hash(train, [], settings) != h
    assert J.dataset_hash(val, train, settings) != h  # which split matters


def test_gemini_api_body_has_the_examples_inline() -> None:
    spec = J.JobSpec.defaults(J.GEMINI_API, "sandbox-flash-001-tuning", "router")
    body = spec.gemini_api_body([{"textInput": "1", "output": "2"}])
    assert body["baseModel"] == "models/sandbox-flash-001-tuning" and body["displayName"] == "router"
    assert body["tuningTask"]["hyperparameters"] == {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}
    assert body["tuningTask"]["trainingData"]["examples"]["examples"] == [{"textInput": "1", "output": "2"}]
    mult = spec.with_values({"learning_rate_mode": "multiplier", "learning_rate_multiplier": 2.0})
    hp = mult.gemini_api_body([])["tuningTask"]["hyperparameters"]
    assert hp["learningRateMultiplier"] == 2.0 and "learningRate" not in hp  # alternatives, never both


def test_agent_platform_call_leaves_automatic_fields_out() -> None:
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash", "router")
    call = spec.agent_platform_call("gs://b/train.jsonl", None, "KEY-1")
    assert call["base_model"] == "gemini-3.5-flash" and call["training_dataset"] == {"gcs_uri": "gs://b/train.jsonl"}
    cfg = call["config"]
    assert not {"epoch_count", "learning_rate_multiplier", "adapter_size", "validation_dataset"} & set(cfg)
    assert cfg["labels"] == {J.LABEL_KEY: "key-1"} and cfg["tuned_model_display_name"] == "router"
    set_all = spec.with_values({"epochs": 3, "learning_rate_multiplier": 0.5, "adapter_size": 16,
                                "tuning_mode": "full", "export_last_checkpoint_only": True})
    cfg = set_all.agent_platform_call("gs://b/t", "gs://b/v", "")["config"]
    assert cfg["epoch_count"] == 3 and cfg["learning_rate_multiplier"] == 0.5
    assert cfg["adapter_size"] == "ADAPTER_SIZE_SIXTEEN" and cfg["tuning_mode"] == "TUNING_MODE_FULL"
    assert cfg["validation_dataset"] == {"gcs_uri": "gs://b/v"} and cfg["export_last_checkpoint_only"] is True
    from google.genai import types

    types.CreateTuningJobConfig(**cfg)  # the SDK accepts every field as built


@given(st.text(max_size=80), st.text(alphabet="0123456789abcdef", min_size=8, max_size=32))
def test_tuned_model_id_is_always_valid_and_stable(name: str, key: str) -> None:
    model_id = J.tuned_model_id(name, key)
    assert J.TUNED_MODEL_ID_RE.match(model_id)
    assert model_id == J.tuned_model_id(name, key)


def test_with_values_reads_prefill_dicts_leniently() -> None:
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash", "x")
    got = spec.with_values({"epochs": "4", "adapter_size": 8, "learning_rate_multiplier": "0.5", "bogus": 1,
                            "base_model": "gemini-3.1-flash-lite"})
    assert (got.epochs, got.adapter_size, got.learning_rate_multiplier, got.base_model) == \
        (4, 8, 0.5, "gemini-3.1-flash-lite")
    assert spec.with_values({"epochs": None}).epochs is None
    ga = J.JobSpec.defaults(J.GEMINI_API, "m", "x").with_values({"learning_rate_multiplier": 3.0})
    assert ga.learning_rate_mode == "multiplier"
    hp = ga.hyperparameters()
    assert hp == {"epochs": 5, "batch_size": 4, "learning_rate_mode": "multiplier", "learning_rate_multiplier": 3.0}


def test_shipped_catalogue_and_user_overrides() -> None:
    catalog = read_json("models.json")
    models = J.agent_platform_models(catalog)
    assert [m.id for m in models] == ["gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.1-flash-lite"]
    assert models[0].adapter_sizes == (1, 2, 4, 8, 16)
    edited = J.agent_platform_models(catalog, "gemini-3.1-flash-lite, gemini-9-pro")
    assert [m.id for m in edited] == ["gemini-3.1-flash-lite", "gemini-9-pro"]
    assert edited[1].price_per_million is None and edited[1].thinking_levels == ()
    assert J.model_price("gemini-3.5-flash", models, {"gemini-3.5-flash": 7.5}) == 7.5


def test_no_shipped_price_without_a_source_so_the_estimate_asks_for_yours() -> None:
    models = J.agent_platform_models(read_json("models.json"))
    assert all(m.price_per_million is None for m in models)  # no sourced 3.x tuning price exists (corrections §13)
    assert J.model_price("gemini-3.5-flash", models, {}) is None
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash", "x").with_values({"epochs": 2})
    rows = dict(J.estimate(spec, _train(3), [], DatasetSettings(), None).lines())
    assert rows["Cost estimate"] == "price unknown — enter your price"
    priced = dict(J.estimate(spec, _train(3), [], DatasetSettings(),
                             J.model_price("gemini-3.5-flash", models, {"gemini-3.5-flash": 4.0})).lines())
    assert priced["Cost estimate"].startswith("about $")


def test_the_validation_set_limit_has_the_30_percent_rule() -> None:
    assert J.max_validation_examples(100_000, 900) == 5_000
    assert J.max_validation_examples(100_000, 5_000) == 5_000
    assert J.max_validation_examples(2_000, 1_001) == 600  # more than 1,000: at most 30 % of training
    assert J.validation_set_problem(2_000, 1_000) == ""
    problem = J.validation_set_problem(2_000, 1_001)
    assert "30 %" in problem and "at most 600" in problem and "Move 401" in problem
    assert "at most 5,000" in J.validation_set_problem(100_000, 5_001)


def test_the_pre_flight_check_uses_the_30_percent_rule() -> None:
    from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
    from gemtune_desktop.core.validation import Severity, validate

    def errors(n_train: int, n_validation: int) -> list[str]:
        examples = [Example(f"question {i}", f"answer {i}") for i in range(n_train)]
        examples += [Example(f"held out {i}", f"reply {i}", Split.VALIDATION) for i in range(n_validation)]
        return [f.message for f in validate(examples, DatasetSettings(), Target.AGENT_PLATFORM, near_limit=0)
                if f.severity is Severity.ERROR]

    too_many = errors(2_000, 1_200)
    assert len(too_many) == 1 and "30 %" in too_many[0]
    assert not errors(10_000, 1_200)


@pytest.mark.parametrize(("message", "paths", "field"), [
    ("Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.epoch_count' (TYPE_INT64), \"x\"", (),
     "epochs"),
    ("tuning_job.supervised_tuning_spec.training_dataset_uri is required.", (), "dataset"),
    ("supervised_tuning_spec.validation_dataset_uri must be a gs:// URI", (), "use_validation"),
    ("hyperParameters.learningRateMultiplier must be greater than 0", (), "learning_rate_multiplier"),
    ("Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.learning_rate_multiplier'", (),
     "learning_rate_multiplier"),
    ('Invalid JSON payload received. Unknown name "adapterSize" at \'tuning_job\': Cannot find field.', (),
     "adapter_size"),
    ("Request contains an invalid argument.", ("tuning_job.tuned_model_display_name",), "display_name"),
    ("The tuning mode is not supported: tuning_job.supervised_tuning_spec.tuning_mode", (), "tuning_mode"),
    ("preference_optimization_spec.hyper_parameters.beta must be greater than 0, got 0.", (), "beta"),
    ("Request contains an invalid argument.", ("tuning_job.preference_optimization_spec.hyper_parameters.beta",),
     "beta"),
    ("pre_tuned_model.checkpoint_id '7' is not a checkpoint of projects/p/locations/l/models/1", (), "start"),
])
def test_snake_case_error_paths_name_the_form_field(message: str, paths: tuple[str, ...], field: str) -> None:
    found = J.field_for_error(message, paths)
    assert found is not None and found[0] == field


def test_errors_without_a_field_name_nothing() -> None:
    assert J.field_for_error("Quota exceeded for tuning jobs.") is None
    assert J.field_for_error("Base model gemini-9 was not found.") is None
    assert J.field_for_error("Preference tuning of this model is in beta and not open to your project.") is None


def test_splits_are_what_the_caller_passes() -> None:
    val = [Example("v", "w", Split.VALIDATION)]
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "m", "x").with_values({"use_validation": False})
    assert J.estimate(spec, _train(3), val, DatasetSettings(), 1.0).validation_examples == 0
