"""Replaying an orchestrator's actions against its history, as the extension does.

The Python SDK only *describes* what the orchestrator wants (an action list);
the Durable extension's ``OutOfProcOrchestrationShim`` (schema >= V2,
``ProcessAsyncActionsV2``) turns that list into DurableTask.Core calls:

* actions are invoked **in order, each awaited before the next**
  (``await InvokeAPIFromAction(action)``); WhenAll/WhenAny compounds invoke all
  their children and await ``Task.WhenAll`` / ``Task.WhenAny`` (C#: WhenAll
  waits for every child, even after a failure);
* every activity call, timer and sub-orchestration takes the next sequence
  number (``EventId``) when it is invoked; external-event waits and
  continue-as-new take none;
* ``CallActivityWithRetry`` runs DurableTask.Core's ``RetryInterceptor``: on
  each failure a timer (next sequence number) for
  ``now + first * coefficient**attempt``, then a new attempt (next sequence
  number); after the last failed attempt one more timer, then the failure;
* external events go to the most recent waiter of that name (a stack, as
  the extension keeps them), else are buffered for a later wait;
* ``CallEntity`` / ``SignalEntity`` send a request to the entity (``EventSent``
  in history, next sequence number); a call completes when the
  ``EventRaised`` named after its request id (read from the EventSent's
  RequestMessage) arrives, a signal completes at once (fire-and-forget);
* a timer whose action says ``isCanceled`` is created and cancelled at once
  (its task completes, its TimerFired is ignored);
* DurableTask.Core replays history events in order: each completion event
  resumes whatever awaited it, which may invoke further actions; each
  scheduling event in history (TaskScheduled, TimerCreated,
  SubOrchestrationInstanceCreated) must match the call created with that
  sequence number, by type and name. The SDK does *not* check this (it matches
  results by sequence number only, NOTES.md), so a mismatch is reported here
  as :class:`~firestop.runtime.errors.NonDeterminismError`.

Calls created during replay that have no scheduling event yet are the
episode's new work (:attr:`ReplayResult.new_work`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime
from typing import Callable

from msgspec import Struct, field

from .actions import Action, ActionType, RetryPolicy
from .entities import sent_message
from .errors import NonDeterminismError, UnsupportedAction
from .history import SCHEDULING_EVENTS, Event, EventType, describe, parse_timestamp

_FAILURE_EVENTS = {EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed}
_RESULT_EVENTS = {
    EventType.TaskCompleted,
    EventType.TaskFailed,
    EventType.SubOrchestrationInstanceCompleted,
    EventType.SubOrchestrationInstanceFailed,
}


class NewWork(Struct):
    """A call created in this episode that the history does not hold yet.

    ``kind`` is the scheduling event to write (TaskScheduled, TimerCreated or
    SubOrchestrationInstanceCreated); ``event_id`` its sequence number;
    ``input`` JSON text; ``fire_at`` aware UTC (timers); ``instance_id`` the
    sub-orchestration's id (the action's, else ``"<executionId>:<seq>"`` like
    DurableTask.Core).
    """

    event_id: int
    kind: EventType
    label: str
    name: str | None = None
    input: str | None = None
    fire_at: datetime | None = None
    instance_id: str | None = None
    canceled: bool = False
    signal: bool = False  # EventSent: a signal (no answer) rather than a call
    request_id: str | None = None  # EventSent: set by the host when it writes the event


class ReplayResult(Struct):
    new_work: list[NewWork]
    #: True when every action in the list was invoked and awaited to the end
    #: (the extension's ``ReplayOOProcOrchestration`` returned).
    chain_complete: bool
    #: JSON text of the continue-as-new input, if the orchestrator called it.
    continue_as_new_input: str | None
    #: sequence numbers of timers the orchestrator cancelled.
    canceled_timers: set[int] = field(default_factory=set)


class _Node:
    """A C# Task stand-in: completes once, then notifies listeners."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.done = False
        self.failed = False
        self._listeners: list[Callable[["_Node"], None]] = []

    def on_done(self, listener: Callable[["_Node"], None]) -> None:
        if self.done:
            listener(self)
        else:
            self._listeners.append(listener)

    def finish(self, failed: bool = False) -> None:
        if self.done:
            return
        self.done, self.failed = True, failed
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener(self)


class ReplayEngine:
    """Drives one episode's replay. Use :meth:`run` once per episode."""

    def __init__(self, actions: tuple[Action, ...] | list[Action], *, execution_id: str) -> None:
        self._actions = list(actions)
        self._execution_id = execution_id
        self._cursor = 0
        self._awaiting: _Node | None = None
        self._awaiting_action: Action | None = None
        self._next_id = 0
        self._now: datetime | None = None
        self._open: dict[int, _Node] = {}
        self._unmatched: dict[int, NewWork] = {}
        self._waiters: dict[str, deque[_Node]] = defaultdict(deque)
        self._buffered: dict[str, deque[Event]] = defaultdict(deque)
        self._entity_calls: dict[str, _Node] = {}  # request id -> call awaiting its answer
        self._position = 0  # history events fed so far
        self._chain_complete = False
        self._continue_as_new: str | None = None
        self._canceled: set[int] = set()

    # -- public -----------------------------------------------------------
    def run(self, history: list[Event]) -> ReplayResult:
        """Replay ``history`` (past and new events) against the action list.

        Raises NonDeterminismError or UnsupportedAction.
        """
        self.feed(history)
        return self.result()

    def feed(self, events: list[Event]) -> None:
        """Process further history events, in order, after those already fed.

        The engine keeps its state between calls, so the host can feed each
        event once over an instance's life (incremental replay): an episode
        feeds only its new events, then the scheduling events it committed.
        Raises NonDeterminismError or UnsupportedAction.
        """
        for event in events:
            position = self._position
            self._position += 1
            kind = EventType(event["EventType"])
            if kind is EventType.OrchestratorStarted:
                stamp = parse_timestamp(event["Timestamp"])
                if self._now is None or stamp > self._now:
                    self._now = stamp
            elif kind is EventType.ExecutionStarted:
                self._advance()
            elif kind in SCHEDULING_EVENTS:
                self._match(position, event)
            elif kind in _RESULT_EVENTS:
                node = self._open.pop(int(event["TaskScheduledId"]), None)
                if node is not None:
                    node.finish(failed=kind in _FAILURE_EVENTS)
            elif kind is EventType.TimerFired:
                node = self._open.pop(int(event["TimerId"]), None)
                if node is not None:
                    node.finish()
            elif kind is EventType.EventRaised:
                self._deliver(event)

    def extend(self, actions: tuple[Action, ...] | list[Action]) -> bool:
        """Append actions the orchestrator added since the list this engine holds.

        Returns False (the caller must replay from scratch) when the chain had
        already run past the end of the old list: a full replay might then
        have invoked the new actions earlier, in the middle of past events.
        """
        if not actions:
            return True
        if self._cursor >= len(self._actions) and self._awaiting is None and self._position > 0:
            return False
        self._actions.extend(actions)
        return True

    @property
    def action_count(self) -> int:
        return len(self._actions)

    def completes_something(self, events: list[Event]) -> bool:
        """Whether feeding ``events`` could complete a task (or does more than buffer events).

        False only for events that are OrchestratorStarted or EventRaised with
        no waiter at all for their name (not even a lost one) and no entity
        call awaiting them: the orchestrator's answer to such an episode is
        its previous answer (nothing it waits on completes).
        """
        for event in events:
            kind = event["EventType"]
            if kind == EventType.OrchestratorStarted:
                continue
            if kind != EventType.EventRaised:
                return True
            name = event.get("Name") or ""
            if name in self._entity_calls or self._waiters.get(name):
                return True
        return False

    def result(self) -> ReplayResult:
        new_work = [self._unmatched[k] for k in sorted(self._unmatched)]
        return ReplayResult(
            new_work=new_work,
            chain_complete=self._chain_complete,
            continue_as_new_input=self._continue_as_new,
            canceled_timers=set(self._canceled),
        )

    # -- sequencing ---------------------------------------------------------
    def _advance(self, _finished: _Node | None = None) -> None:
        while self._cursor < len(self._actions):
            action = self._actions[self._cursor]
            self._cursor += 1
            node = self._invoke(action)
            if not node.done:
                self._awaiting, self._awaiting_action = node, action
                node.on_done(self._advance)
                return
        self._awaiting = self._awaiting_action = None
        self._chain_complete = True

    def _take_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def _invoke(self, action: Action) -> _Node:
        t = action.type
        if t is ActionType.CallActivity:
            return self._schedule(EventType.TaskScheduled, action, action.describe())
        if t is ActionType.CallSubOrchestrator:
            return self._schedule(EventType.SubOrchestrationInstanceCreated, action, action.describe())
        if t is ActionType.CreateTimer:
            return self._timer(action.fire_at, action.is_canceled, action.describe())
        if t in (ActionType.CallEntity, ActionType.SignalEntity):
            return self._schedule(EventType.EventSent, action, action.describe())
        if t is ActionType.WaitForExternalEvent:
            return self._wait_event(action.event_name or "", action.describe())
        if t in (ActionType.CallActivityWithRetry, ActionType.CallSubOrchestratorWithRetry):
            return self._retry(action)
        if t is ActionType.ContinueAsNew:
            self._continue_as_new = action.input if action.input is not None else "null"
            node = _Node(action.describe())
            node.finish()
            return node
        if t in (ActionType.WhenAll, ActionType.WhenAny):
            return self._compound(action)
        raise UnsupportedAction(
            f"The local durable host does not implement {t.name} (actionType {int(t)})."
        )

    def _schedule(self, kind: EventType, action: Action, label: str) -> _Node:
        event_id = self._take_id()
        instance_id = None
        name = action.function_name
        signal = action.type is ActionType.SignalEntity
        if kind is EventType.SubOrchestrationInstanceCreated:
            instance_id = action.instance_id or f"{self._execution_id}:{event_id}"
        elif kind is EventType.EventSent:
            instance_id, name = action.instance_id, action.operation
        self._unmatched[event_id] = NewWork(
            event_id=event_id,
            kind=kind,
            label=label,
            name=name,
            input=action.input,
            instance_id=instance_id,
            signal=signal,
        )
        node = _Node(label)
        if signal:
            node.finish()  # fire-and-forget
        else:
            self._open[event_id] = node
        return node

    def _timer(self, fire_at: datetime | None, canceled: bool, label: str) -> _Node:
        event_id = self._take_id()
        self._unmatched[event_id] = NewWork(
            event_id=event_id, kind=EventType.TimerCreated, label=label, fire_at=fire_at, canceled=canceled
        )
        node = _Node(label)
        if canceled:
            self._canceled.add(event_id)
            node.finish()  # C#: the cancelled timer task completes at once
        else:
            self._open[event_id] = node
        return node

    def _wait_event(self, name: str, label: str) -> _Node:
        node = _Node(label)
        if self._buffered[name]:
            self._buffered[name].popleft()
            node.finish()
        else:
            self._waiters[name].append(node)
        return node

    def _deliver(self, event: Event) -> None:
        # The extension keeps waiters per name in a *stack* so that a wait
        # abandoned by a lost Task.WhenAny (the approval-with-reminder loop)
        # does not swallow the event meant for the newest wait
        # (DurableOrchestrationContext.WaitForExternalEvent). Events with no
        # waiter are buffered, oldest first.
        name = event.get("Name") or ""
        call = self._entity_calls.pop(name, None)
        if call is not None:  # an entity's answer to call_entity
            call.finish(failed='"exceptionType"' in (event.get("Input") or ""))
            return
        waiters = self._waiters[name]
        while waiters:
            node = waiters.pop()
            if not node.done:
                node.finish()
                return
        self._buffered[name].append(event)

    def _compound(self, action: Action) -> _Node:
        node = _Node(action.describe())
        children = [self._invoke(child) for child in action.children]
        if not children:
            node.finish()
            return node
        if action.type is ActionType.WhenAny:
            for child in children:
                child.on_done(lambda c: node.finish())
            return node
        remaining = {id(c) for c in children}
        failed = [False]

        def child_done(child: _Node) -> None:
            failed[0] = failed[0] or child.failed
            remaining.discard(id(child))
            if not remaining:
                node.finish(failed=failed[0])

        for child in children:
            child.on_done(child_done)
        return node

    def _retry(self, action: Action) -> _Node:
        policy: RetryPolicy | None = action.retry
        if policy is None:
            raise UnsupportedAction(f"{action.describe()} carries no retryOptions")
        kind = (
            EventType.TaskScheduled
            if action.type is ActionType.CallActivityWithRetry
            else EventType.SubOrchestrationInstanceCreated
        )
        outer = _Node(action.describe())
        first_attempt = self._now
        state = {"retry_count": 0}

        def attempt() -> None:
            label = f"{action.describe()} attempt {state['retry_count'] + 1}"
            self._schedule(kind, action, label).on_done(attempt_done)

        def attempt_done(node: _Node) -> None:
            if not node.failed:
                outer.finish()
                return
            now = self._now or first_attempt
            delay = policy.next_delay(state["retry_count"], first_attempt or now, now)
            if delay.total_seconds() <= 0:
                outer.finish(failed=True)
                return
            label = f"retry timer of {action.describe()} after attempt {state['retry_count'] + 1}"
            self._timer(now + delay, False, label).on_done(timer_done)

        def timer_done(_node: _Node) -> None:
            state["retry_count"] += 1
            if state["retry_count"] >= policy.max_number_of_attempts:
                outer.finish(failed=True)
            else:
                attempt()

        attempt()
        return outer

    # -- determinism check --------------------------------------------------
    def _match(self, position: int, event: Event) -> None:
        event_id = int(event["EventId"])
        kind = EventType(event["EventType"])
        created = self._unmatched.pop(event_id, None)
        expected = describe(event)
        if created is None:
            if self._awaiting_action is not None:
                actual = f"no call with that sequence number (it is waiting on {self._awaiting_action.describe()})"
            else:
                actual = "no further call (its action list ends before this point)"
            raise NonDeterminismError(position, event_id, expected, actual)
        if kind is EventType.EventSent:
            message = sent_message(event)
            same = (created.kind is kind and created.instance_id == event.get("InstanceId")
                    and created.name == message.get("op") and created.signal == bool(message.get("signal")))
            if not same:
                raise NonDeterminismError(position, event_id, expected, created.label)
            node = self._open.pop(event_id, None)
            if node is not None and not created.signal:
                self._entity_calls[str(message.get("id"))] = node
            return
        same_name = kind is EventType.TimerCreated or created.name == event.get("Name")
        if created.kind is not kind or not same_name:
            raise NonDeterminismError(position, event_id, expected, created.label)
