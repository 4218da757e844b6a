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
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from firestop.clock import Clock, SystemClock, is_virtual

from . import history as h
from .actions import OrchestratorOutput, parse_output, parse_raised
from .context import build_context
from .errors import (
    FunctionNotFound,
    InstanceAlreadyExists,
    InstanceNotFound,
    NonDeterminismError,
    UnsupportedAction,
)
from .functions import call_activity, call_orchestrator, index_app
from .history import Event, EventType
from .replay import ReplayEngine, ReplayResult
from .status import ACTIVE_STATUSES, TERMINAL_STATUSES, OrchestrationStatus
from .store import InstanceRow, Store, WorkRow, from_text, to_text


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError as exc:
        raise ValueError(f"value is not JSON-serializable: {exc}") from exc


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class LocalDurableHost:
    """Runs orchestrations of ``app`` with state in the SQLite file ``db_path``.

    ``app``: a ``df.DFApp`` / ``func.FunctionApp``; orchestrators and
    activities are found by trigger binding type and declared name.
    ``clock``: object with ``now()`` → aware UTC datetime (default
    ``SystemClock()``); a virtual clock (``set``/``advance``) enables the batch
    rule and ``run_until_idle(advance_timers=True)``.
    ``max_concurrent_activities``: thread-pool size with a real clock.
    """

    def __init__(self, app: Any, db_path: str | Path, clock: Clock | None = None,
                 max_concurrent_activities: int = 8) -> None:
        self.app = app
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.max_concurrent_activities = max(1, int(max_concurrent_activities))
        self._index = index_app(app)
        self._store = Store(db_path)
        self._drive_lock = threading.Lock()

    # ------------------------------------------------------------------ client API
    def start_new(self, orchestrator_name: str, instance_id: str | None = None, input: Any = None) -> str:
        """Create a Pending instance; returns its id (a new hex GUID if none given).

        Raises FunctionNotFound for an unknown orchestrator, ValueError for a
        non-JSON input, InstanceAlreadyExists (atomically) if ``instance_id``
        is Pending/Running. A Completed/Failed/Terminated instance with that id
        is overwritten (Azure's default).
        """
        self._index.orchestrator(orchestrator_name)
        return self._create(orchestrator_name, instance_id or uuid.uuid4().hex, _dumps(input))

    def start_new_json(self, orchestrator_name: str, instance_id: str | None, input_json: str | None) -> str:
        """Like :meth:`start_new` with the input already JSON text (used by the HTTP API)."""
        self._index.orchestrator(orchestrator_name)
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
                       name: str | None = None) -> list[OrchestrationStatus]:
        """Instances filtered by status (one or several), creation time
        (``created_from <= created_time <= created_to``, aware UTC) and
        orchestrator name; oldest first."""
        wanted = {runtime_status} if isinstance(runtime_status, str) else (
            set(runtime_status) if runtime_status is not None else None)
        out = []
        for row in self._store.all_instances():
            created = from_text(row.created_time)
            if wanted is not None and row.runtime_status not in wanted:
                continue
            if created_from is not None and created < created_from:
                continue
            if created_to is not None and created > created_to:
                continue
            if name is not None and row.name != name:
                continue
            out.append(self._status(row, None))
        return out

    def client_binding_json(self, base_url: str) -> str:
        """The ``durableClient`` binding JSON for a management server at ``base_url``.

        See ``management.client_binding`` (keys ``taskHubName``,
        ``creationUrls``, ``managementUrls``, ``rpcBaseUrl``) and
        ``management.ManagementServer``, which serves those URLs for this host.
        """
        from .management import client_binding

        return json.dumps(client_binding(base_url))

    def close(self) -> None:
        """Close the database connection."""
        self._store.close()

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
        with self._drive_lock:  # one driver per host object: no activity runs twice
            self._drive(instance_id, advance_timers)

    def _drive(self, instance_id: str | None, advance_timers: bool) -> None:
        while True:
            scope = None if instance_id is None else self._scope(instance_id)
            if self._run_due_episodes(scope):
                continue
            work = [w for w in self._store.work() if scope is None or w.instance_id in scope]
            if work:
                self._run_activities(work)
                continue
            if advance_timers and is_virtual(self.clock):
                due = self._earliest_timer(scope)
                if due is not None and due > self.clock.now():
                    self.clock.set(due)  # type: ignore[attr-defined]
                    continue
            return

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
        now_text = to_text(self._now())
        ready: list[str] = []
        for row in self._store.inbox():
            if scope is not None and row.instance_id not in scope:
                continue
            if row.due_at is None or row.due_at <= now_text:
                if row.instance_id not in ready:
                    ready.append(row.instance_id)
        for instance_id in ready:
            self._run_episode(instance_id)
        return bool(ready)

    # -- one episode --------------------------------------------------------
    def _run_episode(self, instance_id: str) -> None:
        store = self._store
        with store.lock:
            row = store.get_instance(instance_id)
            if row is None:
                return
            now_text = to_text(self._now())
            inbox = store.inbox(instance_id)
            if row.runtime_status in TERMINAL_STATUSES:
                store.delete_inbox([r.id for r in inbox])
                return
            stale = [r.id for r in inbox if r.execution_id != row.execution_id]
            due = [r for r in inbox if r.execution_id == row.execution_id
                   and (r.due_at is None or r.due_at <= now_text)]
            if not due:
                store.delete_inbox(stale)
                return
            due.sort(key=lambda r: (r.event["EventType"] != EventType.ExecutionStarted,
                                    h.parse_timestamp(r.event["Timestamp"]), r.id))
            when = self._episode_time(row)
            past = store.load_history(instance_id)
            new_events = [h.orchestrator_started(when)] + [r.event for r in due]
            full = h.mark_played(past, new_events)

            output, replay, failure = self._execute(row, full)

            with store.transaction():
                store.delete_inbox(stale + [r.id for r in due])
                self._commit_episode(row, when, new_events, output, replay, failure)

    def _execute(self, row: InstanceRow, full: list[Event]
                 ) -> tuple[OrchestratorOutput | None, ReplayResult | None, str | None]:
        try:
            entry = self._index.orchestrator(row.name)
        except FunctionNotFound as exc:
            return None, None, str(exc)
        context_json = build_context(instance_id=row.instance_id, history=full,
                                     input_json=row.input, parent_instance_id=row.parent_instance_id)
        try:
            output = parse_output(call_orchestrator(entry, context_json))
        except Exception as exc:  # the SDK raises for unhandled orchestrator errors
            output = parse_raised(exc)
        if output.actions and output.schema_version < 1:
            return output, None, "The orchestrator answered with replay schema V1; the host speaks V2+."
        try:
            replay = ReplayEngine(output.actions, execution_id=row.execution_id).run(full)
        except (NonDeterminismError, UnsupportedAction) as exc:
            return output, None, str(exc)
        return output, replay, None

    def _commit_episode(self, row: InstanceRow, when: datetime, new_events: list[Event],
                        output: OrchestratorOutput | None, replay: ReplayResult | None,
                        failure: str | None) -> None:
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
            store.append_history(row.instance_id, events)
            self._schedule(row, replay, when)
            store.delete_timers(row.instance_id, row.execution_id, replay.canceled_timers)
            store.put_instance(row.with_(runtime_status="Running", custom_status=custom,
                                         last_updated_time=to_text(when), last_episode_time=to_text(when)))
            return

        if status == "ContinuedAsNew":
            store.clear_runtime(row.instance_id)
            execution_id = uuid.uuid4().hex
            store.add_inbox(row.instance_id, execution_id, h.execution_started(
                instance_id=row.instance_id, execution_id=execution_id, name=row.name,
                input_json=cont_input, when=when, parent=self._parent_info(row)))
            store.put_instance(row.with_(runtime_status="Running", execution_id=execution_id, input=cont_input,
                                         output=None, custom_status=custom, last_updated_time=to_text(when),
                                         last_episode_time=to_text(when)))
            return

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

    # -- activities ---------------------------------------------------------
    def _invoke_activity(self, work: WorkRow) -> Event:
        try:
            entry = self._index.activity(work.name)
            result_json = call_activity(entry, work.input)
        except Exception as exc:
            return h.task_failed(task_id=work.task_id, reason=str(exc) or type(exc).__name__,
                                 details=type(exc).__name__, when=self._now())
        return h.task_completed(task_id=work.task_id, result_json=result_json, when=self._now())

    def _run_activities(self, batch: list[WorkRow]) -> None:
        if is_virtual(self.clock):
            clock: Any = self.clock
            start = clock.now()
            ends = []
            try:
                for work in batch:
                    clock.set(start)
                    event = self._invoke_activity(work)
                    ends.append(clock.now())
                    self._store.finish_work(work, event)
            finally:
                clock.set(max(ends, default=start))
            return
        workers = min(self.max_concurrent_activities, len(batch))
        interrupted: BaseException | None = None
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                   thread_name_prefix="firestop-activity") as pool:
            futures = {pool.submit(self._invoke_activity, work): work for work in batch}
            for future in concurrent.futures.as_completed(futures):
                try:
                    event = future.result()
                except BaseException as exc:  # noqa: BLE001 - e.g. KeyboardInterrupt inside an activity
                    interrupted = interrupted or exc
                    continue  # its work row stays: it runs again on the next run
                self._store.finish_work(futures[future], event)
        if interrupted is not None:
            raise interrupted
