"""The training simulation: a job's timeline and its loss curves, computed from elapsed time.

Nothing runs in the background. A run stores when it started (wall clock), its pace (steps
per second) and its plan; every read computes the state for "now". Time is measured in
ticks (one tick = one training step's duration), so the phases before and after training
scale with the pace:

    QUEUED (waiting for quota) → PENDING (processing dataset) → RUNNING (waiting for capacity,
    tuning one step per tick, post-processing) → SUCCEEDED; or FAILED after processing the
    dataset; or CANCELLING → CANCELLED after a cancel.

Loss model (deterministic per run seed): the training loss falls exponentially from about
2.3 towards a floor that is lower for more data, at a rate set by the learning-rate
multiplier; noise shrinks with more data. After an "overfitting epoch" that comes later for
bigger datasets (and sooner for higher multipliers) the validation loss rises while the
training loss keeps falling. A multiplier of 8 or more makes training diverge (flat/rising).
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

QUEUED_TICKS = 4.0
PENDING_TICKS = 4.0
CAPACITY_TICKS = 3.0
POST_TICKS = 6.0
CANCEL_TICKS = 2.0
TRAIN_START = QUEUED_TICKS + PENDING_TICKS + CAPACITY_TICKS
DIVERGE_MULTIPLIER = 8.0


def auto_epochs(example_count: int) -> int:
    """Epochs the Sandbox picks when none are given (more data → fewer passes)."""
    if example_count < 100:
        return 4
    if example_count < 1000:
        return 3
    return 2


def auto_batch_size(example_count: int) -> int:
    if example_count < 100:
        return 4
    if example_count < 1000:
        return 8
    return 16


def overfit_epoch(example_count: int, multiplier: float) -> float:
    """After this many epochs the validation loss starts rising."""
    base = 4.0 + 2.0 * math.log10(max(example_count, 10) / 10)
    return base / math.sqrt(max(multiplier, 0.25))


@dataclass(slots=True)
class Plan:
    example_count: int
    batch_size: int
    epochs: int
    multiplier: float
    has_validation: bool
    seed: int

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.example_count / self.batch_size))

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    @property
    def eval_interval(self) -> int:
        return max(1, self.steps_per_epoch // 2)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(**{k: data[k] for k in ("example_count", "batch_size", "epochs", "multiplier",
                                            "has_validation", "seed")})


@dataclass(slots=True)
class Clock:
    """Maps wall time to ticks for one run; re-anchored when the pace changes."""

    anchor_wall: float
    anchor_ticks: float
    pace: float

    def ticks(self, now: float) -> float:
        return self.anchor_ticks + max(0.0, now - self.anchor_wall) * self.pace

    def wall(self, ticks: float) -> float:
        return self.anchor_wall + (ticks - self.anchor_ticks) / self.pace

    def repace(self, now: float, pace: float) -> None:
        self.anchor_ticks = self.ticks(now)
        self.anchor_wall = now
        self.pace = pace

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Clock:
        return cls(float(data["anchor_wall"]), float(data["anchor_ticks"]), float(data["pace"]))


@dataclass(slots=True)
class Status:
    state: str  # QUEUED PENDING RUNNING SUCCEEDED FAILED CANCELLING CANCELLED
    phase: str | None  # WAITING_FOR_QUOTA PROCESSING_DATASET WAITING_FOR_CAPACITY TUNING POST_PROCESSING
    completed_steps: int
    start_tick: float | None
    end_tick: float | None

    @property
    def ended(self) -> bool:
        return self.state in ("SUCCEEDED", "FAILED", "CANCELLED")


def _phase_at(plan: Plan, t: float, failed: bool) -> Status:
    if t < QUEUED_TICKS:
        return Status("QUEUED", "WAITING_FOR_QUOTA", 0, None, None)
    if t < QUEUED_TICKS + PENDING_TICKS:
        return Status("PENDING", "PROCESSING_DATASET", 0, None, None)
    start = QUEUED_TICKS + PENDING_TICKS
    if failed:
        return Status("FAILED", None, 0, start, start)
    if t < TRAIN_START:
        return Status("RUNNING", "WAITING_FOR_CAPACITY", 0, start, None)
    total = plan.total_steps
    if t < TRAIN_START + total:
        return Status("RUNNING", "TUNING", int(t - TRAIN_START), start, None)
    if t < TRAIN_START + total + POST_TICKS:
        return Status("RUNNING", "POST_PROCESSING", total, start, None)
    return Status("SUCCEEDED", None, total, start, TRAIN_START + total + POST_TICKS)


def status_at(plan: Plan, t: float, failed: bool = False, cancel_tick: float | None = None) -> Status:
    """The run's state ``t`` ticks after creation."""
    if cancel_tick is None or t < cancel_tick:
        return _phase_at(plan, t, failed)
    at_cancel = _phase_at(plan, cancel_tick, failed)
    if at_cancel.ended:  # cancel arrived too late; the service ignores it
        return _phase_at(plan, t, failed)
    if t < cancel_tick + CANCEL_TICKS:
        return Status("CANCELLING", at_cancel.phase, at_cancel.completed_steps, at_cancel.start_tick, None)
    return Status("CANCELLED", None, at_cancel.completed_steps, at_cancel.start_tick, cancel_tick + CANCEL_TICKS)


def step_tick(step: int) -> float:
    """Tick at which ``step`` (1-based) completes."""
    return TRAIN_START + step


# -- loss curves -------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _noise(seed: int, length: int) -> tuple[float, ...]:
    rng = random.Random(seed)
    return tuple(rng.gauss(0.0, 1.0) for _ in range(length))


def _curve_params(plan: Plan) -> tuple[float, float, float, float, float]:
    n = max(plan.example_count, 1)
    rng = random.Random(plan.seed)
    start = 2.1 + 0.4 * rng.random()
    floor_train = 0.12 + 0.5 / math.sqrt(max(n, 10) / 10)
    floor_val = floor_train + 0.1 + 0.35 / math.sqrt(max(n, 10) / 10)
    rate = 1.3 * min(plan.multiplier, 4.0)
    noise = 0.015 + 0.12 / math.sqrt(n)
    return start, floor_train, floor_val, rate, noise


def train_loss(plan: Plan, step: int) -> float:
    """Mean training loss reported for ``step`` (1-based)."""
    start, floor_t, _floor_v, rate, sd = _curve_params(plan)
    e = step / plan.steps_per_epoch
    eps = _noise(plan.seed, plan.total_steps + 1)[min(step, plan.total_steps)]
    if plan.multiplier >= DIVERGE_MULTIPLIER:
        value = start * (0.95 + 0.1 * e) * (1 + 0.08 * eps)
        return round(max(value, 0.05), 5)
    e_star = overfit_epoch(plan.example_count, plan.multiplier)
    floor = floor_t
    if e > e_star:  # memorising: the training loss keeps falling
        floor = floor_t * (1 - 0.7 * (1 - math.exp(-(e - e_star) / 5)))
    value = floor + (start - floor_t) * math.exp(-rate * e)
    if plan.multiplier >= 4.0:
        value *= 1 + 0.15 * math.sin(step * 0.7)
    value *= 1 + sd * eps
    return round(max(value, 0.01), 5)


def eval_loss(plan: Plan, step: int) -> float:
    start, _floor_t, floor_v, rate, sd = _curve_params(plan)
    e = step / plan.steps_per_epoch
    eps = _noise(plan.seed + 1, plan.total_steps + 1)[min(step, plan.total_steps)]
    if plan.multiplier >= DIVERGE_MULTIPLIER:
        value = start * (1.0 + 0.05 * e) * (1 + 0.08 * eps)
        return round(max(value, 0.05), 5)
    e_star = overfit_epoch(plan.example_count, plan.multiplier)
    value = floor_v + (start - floor_v) * math.exp(-rate * e)
    if e > e_star:
        value += 0.12 * (e - e_star)
    value *= 1 + 0.3 * sd * eps
    return round(max(value, 0.01), 5)


def eval_steps(plan: Plan, completed: int) -> list[int]:
    """Steps at which the validation loss was measured, up to ``completed``."""
    steps = list(range(plan.eval_interval, completed + 1, plan.eval_interval))
    if completed == plan.total_steps and completed and (not steps or steps[-1] != completed):
        steps.append(completed)
    return steps


def seed_for(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))
