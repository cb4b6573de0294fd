"""A second client that we did not write drives the Sandbox: google-api-python-client's discovery client.

``googleapiclient.discovery.build("aiplatform", "v1beta1")`` builds its methods from the published
discovery document (the copy inside the package), so its URLs, query parameters and bodies are
Google's, not ours. Flow: create a job, poll it, read the whole loss series, list with a filter,
cancel another job. It talks HTTP through httplib2 with a static OAuth token.
"""

from __future__ import annotations

import time
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from gemtune_desktop.services.connections import Backend
from tests.sandbox.helpers import capitals_jsonl, upload

PARENT = "projects/second-client-project/locations/us-central1"


@pytest.fixture
def aiplatform(sandbox: Any) -> Any:
    http = google_auth_httplib2.AuthorizedHttp(Credentials(token="static-token"), http=httplib2.Http(timeout=10))
    service = build("aiplatform", "v1beta1", http=http, static_discovery=True,
                    client_options={"api_endpoint": sandbox.base_url})
    yield service
    service.close()


def wait(fetch: Any, done: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"not reached; last value {value!r}"
        time.sleep(0.05)


def test_discovery_client_tunes_reads_the_curve_lists_and_cancels(aiplatform: Any, sandbox: Any,
                                                                 sandbox_session: Any) -> None:
    train = upload(sandbox_session(Backend.AGENT_PLATFORM), "second/train.jsonl", capitals_jsonl(40))
    val = upload(sandbox_session(Backend.AGENT_PLATFORM), "second/val.jsonl", capitals_jsonl(8))
    jobs = aiplatform.projects().locations().tuningJobs()
    created = jobs.create(parent=PARENT, body={
        "baseModel": "gemini-3.5-flash", "tunedModelDisplayName": "second client",
        "labels": {"client": "discovery"},
        "supervisedTuningSpec": {"trainingDatasetUri": train, "validationDatasetUri": val,
                                 "hyperParameters": {"epochCount": "3", "adapterSize": "ADAPTER_SIZE_TWO"}}}).execute()
    assert created["name"].startswith(f"{PARENT}/tuningJobs/")
    done = wait(lambda: jobs.get(name=created["name"]).execute(), lambda j: j["state"] == "JOB_STATE_SUCCEEDED")
    total = int(done["tuningDataStats"]["supervisedTuningDataStats"]["tuningStepCount"])
    assert done["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_TWO"

    context = aiplatform.projects().locations().metadataStores().contexts().get(name=done["experiment"]).execute()
    tensorboard = context["metadata"]["backing_tensorboard_resource"]
    boards = aiplatform.projects().locations().tensorboards()
    assert boards.get(name=tensorboard).execute()["name"] == tensorboard
    experiment = f"{tensorboard}/experiments/{done['experiment'].rsplit('/', 1)[1]}"
    assert boards.experiments().get(name=experiment).execute()["name"] == experiment
    runs = boards.experiments().runs().list(parent=experiment).execute()["tensorboardRuns"]
    series_api = boards.experiments().runs().timeSeries()
    series = {s["displayName"]: s["name"] for s in series_api.list(parent=runs[0]["name"]).execute()
              ["tensorboardTimeSeries"]}
    assert set(series) == {"/train_total_loss", "/eval_total_loss"}
    read = series_api.read(tensorboardTimeSeries=series["/train_total_loss"], maxDataPoints=-1).execute()
    assert [int(v["step"]) for v in read["timeSeriesData"]["values"]] == list(range(1, total + 1))
    exported, token = [], None
    while True:
        page = series_api.exportTensorboardTimeSeries(tensorboardTimeSeries=series["/eval_total_loss"], body={
            "pageSize": 4, **({"pageToken": token} if token else {})}).execute()
        exported += [int(p["step"]) for p in page["timeSeriesDataPoints"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert sorted(exported)[-1] == total and len(exported) == len(set(exported)) > 4
    batch = boards.batchRead(tensorboard=tensorboard, timeSeries=list(series.values())).execute()
    assert len(batch["timeSeriesData"]) == 2

    sandbox.steps_per_second = 1
    running = jobs.create(parent=PARENT, body={"baseModel": "gemini-3.5-flash-lite",
                                               "supervisedTuningSpec": {"trainingDatasetUri": train}}).execute()
    finished = jobs.list(parent=PARENT, filter='state="JOB_STATE_SUCCEEDED" AND labels.client="discovery"').execute()
    assert [j["name"] for j in finished["tuningJobs"]] == [created["name"]]
    assert jobs.cancel(name=running["name"], body={}).execute() == {}
    sandbox.steps_per_second = 200
    cancelled = wait(lambda: jobs.get(name=running["name"]).execute(), lambda j: j["state"] == "JOB_STATE_CANCELLED")
    assert cancelled["error"]["message"] == "CANCELED"
    with pytest.raises(HttpError) as err:
        jobs.cancel(name=running["name"], body={}).execute()
    assert err.value.resp.status == 400 and "FAILED_PRECONDITION" in err.value.content.decode()
