"""The Test tab's console history in the project (table ``console_history``).

Every prompt sent from the console is kept with its settings and the answer, so it can be
found again (search) and re-run. Functions take an open project store (``.conn``,
``.transaction()``) and are called on the GUI thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.jobs import now_iso
from gemtune_desktop.core.project.transactions import Store


@dataclass(slots=True)
class HistoryEntry:
    """One console call: ``request`` holds the settings and texts sent, ``response`` the result as a dict."""

    model: str
    prompt: str
    model_label: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    latency_ms: int = 0
    created_at: str = field(default_factory=now_iso)
    id: int = 0

    @property
    def answer_text(self) -> str:
        candidates = self.response.get("candidates") or []
        return str(candidates[0].get("text", "")) if candidates else ""


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def add_entry(store: Store, entry: HistoryEntry) -> int:
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO console_history (created_at, model, model_label, prompt, request, response, latency_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (entry.created_at, entry.model, entry.model_label, entry.prompt,
             json.dumps(entry.request, ensure_ascii=False), json.dumps(entry.response, ensure_ascii=False),
             int(entry.latency_ms)))
    entry.id = int(cur.lastrowid or 0)
    return entry.id


def list_entries(store: Store, search: str = "", limit: int = 1000) -> list[HistoryEntry]:
    """Newest first; ``search`` matches the prompt, the answer or the model (case-insensitive)."""
    sql = "SELECT id, created_at, model, model_label, prompt, request, response, latency_ms FROM console_history"
    args: list[Any] = []
    text = search.strip()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql += (" WHERE prompt LIKE ? ESCAPE '\\' OR response LIKE ? ESCAPE '\\'"
                " OR model LIKE ? ESCAPE '\\' OR model_label LIKE ? ESCAPE '\\'")
        args = [like, like, like, like]
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(int(limit))
    rows = store.conn.execute(sql, args).fetchall()
    return [HistoryEntry(id=int(r[0]), created_at=r[1], model=r[2], model_label=r[3], prompt=r[4],
                         request=_loads(r[5]), response=_loads(r[6]), latency_ms=int(r[7])) for r in rows]


def delete_entry(store: Store, entry_id: int) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM console_history WHERE id = ?", (entry_id,))


def count(store: Store) -> int:
    row = store.conn.execute("SELECT COUNT(*) FROM console_history").fetchone()
    return int(row[0]) if row else 0
