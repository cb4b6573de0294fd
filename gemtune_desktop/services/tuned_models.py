"""Deleting a tuned model on Agent Platform: undeploy it from every endpoint, then delete it.

``models.delete`` takes ``projects/P/locations/L/models/ID`` without the ``@1`` that
``TuningJob.tunedModel.model`` carries, and "a model cannot be deleted if any Endpoint resource has a
DeployedModel based on the model" (the models.delete reference). Tuned Gemini models come deployed
(one endpoint for the model, one per checkpoint), so :func:`delete_tuned_model` reads the model's
``deployedModels``, calls ``endpoints.undeployModel`` for each, waits for each long-running
operation, then deletes the model and waits for that operation too. Progress goes to the
:class:`CancelToken`; a cancel stops between steps (an endpoint already undeployed stays so).

When the service refuses a step, the user gets what it said and what to do in the Cloud console.
Not verified against the live service (the team's reference, corrections §6).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.services.backend import BackendSession, ServiceError

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
FIRST_WAIT_S = 1.0
LONGEST_WAIT_S = 10.0
OPERATION_DEADLINE_S = 30 * 60.0  # undeploying can take minutes; give up (and say so) after half an hour


def model_resource(tuned_model: str) -> str:
    """``projects/P/locations/L/models/ID`` from a tuned-model name that may end in ``@version``."""
    return tuned_model.split("@", 1)[0]


def console_steps(record: JobRecord, model: str, endpoint: str = "") -> str:
    """What to do in the Cloud console when GemTune cannot delete the model itself."""
    parts = model.split("/")
    project, region = (parts[1], parts[3]) if len(parts) > 3 else ("your project", "the job's region")
    where = f"the endpoint {endpoint}" if endpoint else "each endpoint listed under the model's deployments"
    return (f"To delete it yourself: open the Google Cloud console for project {project}, go to Agent Platform → "
            f"Endpoints, open {where} and undeploy the model; then go to Model Registry (region {region}) and "
            f"delete “{record.display_name or model.rsplit('/', 1)[-1]}” ({model}).")


def delete_tuned_model(token: CancelToken, session: BackendSession, record: JobRecord) -> None:
    """Undeploy the job's tuned model from its endpoints, then delete it (Agent Platform)."""
    if not record.tuned_model:
        raise UserError("This job has no tuned model to delete.")
    model = model_resource(record.tuned_model)
    token.report(0, 0, "Looking up where the tuned model is deployed…")
    try:
        info = session.rest("GET", model, timeout_s=TIMEOUT_S)
    except ServiceError as err:
        if err.code == 404:
            return  # already gone, which is what the user wanted
        raise _refused(record, model, "", err) from None
    token.check()
    deployed = [d for d in info.get("deployedModels") or [] if d.get("endpoint") and d.get("deployedModelId")]
    steps = len(deployed) + 1
    for i, dep in enumerate(deployed):
        endpoint = str(dep["endpoint"])
        token.report(i, steps, f"Removing the model from endpoint {i + 1} of {len(deployed)}…")
        location = endpoint.split("/")[3] if endpoint.count("/") >= 3 else None
        try:
            op = session.rest("POST", f"{endpoint}:undeployModel", body={"deployedModelId": dep["deployedModelId"]},
                              timeout_s=TIMEOUT_S, location=location)
        except ServiceError as err:
            if err.code == 404:
                continue  # undeployed meanwhile
            raise _refused(record, model, endpoint, err) from None
        wait_for_operation(token, session, op, location)
    token.report(len(deployed), steps, "Deleting the tuned model…")
    try:
        op = session.rest("DELETE", model, timeout_s=TIMEOUT_S)
    except ServiceError as err:
        if err.code == 404:
            return
        raise _refused(record, model, "", err) from None
    wait_for_operation(token, session, op, None)
    token.report(steps, steps, "The tuned model was deleted.")


def wait_for_operation(token: CancelToken, session: BackendSession, op: dict[str, Any],
                       location: str | None) -> dict[str, Any]:
    """Poll a long-running operation until it is done; raise its error in plain words."""
    deadline = time.monotonic() + OPERATION_DEADLINE_S
    wait = FIRST_WAIT_S
    while not op.get("done"):
        if time.monotonic() > deadline:
            raise UserError("The service is still working on it after half an hour.",
                            "Check the Cloud console later; GemTune stopped waiting.", retryable=True)
        token.wait(wait)
        wait = min(LONGEST_WAIT_S, wait * 1.5)
        op = session.rest("GET", str(op["name"]), timeout_s=TIMEOUT_S, location=location)
    error = op.get("error") or {}
    if error:
        raise UserError(f"The service could not finish: {str(error.get('message') or 'no reason given')[:300]}",
                        "Try again later, or check the Cloud console.")
    return op


def _refused(record: JobRecord, model: str, endpoint: str, err: ServiceError) -> UserError:
    said = f" The service said: “{err.message[:300]}”" if err.message else ""
    if endpoint:
        text = f"Google did not let GemTune remove the tuned model from its endpoint, so it cannot be deleted.{said}"
    else:
        text = f"Google did not let GemTune delete the tuned model.{said}"
    return UserError(text, console_steps(record, model, endpoint), detail=f"HTTP {err.code} {err.status}")
