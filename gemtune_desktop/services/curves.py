"""Reading a tuning job's curves from Agent Platform's TensorBoard (Qt-free, blocking).

Experiment context → backing tensorboard → runs → time series → every point with
``timeSeries:read?maxDataPoints=-1`` (or the paged ``exportTensorboardTimeSeries``); never
``tensorboards:batchRead``, which returns at most 1,000 points per series, chosen at random (corrections §2 in
the team's reference). Every series the run has is kept, under the key
:func:`gemtune_desktop.core.series.series_key` gives it. Used by :func:`gemtune_desktop.services.monitor.poll_job`.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.loss import Point
from gemtune_desktop.core.series import expected_series, series_key
from gemtune_desktop.services.backend import BackendSession, ServiceError

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
TRAIN_SERIES = "/train_total_loss"
EVAL_SERIES = "/eval_total_loss"
EXPORT_PAGE_SIZE = 10_000  # the most exportTensorboardTimeSeries returns per page


def find_series(token: CancelToken, session: BackendSession, experiment: str) -> tuple[str, dict[str, str]]:
    """The job's TensorBoard and the series written so far: ``(tensorboard, {key: series name})``, keyed by
    :func:`~gemtune_desktop.core.series.series_key` (``train``, ``validation``, ``train_reward_margin``…).

    A series exists only once its first point is written (``/eval_total_loss`` after the first
    evaluation), so callers look again until every series they expect is known.
    """
    context = session.rest("GET", experiment, timeout_s=TIMEOUT_S)
    token.check()
    meta = context.get("metadata") or {}
    tensorboard = str(meta.get("backing_tensorboard_resource") or meta.get("backingTensorboardResource") or "")
    if not tensorboard:
        return "", {}
    experiment_id = experiment.rstrip("/").rsplit("/", 1)[-1]
    runs = session.rest("GET", f"{tensorboard}/experiments/{experiment_id}/runs", timeout_s=TIMEOUT_S)
    token.check()
    series: dict[str, str] = {}
    for run in runs.get("tensorboardRuns") or []:
        listing = session.rest("GET", f"{run['name']}/timeSeries", timeout_s=TIMEOUT_S)
        token.check()
        for ts in listing.get("tensorboardTimeSeries") or []:
            name = str(ts.get("displayName", ""))
            if name and ts.get("name") and str(ts.get("valueType") or "SCALAR") == "SCALAR":
                series.setdefault(series_key(name), str(ts["name"]))
    return tensorboard, series


def read_series_values(token: CancelToken, session: BackendSession, series: str) -> list[dict[str, Any]]:
    """Every point of one time series: ``:read?maxDataPoints=-1``, else the paged export.

    ``tensorboards:batchRead`` is not used: it returns at most 1,000 points per series, chosen at
    random (corrections §2 in the team's reference), so a longer curve would come back thinned.
    """
    try:
        data = session.rest("GET", f"{series}:read", params={"maxDataPoints": -1}, timeout_s=TIMEOUT_S)
        token.check()
        return list((data.get("timeSeriesData") or {}).get("values") or [])
    except ServiceError as err:
        if err.code != 400:
            raise
        log.info("timeSeries.read refused maxDataPoints=-1 (%s); exporting instead", err.message)
    values: list[dict[str, Any]] = []
    page_token = ""
    while True:
        body: dict[str, Any] = {"pageSize": EXPORT_PAGE_SIZE}
        if page_token:
            body["pageToken"] = page_token
        page = session.rest("POST", f"{series}:exportTensorboardTimeSeries", body=body, timeout_s=TIMEOUT_S)
        token.check()
        values.extend(page.get("timeSeriesDataPoints") or [])
        page_token = str(page.get("nextPageToken") or "")
        if not page_token:
            return values


def read_experiment_loss(token: CancelToken, session: BackendSession, experiment: str, last: dict[str, int],
                         source: dict[str, Any], total_steps: int = 0, epochs: int = 0,
                         expect_validation: bool = False, wanted: frozenset[str] | None = None,
                         ended: bool = False) -> dict[str, list[Point]]:
    """Points of every series of an Agent Platform job's experiment (TensorBoard REST), by series key.

    ``source`` keeps, between polls, the tensorboard and series names found so far, which series were read
    in full (``"filled"``) and whether they were listed after the job ended (``"listed_ended"``); it is
    replaced, never changed in place. Series are looked up again on every poll until ``wanted`` (by default
    the supervised training loss, and the validation loss when ``expect_validation``) are all known, and once
    more after the job has ended (``ended``).
    """
    series: dict[str, str] = dict(source.get("series") or {})
    if wanted is None:
        wanted = expected_series("supervised", expect_validation)
    last_look = ended and not source.get("listed_ended")
    if not wanted <= set(series) or last_look:
        tensorboard, found = find_series(token, session, experiment)
        if tensorboard:
            source["tensorboard"] = tensorboard
        if found:
            series = {**found, **series}
            source["series"] = series
        if last_look:
            source["listed_ended"] = True
    filled = set(source.get("filled") or [])
    steps_per_epoch = total_steps / epochs if total_steps and epochs else 0.0
    out: dict[str, list[Point]] = {}
    for key, name in series.items():
        pts = _points(read_series_values(token, session, name), steps_per_epoch)
        out[key] = pts if key not in filled else [p for p in pts if p[0] > last.get(key, -1)]
        filled.add(key)
    source["filled"] = sorted(filled)
    return out


def _points(values: list[dict[str, Any]], steps_per_epoch: float) -> list[Point]:
    by_step: dict[int, Point] = {}
    for v in values:
        try:
            step = int(v.get("step", 0))
            raw = (v.get("scalar") or {}).get("value")
            value = float(raw) if raw is not None else math.nan
        except (TypeError, ValueError):
            continue
        if not math.isfinite(value):  # SQLite cannot store NaN
            continue
        by_step[step] = (step, step / steps_per_epoch if steps_per_epoch else None, value)
    return [by_step[s] for s in sorted(by_step)]
