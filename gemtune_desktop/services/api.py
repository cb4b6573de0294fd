"""The one seam between the app and Google's services: what the tabs ask of the active connection.

:class:`ServiceApi` is a Protocol of blocking calls (run them on a worker; each takes the task's
:class:`~gemtune_desktop.core.cancel.CancelToken` first). :class:`SessionApi` is the real one: it speaks
to Agent Platform, the Gemini API or the Sandbox through a :class:`~gemtune_desktop.services.backend.BackendSession`
(google-genai and REST over HTTP). The connection manager builds one per connection
(``service_factory``); tests of the widgets inject an in-process fake through the same factory.

The service modules (tuning, monitor, console, batch evaluation) are imported on first use, so this
module costs nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.services.connections import AuthMode, ConnectionKind, ConnectionProfile

if TYPE_CHECKING:
    from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
    from gemtune_desktop.core.jobs import JobRecord
    from gemtune_desktop.core.project.batch_jobs_repo import BatchJobRecord
    from gemtune_desktop.services.backend import BackendSession, SecretSource
    from gemtune_desktop.services.batch_eval import BatchStats, EvalItem
    from gemtune_desktop.services.batch_eval import RetryPolicy as BatchRetryPolicy
    from gemtune_desktop.services.console import ConsoleRequest, ConsoleResult, ModelRef
    from gemtune_desktop.services.judge import JudgeSettings
    from gemtune_desktop.services.monitor import JobStatus
    from gemtune_desktop.services.polling import Polled
    from gemtune_desktop.services.tuning import AnySubmit, SubmitOutcome, SubmitResult


class ServiceApi(Protocol):
    """Calls on one connection (blocking; call them on a worker thread)."""

    @property
    def profile(self) -> ConnectionProfile: ...

    def probe(self, token: CancelToken) -> str:
        """A cheap call that proves the connection works; a plain text such as "reachable (5 models listed)"."""
        ...

    def list_tunable_models(self, token: CancelToken) -> list[tuple[str, str]]:
        """(name, label) of the models a Gemini API connection can tune."""
        ...

    def submit(self, token: CancelToken, request: AnySubmit, outcome: SubmitOutcome) -> SubmitResult:
        """The worker part of the exactly-once submit (:meth:`SubmitWorkflow.send`): the caller records the job
        first and records the outcome after (``SubmitWorkflow.finished`` / ``failed`` / ``cancelled``). Raises
        ``SubmitNotConfirmed`` when the job may exist but was not confirmed."""
        ...

    def list_jobs(self, token: CancelToken) -> list[JobStatus]: ...

    def poll(self, token: CancelToken, record: JobRecord, last_steps: dict[str, int],
             source: dict[str, Any], db_path: str | None) -> Polled:
        """The job's state and its loss points newer than ``last_steps``, the points written to the project
        file at ``db_path`` from the worker (or returned in ``Polled.points`` when there is no file)."""
        ...

    def check_submit(self, token: CancelToken, record: JobRecord) -> SubmitResult | None:
        """The job a submit of unknown outcome created, or None when the service shows there is none;
        raises :class:`UserError` when the look-up failed (the outcome is still not known)."""
        ...

    def cancel_job(self, token: CancelToken, resource_name: str) -> None: ...

    def delete_tuned_model(self, token: CancelToken, record: JobRecord) -> None: ...

    def list_base_models(self, token: CancelToken) -> list[ModelRef]: ...

    def stream(self, token: CancelToken, request: ConsoleRequest,
               on_text: Callable[[int, str], None]) -> ConsoleResult: ...

    def run_batch(self, token: CancelToken, items: Sequence[EvalItem], run_id: int, db_path: str, expected: int,
                  generation: GenerationSettings, safety: SafetySettings, concurrency: int,
                  policy: BatchRetryPolicy) -> BatchStats:
        """Answer every item, each stored in the project file as it arrives (see ``batch_eval.run_and_store``)."""
        ...

    # -- Test tab: the judge, Google's evaluation service, sweeps and the batch engine (issue 19) ------------
    def judge_run(self, token: CancelToken, db_path: str, run_id: int, rubric: str, settings: JudgeSettings,
                  concurrency: int, policy: BatchRetryPolicy) -> BatchStats:
        """Judge a stored run's answers against the rubric, each verdict stored as it arrives (``judge.judge_run``)."""
        ...

    def service_eval(self, token: CancelToken, db_path: str, run_id: int, metrics: Sequence[str],
                     concurrency: int, policy: BatchRetryPolicy) -> BatchStats:
        """Google's Gen AI evaluation service on a stored run (``genai_eval.run_service_eval``; Agent Platform)."""
        ...

    def run_sweep(self, token: CancelToken, db_path: str, sweep_id: int, concurrency: int,
                  policy: BatchRetryPolicy) -> int:
        """Send every answer a stored sweep still lacks (``sweep.run``); returns how many were sent."""
        ...

    def submit_batch_job(self, token: CancelToken, db_path: str, run_id: int, items: Sequence[EvalItem],
                         generation: GenerationSettings, safety: SafetySettings) -> BatchJobRecord:
        """One batch-engine job answering one model of a stored run (``batch_jobs.submit``)."""
        ...

    def refresh_batch_jobs(self, token: CancelToken, db_path: str) -> list[BatchJobRecord]:
        """Poll this connection's open batch jobs and store the results of those that ended."""
        ...

    def cancel_batch_job(self, token: CancelToken, db_path: str, record: BatchJobRecord) -> BatchJobRecord: ...

    def close(self) -> None: ...


#: Builds the service of a connection; the secrets are where it reads keys (the keyring, or keys typed in a
#: form and not saved yet).
ServiceFactory = Callable[[ConnectionProfile, "SecretSource"], ServiceApi]


class SessionApi:
    """:class:`ServiceApi` over a real :class:`BackendSession` (HTTP to Google or to the Sandbox)."""

    def __init__(self, session: BackendSession) -> None:
        self.session = session

    @property
    def profile(self) -> ConnectionProfile:
        return self.session.profile

    def probe(self, token: CancelToken) -> str:
        check_configured(self.profile)
        client = self.session.client(timeout_s=15)
        pager = client.models.list(config={"page_size": 5})
        count = sum(1 for _ in zip(range(5), pager, strict=False))
        token.check()
        return f"reachable ({count} models listed)" if count else "reachable"

    def list_tunable_models(self, token: CancelToken) -> list[tuple[str, str]]:
        from gemtune_desktop.services.tuning import list_gemini_tunable_models

        return list_gemini_tunable_models(token, self.session)

    def submit(self, token: CancelToken, request: AnySubmit, outcome: SubmitOutcome) -> SubmitResult:
        from gemtune_desktop.services.submit_flow import SubmitWorkflow

        return SubmitWorkflow.send(token, self.session, request, outcome)

    def list_jobs(self, token: CancelToken) -> list[JobStatus]:
        from gemtune_desktop.services.monitor import list_jobs

        return list_jobs(token, self.session)

    def poll(self, token: CancelToken, record: JobRecord, last_steps: dict[str, int],
             source: dict[str, Any], db_path: str | None) -> Polled:
        from gemtune_desktop.services.polling import poll_and_store

        return poll_and_store(token, self.session, record, last_steps, source, db_path)

    def check_submit(self, token: CancelToken, record: JobRecord) -> SubmitResult | None:
        from gemtune_desktop.services.submit_flow import check_submit

        return check_submit(token, self.session, record)

    def cancel_job(self, token: CancelToken, resource_name: str) -> None:
        from gemtune_desktop.services.monitor import cancel_job

        cancel_job(token, self.session, resource_name)

    def delete_tuned_model(self, token: CancelToken, record: JobRecord) -> None:
        from gemtune_desktop.services.monitor import delete_tuned_model

        delete_tuned_model(token, self.session, record)

    def list_base_models(self, token: CancelToken) -> list[ModelRef]:
        from gemtune_desktop.services.console import list_base_models

        return list_base_models(token, self.session)

    def stream(self, token: CancelToken, request: ConsoleRequest,
               on_text: Callable[[int, str], None]) -> ConsoleResult:
        from gemtune_desktop.services.console import stream

        return stream(token, self.session, request, on_text=on_text)

    def run_batch(self, token: CancelToken, items: Sequence[EvalItem], run_id: int, db_path: str, expected: int,
                  generation: GenerationSettings, safety: SafetySettings, concurrency: int,
                  policy: BatchRetryPolicy) -> BatchStats:
        from gemtune_desktop.services.batch_eval import run_and_store

        return run_and_store(token, self.session, items, run_id, db_path, expected, generation, safety,
                             concurrency, policy)

    # -- Test tab: the judge, Google's evaluation service, sweeps and the batch engine (issue 19) ------------
    def judge_run(self, token: CancelToken, db_path: str, run_id: int, rubric: str, settings: JudgeSettings,
                  concurrency: int, policy: BatchRetryPolicy) -> BatchStats:
        from gemtune_desktop.services.judge import judge_run

        return judge_run(token, self.session, db_path, run_id, rubric, settings, concurrency, policy)

    def service_eval(self, token: CancelToken, db_path: str, run_id: int, metrics: Sequence[str],
                     concurrency: int, policy: BatchRetryPolicy) -> BatchStats:
        from gemtune_desktop.services.genai_eval import run_service_eval

        return run_service_eval(token, self.session, db_path, run_id, metrics, concurrency, policy)

    def run_sweep(self, token: CancelToken, db_path: str, sweep_id: int, concurrency: int,
                  policy: BatchRetryPolicy) -> int:
        from gemtune_desktop.services.sweep import run

        return run(token, self.session, db_path, sweep_id, concurrency, policy)

    def submit_batch_job(self, token: CancelToken, db_path: str, run_id: int, items: Sequence[EvalItem],
                         generation: GenerationSettings, safety: SafetySettings) -> BatchJobRecord:
        from gemtune_desktop.services.batch_jobs import submit

        return submit(token, self.session, db_path, run_id, items, generation, safety)

    def refresh_batch_jobs(self, token: CancelToken, db_path: str) -> list[BatchJobRecord]:
        from gemtune_desktop.services.batch_jobs import refresh_open_jobs

        return refresh_open_jobs(token, self.session, db_path)

    def cancel_batch_job(self, token: CancelToken, db_path: str, record: BatchJobRecord) -> BatchJobRecord:
        from gemtune_desktop.services.batch_jobs import cancel

        token.check()
        return cancel(self.session, db_path, record)

    def close(self) -> None:
        self.session.close()


def check_configured(profile: ConnectionProfile) -> None:
    """Raise a :class:`UserError` naming what is missing before a connection can be used."""
    from gemtune_desktop.services.backend import connection_is_configured

    if not connection_is_configured(profile):
        raise UserError("No Google Cloud project is set for this connection.",
                        "Enter your project ID in Settings → Connections.")
    if profile.kind is ConnectionKind.AGENT_PLATFORM and profile.auth_mode is AuthMode.SERVICE_ACCOUNT \
            and not profile.service_account_in_keyring and not profile.service_account_file:
        raise UserError("No service-account key file is chosen.",
                        "Choose the JSON key file in Settings → Connections, or use Application Default "
                        "Credentials.")
