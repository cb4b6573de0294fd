"""Starting a preference-tuning job on Agent Platform (or the Sandbox posing as it), from a base model or
continued from a tuned model's checkpoint.

:func:`submit_preference` runs on a worker thread, like :func:`gemtune_desktop.services.tuning.submit_job`
(which hands it a :class:`PreferenceSubmitRequest`): it writes the train (and validation) preference examples as
Agent Platform's preference JSONL (:func:`gemtune_desktop.core.preference.writers.upload_lines`: preamble and
system instruction applied), uploads them to the connection's bucket, then calls ``client.tunings.tune`` with
a ``CreateTuningJobConfig`` **object** (``method="PREFERENCE_TUNING"``; the SDK reads the checkpoint of a
continued job with ``getattr``, so a dict would silently drop it: :mod:`gemtune_desktop.core.preference.spec`).
The create goes through the same exactly-once machinery as supervised jobs (the ``gemtune-submit`` label, look-ups
before any second attempt); a refused setting (β, epochs, …) comes back as
:class:`~gemtune_desktop.services.tuning.InvalidSetting` naming the form field.

Preference tuning exists only on Agent Platform: a Gemini API connection is refused before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.preference.spec import PreferenceSpec, StartingPoint, sdk_call
from gemtune_desktop.core.preference.writers import upload_lines
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend

PREFERENCE_TRAIN_FILE = "preference-train.jsonl"
PREFERENCE_VALIDATION_FILE = "preference-validation.jsonl"


@dataclass(slots=True)
class PreferenceSubmitRequest:
    """Everything a preference submit needs, prepared on the GUI thread (plain data, safe to hand to a worker)."""

    spec: PreferenceSpec
    submit_key: str
    train: list[PreferenceExample]
    validation: list[PreferenceExample] = field(default_factory=list)
    settings: PreferenceSettings = field(default_factory=PreferenceSettings)

    @property
    def display_name(self) -> str:
        return self.spec.display_name


def preference_files(request: PreferenceSubmitRequest) -> list[tuple[str, bytes]]:
    """(file name, preference JSONL bytes) for the train split and, if used, the validation split."""
    files = [(PREFERENCE_TRAIN_FILE, b"".join(upload_lines(request.train, request.settings)))]
    if request.spec.use_validation and request.validation:
        files.append((PREFERENCE_VALIDATION_FILE, b"".join(upload_lines(request.validation, request.settings))))
    return files


def not_found_start(start: StartingPoint) -> Any:
    """The words for a 404 on a continued job: the tuned model (not a base model) is gone."""
    def explain(exc: BaseException) -> UserError:
        from gemtune_desktop.services.tuning import explain_refusal

        err = explain_refusal(exc)
        if start.continued and isinstance(err, ServiceError) and err.code == 404:
            what = start.job_label or start.model
            return ServiceError(404, err.status, f"The tuned model to continue from ({what}) was not found on this "
                                                 "connection; it may have been deleted.",
                                hint="Choose another tuned model or checkpoint, or start from a base model.")
        return err

    return explain


def submit_preference(token: CancelToken | None, session: BackendSession, request: PreferenceSubmitRequest,
                      outcome: Any, policy: RetryPolicy) -> Any:
    """Upload the preference examples and create the preference-tuning job (see the module docstring)."""
    from gemtune_desktop.services import tuning as T

    if session.backend is not Backend.AGENT_PLATFORM:
        raise UserError("Preference tuning runs only on Google Cloud (Agent Platform).",
                        "Use a Google Cloud connection, or the Sandbox set to Agent Platform.")
    if not request.train:
        raise UserError("There are no preference examples in the training split.",
                        "Add preference examples (or move some to the train split) before starting.")
    uris = T.upload_training_files(token, session, request.submit_key, preference_files(request))
    T.check(token)
    T.report(token, T.UPLOAD_SHARE, "Starting the preference-tuning job…")
    call = sdk_call(request.spec, uris[PREFERENCE_TRAIN_FILE], uris.get(PREFERENCE_VALIDATION_FILE),
                    request.submit_key)
    result = T.tune_once(token, session, policy, outcome, call, request.submit_key,
                         not_found_start(request.spec.start))
    result.train_uri = uris[PREFERENCE_TRAIN_FILE]
    result.validation_uri = uris.get(PREFERENCE_VALIDATION_FILE, "")
    result.request = call
    T.report(token, 1.0, "The preference-tuning job has started.")
    return outcome.set_result(result)
