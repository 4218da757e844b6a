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
* ``leases`` — which host (``owner``) currently runs an instance, until
  ``expires_at`` (Unix wall-clock seconds). See ``LocalDurableHost``: only the
  lease holder runs an instance's episodes and activities, so two processes on
  one file never run the same instance twice.
* ``entities`` — one row per durable entity that has run (scheduler id
  ``@name@key``, whether it exists, its state as JSON text).
* ``entity_ops`` — operations sent to entities and not yet run, FIFO by
  ``id`` (``entities.py``). An entity's batch deletes its rows, writes its
  state and queues the answers to callers in one transaction.
* ``binding_outputs`` — values activities set on their output bindings
  (queue messages, blobs, HTTP responses, ...), written with the activity's
  result (``bindings.py``).
* ``timer_triggers`` — schedule status of timer-triggered functions
  (``firestop serve``): last and next occurrence, claimed by compare-and-set so
  two servers on one file fire an occurrence once.

Every method is safe to call from several threads (one connection, one lock);
``transaction()`` is ``BEGIN IMMEDIATE``, so concurrent processes on the same
file serialize their writes too.

Durability: WAL journal with ``synchronous=NORMAL`` by default — a commit is
durable once ``COMMIT`` returns as far as a *process* crash goes (kill -9
loses nothing: the WAL lives in the OS page cache), while a power cut may
lose the last few commits but never corrupts the file. Losing a commit after
a power cut only means an activity runs again (at-least-once, as on Azure).
Pass ``synchronous="FULL"`` to fsync every commit (~5 ms each on a plain
disk).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from msgspec import Struct, structs

from .entities import Operation
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
CREATE INDEX IF NOT EXISTS instances_status_created ON instances(runtime_status, created_time);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created_time);
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
CREATE INDEX IF NOT EXISTS work_instance ON work(instance_id);
CREATE TABLE IF NOT EXISTS leases (
    instance_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_owner ON leases(owner);
CREATE TABLE IF NOT EXISTS entities (
    entity_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    entity_exists INTEGER NOT NULL,
    state TEXT,
    last_modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entity_ops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    input TEXT NOT NULL,
    request_id TEXT NOT NULL,
    is_signal INTEGER NOT NULL,
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    enqueued_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entity_ops_entity ON entity_ops(entity_id, id);
CREATE TABLE IF NOT EXISTS binding_outputs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    function TEXT NOT NULL,
    binding_type TEXT NOT NULL,
    binding_name TEXT NOT NULL,
    target TEXT,
    data_type TEXT NOT NULL,
    data BLOB NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS timer_triggers (
    name TEXT PRIMARY KEY,
    last TEXT,
    next TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
"""

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def to_text(when: datetime) -> str:
    """Aware datetime → sortable ISO text in UTC (microseconds)."""
    if when.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(timezone.utc)


class InstanceRow(Struct, frozen=True):
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
        return structs.replace(self, **changes)


_INSTANCE_COLUMNS = list(InstanceRow.__struct_fields__)


class InboxRow(Struct, frozen=True):
    id: int
    instance_id: str
    execution_id: str
    event: Event
    due_at: str | None
    timer_id: int | None


class WorkRow(Struct, frozen=True):
    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


class Store:
    """The host's SQLite database. ``path`` is created (with parents) if missing.

    ``synchronous``: SQLite's ``PRAGMA synchronous`` (``NORMAL`` or ``FULL``,
    see the module docstring); ValueError for anything else.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}")
        self.path = Path(path)
        from firestop.private import create_private, private_dirs

        private_dirs(self.path.parent)
        if str(self.path) != ":memory:":
            create_private(self.path)  # 0600; SQLite gives its -wal and -shm files the same mode
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self._depth = 0
        with self.lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._conn.execute("PRAGMA busy_timeout=30000")
            # one transaction: a fresh file gets its ~20 tables and indexes in one WAL commit (one frame a page)
            # instead of one commit each (page 1 and the new page again every time: 38 -> 23 WAL frames, 153 ->
            # 93 KB, that the checkpoint at close copies too); IMMEDIATE takes the write lock first, so processes
            # creating the same file wait for each other (busy_timeout) rather than fail to upgrade a read.
            self._conn.executescript("BEGIN IMMEDIATE;\n" + _SCHEMA + "COMMIT;\n")

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

    def version(self) -> tuple[int, int]:
        """A value that differs after any commit to the file, by any connection: SQLite's ``PRAGMA data_version``
        (changes committed by *other* connections, https://www.sqlite.org/pragma.html#pragma_data_version) and
        this connection's ``total_changes`` (rows it changed, including rolled-back ones: a spurious difference
        costs a query, never a missed change). Waits for a transaction of this connection in progress."""
        with self.lock:
            return self._conn.execute("PRAGMA data_version").fetchone()[0], self._conn.total_changes

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

    def instances_where(self, *, statuses: Iterable[str] | None = None, created_from: str | None = None,
                        created_to: str | None = None, name: str | None = None,
                        id_prefix: str | None = None) -> list[InstanceRow]:
        """The instances with ``runtime_status`` in ``statuses`` (None: any), ``created_from <= created_time <=
        created_to`` (texts as :func:`to_text` writes them: UTC, microseconds, so they compare as the times do),
        orchestrator ``name`` and instance id starting with ``id_prefix``; oldest first (created time, then id).
        The filters run in SQLite on the ``instances_status_created``/``instances_created`` indexes, so a listing
        reads the rows it answers, not every instance (issue 18: intake's aftermath listing — completed incidents
        of the last two windows — read all of them per webhook, 2.5 ms with none open, 8 ms with 900)."""
        where, args = [], []
        if statuses is not None:
            wanted = sorted(set(statuses))
            if not wanted:
                return []
            where.append(f"runtime_status IN ({', '.join('?' * len(wanted))})")
            args += wanted
        if created_from is not None:
            where.append("created_time >= ?")
            args.append(created_from)
        if created_to is not None:
            where.append("created_time <= ?")
            args.append(created_to)
        if name is not None:
            where.append("name = ?")
            args.append(name)
        if id_prefix:
            where.append("instance_id >= ?")  # the index narrows; startswith (below) decides
            args.append(id_prefix)
        sql = "SELECT * FROM instances" + (f" WHERE {' AND '.join(where)}" if where else "")
        rows = self._q(sql + " ORDER BY created_time, instance_id", tuple(args))
        return [InstanceRow(**{k: r[k] for k in _INSTANCE_COLUMNS}) for r in rows
                if not id_prefix or r["instance_id"].startswith(id_prefix)]

    def children_of(self, instance_id: str) -> list[str]:
        return [r[0] for r in self._q("SELECT instance_id FROM instances WHERE parent_instance_id = ?", (instance_id,))]

    def delete_instance(self, instance_id: str) -> None:
        with self.transaction():
            self._x("DELETE FROM instances WHERE instance_id = ?", (instance_id,))
            self.clear_runtime(instance_id)
            self._x("DELETE FROM leases WHERE instance_id = ?", (instance_id,))

    def clear_runtime(self, instance_id: str, *, keep_history: bool = False) -> None:
        """Drop pending inbox/work rows (and history unless ``keep_history``)."""
        with self.transaction():
            if not keep_history:
                self._x("DELETE FROM history WHERE instance_id = ?", (instance_id,))
            self._x("DELETE FROM inbox WHERE instance_id = ?", (instance_id,))
            self._x("DELETE FROM work WHERE instance_id = ?", (instance_id,))

    # -- history --------------------------------------------------------------
    def load_history(self, instance_id: str) -> list[Event]:
        return [json.loads(text) for text in self.load_history_text(instance_id)]

    def load_history_text(self, instance_id: str) -> list[str]:
        """The stored JSON text of each history event, oldest first."""
        rows = self._q("SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,))
        return [r[0] for r in rows]

    def history_length(self, instance_id: str) -> int:
        # seq runs 0..n-1 (append_history), so MAX is the count without scanning the rows
        return self._q("SELECT COALESCE(MAX(seq), -1) + 1 FROM history WHERE instance_id = ?", (instance_id,))[0][0]

    def append_history(self, instance_id: str, events: list[Event]) -> list[str]:
        """Append events after the last one; returns the JSON text stored for each."""
        texts = [json.dumps(event) for event in events]
        with self.transaction():
            rows = self._q("SELECT COALESCE(MAX(seq), -1) FROM history WHERE instance_id = ?", (instance_id,))
            seq = rows[0][0] + 1
            with self.lock:
                self._conn.executemany(
                    "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
                    [(instance_id, seq + offset, text) for offset, text in enumerate(texts)],
                )
        return texts

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

    def ready_instances(self, now_text: str) -> list[str]:
        """Instances with an inbox row due at ``now_text`` (ISO UTC), oldest row first."""
        rows = self._q(
            "SELECT instance_id, MIN(id) AS first FROM inbox WHERE due_at IS NULL OR due_at <= ? "
            "GROUP BY instance_id ORDER BY first", (now_text,))
        return [r[0] for r in rows]

    def next_due(self) -> str | None:
        """Earliest ``due_at`` of a pending timer (ISO UTC text), or None."""
        return self._q("SELECT MIN(due_at) FROM inbox WHERE due_at IS NOT NULL")[0][0]

    def delete_inbox(self, ids: list[int]) -> int:
        """Delete inbox rows; returns how many existed."""
        deleted = 0
        with self.transaction():
            with self.lock:
                for row_id in ids:
                    deleted += self._conn.execute("DELETE FROM inbox WHERE id = ?", (row_id,)).rowcount
        return deleted

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

    def work_count(self) -> int:
        return self._q("SELECT COUNT(*) FROM work")[0][0]

    def add_outputs(self, row: WorkRow, outputs: list[Any], now_text: str) -> None:
        """Record an activity's output binding values (``bindings.Output``)."""
        with self.lock:
            self._conn.executemany(
                "INSERT INTO binding_outputs (instance_id, task_id, function, binding_type, binding_name, target, "
                "data_type, data, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(row.instance_id, row.task_id, row.name, o.binding_type, o.binding_name, o.target, o.data_type,
                  o.data, now_text) for o in outputs])

    def binding_outputs(self, binding_type: str | None = None) -> list[dict[str, Any]]:
        """Recorded output binding values, oldest first (``data`` as bytes)."""
        sql = "SELECT * FROM binding_outputs"
        args: tuple = ()
        if binding_type is not None:
            sql, args = sql + " WHERE binding_type = ?", (binding_type,)
        return [dict(r) for r in self._q(sql + " ORDER BY id", args)]

    def finish_work(self, row: WorkRow, event: Event, *, owner: str | None = None,
                    outputs: list[Any] = (), now_text: str = "") -> bool:
        """Atomically remove a work row and queue its result event (if still wanted).

        With ``owner``, only while that owner holds the instance's lease (a
        host that lost its lease drops the result: the new holder runs the
        activity again). Returns True if the result was queued.
        """
        with self.transaction():
            still_there = self._q("SELECT 1 FROM work WHERE id = ?", (row.id,))
            if not still_there:
                return False  # instance terminated/purged/restarted meanwhile
            if owner is not None and self.lease_owner(row.instance_id) != owner:
                return False
            self._x("DELETE FROM work WHERE id = ?", (row.id,))
            self.add_inbox(row.instance_id, row.execution_id, event)
            if outputs:
                self.add_outputs(row, list(outputs), now_text)
            return True

    # -- entities -------------------------------------------------------------
    def add_entity_op(self, entity_id: str, operation: str, input_text: str, request_id: str, *,
                      is_signal: bool, parent_instance_id: str | None, parent_execution_id: str | None,
                      now_text: str) -> None:
        self._x(
            "INSERT INTO entity_ops (entity_id, operation, input, request_id, is_signal, parent_instance_id, "
            "parent_execution_id, enqueued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (entity_id, operation, input_text, request_id, int(is_signal), parent_instance_id,
             parent_execution_id, now_text))

    def entity_ops(self, entity_id: str, limit: int) -> list[Operation]:
        rows = self._q("SELECT * FROM entity_ops WHERE entity_id = ? ORDER BY id LIMIT ?", (entity_id, limit))
        return [Operation(r["id"], r["entity_id"], r["operation"], r["input"], r["request_id"], bool(r["is_signal"]),
                          r["parent_instance_id"], r["parent_execution_id"]) for r in rows]

    def entities_with_ops(self) -> list[str]:
        """Scheduler ids of entities with queued operations, oldest operation first."""
        rows = self._q("SELECT entity_id, MIN(id) AS first FROM entity_ops GROUP BY entity_id ORDER BY first")
        return [r[0] for r in rows]

    def entity_op_count(self) -> int:
        return self._q("SELECT COUNT(*) FROM entity_ops")[0][0]

    def delete_entity_ops(self, ids: list[int]) -> int:
        """Delete operation rows; returns how many existed."""
        deleted = 0
        with self.transaction():
            with self.lock:
                for row_id in ids:
                    deleted += self._conn.execute("DELETE FROM entity_ops WHERE id = ?", (row_id,)).rowcount
        return deleted

    def get_entity(self, entity_id: str) -> tuple[bool, str | None] | None:
        """``(exists, state JSON text)`` of an entity that has run, else None."""
        rows = self._q("SELECT entity_exists, state FROM entities WHERE entity_id = ?", (entity_id,))
        return (bool(rows[0][0]), rows[0][1]) if rows else None

    def put_entity(self, entity_id: str, name: str, key: str, exists: bool, state: str | None, now_text: str) -> None:
        self._x("INSERT OR REPLACE INTO entities (entity_id, name, key, entity_exists, state, last_modified) "
                "VALUES (?, ?, ?, ?, ?, ?)", (entity_id, name, key, int(exists), state if exists else None, now_text))

    def entity_times(self, *, id_prefix: str | None = None, after: str | None = None, modified_from: str | None = None,
                     modified_to: str | None = None, limit: int | None = None) -> list[tuple[str, str]]:
        """``(scheduler id, last_modified text)`` of the entities that have run, in scheduler-id order: ids starting
        with ``id_prefix`` (case-sensitive) and greater than ``after``, ``modified_from <= last_modified <=
        modified_to`` (:func:`to_text` texts), the first ``limit`` (all when None)."""
        rows = self._q(
            "SELECT entity_id, last_modified FROM entities WHERE (?1 IS NULL OR substr(entity_id, 1, length(?1)) = ?1) "
            "AND (?2 IS NULL OR entity_id > ?2) AND (?3 IS NULL OR last_modified >= ?3) "
            "AND (?4 IS NULL OR last_modified <= ?4) ORDER BY entity_id LIMIT ?5",
            (id_prefix, after, modified_from, modified_to, -1 if limit is None else limit))
        return [(r[0], r[1]) for r in rows]

    def list_entities(self) -> list[tuple[str, bool, str | None]]:
        """``(scheduler id, exists, state)`` of every entity that has run."""
        return [(r[0], bool(r[1]), r[2]) for r in
                self._q("SELECT entity_id, entity_exists, state FROM entities ORDER BY entity_id")]

    def finish_work_many(self, done: list[tuple[WorkRow, Event, list[Any]]], *, owner: str,
                         now_text: str) -> tuple[set[str], list[Any]]:
        """:meth:`finish_work` for several results in one transaction (one commit).

        Returns the instance ids whose lease ``owner`` no longer holds (their
        results were dropped, as :meth:`finish_work` drops them) and the
        outputs recorded with the results that were kept.
        """
        lost: set[str] = set()
        held: dict[str, bool] = {}
        kept: list[Any] = []
        with self.transaction():
            with self.lock:
                for row, event, outputs in done:
                    if row.instance_id not in held:
                        held[row.instance_id] = self.lease_owner(row.instance_id) == owner
                    if not held[row.instance_id]:
                        lost.add(row.instance_id)
                        continue
                    if self._conn.execute("DELETE FROM work WHERE id = ?", (row.id,)).rowcount:
                        self.add_inbox(row.instance_id, row.execution_id, event)
                        if outputs:
                            self.add_outputs(row, outputs, now_text)
                            kept.extend(outputs)
        return lost, kept

    # -- leases ---------------------------------------------------------------
    def try_lease(self, instance_id: str, owner: str, *, now: float, expires_at: float,
                  is_dead: Callable[[str], bool]) -> bool:
        """Take or renew the lease on ``instance_id`` for ``owner`` (atomic).

        Succeeds if nobody holds it, ``owner`` already does, the holder's
        lease expired (``expires_at`` < ``now``, Unix seconds) or
        ``is_dead(holder)`` says the holder's process is gone.
        """
        with self.transaction():
            rows = self._q("SELECT owner, expires_at FROM leases WHERE instance_id = ?", (instance_id,))
            if rows and rows[0][0] != owner and rows[0][1] >= now and not is_dead(rows[0][0]):
                return False
            self._x("INSERT OR REPLACE INTO leases (instance_id, owner, expires_at) VALUES (?, ?, ?)",
                    (instance_id, owner, expires_at))
            return True

    def lease_owner(self, instance_id: str) -> str | None:
        rows = self._q("SELECT owner FROM leases WHERE instance_id = ?", (instance_id,))
        return rows[0][0] if rows else None

    def renew_leases(self, owner: str, expires_at: float) -> int:
        """Push back the expiry of every lease ``owner`` holds; returns how many."""
        with self.transaction():
            with self.lock:
                return self._conn.execute("UPDATE leases SET expires_at = ? WHERE owner = ?",
                                          (expires_at, owner)).rowcount

    def release_leases(self, owner: str) -> None:
        with self.transaction():
            self._x("DELETE FROM leases WHERE owner = ?", (owner,))

    # -- timer triggers -------------------------------------------------------
    def timer_status(self, name: str) -> dict[str, str | None] | None:
        """``{"last", "next", "last_updated"}`` (ISO UTC text) of a timer trigger, or None."""
        rows = self._q("SELECT last, next, last_updated FROM timer_triggers WHERE name = ?", (name,))
        return dict(rows[0]) if rows else None

    def init_timer(self, name: str, next_text: str, now_text: str) -> None:
        """Record a timer trigger's first ``next`` occurrence unless it has a status already."""
        self._x("INSERT OR IGNORE INTO timer_triggers (name, last, next, last_updated) VALUES (?, NULL, ?, ?)",
                (name, next_text, now_text))

    def claim_timer(self, name: str, expected_next: str, last_text: str, next_text: str, now_text: str) -> bool:
        """Compare-and-set: move ``next`` from ``expected_next`` on; True if this caller won."""
        with self.transaction():
            with self.lock:
                return self._conn.execute(
                    "UPDATE timer_triggers SET last = ?, next = ?, last_updated = ? WHERE name = ? AND next = ?",
                    (last_text, next_text, now_text, name, expected_next)).rowcount == 1
