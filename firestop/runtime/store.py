"""SQLite persistence of the local durable host (one file, WAL journal).

Tables:

* ``instances`` — one row per orchestration instance (status, input/output/
  custom status as JSON text, times as ISO-8601 UTC text, parent link for
  sub-orchestrations, the current execution id).
* ``history`` — the events of the current execution, in order (``seq``),
  written at each episode boundary; the JSON is the host event format
  (``history.py``) without ``IsPlayed``.
* ``inbox`` — events waiting to be delivered to an instance's next episode
  (ExecutionStarted, TaskCompleted/Failed, EventRaised, sub-orchestration
  results, and TimerFired rows with ``due_at`` = fire time).
* ``work`` — activity invocations scheduled but not yet finished. A row is
  removed in the same transaction that adds its TaskCompleted/TaskFailed to
  the inbox, so a finished activity is never run again and one interrupted by
  a crash is run again by the next host on this file.

Every method is safe to call from several threads (one connection, one lock);
``transaction()`` is ``BEGIN IMMEDIATE``, so concurrent processes on the same
file serialize their writes too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from .history import Event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    runtime_status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created_time TEXT NOT NULL,
    last_updated_time TEXT NOT NULL,
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    parent_task_id INTEGER,
    last_episode_time TEXT
);
CREATE INDEX IF NOT EXISTS instances_parent ON instances(parent_instance_id);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    event TEXT NOT NULL,
    due_at TEXT,
    timer_id INTEGER
);
CREATE INDEX IF NOT EXISTS inbox_instance ON inbox(instance_id);
CREATE TABLE IF NOT EXISTS work (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT
);
"""


def to_text(when: datetime) -> str:
    """Aware datetime → sortable ISO text in UTC (microseconds)."""
    if when.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(timezone.utc)


@dataclass(frozen=True)
class InstanceRow:
    instance_id: str
    name: str
    execution_id: str
    runtime_status: str
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: str
    last_updated_time: str
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    last_episode_time: str | None = None

    def with_(self, **changes: Any) -> "InstanceRow":
        return replace(self, **changes)


_INSTANCE_COLUMNS = [f.name for f in fields(InstanceRow)]


@dataclass(frozen=True)
class InboxRow:
    id: int
    instance_id: str
    execution_id: str
    event: Event
    due_at: str | None
    timer_id: int | None


@dataclass(frozen=True)
class WorkRow:
    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


class Store:
    """The host's SQLite database. ``path`` is created (with parents) if missing."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self._depth = 0
        with self.lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rollback on error); nests by joining."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    def _q(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self._conn.execute(sql, args).fetchall()

    def _x(self, sql: str, args: tuple = ()) -> int:
        with self.lock:
            return self._conn.execute(sql, args).lastrowid or 0

    # -- instances ------------------------------------------------------------
    def get_instance(self, instance_id: str) -> InstanceRow | None:
        rows = self._q("SELECT * FROM instances WHERE instance_id = ?", (instance_id,))
        return InstanceRow(**{k: rows[0][k] for k in _INSTANCE_COLUMNS}) if rows else None

    def put_instance(self, row: InstanceRow) -> None:
        cols = ", ".join(_INSTANCE_COLUMNS)
        marks = ", ".join("?" for _ in _INSTANCE_COLUMNS)
        self._x(
            f"INSERT OR REPLACE INTO instances ({cols}) VALUES ({marks})",
            tuple(getattr(row, c) for c in _INSTANCE_COLUMNS),
        )

    def all_instances(self) -> list[InstanceRow]:
        rows = self._q("SELECT * FROM instances ORDER BY created_time, instance_id")
        return [InstanceRow(**{k: r[k] for k in _INSTANCE_COLUMNS}) for r in rows]

    def children_of(self, instance_id: str) -> list[str]:
        return [r[0] for r in self._q("SELECT instance_id FROM instances WHERE parent_instance_id = ?", (instance_id,))]

    def delete_instance(self, instance_id: str) -> None:
        with self.transaction():
            self._x("DELETE FROM instances WHERE instance_id = ?", (instance_id,))
            self.clear_runtime(instance_id)

    def clear_runtime(self, instance_id: str, *, keep_history: bool = False) -> None:
        """Drop pending inbox/work rows (and history unless ``keep_history``)."""
        with self.transaction():
            if not keep_history:
                self._x("DELETE FROM history WHERE instance_id = ?", (instance_id,))
            self._x("DELETE FROM inbox WHERE instance_id = ?", (instance_id,))
            self._x("DELETE FROM work WHERE instance_id = ?", (instance_id,))

    # -- history --------------------------------------------------------------
    def load_history(self, instance_id: str) -> list[Event]:
        rows = self._q("SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,))
        return [json.loads(r[0]) for r in rows]

    def append_history(self, instance_id: str, events: list[Event]) -> None:
        with self.transaction():
            rows = self._q("SELECT COALESCE(MAX(seq), -1) FROM history WHERE instance_id = ?", (instance_id,))
            seq = rows[0][0] + 1
            for offset, event in enumerate(events):
                self._x(
                    "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
                    (instance_id, seq + offset, json.dumps(event)),
                )

    # -- inbox ----------------------------------------------------------------
    def add_inbox(self, instance_id: str, execution_id: str, event: Event, *,
                  due_at: datetime | None = None, timer_id: int | None = None) -> None:
        self._x(
            "INSERT INTO inbox (instance_id, execution_id, event, due_at, timer_id) VALUES (?, ?, ?, ?, ?)",
            (instance_id, execution_id, json.dumps(event), to_text(due_at) if due_at else None, timer_id),
        )

    def inbox(self, instance_id: str | None = None) -> list[InboxRow]:
        if instance_id is None:
            rows = self._q("SELECT * FROM inbox ORDER BY id")
        else:
            rows = self._q("SELECT * FROM inbox WHERE instance_id = ? ORDER BY id", (instance_id,))
        return [
            InboxRow(r["id"], r["instance_id"], r["execution_id"], json.loads(r["event"]), r["due_at"], r["timer_id"])
            for r in rows
        ]

    def delete_inbox(self, ids: list[int]) -> None:
        with self.transaction():
            for row_id in ids:
                self._x("DELETE FROM inbox WHERE id = ?", (row_id,))

    def delete_timers(self, instance_id: str, execution_id: str, timer_ids: set[int]) -> None:
        with self.transaction():
            for timer_id in timer_ids:
                self._x(
                    "DELETE FROM inbox WHERE instance_id = ? AND execution_id = ? AND timer_id = ?",
                    (instance_id, execution_id, timer_id),
                )

    # -- work -----------------------------------------------------------------
    def add_work(self, instance_id: str, execution_id: str, task_id: int, name: str, input_json: str | None) -> None:
        self._x(
            "INSERT INTO work (instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)",
            (instance_id, execution_id, task_id, name, input_json),
        )

    def work(self) -> list[WorkRow]:
        rows = self._q("SELECT * FROM work ORDER BY id")
        return [WorkRow(r["id"], r["instance_id"], r["execution_id"], r["task_id"], r["name"], r["input"]) for r in rows]

    def finish_work(self, row: WorkRow, event: Event) -> None:
        """Atomically remove a work row and queue its result event (if still wanted)."""
        with self.transaction():
            still_there = self._q("SELECT 1 FROM work WHERE id = ?", (row.id,))
            if not still_there:
                return  # instance terminated/purged/restarted meanwhile
            self._x("DELETE FROM work WHERE id = ?", (row.id,))
            self.add_inbox(row.instance_id, row.execution_id, event)
