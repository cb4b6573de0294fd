"""The curves a job reports, in plain words, and where a recorded job started, in words."""

from __future__ import annotations

from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.loss import TRAIN, VALIDATION
from gemtune_desktop.core.preference.lineage import lineage_of, maker_of
from gemtune_desktop.core.series import (
    describe_series,
    expected_series,
    higher_is_better,
    series_explanation,
    series_key,
    series_label,
)

TUNED = "projects/p/locations/us-central1/models/77"


def test_series_keys_and_plain_words() -> None:
    assert series_key("/train_total_loss") == TRAIN and series_key("/eval_total_loss") == VALIDATION
    assert series_key("/train_reward_margin") == "train_reward_margin"
    assert series_label(TRAIN) == "training loss" and series_label(VALIDATION) == "validation loss"
    assert series_label("eval_reward_margin") == "reward margin (validation)"
    assert series_label("train_preference_loss") == "preference loss (training)"
    # A name GemTune has never seen is kept and said from its name.
    assert series_label(series_key("/train_reward_accuracy")) == "reward accuracy (training)"
    assert series_label(series_key("/eval_chosen_log_prob")) == "chosen log prob (validation)"
    assert higher_is_better("train_reward_margin") and higher_is_better("eval_reward_accuracy")
    assert not higher_is_better("train_preference_loss") and not higher_is_better(TRAIN)
    assert "starts near 0.69" in series_explanation("eval_preference_loss")
    assert series_explanation("train_something_new") == ""
    shown = describe_series(["eval_reward_margin", "train_reward_margin", "train_preference_loss",
                             "eval_preference_loss", "train_preference_loss"])
    assert [s.key for s in shown] == ["train_preference_loss", "train_reward_margin", "eval_preference_loss",
                                      "eval_reward_margin"]
    assert expected_series("supervised", False) == {TRAIN}
    assert expected_series("preference", True) == {"train_preference_loss", "train_reward_margin",
                                                   "eval_preference_loss", "eval_reward_margin"}


def record(**kw: object) -> JobRecord:
    return JobRecord(connection_kind="sandbox", backend="agent-platform", **kw)  # type: ignore[arg-type]


def test_lineage_in_words() -> None:
    sft = record(display_name="Lease desk", base_model="gemini-3.5-flash", tuned_model=f"{TUNED}@1",
                 hyperparameters={"method": "supervised"})
    pref = record(display_name="Lease desk", base_model="gemini-3.5-flash", tuned_model=f"{TUNED}@2",
                  hyperparameters={"method": "preference", "start_model": f"{TUNED}@1", "start_checkpoint": "2"})
    assert lineage_of(sft, [sft, pref]) == "Tuned from the base model gemini-3.5-flash"
    assert lineage_of(pref, [sft, pref]) == "Preference-tuned from checkpoint 2 of “Lease desk”"
    assert maker_of(f"{TUNED}@1", [sft, pref]) is sft and maker_of(TUNED, [sft, pref]) is pref
    alone = record(base_model="gemini-3.5-flash",
                   hyperparameters={"method": "preference", "start_model": f"{TUNED}@1", "start_job": "“Old job”"})
    assert lineage_of(alone) == "Preference-tuned from “Old job” (its default checkpoint)"
    bare = record(base_model="gemini-2.5-flash", hyperparameters={"method": "preference"})
    assert lineage_of(bare) == "Preference-tuned from the base model gemini-2.5-flash"
    unknown = record(base_model="gemini-3.5-flash", hyperparameters={"start_model": f"{TUNED}@1",
                                                                     "start_checkpoint": "1"})
    assert lineage_of(unknown) == "Tuned from checkpoint 1 of 77@1"
    moved = record(base_model="gemini-3.5-flash", hyperparameters={
        "method": "preference", "rebased_from": f"{TUNED}@2", "rebased_from_label": "Lease desk",
        "rebased_from_base": "gemini-2.5-flash"})
    assert lineage_of(moved) == "Moved from “Lease desk” (gemini-2.5-flash) onto the newer base model gemini-3.5-flash"


def test_starting_points_are_the_projects_tuned_models_and_their_checkpoints() -> None:
    from gemtune_desktop.core.jobs import JobState
    from gemtune_desktop.core.preference.lineage import starting_points

    older = record(display_name="First", base_model="gemini-2.5-flash", tuned_model=f"{TUNED}@1",
                   state=JobState.SUCCEEDED, created_at="2026-11-01T10:00:00+00:00",
                   checkpoints=[{"checkpoint_id": "1", "epoch": 1, "step": 6}, {"checkpoint_id": "2"}])
    newer = record(display_name="Second", base_model="gemini-3.5-flash",
                   tuned_model="projects/p/locations/l/models/9@1", state=JobState.SUCCEEDED,
                   created_at="2026-12-01T10:00:00+00:00")
    deleted = record(display_name="Gone", tuned_model="projects/p/locations/l/models/5@1", state=JobState.SUCCEEDED,
                     data_stats={"tuned_model_deleted": True})
    running = record(display_name="Running", state=JobState.RUNNING)
    gemini = JobRecord(connection_kind="sandbox", backend="gemini-api", tuned_model="tunedModels/x",
                       state=JobState.SUCCEEDED)
    points = starting_points([older, newer, deleted, running, gemini])
    assert [(p.model, p.checkpoint_id, p.job_label) for p in points] == [
        ("projects/p/locations/l/models/9@1", "", "“Second”"), (f"{TUNED}@1", "", "“First”"),
        (f"{TUNED}@1", "1", "“First”"), (f"{TUNED}@1", "2", "“First”")]
    assert all(p.continued for p in points) and points[1].root_model == "gemini-2.5-flash"
