"""The local durable host: runs a Function App's orchestrations without Azure.

Each *episode* does what the Durable extension does for one orchestrator
work item: take the instance's pending events, append them after an
OrchestratorStarted event (timestamp = the clock's now, never earlier than the
previous episode's), call the orchestrator through the SDK's own entry point
with the context JSON (``context.py``), replay the returned actions against the
history (``replay.py``), then commit the new history, the new work (activity
invocations, timers, sub-orchestrations) and the instance status in one SQLite
transaction (``store.py``).

Activities run between episodes. With a *virtual* clock
(``firestop.clock.is_virtual``) the activities that are ready run one after the
other, each from the same start time (``clock.set(start)`` before each), and the
clock is then set to the latest end time — parallel activities' simulated
durations overlap. With a real clock they run in a thread pool of
``max_concurrent_activities`` workers.

Several hosts on one database (processes, or host objects in one process)
coordinate through per-instance *leases* in SQLite: a host runs an instance's
episodes and activities only while it holds that instance's lease. A lease
lasts ``lease_seconds`` of wall-clock time and is renewed by a heartbeat
thread while held; a driver releases its leases when ``run_until_idle``
returns. A lease whose holder is a process that no longer exists on this
machine (owner = hostname, pid, per-process token) is taken over at once, so
a host restarted after ``kill -9`` resumes immediately; otherwise (another
machine, a reused pid) it is taken over when it expires. Every commit is
fenced: an episode or activity result is discarded if, meanwhile, the lease
was lost or the instance was terminated, purged or restarted. What to run is
read only once the lease is held (an episode's inbox, an entity's operations,
and the activity queue, read again after the leases are taken:
``_leased_work``), so two live hosts never run the same activity.

Entities (``entities.py``): operations sent to an entity (by orchestrations'
``call_entity``/``signal_entity`` or the client's ``signal_entity``) queue in
``entity_ops``; the driver runs one batch per entity at a time under the
entity's lease (its scheduler id ``@name@key`` in the same ``leases`` table)
and commits state, answers and the consumed operations together.

Activities' output bindings (``bindings.py``) are recorded with their result.

Speed (``bench/runtime.py``): parsed history and each event's JSON text are
cached per instance between episodes (validated by execution id and history
length), so an episode neither reloads nor re-serialises the history; the
replay state is kept too (``incremental``): an episode checks that the SDK's
action list still starts with the previous one, parses only the new actions
and feeds only the new events, and an episode whose events complete nothing
(events nobody waits for) does not call the orchestrator at all. Activity
results are committed in batches. The SDK's own objects (context, executor,
suspended generator) are kept too (``sessions``, ``sessions.py``) and
continued with the new events only, so an episode's cost no longer grows
with the history; a new session (first episode on this host, after a
restart, eviction or an uncommitted episode) replays the whole history once,
with the SDK's timestamp parsing memoised (``speedups.py``).

Order of an episode's writes: here the new work and the instance's status (its custom status) commit in one
transaction, so an activity scheduled by an episode always finds that episode's custom status in the instance's
status. DurableTask.AzureStorage does not: its ``CompleteTaskOrchestrationWorkItemAsync`` enqueues the episode's
outbound messages (activities, timers) first and only then writes the history and, last, the Instances table row
that carries the custom status (``AzureStorageOrchestrationService.cs`` and ``Tracking/AzureTableTrackingStore.cs``,
``UpdateStateAsync``, github.com/Azure/durabletask at 5217032, the order since PR #201 of 2018; "The Instances
table ... is eventually consistent with the History table", Azure Storage provider (Azure Functions),
https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-azure-storage-provider). Tests that
must meet that order hold the custom status back: :meth:`LocalDurableHost.hold_custom_status`.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import socket
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from msgspec import Struct

from firestop.clock import Clock, SystemClock, is_virtual

from . import entities as ent
from . import history as h
from . import speedups
from .actions import OrchestratorOutput, parse_raised, parse_state, raw_actions
from .context import build_context_from_text, played_text
from .errors import (
    FunctionNotFound,
    InstanceAlreadyExists,
    InstanceNotFound,
    NonDeterminismError,
    UnsupportedAction,
)
from .bindings import Output, blob_file
from .functions import call_activity_with_outputs, call_entity, call_orchestrator, index_app
from .history import Event, EventType
from .replay import ReplayEngine, ReplayResult
from .sessions import OrchestratorSession
from .sessions import supports as session_supported
from .status import ACTIVE_STATUSES, TERMINAL_STATUSES, OrchestrationStatus
from .store import InstanceRow, Store, WorkRow, from_text, to_text


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError as exc:
        raise ValueError(f"value is not JSON-serializable: {exc}") from exc


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _check_instance_id(instance_id: str | None) -> None:
    if instance_id is not None and ent.is_entity_id(instance_id):
        raise ValueError(f"instance id {instance_id!r:.80} starts with '@', which is reserved for entities")


_HOSTNAME = socket.gethostname()
#: Distinguishes this process from an earlier one that had the same pid.
_PROCESS_TOKEN = uuid.uuid4().hex[:12]


def _new_owner() -> str:
    """Lease owner id: ``hostname|pid|process token|host object token``."""
    return f"{_HOSTNAME}|{os.getpid()}|{_PROCESS_TOKEN}|{uuid.uuid4().hex[:12]}"


def owner_is_dead(owner: str) -> bool:
    """True if ``owner`` (a lease owner id) names a process on this machine that is gone.

    Same hostname and a pid that no longer exists (``os.kill(pid, 0)`` →
    ProcessLookupError), or this very pid with another process token (an
    earlier process that had our pid). An unreaped zombie still counts as
    alive; owners on other machines are never declared dead (their leases
    expire instead).
    """
    parts = owner.split("|")
    if len(parts) != 4 or parts[0] != _HOSTNAME:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return parts[2] != _PROCESS_TOKEN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: exists, someone else's
        return False
    return False


class _ResultBuffer:
    """Activity results waiting for their commit: flushed every
    ``ACTIVITY_COMMIT_BATCH`` results, once the oldest waited
    ``ACTIVITY_COMMIT_DELAY`` seconds, and at the end of a batch (also when an
    activity raised). The driver runs episodes only after the whole batch, so
    holding a result that long delays no orchestration; a crash loses at most
    the uncommitted results (those activities run again: at-least-once)."""

    def __init__(self, host: "LocalDurableHost") -> None:
        self.host = host
        self.items: list[tuple[WorkRow, Event, list[Output]]] = []
        self.oldest = 0.0

    def add(self, work: WorkRow, event: Event, outputs: list[Output]) -> None:
        if not self.items:
            self.oldest = time.monotonic()
        self.items.append((work, event, outputs))
        if (len(self.items) >= self.host.ACTIVITY_COMMIT_BATCH
                or time.monotonic() - self.oldest >= self.host.ACTIVITY_COMMIT_DELAY):
            self.flush()

    def flush(self) -> None:
        items, self.items = self.items, []
        if not items:
            return
        if not self.host.batch_commits:
            for work, event, outputs in items:
                self.host._finish(work, event, outputs)
            return
        lost, kept = self.host._store.finish_work_many(items, owner=self.host.owner,
                                                       now_text=to_text(self.host._now()))
        for instance_id in lost:
            self.host._forget_lease(instance_id)
        if kept:
            self.host._deliver_outputs(kept)


#: What an episode keeps for the next one: the host's replay engine, the
#: orchestrator's action list (dicts) and the SDK session (``sessions.py``), if any.
_Episode = tuple[ReplayEngine, list[dict[str, Any]], OrchestratorSession | None]


def start_session(handle: Any, context_json: str) -> tuple[OrchestratorSession | None, str]:
    """``sessions.OrchestratorSession.start`` (a module-level name, so bench/runtime.py can time it)."""
    return OrchestratorSession.start(handle, context_json)


def resume_session(session: OrchestratorSession, committed: list[Event], new: list[Event]) -> tuple[str, bool]:
    """``session.resume`` (a module-level name, so bench/runtime.py can time it)."""
    return session.resume(committed, new)


class _Fenced(Exception):
    """An episode's commit found the instance changed under it (lease lost, terminated, ...)."""


class _History(Struct):
    """One instance's history as last committed by this host (see ``_history``).

    With ``engine`` set, also the replay state after that history: the
    engine has been fed every event, ``raw_actions`` is the orchestrator's
    last action list (dicts as the SDK returned them) and ``output`` its last
    answer, so the next episode checks and replays only what is new.
    """

    execution_id: str
    events: list[Event]
    played: list[str]  # JSON text of each event with "IsPlayed": true
    engine: ReplayEngine | None = None
    raw_actions: list[dict[str, Any]] | None = None
    output: OrchestratorOutput | None = None
    #: the SDK's live objects for this execution (``sessions.py``), kept with ``engine``
    session: OrchestratorSession | None = None


class LocalDurableHost:
    """Runs orchestrations of ``app`` with state in the SQLite file ``db_path``.

    ``app``: a ``df.DFApp`` / ``func.FunctionApp``; orchestrators and
    activities are found by trigger binding type and declared name.
    ``clock``: object with ``now()`` → aware UTC datetime (default
    ``SystemClock()``); a virtual clock (``set``/``advance``) enables the batch
    rule and ``run_until_idle(advance_timers=True)``.
    ``max_concurrent_activities``: thread-pool size with a real clock (like
    ``maxConcurrentActivityFunctions``).
    ``lease_seconds``: how long (wall-clock seconds) an instance lease lasts
    without renewal; the heartbeat renews held leases every third of it.
    ``synchronous``: SQLite ``PRAGMA synchronous`` (``store.py``).
    """

    #: Instances whose parsed history is kept between episodes.
    HISTORY_CACHE_SIZE = 256
    #: Keep each instance's replay state between episodes and replay only what
    #: is new (False: replay the whole history against the whole action list
    #: every episode, the previous behaviour, kept measurable for bench/runtime.py).
    incremental = True
    #: Activity results committed per SQLite transaction (at most).
    ACTIVITY_COMMIT_BATCH = 256
    #: Longest a finished activity's result waits for its commit (wall seconds).
    ACTIVITY_COMMIT_DELAY = 0.05
    #: Commit activity results in batches (False: one transaction per result,
    #: the previous behaviour, kept measurable for bench/runtime.py).
    batch_commits = True
    #: With ``incremental``: keep the SDK's orchestration objects between
    #: episodes and continue them with the new events instead of a full SDK
    #: replay (``sessions.py``; False: the SDK replays the whole history every
    #: episode, kept measurable for bench/runtime.py).
    sessions = True

    def __init__(self, app: Any, db_path: str | Path, clock: Clock | None = None,
                 max_concurrent_activities: int = 8, *, lease_seconds: float = 30.0,
                 synchronous: str = "NORMAL") -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be > 0")
        self.app = app
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.max_concurrent_activities = max(1, int(max_concurrent_activities))
        self.lease_seconds = float(lease_seconds)
        self._index = index_app(app)
        speedups.install()
        self._store = Store(db_path, synchronous=synchronous)
        self._drive_lock = threading.Lock()
        self.owner = _new_owner()
        self._leases_lock = threading.Lock()
        self._held: dict[str, float] = {}  # instance id -> lease expiry (time.time())
        # True from a lease taken in the database until this host's leases are deleted there: a fenced commit
        # forgets its lease here (``_forget_lease``) while the row may still name this host (the instance was
        # terminated or its inbox changed under the episode), so an empty ``_held`` does not mean none is held.
        self._leased_in_store = False
        self._heartbeat: threading.Thread | None = None
        self._closed = threading.Event()
        self._histories: "collections.OrderedDict[str, _History]" = collections.OrderedDict()
        # (store version, earliest timer due or None) when a look at the whole store found no inbox row due, no
        # activity and no entity operation (whoever's): until the store changes or that timer falls due nothing
        # can become runnable, so a driver woken for nothing (serve wakes it after every HTTP function) reads
        # one pragma instead of the queue tables. Lease expiry needs no look: only a non-empty queue has leases.
        self._quiet: tuple[tuple[int, int], datetime | None] | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        #: what an activity with a ``durableClient`` binding gets: ``(binding JSON () -> str, run(coroutine))``, set
        #: by the first :class:`~firestop.runtime.management.ManagementServer` started for this host (None: such an
        #: activity fails, naming why — joins14's ``start_pending_joins`` is the one)
        self.activity_client: tuple[Callable[[], str], Callable[[Any], Any]] | None = None
        #: test-only (:meth:`hold_custom_status`): instance id -> (execution id, the newest custom status JSON not
        #: yet visible), or None when custom statuses are written with their episode (always, outside such a test)
        self._held_status: dict[str, tuple[str, str | None]] | None = None
        self._held_lock = threading.Lock()

    # ------------------------------------------------------------------ client API
    def start_new(self, orchestrator_name: str, instance_id: str | None = None, input: Any = None) -> str:
        """Create a Pending instance; returns its id (a new hex GUID if none given).

        Raises FunctionNotFound for an unknown orchestrator, ValueError for a
        non-JSON input, InstanceAlreadyExists (atomically) if ``instance_id``
        is Pending/Running. A Completed/Failed/Terminated instance with that id
        is overwritten (Azure's default).
        """
        self._index.orchestrator(orchestrator_name)
        _check_instance_id(instance_id)
        return self._create(orchestrator_name, instance_id or uuid.uuid4().hex, _dumps(input))

    def start_new_json(self, orchestrator_name: str, instance_id: str | None, input_json: str | None) -> str:
        """Like :meth:`start_new` with the input already JSON text (used by the HTTP API)."""
        self._index.orchestrator(orchestrator_name)
        _check_instance_id(instance_id)
        if input_json is not None:
            json.loads(input_json)  # must be valid JSON
        return self._create(orchestrator_name, instance_id or uuid.uuid4().hex, input_json or "null")

    def raise_event(self, instance_id: str, event_name: str, data: Any = None) -> None:
        """Queue an EventRaised for the instance's next episode.

        Buffered if the orchestrator is not waiting yet (the SDK and the host
        both keep it for a later ``wait_for_external_event``). Events for a
        Completed/Failed/Terminated instance are dropped, as Azure does.
        Raises InstanceNotFound.
        """
        payload = _dumps(data)
        store = self._store
        with store.transaction():
            row = self._row(instance_id)
            if row.runtime_status in TERMINAL_STATUSES:
                return
            store.add_inbox(instance_id, row.execution_id,
                            h.event_raised(name=event_name, input_json=payload, when=self._now()))

    # -- entities (entities.py) ---------------------------------------------
    def signal_entity(self, entity_id: Any, operation_name: str, operation_input: Any = None) -> None:
        """Queue ``operation_name`` for the entity (fire-and-forget), like the SDK client's ``signal_entity``.

        ``entity_id``: a ``df.EntityId``, ``(name, key)`` or ``entities.EntityRef``.
        Raises FunctionNotFound for an entity name the app does not declare,
        ValueError for a bad id or operation name or a non-JSON input.
        """
        self.signal_entity_json(entity_id, operation_name, None if operation_input is None else _dumps(operation_input))

    def signal_entity_json(self, entity_id: Any, operation_name: str, input_json: str | None) -> None:
        """:meth:`signal_entity` with the input as JSON text (the management API's path)."""
        ref = ent.as_ref(entity_id)
        self._index.entity(ref.name)
        if not isinstance(operation_name, str) or len(operation_name) > ent.MAX_NAME:
            raise ValueError(f"operation name must be a string of at most {ent.MAX_NAME} characters")
        self._store.add_entity_op(ref.scheduler_id, operation_name, ent.signal_input_text(input_json),
                                  str(uuid.uuid4()), is_signal=True, parent_instance_id=None,
                                  parent_execution_id=None, now_text=to_text(self._now()))

    def read_entity_state(self, entity_id: Any) -> tuple[bool, Any]:
        """``(entity_exists, state)`` as the SDK client's ``read_entity_state`` answers (state decoded)."""
        exists, text = self.read_entity_state_json(entity_id)
        return exists, _loads(text)

    def read_entity_state_json(self, entity_id: Any) -> tuple[bool, str | None]:
        """``(entity_exists, state JSON text)``; ``(False, None)`` for an entity never run or deleted."""
        found = self._store.get_entity(ent.as_ref(entity_id).scheduler_id)
        if found is None or not found[0]:
            return False, None
        return True, found[1]

    def terminate(self, instance_id: str, reason: str) -> None:
        """Terminate a Pending/Running instance now (no-op if already finished).

        Writes ExecutionTerminated + ExecutionCompleted(Terminated); output =
        ``reason``; pending activities/timers of the instance are dropped; a
        parent orchestration gets SubOrchestrationInstanceFailed.
        Raises InstanceNotFound.
        """
        store = self._store
        with store.transaction():
            row = self._row(instance_id)
            if row.runtime_status in TERMINAL_STATUSES:
                return
            now = self._episode_time(row)
            reason_json = _dumps(reason)
            store.clear_runtime(instance_id, keep_history=True)
            store.append_history(instance_id, [
                h.orchestrator_started(now),
                h.execution_terminated(reason_json=reason_json, when=now),
                h.execution_completed(status="Terminated", result_json=reason_json, when=now),
                h.orchestrator_completed(now),
            ])
            row = row.with_(runtime_status="Terminated", output=reason_json,
                            last_updated_time=to_text(now), last_episode_time=to_text(now))
            store.put_instance(row)
            self._notify_parent(row, failure=f"Orchestration '{row.name}' was terminated: {reason}", now=now)

    def purge(self, instance_id: str) -> None:
        """Delete the instance, its history and pending work, whatever its status.

        (The HTTP management API refuses, with 412, to purge a Pending/Running
        instance, like the extension.) Raises InstanceNotFound.
        """
        with self._store.transaction():
            self._row(instance_id)
            self._store.delete_instance(instance_id)

    def get_status(self, instance_id: str, *, show_history: bool = False) -> OrchestrationStatus:
        """Status of one instance (see :class:`OrchestrationStatus`). Raises InstanceNotFound."""
        with self._store.lock:
            row = self._row(instance_id)
            events = self._store.load_history(instance_id) if show_history else None
        return self._status(row, events)

    def list_instances(self, *, runtime_status: str | Iterable[str] | None = None,
                       created_from: datetime | None = None, created_to: datetime | None = None,
                       name: str | None = None, id_prefix: str | None = None) -> list[OrchestrationStatus]:
        """Instances filtered by status (one or several), creation time
        (``created_from <= created_time <= created_to``, aware UTC), orchestrator
        name and instance id prefix; oldest first. Filtered in the store
        (:meth:`~firestop.runtime.store.Store.instances_where`): the cost follows
        the instances answered, not all the store holds."""
        wanted = [runtime_status] if isinstance(runtime_status, str) else (
            list(runtime_status) if runtime_status is not None else None)
        rows = self._store.instances_where(
            statuses=wanted, created_from=to_text(created_from) if created_from is not None else None,
            created_to=to_text(created_to) if created_to is not None else None, name=name, id_prefix=id_prefix)
        return [self._status(row, None) for row in rows]

    def list_entity_instances(self, *, created_from: datetime | None = None, created_to: datetime | None = None,
                              id_prefix: str | None = None, after: str | None = None,
                              limit: int | None = None) -> list[OrchestrationStatus]:
        """Every entity that has run, as the Durable extension's instance listing shows it (Azure Storage backend):
        ``instance_id`` and ``name`` both the scheduler id ``@name@key`` (``Entities.AutoStart`` names the
        ExecutionStarted after the instance id: Azure/durabletask 5217032 ``src/DurableTask.Core/Common/Entities.cs``),
        ``runtime_status`` Running (a deleted entity's row stays Running until purged), ``created_time`` and
        ``last_updated_time`` its last batch (the backend sets ``CreatedTime`` from each ExecutionStarted,
        ``AzureTableTrackingStore.UpdateStateAsync`` in durabletask.azurestorage-v2.0.1 2795981, and an entity
        starts a new execution after each batch: our reading, not checked against the extension's entity shim);
        ``input``/``custom_status``/``output`` None (the backend's input is the entity's scheduler state: not modelled).

        Filters: ``created_from <= created_time <= created_to`` (aware UTC), ``id_prefix`` (``str.startswith``),
        ``after`` (ids greater than it); ``limit`` keeps the first ones in id order. Ordered by id."""
        with self._store.lock:
            rows = self._store.entity_times(
                id_prefix=id_prefix, after=after, limit=limit,
                modified_from=None if created_from is None else to_text(created_from),
                modified_to=None if created_to is None else to_text(created_to))
        return [OrchestrationStatus(instance_id=entity_id, name=entity_id, runtime_status="Running",
                                    created_time=from_text(modified), last_updated_time=from_text(modified))
                for entity_id, modified in rows]

    def client_binding_json(self, base_url: str) -> str:
        """The ``durableClient`` binding JSON for a management server at ``base_url``.

        See ``management.client_binding`` (keys ``taskHubName``,
        ``creationUrls``, ``managementUrls``, ``rpcBaseUrl``) and
        ``management.ManagementServer``, which serves those URLs for this host.
        """
        from .management import client_binding

        return json.dumps(client_binding(base_url))

    def close(self) -> None:
        """Release this host's leases, stop its heartbeat and close the database."""
        self._closed.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._leases_lock:
            heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.join()
        try:
            self._release_leases()
        finally:
            self._store.close()

    @property
    def db_path(self) -> Path:
        """The SQLite file this host keeps its state in."""
        return self._store.path

    def next_timer_due(self) -> datetime | None:
        """Fire time (aware UTC) of the earliest pending durable timer of any instance, or None."""
        quiet = self._quiet
        if quiet is not None and self._store.version() == quiet[0]:
            return quiet[1]
        return from_text(self._store.next_due())

    def _is_quiet(self) -> bool:
        """True if nothing can be runnable: the store is unchanged since a look found its queues empty, and the
        earliest timer it held has not fallen due."""
        quiet = self._quiet
        if quiet is None:
            return False
        version, due = quiet
        if due is not None and self._now() >= due:
            return False
        return self._store.version() == version

    def _note_quiet(self, version: tuple[int, int]) -> None:
        """Record that the queues were empty when the store was at ``version`` (read before looking)."""
        self._quiet = (version, from_text(self._store.next_due()))

    @property
    def store_lock(self) -> Any:
        """The lock (an RLock) every read and write of this host's store takes: a caller that must not wait
        (an event loop) tries it without blocking and reads only if it got it (WAL reads never wait on SQLite)."""
        return self._store.lock

    def has_runnable_work(self) -> bool:
        """True if some instance has an event due now or an activity waiting to run
        (whoever holds its lease)."""
        if self._is_quiet():
            return False
        version = self._store.version()
        runnable = (bool(self._store.ready_instances(to_text(self._now()))) or self._store.work_count() > 0
                    or self._store.entity_op_count() > 0)
        if not runnable:
            self._note_quiet(version)
        return runnable

    # ------------------------------------------------------------------ test hook: Azure's order of writes
    def hold_custom_status(self) -> None:
        """Test-only: from now on a running episode's new custom status is held back — its activities and timers
        are scheduled, its history committed, but :meth:`get_status` (and the management API) keep showing the
        previous custom status — until :meth:`publish_custom_status`. This is the order DurableTask.AzureStorage
        commits an episode in (messages, then history, then the Instances row: see this module's docstring), with
        the Instances write as late as the test wants (a slow write, or one that failed and is made by a later
        episode). An episode that ends the orchestration writes its status and output at once (its held one is
        dropped). Never used outside tests."""
        with self._held_lock:
            if self._held_status is None:
                self._held_status = {}

    def publish_custom_status(self, *, keep_holding: bool = False) -> list[str]:
        """Test-only: write every custom status :meth:`hold_custom_status` held back (the Instances row write that
        DurableTask.AzureStorage makes after the episode's messages) onto its instance — still running in the same
        execution — and stop holding unless ``keep_holding``. Returns the instance ids written."""
        with self._held_lock:
            held, self._held_status = (self._held_status or {}), ({} if keep_holding else None)
        written = []
        with self._store.transaction():
            for instance_id, (execution_id, custom) in held.items():
                row = self._store.get_instance(instance_id)
                if row is not None and row.runtime_status == "Running" and row.execution_id == execution_id:
                    self._store.put_instance(row.with_(custom_status=custom))
                    written.append(instance_id)
        return written

    def _visible_custom_status(self, row: InstanceRow, custom: str | None) -> str | None:
        """The custom status a running episode writes onto its instance now: ``custom``, or — while
        :meth:`hold_custom_status` holds — the one already visible (``custom`` kept for :meth:`publish_custom_status`)."""
        if self._held_status is None:
            return custom
        with self._held_lock:
            if self._held_status is None:
                return custom
            if custom == row.custom_status and row.instance_id not in self._held_status:
                return custom
            self._held_status[row.instance_id] = (row.execution_id, custom)
            return row.custom_status

    # ------------------------------------------------------------------ driver
    def run_until_idle(self, instance_id: str | None = None, *, advance_timers: bool = False) -> None:
        """Run episodes and activities until nothing is runnable.

        Scope: every instance, or ``instance_id`` and its sub-orchestrations.
        Stops when each instance in scope is finished or waits on something
        not yet due (an external event, a timer in the future). With a virtual
        clock and ``advance_timers=True``, when nothing else is runnable the
        clock is set to the earliest pending timer's fire time and the run
        goes on. Raises InstanceNotFound for an unknown ``instance_id``.
        """
        if instance_id is not None:
            self._row(instance_id)
        with self._drive_lock:  # one driver per host object; leases keep other hosts out
            try:
                self._drive(instance_id, advance_timers)
            finally:
                self._release_leases()

    def _drive(self, instance_id: str | None, advance_timers: bool) -> None:
        jump = advance_timers and is_virtual(self.clock)
        while True:
            scope = None if instance_id is None else self._scope(instance_id)
            if scope is None and self._is_quiet() and (not jump or self._quiet[1] is None):
                return  # nothing changed since the queues were seen empty (and no timer to jump to)
            version = self._store.version()
            if self._run_due_episodes(scope):
                continue
            if self._run_entity_batches():
                continue
            with self._leases_lock:
                held = set(self._held)
            queued = self._store.work()
            work = self._leased_work(queued, scope, held)
            if work:
                self._run_activities(work)
                continue
            if not queued and not self._store.ready_instances(to_text(self._now())) and not self._store.entity_op_count():
                self._note_quiet(version)
            if jump:
                due = self._earliest_timer(scope)
                if due is not None and due > self.clock.now():
                    self.clock.set(due)  # type: ignore[attr-defined]
                    continue
            return

    def _leased_work(self, queued: list[WorkRow], scope: set[str] | None, held: set[str]) -> list[WorkRow]:
        """The activities to run now: the work rows of the instances in ``scope`` (all when None) among ``queued``
        whose lease this host holds, *as read again once the leases are held* — unless every one of those leases
        was already held (``held``: this host's leases before ``queued`` was read), then ``queued`` is current.

        ``queued`` was read before the leases were taken, so it may be stale: between that read and the lease,
        the host that held the instance's lease can run the activity, commit its result (deleting the row), end
        its drive and release the lease — which this host then takes. Running ``queued``'s row would run that
        activity a second time although both hosts are alive (its result is then dropped, but the side effect
        happened twice: tests/runtime/test_runtime_processes.py's two-process test saw ``{'f06/last start': 2}``
        under CPU load). While this host holds the lease no other live host can finish the instance's
        activities, so rows read after taking it are current."""
        instances = [i for i in dict.fromkeys(w.instance_id for w in queued)
                     if (scope is None or i in scope) and self._lease(i)]
        if not instances:
            return []
        leased = set(instances)
        if not leased <= held:
            queued = self._store.work()
        return [w for w in queued if w.instance_id in leased]

    # ------------------------------------------------------------------ leases
    def _lease(self, instance_id: str) -> bool:
        """Hold the lease on ``instance_id`` (take it if free, expired or its holder died)."""
        now = time.time()
        with self._leases_lock:
            expiry = self._held.get(instance_id)
            if expiry is not None and now < expiry - self.lease_seconds / 3:
                return True
        expires_at = now + self.lease_seconds
        if not self._store.try_lease(instance_id, self.owner, now=now, expires_at=expires_at,
                                     is_dead=owner_is_dead):
            with self._leases_lock:
                self._held.pop(instance_id, None)
            return False
        with self._leases_lock:
            self._held[instance_id] = expires_at
            self._leased_in_store = True
        self._ensure_heartbeat()
        return True

    def _forget_lease(self, instance_id: str) -> None:
        """Stop trusting our cached lease on ``instance_id`` (a fenced commit: check the database next time).
        The database row may still name this host: :meth:`_release_leases` deletes it all the same."""
        with self._leases_lock:
            self._held.pop(instance_id, None)

    def _finish(self, work: WorkRow, event: Event, outputs: list[Output] = ()) -> None:
        if not self._store.finish_work(work, event, owner=self.owner, outputs=list(outputs),
                                       now_text=to_text(self._now())):
            self._forget_lease(work.instance_id)
        elif outputs:
            self._deliver_outputs(list(outputs))

    def _release_leases(self) -> None:
        """Delete every lease row naming this host — also one a fenced commit forgot (``_forget_lease``), else it
        sat until it expired and another host waited for nothing. No write when no lease was taken since the last
        release."""
        with self._leases_lock:
            had, self._leased_in_store = self._leased_in_store, False
            self._held.clear()
        if had:
            self._store.release_leases(self.owner)

    def _ensure_heartbeat(self) -> None:
        with self._leases_lock:
            if self._heartbeat is None and not self._closed.is_set():
                self._heartbeat = threading.Thread(target=self._beat, name="firestop-lease-heartbeat", daemon=True)
                self._heartbeat.start()

    def _beat(self) -> None:
        """Renew held leases every third of ``lease_seconds``; ends once none is held (restarted on demand)."""
        while not self._closed.wait(self.lease_seconds / 3):
            with self._leases_lock:
                if not self._held:
                    self._heartbeat = None
                    return
            expires_at = time.time() + self.lease_seconds
            try:
                self._store.renew_leases(self.owner, expires_at)
            except Exception:  # noqa: BLE001 - database closed under us; the next beat or close() ends it
                continue
            with self._leases_lock:
                for instance_id in self._held:
                    self._held[instance_id] = expires_at

    # ------------------------------------------------------------------ internals
    def _now(self) -> datetime:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware (UTC) datetimes")
        return now

    def _row(self, instance_id: str) -> InstanceRow:
        row = self._store.get_instance(instance_id)
        if row is None:
            raise InstanceNotFound(instance_id)
        return row

    def _episode_time(self, row: InstanceRow) -> datetime:
        now = self._now()
        last = from_text(row.last_episode_time)
        return last if last is not None and last > now else now

    def _status(self, row: InstanceRow, events: list[Event] | None) -> OrchestrationStatus:
        return OrchestrationStatus(
            instance_id=row.instance_id,
            name=row.name,
            runtime_status=row.runtime_status,  # type: ignore[arg-type]
            custom_status=_loads(row.custom_status),
            input=_loads(row.input),
            output=_loads(row.output),
            created_time=from_text(row.created_time),
            last_updated_time=from_text(row.last_updated_time),
            parent_instance_id=row.parent_instance_id,
            history=events,
        )

    def _scope(self, root: str) -> set[str]:
        scope, frontier = {root}, [root]
        while frontier:
            for child in self._store.children_of(frontier.pop()):
                if child not in scope:
                    scope.add(child)
                    frontier.append(child)
        return scope

    def _earliest_timer(self, scope: set[str] | None) -> datetime | None:
        dues = [r.due_at for r in self._store.inbox() if r.due_at and (scope is None or r.instance_id in scope)]
        return from_text(min(dues)) if dues else None

    def _create(self, name: str, instance_id: str, input_json: str, *,
                parent: InstanceRow | None = None, parent_task_id: int | None = None) -> str:
        store = self._store
        with store.transaction():
            existing = store.get_instance(instance_id)
            if existing is not None and existing.runtime_status in ACTIVE_STATUSES:
                raise InstanceAlreadyExists(instance_id, existing.runtime_status)
            store.clear_runtime(instance_id)
            now = self._now()
            execution_id = uuid.uuid4().hex
            parent_info = None
            if parent is not None:
                parent_info = {
                    "Name": parent.name,
                    "Version": "",
                    "TaskScheduleId": parent_task_id,
                    "OrchestrationInstance": {"InstanceId": parent.instance_id, "ExecutionId": parent.execution_id},
                }
            store.put_instance(InstanceRow(
                instance_id=instance_id, name=name, execution_id=execution_id, runtime_status="Pending",
                input=input_json, output=None, custom_status=None,
                created_time=to_text(now), last_updated_time=to_text(now),
                parent_instance_id=parent.instance_id if parent else None,
                parent_execution_id=parent.execution_id if parent else None,
                parent_task_id=parent_task_id,
            ))
            store.add_inbox(instance_id, execution_id, h.execution_started(
                instance_id=instance_id, execution_id=execution_id, name=name,
                input_json=input_json, when=now, parent=parent_info))
        return instance_id

    def _run_due_episodes(self, scope: set[str] | None) -> bool:
        progressed = False
        for instance_id in self._store.ready_instances(to_text(self._now())):
            if scope is not None and instance_id not in scope:
                continue
            if self._lease(instance_id) and self._run_episode(instance_id):
                progressed = True
        return progressed

    # -- one episode --------------------------------------------------------
    def _history(self, row: InstanceRow) -> _History:
        """The instance's committed history, from the cache if still current."""
        cached = self._histories.get(row.instance_id)
        if (cached is not None and cached.execution_id == row.execution_id
                and len(cached.events) == self._store.history_length(row.instance_id)):
            self._histories.move_to_end(row.instance_id)
            return cached
        texts = self._store.load_history_text(row.instance_id)
        fresh = _History(row.execution_id, [json.loads(t) for t in texts], [played_text(t, True) for t in texts])
        self._remember(row.instance_id, fresh)
        return fresh

    def _remember(self, instance_id: str, history: _History | None) -> None:
        if history is None:
            self._histories.pop(instance_id, None)
            return
        self._histories[instance_id] = history
        self._histories.move_to_end(instance_id)
        while len(self._histories) > self.HISTORY_CACHE_SIZE:
            self._histories.popitem(last=False)

    def _run_episode(self, instance_id: str) -> bool:
        """Run one episode; False if nothing was due or the commit was fenced off."""
        store = self._store
        row = store.get_instance(instance_id)
        if row is None:
            store.delete_inbox([r.id for r in store.inbox(instance_id)])
            return True
        now_text = to_text(self._now())
        inbox = store.inbox(instance_id)
        if row.runtime_status in TERMINAL_STATUSES:
            store.delete_inbox([r.id for r in inbox])
            return bool(inbox)
        stale = [r.id for r in inbox if r.execution_id != row.execution_id]
        due = [r for r in inbox if r.execution_id == row.execution_id
               and (r.due_at is None or r.due_at <= now_text)]
        if not due:
            store.delete_inbox(stale)
            return bool(stale)
        due.sort(key=lambda r: (r.event["EventType"] != EventType.ExecutionStarted,
                                h.parse_timestamp(r.event["Timestamp"]), r.id))
        when = self._episode_time(row)
        past = self._history(row)
        new_events = [h.orchestrator_started(when)] + [r.event for r in due]

        consumed = stale + [r.id for r in due]
        try:
            output, replay, failure, episode = self._execute(row, past, new_events)
            with store.transaction():
                current = store.get_instance(instance_id)
                if (current is None or current.execution_id != row.execution_id
                        or current.runtime_status != row.runtime_status
                        or store.lease_owner(instance_id) != self.owner
                        or store.delete_inbox(consumed) != len(consumed)):
                    raise _Fenced()
                appended = self._commit_episode(row, when, new_events, output, replay, failure)
        except _Fenced:
            self._remember(instance_id, None)
            self._forget_lease(instance_id)
            return False
        except BaseException:
            self._remember(instance_id, None)  # the cached replay state may hold events never committed
            raise
        if appended is None:
            self._remember(instance_id, None)
            return True
        past.events.extend(appended[0])
        past.played.extend(played_text(t, True) for t in appended[1])
        past.engine = past.raw_actions = past.output = past.session = None
        if episode is not None and self.incremental:
            engine, raw, session = episode
            try:
                engine.feed(appended[0][len(new_events):])  # the scheduling events this episode wrote
            except Exception:  # noqa: BLE001 - never expected; the next episode replays from scratch
                return True
            past.engine, past.raw_actions, past.output = engine, raw, output
            past.session = session if session is not None and not session.finished else None
        return True

    def _execute(self, row: InstanceRow, past: _History, new_events: list[Event]
                 ) -> tuple[OrchestratorOutput | None, ReplayResult | None, str | None, "_Episode | None"]:
        """Run the orchestrator for one episode and replay its actions.

        Returns ``(output, replay, failure, (engine, raw actions, session) or
        None)``; the engine (fed the new events) and the SDK session
        (``sessions.py``) are kept for the next episode once the commit
        succeeded. Incremental path (``past.engine`` set): an episode
        whose new events complete nothing (events nobody waits for) reuses the
        orchestrator's previous answer without calling it; otherwise the
        instance's SDK session continues with the events since it last ran
        and answers with its new actions only (with ``sessions`` off, or no
        session yet: the SDK replays the whole history, and the host checks
        that the action list it returns starts with the previous one, dict
        equality), the host parses only the new actions and feeds only the
        new events. Any mismatch falls back to a replay from scratch, which
        reports non-determinism with its position.
        """
        try:
            entry = self._index.orchestrator(row.name)
        except FunctionNotFound as exc:
            return None, None, str(exc), None
        engine = past.engine if self.incremental else None
        if engine is not None and past.output is not None and not engine.completes_something(new_events):
            try:
                engine.feed(new_events)
            except (NonDeterminismError, UnsupportedAction) as exc:
                return past.output, None, str(exc), None
            return past.output, engine.result(), None, (engine, past.raw_actions or [], past.session)
        known = past.raw_actions
        session = past.session if engine is not None and known is not None and self.sessions else None
        past.session = None  # in use: kept again only once this episode commits
        full = True
        try:
            if session is not None:
                text, full = resume_session(session, past.events[session.fed:], new_events)
            else:
                history_text = past.played + [played_text(json.dumps(e), False) for e in new_events]
                context_json = build_context_from_text(
                    instance_id=row.instance_id, history_text=history_text, input_json=row.input,
                    parent_instance_id=row.parent_instance_id)
                if self.sessions and self.incremental and session_supported(entry.fn):
                    session, text = start_session(entry.fn, context_json)
                else:
                    text = call_orchestrator(entry, context_json)
            state = json.loads(text)
            raw = raw_actions(state)
        except Exception as exc:  # the SDK raises for unhandled orchestrator errors
            return self._replay_from_scratch(row, past, new_events, parse_raised(exc), None)
        if not full:  # a session's answer: only the actions added since its previous one
            assert engine is not None and known is not None
            output = parse_state(state)
            raw = known + raw
            if engine.extend(output.actions):
                try:
                    engine.feed(new_events)
                except (NonDeterminismError, UnsupportedAction) as exc:
                    return output, None, str(exc), None
                return output, engine.result(), None, (engine, raw, session)
            state = {**state, "actions": [raw]}
        elif (engine is not None and known is not None and len(raw) >= len(known)
                and raw[:len(known)] == known):
            output = parse_state(state, skip=len(known))
            if engine.extend(output.actions):
                try:
                    engine.feed(new_events)
                except (NonDeterminismError, UnsupportedAction) as exc:
                    return output, None, str(exc), None
                return output, engine.result(), None, (engine, raw, session)
        return self._replay_from_scratch(row, past, new_events, parse_state(state), raw, session)

    def _replay_from_scratch(self, row: InstanceRow, past: _History, new_events: list[Event],
                             output: OrchestratorOutput, raw: list[dict[str, Any]] | None,
                             session: OrchestratorSession | None = None
                             ) -> tuple[OrchestratorOutput | None, ReplayResult | None, str | None, "_Episode | None"]:
        if output.actions and output.schema_version < 1:
            return output, None, "The orchestrator answered with replay schema V1; the host speaks V2+.", None
        engine = ReplayEngine(output.actions, execution_id=row.execution_id)
        try:
            replay = engine.run(past.events + new_events)
        except (NonDeterminismError, UnsupportedAction) as exc:
            return output, None, str(exc), None
        return output, replay, None, (None if raw is None else (engine, raw, session))

    def _commit_episode(self, row: InstanceRow, when: datetime, new_events: list[Event],
                        output: OrchestratorOutput | None, replay: ReplayResult | None,
                        failure: str | None) -> tuple[list[Event], list[str]] | None:
        """Write the episode (inside the caller's transaction).

        Returns the events appended to a still-running execution's history and
        their stored JSON text, or None if the execution ended or continued as new.
        """
        store = self._store
        events = list(new_events)
        custom = row.custom_status
        if output is not None:
            custom = None if output.custom_status is None else _dumps(output.custom_status)
        status, result_json, cont_input = "Running", None, None

        if failure is None and replay is not None and output is not None:
            for work in replay.new_work:
                if work.kind is EventType.TaskScheduled:
                    events.append(h.task_scheduled(event_id=work.event_id, name=work.name or "", when=when))
                elif work.kind is EventType.TimerCreated:
                    events.append(h.timer_created(event_id=work.event_id, fire_at=work.fire_at, when=when))
                elif work.kind is EventType.EventSent:
                    work.request_id = str(uuid.uuid4())
                    message = ent.request_message(
                        operation=work.name or "", input_text=ent.operation_input_text(work.input),
                        request_id=work.request_id, is_signal=work.signal,
                        parent_instance_id=row.instance_id, parent_execution_id=row.execution_id)
                    events.append(ent.event_sent(event_id=work.event_id, scheduler_id=work.instance_id or "",
                                                 message=message, when=when))
                else:
                    events.append(h.sub_orchestration_created(event_id=work.event_id, name=work.name or "",
                                                              instance_id=work.instance_id or "", when=when))
            if replay.chain_complete and output.error:
                failure = f"Orchestrator function '{row.name}' failed: {output.error}"
            elif replay.chain_complete and output.is_done:
                if replay.continue_as_new_input is not None:
                    status, cont_input = "ContinuedAsNew", replay.continue_as_new_input
                else:
                    status, result_json = "Completed", _dumps(output.output)

        if failure is not None:
            status, result_json = "Failed", _dumps(failure)

        if status == "Running":
            assert replay is not None
            events.append(h.orchestrator_completed(when))
            texts = store.append_history(row.instance_id, events)
            self._schedule(row, replay, when)
            store.delete_timers(row.instance_id, row.execution_id, replay.canceled_timers)
            store.put_instance(row.with_(runtime_status="Running",
                                         custom_status=self._visible_custom_status(row, custom),
                                         last_updated_time=to_text(when), last_episode_time=to_text(when)))
            return events, texts

        if self._held_status is not None:
            with self._held_lock:
                if self._held_status is not None:
                    self._held_status.pop(row.instance_id, None)

        if status == "ContinuedAsNew":
            store.clear_runtime(row.instance_id)
            execution_id = uuid.uuid4().hex
            store.add_inbox(row.instance_id, execution_id, h.execution_started(
                instance_id=row.instance_id, execution_id=execution_id, name=row.name,
                input_json=cont_input, when=when, parent=self._parent_info(row)))
            store.put_instance(row.with_(runtime_status="Running", execution_id=execution_id, input=cont_input,
                                         output=None, custom_status=custom, last_updated_time=to_text(when),
                                         last_episode_time=to_text(when)))
            return None

        failure_details = {"ErrorMessage": failure} if status == "Failed" else None
        events.append(h.execution_completed(status=status, result_json=result_json, when=when,
                                            failure=failure_details))
        events.append(h.orchestrator_completed(when))
        store.append_history(row.instance_id, events)
        store.clear_runtime(row.instance_id, keep_history=True)
        finished = row.with_(runtime_status=status, output=result_json, custom_status=custom,
                             last_updated_time=to_text(when), last_episode_time=to_text(when))
        store.put_instance(finished)
        if status == "Completed":
            self._notify_parent(finished, result_json=result_json, now=when)
        else:
            self._notify_parent(finished, failure=failure, now=when)
        return None

    def _parent_info(self, row: InstanceRow) -> dict[str, Any] | None:
        if row.parent_instance_id is None:
            return None
        parent = self._store.get_instance(row.parent_instance_id)
        return {
            "Name": parent.name if parent else None,
            "Version": "",
            "TaskScheduleId": row.parent_task_id,
            "OrchestrationInstance": {"InstanceId": row.parent_instance_id, "ExecutionId": row.parent_execution_id},
        }

    def _schedule(self, row: InstanceRow, replay: ReplayResult, when: datetime) -> None:
        store = self._store
        for work in replay.new_work:
            if work.kind is EventType.TaskScheduled:
                store.add_work(row.instance_id, row.execution_id, work.event_id, work.name or "", work.input)
            elif work.kind is EventType.EventSent:
                store.add_entity_op(work.instance_id or "", work.name or "", ent.operation_input_text(work.input),
                                    work.request_id or "", is_signal=work.signal,
                                    parent_instance_id=None if work.signal else row.instance_id,
                                    parent_execution_id=None if work.signal else row.execution_id,
                                    now_text=to_text(when))
            elif work.kind is EventType.TimerCreated:
                if not work.canceled:
                    store.add_inbox(row.instance_id, row.execution_id,
                                    h.timer_fired(timer_id=work.event_id, fire_at=work.fire_at),
                                    due_at=work.fire_at, timer_id=work.event_id)
            else:
                self._start_child(row, work.event_id, work.name or "", work.instance_id or "", work.input, when)

    def _start_child(self, parent: InstanceRow, task_id: int, name: str, child_id: str,
                     input_json: str | None, when: datetime) -> None:
        try:
            self._index.orchestrator(name)
            self._create(name, child_id, input_json if input_json is not None else "null",
                         parent=parent, parent_task_id=task_id)
        except (FunctionNotFound, InstanceAlreadyExists) as exc:
            self._store.add_inbox(parent.instance_id, parent.execution_id, h.sub_orchestration_failed(
                task_id=task_id, reason=str(exc), details=type(exc).__name__, when=when))

    def _notify_parent(self, child: InstanceRow, *, now: datetime, result_json: str | None = None,
                       failure: str | None = None) -> None:
        if child.parent_instance_id is None or child.parent_task_id is None:
            return
        parent = self._store.get_instance(child.parent_instance_id)
        if (parent is None or parent.execution_id != child.parent_execution_id
                or parent.runtime_status in TERMINAL_STATUSES):
            return
        if failure is None:
            event = h.sub_orchestration_completed(task_id=child.parent_task_id, result_json=result_json, when=now)
        else:
            event = h.sub_orchestration_failed(task_id=child.parent_task_id, reason=failure,
                                               details="OrchestrationFailureException", when=now)
        self._store.add_inbox(parent.instance_id, parent.execution_id, event)

    # -- entities -----------------------------------------------------------
    def run_entity_operations(self) -> None:
        """Run queued entity operations (every entity whose lease this host gets) until none is left; nothing
        else (no orchestration episode, no activity). What a backend's entity workers do between a client's
        ``signal_entity`` and its ``read_entity_state`` — for a harness without a driver thread."""
        with self._drive_lock:
            try:
                for _ in range(1000):  # bounded: each round consumes up to entities.MAX_BATCH operations per entity
                    if not self._run_entity_batches():
                        return
            finally:
                self._release_leases()

    def _run_entity_batches(self) -> bool:
        """Run one batch for every entity with queued operations whose lease this host gets."""
        progressed = False
        for entity_id in self._store.entities_with_ops():
            if self._lease(entity_id) and self._run_entity_batch(entity_id):
                progressed = True
        return progressed

    def _run_entity_batch(self, entity_id: str) -> bool:
        """Run up to ``entities.MAX_BATCH`` queued operations of one entity in one function call.

        Commits (fenced by the lease) the new state, the removal of the
        operations and the answers to calling orchestrations together; False
        if nothing was queued or the commit was fenced off.
        """
        store = self._store
        ops = store.entity_ops(entity_id, ent.MAX_BATCH)
        if not ops:
            return False
        try:
            ref = ent.parse_scheduler_id(entity_id)
        except ValueError as exc:
            ref, result = None, None
            outcomes = [ent.error_outcome(str(exc))] * len(ops)
        found = store.get_entity(entity_id)
        exists, state = found if found is not None else (False, None)
        if ref is not None:
            outcomes, result = self._call_entity(ref, exists, state, ops)
            if result is not None:
                exists, state = result.exists, result.state
        now_text = to_text(self._now())
        try:
            with store.transaction():
                if (store.lease_owner(entity_id) != self.owner
                        or store.delete_entity_ops([op.id for op in ops]) != len(ops)):
                    raise _Fenced()
                if ref is not None:
                    store.put_entity(entity_id, ref.name, ref.key, exists, state, now_text)
                for op, outcome in zip(ops, outcomes):
                    if not op.is_signal:
                        self._answer(op, outcome)
        except _Fenced:
            self._forget_lease(entity_id)
            return False
        return True

    def _call_entity(self, ref: "ent.EntityRef", exists: bool, state: str | None, ops: list["ent.Operation"]
                     ) -> tuple[list["ent.OperationOutcome"], "ent.BatchResult | None"]:
        """Outcomes of a batch and the entity's new state (None: state unchanged, every operation failed)."""
        try:
            entry = self._index.entity(ref.name)
        except FunctionNotFound as exc:
            return [ent.error_outcome(str(exc))] * len(ops), None
        context_json = ent.batch_context(ref, exists=exists, state=state, operations=ops)
        try:
            result = ent.parse_batch_result(call_entity(entry, context_json), len(ops))
        except Exception as exc:  # noqa: BLE001 - a broken batch fails its operations, the entity keeps its state
            return [ent.error_outcome(f"{type(exc).__name__}: {exc}")] * len(ops), None
        return result.outcomes, result

    def _answer(self, op: "ent.Operation", outcome: "ent.OperationOutcome") -> None:
        """Queue a call's answer for its orchestration (dropped if that execution is gone)."""
        if op.parent_instance_id is None:
            return
        parent = self._store.get_instance(op.parent_instance_id)
        if (parent is None or parent.execution_id != op.parent_execution_id
                or parent.runtime_status in TERMINAL_STATUSES):
            return
        self._store.add_inbox(parent.instance_id, parent.execution_id, h.event_raised(
            name=op.request_id, input_json=ent.response_input(outcome), when=self._now()))

    # -- activities ---------------------------------------------------------
    def _invoke_activity(self, work: WorkRow) -> tuple[Event, list[Output]]:
        try:
            entry = self._index.activity(work.name)
            result_json, outputs = call_activity_with_outputs(entry, work.input, instance_id=work.instance_id,
                                                              now=self._now(), client=self.activity_client)
        except Exception as exc:
            return h.task_failed(task_id=work.task_id, reason=str(exc) or type(exc).__name__,
                                 details=type(exc).__name__, when=self._now()), []
        return h.task_completed(task_id=work.task_id, result_json=result_json, when=self._now()), outputs

    def binding_outputs(self, binding_type: str | None = None) -> list[dict[str, Any]]:
        """Values activities set on output bindings (``bindings.py``), oldest first.

        Each: ``instance_id``, ``task_id``, ``function``, ``binding_type``,
        ``binding_name``, ``target`` (queue name, blob path, ...),
        ``data_type`` and ``data`` (bytes).
        """
        return self._store.binding_outputs(binding_type)

    @property
    def bindings_dir(self) -> Path:
        """Folder of the local stand-ins for output bindings (blobs under ``blob/<container>/``)."""
        return self._store.path.parent / "bindings"

    def _deliver_outputs(self, outputs: list[Output]) -> None:
        """Write committed blob outputs as files (the rows are in the database already)."""
        for output in outputs:
            if output.binding_type != "blob" or not output.target:
                continue
            target = blob_file(self.bindings_dir, output.target)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
            temp.write_bytes(output.data)
            os.replace(temp, target)

    def _run_activities(self, batch: list[WorkRow]) -> None:
        """Run ready activities; their results are committed in batches (``_ResultBuffer``)."""
        results = _ResultBuffer(self)
        try:
            self._run_activity_batch(batch, results)
        finally:
            results.flush()

    def _run_activity_batch(self, batch: list[WorkRow], results: "_ResultBuffer") -> None:
        if is_virtual(self.clock):
            clock: Any = self.clock
            start = clock.now()
            ends = []
            try:
                for work in batch:
                    clock.set(start)
                    event, outputs = self._invoke_activity(work)
                    ends.append(clock.now())
                    results.add(work, event, outputs)
            finally:
                clock.set(max(ends, default=start))
            return
        if len(batch) == 1 or self.max_concurrent_activities == 1:
            for work in batch:  # no thread hop for a single activity
                results.add(work, *self._invoke_activity(work))
            return
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.max_concurrent_activities,
                                                               thread_name_prefix="firestop-activity")
        interrupted: BaseException | None = None
        futures = {self._pool.submit(self._invoke_activity, work): work for work in batch}
        for future in concurrent.futures.as_completed(futures):
            try:
                event, outputs = future.result()
            except BaseException as exc:  # noqa: BLE001 - e.g. KeyboardInterrupt inside an activity
                interrupted = interrupted or exc
                continue  # its work row stays: it runs again on the next run
            results.add(futures[future], event, outputs)
        if interrupted is not None:
            raise interrupted
