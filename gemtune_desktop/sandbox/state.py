"""What the Sandbox holds: buckets and objects, tuning runs, and their persistence on disk.

All access goes through :class:`SandboxState`, guarded by one lock. With a ``state_dir``
every change is written as a small JSON file (objects also as a ``.bin`` file) atomically,
so a restart finds jobs, tuned models and uploads where they were; a run started yesterday
has kept progressing because its state is computed from its stored start time.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gemtune_desktop.sandbox import persistence
from gemtune_desktop.sandbox.datasets import TrainingExample
from gemtune_desktop.sandbox.training import Clock, Plan, Status, status_at

DEFAULT_BUCKET = "sandbox-bucket"


def new_numeric_id() -> str:
    return str(10**18 + secrets.randbelow(9 * 10**18))


@dataclass
class Run:
    """A simulated tuning run: an Agent Platform tuning job (``kind="agent"``) or a Gemini API tuned model."""

    kind: str
    id: str
    created_wall: float
    clock: Clock
    plan: Plan
    examples: list[TrainingExample]
    info: dict[str, Any] = field(default_factory=dict)
    failure: dict[str, Any] | None = None
    cancel_tick: float | None = None

    def ticks(self, now: float | None = None) -> float:
        return self.clock.ticks(time.time() if now is None else now)

    def status(self, now: float | None = None) -> Status:
        return status_at(self.plan, self.ticks(now), self.failure is not None, self.cancel_tick)

    def wall(self, ticks: float) -> float:
        return self.clock.wall(ticks)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "created_wall": self.created_wall, "clock": self.clock.to_json(),
                "plan": self.plan.to_json(), "examples": [e.to_json() for e in self.examples], "info": self.info,
                "failure": self.failure, "cancel_tick": self.cancel_tick}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        return cls(kind=str(data["kind"]), id=str(data["id"]), created_wall=float(data["created_wall"]),
                   clock=Clock.from_json(data["clock"]), plan=Plan.from_json(data["plan"]),
                   examples=[TrainingExample.from_json(e) for e in data.get("examples", [])],
                   info=dict(data.get("info", {})), failure=data.get("failure"),
                   cancel_tick=data.get("cancel_tick"))


@dataclass
class StoredObject:
    bucket: str
    name: str
    data: bytes
    content_type: str
    generation: int
    created: float

    @property
    def md5(self) -> str:
        return base64.b64encode(hashlib.md5(self.data).digest()).decode()

    @property
    def crc32c(self) -> str:
        return crc32c_b64(self.data)

    def meta_json(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "name": self.name, "content_type": self.content_type,
                "generation": self.generation, "created": self.created}


def crc32c_b64(data: bytes) -> str:
    import google_crc32c

    return base64.b64encode(int(google_crc32c.value(data)).to_bytes(4, "big")).decode()


def _object_key(bucket: str, name: str) -> str:
    return hashlib.sha1(f"{bucket}/{name}".encode()).hexdigest()


class SandboxState:
    """Buckets, objects and runs; thread-safe; persisted when ``state_dir`` is given."""

    def __init__(self, state_dir: Path | None, pace: float) -> None:
        self.lock = threading.RLock()
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.pace = pace
        self.buckets: dict[str, float] = {}
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.runs: dict[str, Run] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self._load()
        if DEFAULT_BUCKET not in self.buckets:
            self.add_bucket(DEFAULT_BUCKET)

    # -- persistence ------------------------------------------------------------------------
    def _path(self, *parts: str) -> Path | None:
        return self.state_dir.joinpath(*parts) if self.state_dir is not None else None

    def _load(self) -> None:
        if self.state_dir is None:
            return
        buckets = self.state_dir / "buckets"
        for rec in persistence.read_json_dir(buckets):
            self.buckets[str(rec["name"])] = float(rec.get("created", time.time()))
        for rec in persistence.read_json_dir(self.state_dir / "objects"):
            key = _object_key(rec["bucket"], rec["name"])
            try:
                data = (self.state_dir / "objects" / f"{key}.bin").read_bytes()
            except OSError:
                continue
            self.objects[(rec["bucket"], rec["name"])] = StoredObject(
                rec["bucket"], rec["name"], data, rec.get("content_type", "application/octet-stream"),
                int(rec.get("generation", 1)), float(rec.get("created", time.time())))
        now = time.time()
        for rec in persistence.read_json_dir(self.state_dir / "runs"):
            try:
                run = Run.from_json(rec)
            except (KeyError, TypeError, ValueError):
                continue
            if not run.status(now).ended and run.clock.pace != self.pace:
                run.clock.repace(now, self.pace)
            self.runs[run.id] = run

    def save_run(self, run: Run) -> None:
        path = self._path("runs", f"{run.id}.json")
        if path is not None:
            persistence.write_json(path, run.to_json())

    def delete_run(self, run_id: str) -> None:
        with self.lock:
            self.runs.pop(run_id, None)
        path = self._path("runs", f"{run_id}.json")
        if path is not None:
            persistence.remove(path)

    # -- pace -----------------------------------------------------------------------------------
    def set_pace(self, pace: float) -> None:
        if pace <= 0:
            raise ValueError("steps_per_second must be positive")
        now = time.time()
        with self.lock:
            self.pace = pace
            for run in self.runs.values():
                if not run.status(now).ended:
                    run.clock.repace(now, pace)
                    self.save_run(run)

    # -- runs -----------------------------------------------------------------------------------
    def add_run(self, run: Run) -> None:
        with self.lock:
            self.runs[run.id] = run
            self.save_run(run)

    def new_clock(self) -> Clock:
        return Clock(time.time(), 0.0, self.pace)

    def find_runs(self, kind: str) -> list[Run]:
        with self.lock:
            return sorted((r for r in self.runs.values() if r.kind == kind), key=lambda r: -r.created_wall)

    # -- buckets and objects --------------------------------------------------------------------
    def add_bucket(self, name: str) -> None:
        with self.lock:
            self.buckets[name] = time.time()
            path = self._path("buckets", f"{hashlib.sha1(name.encode()).hexdigest()}.json")
            if path is not None:
                persistence.write_json(path, {"name": name, "created": self.buckets[name]})

    def put_object(self, bucket: str, name: str, data: bytes, content_type: str) -> StoredObject:
        with self.lock:
            old = self.objects.get((bucket, name))
            obj = StoredObject(bucket, name, bytes(data), content_type or "application/octet-stream",
                               (old.generation + 1) if old else int(time.time() * 1_000_000), time.time())
            self.objects[(bucket, name)] = obj
            key = _object_key(bucket, name)
            if self.state_dir is not None:
                persistence.write_bytes(self.state_dir / "objects" / f"{key}.bin", obj.data)
                persistence.write_json(self.state_dir / "objects" / f"{key}.json", obj.meta_json())
            return obj

    def get_object(self, bucket: str, name: str) -> StoredObject | None:
        with self.lock:
            return self.objects.get((bucket, name))

    def delete_object(self, bucket: str, name: str) -> bool:
        with self.lock:
            obj = self.objects.pop((bucket, name), None)
            if obj is not None and self.state_dir is not None:
                key = _object_key(bucket, name)
                persistence.remove(self.state_dir / "objects" / f"{key}.json")
                persistence.remove(self.state_dir / "objects" / f"{key}.bin")
            return obj is not None

    def read_gcs_uri(self, uri: str) -> bytes | None:
        """Bytes of ``gs://bucket/name`` or None when it does not exist."""
        if not uri.startswith("gs://"):
            return None
        bucket, _, name = uri[5:].partition("/")
        obj = self.get_object(bucket, name)
        return obj.data if obj is not None else None
