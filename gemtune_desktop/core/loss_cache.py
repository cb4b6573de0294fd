"""The loss curves of the jobs shown, read from the project once and then extended as points arrive.

Each curve is a :class:`~gemtune_desktop.core.loss.LossSeries` (growing float64 buffers), so a plot keeps
the same object and redraws only what changed.
"""

from __future__ import annotations

from gemtune_desktop.core.loss import TRAIN, LossSeries
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.jobs_repo import Store

Curves = dict[str, LossSeries]  # series name ("train", "validation") -> points


class LossCache:
    """Curves per job id, for one project store."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self._curves: dict[int, Curves] = {}

    def use(self, store: Store | None) -> None:
        """Read from ``store`` from now on (forgets every cached curve)."""
        self.store = store
        self._curves.clear()

    def curves(self, job_id: int) -> Curves:
        """The job's curves (a training curve, possibly empty, is always there)."""
        cached = self._curves.get(job_id)
        if cached is None:
            cached = {}
            if self.store is not None:
                for name in jobs_repo.loss_series_names(self.store, job_id):
                    cached[name] = LossSeries(jobs_repo.loss_points(self.store, job_id, name))
            cached.setdefault(TRAIN, LossSeries())
            self._curves[job_id] = cached
        return cached

    def is_cached(self, job_id: int) -> bool:
        return job_id in self._curves

    def has_points(self, job_id: int) -> bool:
        return any(len(s) for s in self.curves(job_id).values())

    def extend(self, job_id: int) -> list[tuple[str, LossSeries]]:
        """Add the points stored since the job's curves were read; returns the curves that are new."""
        cached = self._curves.get(job_id)
        if cached is None or self.store is None:
            return []
        new: list[tuple[str, LossSeries]] = []
        for name in jobs_repo.loss_series_names(self.store, job_id):
            series = cached.get(name)
            if series is None:
                series = cached[name] = LossSeries()
                new.append((name, series))
            series.extend(jobs_repo.loss_points_after(self.store, job_id, name, series.last_step))
        return new
