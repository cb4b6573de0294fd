"""Agent Platform routes for a job's loss curves: experiment context → TensorBoard → runs → time series.

Read path (relative to ``{base_url}v1beta1/``, ``/v1/`` alike):
``GET {job.experiment}`` → ``metadata.backing_tensorboard_resource``; ``GET {tensorboard}`` and
``GET {tensorboard}/experiments/{id}``; ``GET .../runs``; ``GET {run}/timeSeries``; then the points:

* ``GET {series}:read?maxDataPoints=N``: 1,000 points by default, chosen at random when there are
  more; ``-1`` returns all, more than 10,000 is refused (the method's documentation);
* ``POST {series}:exportTensorboardTimeSeries`` ``{pageSize, pageToken, orderBy}``: every point,
  paged (``pageSize`` 1–10,000, default 1,000), in a pseudo-random order unless ``orderBy`` is
  ``step`` / ``step desc`` / ``wall_time`` / ``wall_time desc``;
* ``GET {tensorboard}:batchRead?timeSeries=…``: at most 1,000 points per series, chosen at random.

A series exists once its first point is written, as on the real service: ``/train_total_loss``
after the first step, ``/eval_total_loss`` after the first evaluation (half an epoch in), so a
reader that lists the series once, early, never sees the validation curve. Preference jobs write a
preference loss and a reward margin instead (:mod:`gemtune_desktop.sandbox.series`).
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import agent_views as views
from gemtune_desktop.sandbox import contract, training
from gemtune_desktop.sandbox.apierror import ApiError, bad_request, not_found
from gemtune_desktop.sandbox.contract import enforced, request_body
from gemtune_desktop.sandbox.filters import compile_filter
from gemtune_desktop.sandbox.http import json_response, list_response, rfc3339
from gemtune_desktop.sandbox.routes_agent import check_location
from gemtune_desktop.sandbox.series import points as series_points
from gemtune_desktop.sandbox.series import series_of
from gemtune_desktop.sandbox.series import written as written_series
from gemtune_desktop.sandbox.state import Run

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

SERIES = "projects.locations.tensorboards.experiments.runs.timeSeries"
TABLE = {
    "projects.locations.metadataStores.contexts.get": "get_context",
    "projects.locations.tensorboards.get": "get_tensorboard",
    "projects.locations.tensorboards.batchRead": "batch_read",
    "projects.locations.tensorboards.experiments.get": "get_experiment",
    "projects.locations.tensorboards.experiments.runs.list": "list_runs",
    f"{SERIES}.list": "list_time_series", f"{SERIES}.read": "read_time_series",
    f"{SERIES}.exportTensorboardTimeSeries": "export_time_series",
}
DEFAULT_POINTS = 1000
MAX_READ_POINTS = 10_000
MAX_EXPORT_PAGE = 10_000
ORDERS = {"": None, "step": ("step", False), "step asc": ("step", False), "step desc": ("step", True),
          "wall_time": ("step", False), "wall_time asc": ("step", False), "wall_time desc": ("step", True)}


class TensorboardRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state

    @staticmethod
    def rules() -> list[Rule]:
        return contract.rules("tensorboard", TABLE)

    # -- lookups --------------------------------------------------------------------------------
    def _run_by_experiment(self, project: str, location: str, experiment_id: str) -> Run:
        run = self.state.runs.get(experiment_id.removeprefix("tuning-experiment-"))
        if run is None or run.kind != "agent" or run.info["location"] != location or \
                run.info["project"] != project or run.info["experiment_id"] != experiment_id or \
                "experiment" not in views.job_view(run):
            raise not_found(f"Context projects/{project}/locations/{location}/metadataStores/default/contexts/"
                            f"{experiment_id} not found.")
        return run

    @staticmethod
    def _check_tb(project: str, location: str, tb: str) -> None:
        if tb != views.TENSORBOARD_ID:
            raise not_found(f"Tensorboard projects/{project}/locations/{location}/tensorboards/{tb} not found.")

    @staticmethod
    def series(run: Run, now: float | None = None) -> list[tuple[str, str]]:
        """(name, display name) of the series written so far."""
        prefix = f"{views.names(run)['run']}/timeSeries/{run.id[-9:]}"
        return [(prefix + s.suffix, s.display) for s in written_series(run, now)]

    def _series_of(self, project: str, location: str, exp: str, run_id: str, series_id: str) -> tuple[Run, str]:
        job = self._run_by_experiment(project, location, exp)
        if run_id != f"run-{job.id}":
            raise not_found(f"TensorboardRun {run_id} not found.")
        for name, display in self.series(job):
            if name.rsplit("/", 1)[1] == series_id:
                return job, display
        raise not_found(f"TensorboardTimeSeries {series_id} not found.")

    @staticmethod
    def points(run: Run, display: str, now: float | None = None) -> list[dict[str, Any]]:
        """Every point of a series written so far, by step."""
        sdef = next(s for s in series_of(run) if s.display == display)
        return series_points(run, sdef, now)

    @staticmethod
    def _sample(points: list[dict[str, Any]], limit: int, seed: int) -> list[dict[str, Any]]:
        if len(points) <= limit:
            return points
        rng = random.Random(seed * 1_000_003 + len(points))
        chosen = sorted(rng.sample(range(len(points)), limit))
        return [points[i] for i in chosen]

    # -- resources --------------------------------------------------------------------------------
    @enforced
    def get_context(self, request: Request, project: str, location: str, store: str, context_id: str) -> Response:
        check_location(request, location)
        if store != "default":
            raise not_found(f"MetadataStore projects/{project}/locations/{location}/metadataStores/{store} not found.")
        with self.state.lock:
            run = self._run_by_experiment(project, location, context_id)
            n = views.names(run)
        return json_response({
            "name": n["experiment"], "displayName": context_id, "schemaTitle": "system.Experiment",
            "schemaVersion": "0.0.1", "createTime": rfc3339(run.created_wall), "updateTime": rfc3339(time.time()),
            "metadata": {"backing_tensorboard_resource": n["tensorboard"], "experiment_deleted": False},
        })

    @enforced
    def get_tensorboard(self, request: Request, project: str, location: str, tb: str) -> Response:
        check_location(request, location)
        self._check_tb(project, location, tb)
        with self.state.lock:
            runs = [r for r in self.state.find_runs("agent")
                    if r.info["project"] == project and r.info["location"] == location]
        created = min((r.created_wall for r in runs), default=time.time())
        return json_response({
            "name": f"projects/{project}/locations/{location}/tensorboards/{tb}",
            "displayName": "Default tensorboard (Sandbox)", "isDefault": True, "runCount": len(runs),
            "createTime": rfc3339(created), "updateTime": rfc3339(time.time())})

    @enforced
    def get_experiment(self, request: Request, project: str, location: str, tb: str, exp: str) -> Response:
        check_location(request, location)
        self._check_tb(project, location, tb)
        with self.state.lock:
            run = self._run_by_experiment(project, location, exp)
            n = views.names(run)
        return json_response({"name": n["tb_experiment"], "displayName": exp, "createTime": rfc3339(run.created_wall),
                              "updateTime": rfc3339(time.time()), "source": "vertex-ai-tuning"})

    @enforced
    def list_runs(self, request: Request, project: str, location: str, tb: str, exp: str) -> Response:
        check_location(request, location)
        self._check_tb(project, location, tb)
        with self.state.lock:
            run = self._run_by_experiment(project, location, exp)
            n = views.names(run)
        items = [{"name": n["run"], "displayName": f"run-{run.id}", "createTime": rfc3339(run.created_wall),
                  "updateTime": rfc3339(time.time())}]
        keep = compile_filter(request.args.get("filter"))
        return list_response(request, "tensorboardRuns", [i for i in items if keep(i)])

    @enforced
    def list_time_series(self, request: Request, project: str, location: str, tb: str, exp: str,
                         run: str) -> Response:
        check_location(request, location)
        self._check_tb(project, location, tb)
        keep = compile_filter(request.args.get("filter"))
        with self.state.lock:
            job = self._run_by_experiment(project, location, exp)
            if run != f"run-{job.id}":
                raise not_found(f"TensorboardRun {run} not found.")
            items = [{"name": name, "displayName": display, "valueType": "SCALAR", "pluginName": "scalars",
                      "createTime": rfc3339(job.created_wall)} for name, display in self.series(job)]
        return list_response(request, "tensorboardTimeSeries", [i for i in items if keep(i)])

    # -- points -----------------------------------------------------------------------------------
    @enforced
    def read_time_series(self, request: Request, project: str, location: str, tb: str, exp: str, run: str,
                         series: str) -> Response:
        check_location(request, location)
        self._check_tb(project, location, tb)
        if request.args.get("filter"):
            raise ApiError(501, "The Sandbox does not implement filters on timeSeries.read.")
        limit = int(request.args.get("maxDataPoints") or 0) or DEFAULT_POINTS
        if limit > MAX_READ_POINTS or limit < -1:
            raise bad_request(f"max_data_points must be between 1 and {MAX_READ_POINTS}, or -1 for all data; "
                              f"got {limit}.")
        with self.state.lock:
            job, display = self._series_of(project, location, exp, run, series)
            points = self.points(job, display)
        if limit != -1:
            points = self._sample(points, limit, training.seed_for(job.id + display + "read"))
        return json_response({"timeSeriesData": {"tensorboardTimeSeriesId": series, "valueType": "SCALAR",
                                                 "values": points}})

    @enforced
    def export_time_series(self, request: Request, project: str, location: str, tb: str, exp: str, run: str,
                           series: str) -> Response:
        check_location(request, location)
        self._check_tb(project, location, tb)
        body = request_body(request)
        if body.get("filter"):
            raise ApiError(501, "The Sandbox does not implement filters on exportTensorboardTimeSeries.")
        order = " ".join(str(body.get("orderBy") or "").split()).lower()
        if order not in ORDERS:
            raise bad_request(f"order_by {body.get('orderBy')!r} is not supported; use step or wall_time, optionally "
                              "followed by desc.")
        size = int(body.get("pageSize") or DEFAULT_POINTS)
        if size < 0:
            raise bad_request(f"page_size must be between 1 and {MAX_EXPORT_PAGE}; got {size}.")
        size = min(size or DEFAULT_POINTS, MAX_EXPORT_PAGE)
        token = str(body.get("pageToken") or "")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise bad_request("page_token is not valid; pass the nextPageToken of the previous page.") from None
        with self.state.lock:
            job, display = self._series_of(project, location, exp, run, series)
            points = self.points(job, display)
        how = ORDERS[order]
        if how is None:  # "by default … returned in a pseudo random order"
            seed = training.seed_for(job.id + display + "export")
            points.sort(key=lambda p: random.Random(seed * 7919 + int(p["step"])).random())
        elif how[1]:
            points.reverse()
        out: dict[str, Any] = {"timeSeriesDataPoints": points[start:start + size]}
        if start + size < len(points):
            out["nextPageToken"] = str(start + size)
        return json_response(out)

    @enforced
    def batch_read(self, request: Request, project: str, location: str, tb: str) -> Response:
        check_location(request, location)
        self._check_tb(project, location, tb)
        wanted = request.args.getlist("timeSeries")
        if not wanted:
            raise bad_request("At least one time_series is required.")
        out = []
        prefix = f"projects/{project}/locations/{location}/tensorboards/{tb}/experiments/"
        with self.state.lock:
            for full in wanted:
                if not full.startswith(prefix):
                    raise bad_request(f"Time series {full} does not belong to tensorboard {tb}.")
                parts = full[len(prefix):].split("/")
                if len(parts) != 5 or parts[1] != "runs" or parts[3] != "timeSeries":
                    raise not_found(f"TensorboardTimeSeries {full} not found.")
                try:
                    job, display = self._series_of(project, location, parts[0], parts[2], parts[4])
                except ApiError:
                    raise not_found(f"TensorboardTimeSeries {full} not found.") from None
                points = self._sample(self.points(job, display), DEFAULT_POINTS,
                                      training.seed_for(job.id + display))
                out.append({"tensorboardTimeSeriesId": parts[4], "valueType": "SCALAR", "values": points})
        return json_response({"timeSeriesData": out})
