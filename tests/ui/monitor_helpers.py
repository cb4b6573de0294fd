"""What the Monitor tab's tests share: job records as the project keeps them, a finished job with a cached
curve, a job recorded as the Tune tab records it, and the Monitor of a window with fast polling."""

from __future__ import annotations

from typing import Any

import numpy as np

from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo


def _record(**kw: Any) -> JobRecord:
    base: dict[str, Any] = {"connection_kind": "sandbox", "backend": "agent-platform", "display_name": "support-v1",
                            "base_model": "gemini-3.5-flash", "resource_name": "projects/p/locations/l/tuningJobs/1",
                            "state": JobState.RUNNING, "phase": "TUNING_JOB_STATE_TUNING", "total_steps": 100,
                            "completed_steps": 41, "created_at": "2026-11-21T10:00:00+00:00",
                            "started_at": "2026-11-21T10:00:00+00:00", "dataset_name": "tickets.csv"}
    base.update(kw)
    return JobRecord(**base)


def _overfit_job(store: Any) -> int:
    """A finished Agent Platform job whose validation loss turned up after epoch 3 of 8 (20 steps each)."""
    job_id = jobs_repo.add_job(store, _record(
        state=JobState.SUCCEEDED, total_steps=160, completed_steps=160, ended_at="2026-11-21T11:00:00+00:00",
        hyperparameters={"epoch_count": 8, "learning_rate_multiplier": 1.0},
        tuned_model="projects/p/locations/l/models/9@1", endpoint="projects/p/locations/us/endpoints/9",
        checkpoints=[{"checkpoint_id": str(e), "epoch": e, "step": 20 * e,
                      "endpoint": f"projects/p/locations/us/endpoints/9-{e}"} for e in range(1, 9)],
        data_stats={"tuning_dataset_example_count": 40, "total_billable_token_count": 12345,
                    "truncated_example_indices": [1], "hyper_parameters": {"epoch_count": 8}}))
    steps = np.arange(1, 161)
    train = 2.0 * np.exp(-steps / 60.0) + 0.05
    jobs_repo.append_loss_points(store, job_id, "train",
                                 [(int(s), s / 20, float(v)) for s, v in zip(steps, train, strict=True)])
    val = [1.2, 0.9, 0.8, 0.85, 0.95, 1.05, 1.15, 1.3]
    jobs_repo.append_loss_points(store, job_id, "validation",
                                 [(20 * (i + 1), i + 1.0, v) for i, v in enumerate(val)])
    return job_id


def _track(main_window: Any, job_id: int, store: Any) -> list[JobState]:
    """States of ``job_id`` in the order the window saw them."""
    seen: list[JobState] = []
    poller = main_window.tab_widgets["monitor"].poller

    def note(jid: int) -> None:
        if jid == job_id:
            state = jobs_repo.get_job(store, job_id).state
            if not seen or seen[-1] is not state:
                seen.append(state)

    poller.job_updated.connect(note)
    return seen


def _submit(ctx: Any, store: Any, name: str, display: str = "support-v1", **kw: Any) -> int:
    """Record a job the way the Tune tab does after submitting it, and announce it."""
    job_id = jobs_repo.add_job(store, _record(display_name=display, resource_name=name, state=JobState.QUEUED,
                                              phase="", total_steps=0, completed_steps=0, **kw))
    ctx.jobs_changed.emit()
    return job_id


def _monitor(main_window: Any, qtbot: Any) -> Any:
    qtbot.waitUntil(lambda: main_window.ctx.project is not None, timeout=30000)
    main_window.show_tab("monitor")
    tab = main_window.tab_widgets["monitor"]
    tab.poller.set_intervals(0.1, 0.5)
    return tab


