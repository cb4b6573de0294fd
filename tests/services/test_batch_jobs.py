"""Evaluation on the batch engine against the Sandbox, through google-genai and google-cloud-storage over
real HTTP: both APIs, results in the same run as an online evaluation, failed rows, cancel, and a job
that outlives the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.generation import GenerationSettings, HarmCategory, SafetySettings, Threshold
from gemtune_desktop.core.project import batch_jobs_repo, evals_repo, examples_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services import batch_jobs
from gemtune_desktop.services.batch_eval import EvalItem, RetryPolicy, load_run, run_and_store
from gemtune_desktop.services.connections import Backend
from tests.helpers import discovery
from tests.sandbox.helpers import wait_for

MODEL = "gemini-3.5-flash"
GEN = GenerationSettings(temperature=0, max_output_tokens=300)
FAST = RetryPolicy(max_attempts=6, initial_delay_s=0.01, max_delay_s=0.05, timeout_s=30)


def setup(path: Path, n: int, *, harmful: int = 0) -> tuple[ProjectStore, EvalRun, list[EvalItem]]:
    store = ProjectStore.create(path)
    texts = [(f"Clause {i}: may the tenant sublet room {i}?", f"Only with consent ({i}).") for i in range(n)]
    for i in range(harmful):
        texts[i] = (f"Is the idiot in room {i} allowed a pet?", "Pets need consent.")
    ids = examples_repo.insert(store, [Example(q, a, Split.TEST) for q, a in texts], [float(i) for i in range(n)])
    run = EvalRun(models=[MODEL], source="test", settings={"example_ids": ids})
    evals_repo.create_run(store, run)
    items = [EvalItem(eid, 0, MODEL, q, a, "Answer briefly:", "Be precise.") for eid, (q, a) in zip(ids, texts,
                                                                                                   strict=True)]
    return store, run, items


def finish(session: Any, store: ProjectStore, record: batch_jobs_repo.BatchJobRecord) -> Any:
    return wait_for(lambda: batch_jobs.refresh(session, str(store.path), record), lambda r: r.ended, 30)


@pytest.mark.parametrize(("backend", "rows"), [(Backend.AGENT_PLATFORM, 60), (Backend.GEMINI_API, 40),
                                               (Backend.GEMINI_API, 260)], ids=["agent-platform", "gemini-inline",
                                                                               "gemini-file"])
def test_batch_results_land_in_the_run_like_an_online_evaluation(tmp_path: Path, sandbox: Any, sandbox_session: Any,
                                                                 backend: Backend, rows: int) -> None:
    session = sandbox_session(backend)
    store, run, items = setup(tmp_path / "p.gemtune", rows, harmful=2)
    safety = SafetySettings({HarmCategory.HARASSMENT: Threshold.BLOCK_LOW_AND_ABOVE})
    record = batch_jobs.submit(None, session, str(store.path), run.id, items, GEN, safety)
    assert record.resource_name and record.rows == rows and not record.ended
    assert batch_jobs_repo.get_job(store, record.id).resource_name == record.resource_name  # type: ignore[union-attr]
    record = finish(session, store, record)
    assert record.state == "JOB_STATE_SUCCEEDED" and (record.succeeded, record.failed) == (rows, 0)
    stats = batch_jobs.ingest(None, session, str(store.path), record)
    assert (stats.stored, stats.failed, stats.missing) == (rows, 0, 0)
    assert evals_repo.get_run(store, run.id).status == evals_repo.DONE  # type: ignore[union-attr]
    assert batch_jobs_repo.get_job(store, record.id).ingested  # type: ignore[union-attr]
    batch_rows = {r.example_id: r for r in evals_repo.list_rows(store, run.id)}
    assert sum(1 for r in batch_rows.values() if r.blocked == "HARM_CATEGORY_HARASSMENT") == 2
    # The same rows evaluated online give the same answers (temperature 0) and the same scores.
    online = EvalRun(models=[MODEL], source="test", settings={"example_ids": [i.example_id for i in items]})
    evals_repo.create_run(store, online)
    run_and_store(CancelToken(), session, items, online.id, str(store.path), rows, GEN, safety, policy=FAST)
    online_rows = {r.example_id: r for r in evals_repo.list_rows(store, online.id)}
    assert {k: (r.actual, r.blocked) for k, r in batch_rows.items()} == \
        {k: (r.actual, r.blocked) for k, r in online_rows.items()}
    assert load_run(None, str(store.path), run.id, 1, rows, False).summary.models == \
        load_run(None, str(store.path), online.id, 1, rows, False).summary.models
    store.close()


def test_agent_platform_request_lines_have_the_published_shape(tmp_path: Path, sandbox: Any,
                                                              sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    store, run, items = setup(tmp_path / "p.gemtune", 3)
    record = batch_jobs.submit(None, session, str(store.path), run.id, items, GEN, SafetySettings())
    blob = session.storage_client().bucket("sandbox-bucket").blob(record.input_ref.removeprefix("gs://sandbox-bucket/"))
    lines = [json.loads(x) for x in blob.download_as_bytes().decode().splitlines()]
    for line, item in zip(lines, items, strict=True):
        assert discovery.unknown_fields(line["request"], "GenerateContentRequest") == []
        assert line["request"]["labels"] == {"gemtune_row": str(item.example_id)}
        assert line["request"]["contents"][0]["parts"][0]["text"] == f"Answer briefly:\n\n{item.prompt}" or \
            line["request"]["contents"][0]["parts"][0]["text"].endswith(item.prompt)
        assert line["request"]["systemInstruction"] == {"parts": [{"text": "Be precise."}]}
        assert line["request"]["generationConfig"]["maxOutputTokens"] == 300
    create = sandbox.requests.matching("batchPredictionJobs", "POST")[-1].json
    assert discovery.unknown_fields(create, "BatchPredictionJob") == []
    finish(session, store, record)
    store.close()


def test_rows_the_engine_could_not_answer_are_kept_with_a_message_and_the_run_is_partial(
        tmp_path: Path, sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    store, run, items = setup(tmp_path / "p.gemtune", 50)
    sandbox.faults.add(route="batch-row", kind="status", status=500, count=5)
    record = finish(session, store, batch_jobs.submit(None, session, str(store.path), run.id, items, GEN,
                                                      SafetySettings()))
    assert record.state == "JOB_STATE_SUCCEEDED" and record.failed == 5
    stats = batch_jobs.ingest(None, session, str(store.path), record)
    assert (stats.stored, stats.failed) == (45, 5)
    assert "5 rows the batch engine could not answer" in stats.words()
    failed = [r for r in evals_repo.list_rows(store, run.id) if r.error]
    assert len(failed) == 5 and failed[0].error.startswith("The batch engine could not answer this row: INTERNAL")
    assert evals_repo.get_run(store, run.id).status == evals_repo.STOPPED  # type: ignore[union-attr]
    assert load_run(None, str(store.path), run.id, 1, 50, False).missing == 5
    store.close()


def test_cancelled_job_keeps_what_was_answered(tmp_path: Path, sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    sandbox.batch.engine.rows_per_second = 10  # 30 s for the whole job: the cancel comes well before its end
    store, run, items = setup(tmp_path / "p.gemtune", 300)
    record = batch_jobs.submit(None, session, str(store.path), run.id, items, GEN, SafetySettings())
    wait_for(lambda: batch_jobs.refresh(session, str(store.path), record), lambda r: r.succeeded >= 5)
    record = batch_jobs.cancel(session, str(store.path), record)
    record = finish(session, store, record)
    assert record.state == "JOB_STATE_CANCELLED" and 5 <= record.succeeded < 300
    stats = batch_jobs.ingest(None, session, str(store.path), record)
    assert stats.stored == record.succeeded and stats.missing == 300 - record.succeeded
    assert "Resume sends them online" in stats.words()
    assert evals_repo.get_run(store, run.id).status == evals_repo.STOPPED  # type: ignore[union-attr]
    store.close()


def test_a_job_outlives_the_app_and_is_picked_up_on_the_next_start(tmp_path: Path, sandbox: Any,
                                                                   sandbox_session: Any) -> None:
    path = tmp_path / "p.gemtune"
    store, run, items = setup(path, 30)
    first = sandbox_session(Backend.AGENT_PLATFORM)
    batch_jobs.submit(None, first, str(path), run.id, items, GEN, SafetySettings())
    first.close()
    store.close()  # the app closes
    store = ProjectStore.open(path)
    assert [j.state for j in batch_jobs_repo.open_jobs(store)] != []
    again = sandbox_session(Backend.AGENT_PLATFORM)
    wait_for(lambda: batch_jobs.refresh_open_jobs(None, again, str(path)), lambda jobs: all(j.ingested for j in jobs))
    assert batch_jobs_repo.open_jobs(store) == []
    assert len(evals_repo.done_keys(store, run.id)) == 30
    # Jobs of another connection are left alone.
    assert batch_jobs.refresh_open_jobs(None, sandbox_session(Backend.GEMINI_API), str(path)) == []
    store.close()


def test_offer_and_plain_refusals(tmp_path: Path, sandbox_session: Any) -> None:
    assert batch_jobs.offer_batch(1001) and not batch_jobs.offer_batch(1000)
    assert batch_jobs.offer_batch(60, threshold=50)
    store, run, items = setup(tmp_path / "p.gemtune", 2)
    endpoint = [EvalItem(1, 0, "projects/sandbox-project/locations/us/endpoints/9", "q", "a")]
    with pytest.raises(UserError, match="not its endpoint"):
        batch_jobs.submit(None, sandbox_session(), str(store.path), run.id, endpoint, GEN, SafetySettings())
    with pytest.raises(UserError, match="one model at a time"):
        batch_jobs.submit(None, sandbox_session(), str(store.path), run.id,
                          [items[0], EvalItem(2, 1, MODEL, "q", "a")], GEN, SafetySettings())
    unknown = [EvalItem(i.example_id, 0, "no-such-model", i.prompt, i.expected) for i in items]
    with pytest.raises(UserError):
        batch_jobs.submit(None, sandbox_session(), str(store.path), run.id, unknown, GEN, SafetySettings())
    failed = batch_jobs_repo.list_jobs(store, run.id)[0]
    assert failed.state == "SUBMIT_FAILED" and failed.error.startswith("Not found.")
    assert batch_jobs.state_words(failed.state) == "Could not be sent"
    store.close()


def test_a_job_the_service_lost_is_reported_on_that_job_and_others_go_on(tmp_path: Path, sandbox: Any,
                                                                         sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    store, run, items = setup(tmp_path / "p.gemtune", 4)
    lost = batch_jobs.submit(None, session, str(store.path), run.id, items[:2], GEN, SafetySettings())
    kept = batch_jobs.submit(None, session, str(store.path), run.id, items[2:], GEN, SafetySettings())
    sandbox.batch.engine.delete(lost.resource_name.split("/")[1])
    jobs = wait_for(lambda: batch_jobs.refresh_open_jobs(None, session, str(store.path)),
                    lambda js: any(j.id == kept.id and j.ingested for j in js))
    by_id = {j.id: j for j in jobs}
    assert by_id[lost.id].error.startswith("Could not read this job just now: Not found.")
    assert not by_id[lost.id].ingested
    store.close()
