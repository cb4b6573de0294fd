"""The judge's results and the expert's labels in the project (tables ``eval_judges``,
``eval_judgements``, ``eval_ratings``, ``eval_service_scores``; schema version 2).

An evaluation run has at most one judge (rubric and judge model); judging it again with another
rubric or model replaces the judge and its verdicts, the same rubric and model resume it (only
rows without a verdict are sent). The expert's pass/fail ratings of single answers are kept
per (example, slot) for the agreement figures. Functions take an open project store or a
``SideStore`` (worker threads).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.jobs import now_iso
from gemtune_desktop.core.project.evals_repo import Store

RUNNING, STOPPED, DONE = "running", "stopped", "done"
RATINGS = ("pass", "fail")
PAIRWISE_SLOT = -1


@dataclass(slots=True)
class Judge:
    run_id: int
    rubric: str
    model: str
    created_at: str = field(default_factory=now_iso)
    status: str = RUNNING


@dataclass(slots=True)
class Judgement:
    """One verdict; ``verdict`` is "" (and ``error`` says why) when the judge gave none."""

    run_id: int
    example_id: int
    slot: int
    verdict: str = ""
    score: float | None = None
    explanation: str = ""
    criteria: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


@dataclass(slots=True)
class ServiceScore:
    """One result of Google's Gen AI evaluation service (``slot`` -1 for pairwise)."""

    run_id: int
    example_id: int
    slot: int
    metric: str
    score: float | None = None
    choice: str = ""
    explanation: str = ""
    confidence: float | None = None
    error: str = ""


def get_judge(store: Store, run_id: int) -> Judge | None:
    row = store.conn.execute("SELECT run_id, rubric, model, created_at, status FROM eval_judges WHERE run_id = ?",
                             (run_id,)).fetchone()
    return Judge(int(row[0]), row[1], row[2], row[3], row[4]) if row else None


def start_judge(store: Store, run_id: int, rubric: str, model: str) -> Judge:
    """The run's judge for this rubric and model: kept (to resume) when unchanged, else replaced."""
    current = get_judge(store, run_id)
    if current is not None and current.rubric == rubric and current.model == model:
        return current
    judge = Judge(run_id, rubric, model)
    with store.transaction():
        store.conn.execute("DELETE FROM eval_judgements WHERE run_id = ?", (run_id,))
        store.conn.execute("INSERT OR REPLACE INTO eval_judges (run_id, rubric, model, created_at, status) "
                           "VALUES (?, ?, ?, ?, ?)", (run_id, rubric, model, judge.created_at, judge.status))
    return judge


def set_judge_status(store: Store, run_id: int, status: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE eval_judges SET status = ? WHERE run_id = ?", (status, run_id))


def store_judgements(store: Store, rows: Iterable[Judgement]) -> int:
    data = [(j.run_id, j.example_id, j.slot, j.verdict, j.score, j.explanation, json.dumps(j.criteria,
             ensure_ascii=False), j.error) for j in rows]
    if not data:
        return 0
    with store.transaction():
        store.conn.executemany("INSERT OR REPLACE INTO eval_judgements (run_id, example_id, slot, verdict, score, "
                               "explanation, criteria, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", data)
    return len(data)


def list_judgements(store: Store, run_id: int) -> list[Judgement]:
    rows = store.conn.execute("SELECT run_id, example_id, slot, verdict, score, explanation, criteria, error "
                              "FROM eval_judgements WHERE run_id = ? ORDER BY example_id, slot", (run_id,)).fetchall()
    out = []
    for r in rows:
        try:
            criteria = json.loads(r[6])
        except (TypeError, ValueError):
            criteria = []
        out.append(Judgement(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5],
                             criteria if isinstance(criteria, list) else [], r[7]))
    return out


def judged_keys(store: Store, run_id: int) -> set[tuple[int, int]]:
    """(example_id, slot) of rows with a verdict: resuming judges only the others."""
    rows = store.conn.execute("SELECT example_id, slot FROM eval_judgements WHERE run_id = ? AND verdict != ''",
                              (run_id,)).fetchall()
    return {(int(a), int(b)) for a, b in rows}


def set_rating(store: Store, run_id: int, example_id: int, slot: int, rating: str | None) -> None:
    """The expert's "pass" / "fail" for one answer (None clears it)."""
    with store.transaction():
        if rating is None:
            store.conn.execute("DELETE FROM eval_ratings WHERE run_id = ? AND example_id = ? AND slot = ?",
                               (run_id, example_id, slot))
            return
        if rating not in RATINGS:
            raise ValueError(rating)
        store.conn.execute("INSERT OR REPLACE INTO eval_ratings (run_id, example_id, slot, rating) VALUES (?, ?, ?, ?)",
                           (run_id, example_id, slot, rating))


def ratings(store: Store, run_id: int) -> dict[tuple[int, int], str]:
    rows = store.conn.execute("SELECT example_id, slot, rating FROM eval_ratings WHERE run_id = ?",
                              (run_id,)).fetchall()
    return {(int(a), int(b)): str(c) for a, b, c in rows}


def store_service_scores(store: Store, rows: Iterable[ServiceScore]) -> int:
    data = [(s.run_id, s.example_id, s.slot, s.metric, s.score, s.choice, s.explanation, s.confidence, s.error)
            for s in rows]
    if not data:
        return 0
    with store.transaction():
        store.conn.executemany("INSERT OR REPLACE INTO eval_service_scores (run_id, example_id, slot, metric, score, "
                               "choice, explanation, confidence, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", data)
    return len(data)


def list_service_scores(store: Store, run_id: int, metric: str | None = None) -> list[ServiceScore]:
    sql = ("SELECT run_id, example_id, slot, metric, score, choice, explanation, confidence, error "
           "FROM eval_service_scores WHERE run_id = ?")
    args: list[Any] = [run_id]
    if metric is not None:
        sql += " AND metric = ?"
        args.append(metric)
    sql += " ORDER BY metric, example_id, slot"
    return [ServiceScore(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5], r[6], r[7], r[8])
            for r in store.conn.execute(sql, args).fetchall()]


def service_done_keys(store: Store, run_id: int, metric: str) -> set[tuple[int, int]]:
    rows = store.conn.execute("SELECT example_id, slot FROM eval_service_scores WHERE run_id = ? AND metric = ? "
                              "AND error = ''", (run_id, metric)).fetchall()
    return {(int(a), int(b)) for a, b in rows}
