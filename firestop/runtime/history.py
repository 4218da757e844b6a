"""History events in the shape the Durable extension hands to the Python SDK.

Shapes follow DurableTask.Core's history events as Newtonsoft serializes them
(PascalCase keys), documented in ``/work/shared/corpus/durable/NOTES.md`` and
seen in ``corpus/durable/host-captured/history-two-activities-2019.json``:

* every event has ``EventType`` (int), ``EventId`` (int, -1 unless it is a
  scheduling event, where it is the orchestration's sequence number) and
  ``Timestamp`` (ISO 8601, 7 fractional digits, ``Z``);
* ``IsPlayed`` is *not* stored: :func:`mark_played` adds it when a context is
  built (``True`` for events of earlier episodes, ``False`` for new ones);
* inputs and results are JSON **strings** (``"null"``, ``"{\\"a\\": 1}"``).

All datetimes taken and returned here are aware UTC datetimes.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timezone
from typing import Any

Event = dict[str, Any]


class EventType(enum.IntEnum):
    """DurableTask.Core ``EventType`` values (NOTES.md table)."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20


#: Events whose ``EventId`` is a sequence number allocated by the orchestrator
#: (EventSent: an entity call or signal, ``entities.py``).
SCHEDULING_EVENTS = frozenset(
    {EventType.TaskScheduled, EventType.TimerCreated, EventType.SubOrchestrationInstanceCreated,
     EventType.EventSent}
)


def format_timestamp(when: datetime) -> str:
    """Render an aware datetime as .NET does: ``2024-05-24T12:00:01.0000000Z``."""
    if when.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_timestamp(text: str) -> datetime:
    """Parse a history timestamp (up to 7 fractional digits, ``Z`` or offset) to aware UTC."""
    match = _TIMESTAMP.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    head, frac, zone = match.group("head", "frac", "zone")
    zone = "+00:00" if zone in (None, "", "Z", "z") else zone
    parsed = datetime.fromisoformat(f"{head}.{(frac or '').ljust(6, '0')[:6]}{zone}")
    return parsed.astimezone(timezone.utc)


_TIMESTAMP = re.compile(
    r"^(?P<head>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?(?P<zone>Z|z|[+-]\d{2}:\d{2})?$"
)


def _base(event_type: EventType, when: datetime, event_id: int = -1) -> Event:
    return {"EventType": int(event_type), "EventId": event_id, "Timestamp": format_timestamp(when)}


def orchestrator_started(when: datetime) -> Event:
    """Marks an episode; its Timestamp is the orchestrator's ``current_utc_datetime``."""
    return _base(EventType.OrchestratorStarted, when)


def orchestrator_completed(when: datetime) -> Event:
    return _base(EventType.OrchestratorCompleted, when)


def execution_started(
    *,
    instance_id: str,
    execution_id: str,
    name: str,
    input_json: str | None,
    when: datetime,
    parent: dict[str, Any] | None = None,
) -> Event:
    """ExecutionStarted. ``Version`` is required by the SDK (NOTES.md); ``Input`` is a JSON string.

    ``parent`` is DurableTask.Core's ParentInstance: ``{"Name", "Version",
    "TaskScheduleId", "OrchestrationInstance": {"InstanceId", "ExecutionId"}}``.
    """
    event = {
        "OrchestrationInstance": {"InstanceId": instance_id, "ExecutionId": execution_id},
        "EventType": int(EventType.ExecutionStarted),
        "ParentInstance": parent,
        "Name": name,
        "Version": "",
        "Input": input_json if input_json is not None else "null",
        "Tags": None,
        "EventId": -1,
        "Timestamp": format_timestamp(when),
    }
    return event


def execution_completed(*, status: str, result_json: str | None, when: datetime,
                        failure: dict[str, Any] | None = None) -> Event:
    """ExecutionCompleted with ``OrchestrationStatus`` Completed/Failed/Terminated/ContinuedAsNew.

    DurableTask.Core records every terminal transition (including failures) as
    ExecutionCompleted with a status, not as ExecutionFailed.
    """
    event = _base(EventType.ExecutionCompleted, when)
    event.update({"OrchestrationStatus": status, "Result": result_json})
    if failure is not None:
        event["FailureDetails"] = failure
    return event


def execution_terminated(*, reason_json: str, when: datetime) -> Event:
    event = _base(EventType.ExecutionTerminated, when)
    event["Input"] = reason_json
    return event


def task_scheduled(*, event_id: int, name: str, when: datetime) -> Event:
    """TaskScheduled; ``Input`` is null in host history (NOTES.md, corpus 02)."""
    event = _base(EventType.TaskScheduled, when, event_id)
    event.update({"Name": name, "Version": "", "Input": None})
    return event


def task_completed(*, task_id: int, result_json: str, when: datetime) -> Event:
    event = _base(EventType.TaskCompleted, when)
    event.update({"TaskScheduledId": task_id, "Result": result_json})
    return event


def task_failed(*, task_id: int, reason: str, details: str, when: datetime) -> Event:
    event = _base(EventType.TaskFailed, when)
    event.update({"TaskScheduledId": task_id, "Reason": reason, "Details": details})
    return event


def timer_created(*, event_id: int, fire_at: datetime, when: datetime) -> Event:
    event = _base(EventType.TimerCreated, when, event_id)
    event["FireAt"] = format_timestamp(fire_at)
    return event


def timer_fired(*, timer_id: int, fire_at: datetime) -> Event:
    """TimerFired; its Timestamp is the fire time (corpus 06/09)."""
    event = _base(EventType.TimerFired, fire_at)
    event.update({"TimerId": timer_id, "FireAt": format_timestamp(fire_at)})
    return event


def sub_orchestration_created(*, event_id: int, name: str, instance_id: str, when: datetime) -> Event:
    event = _base(EventType.SubOrchestrationInstanceCreated, when, event_id)
    event.update({"Name": name, "Version": "", "Input": None, "InstanceId": instance_id})
    return event


def sub_orchestration_completed(*, task_id: int, result_json: str | None, when: datetime) -> Event:
    event = _base(EventType.SubOrchestrationInstanceCompleted, when)
    event.update({"TaskScheduledId": task_id, "Result": result_json})
    return event


def sub_orchestration_failed(*, task_id: int, reason: str, details: str, when: datetime) -> Event:
    event = _base(EventType.SubOrchestrationInstanceFailed, when)
    event.update({"TaskScheduledId": task_id, "Reason": reason, "Details": details})
    return event


def event_raised(*, name: str, input_json: str, when: datetime) -> Event:
    """EventRaised; the payload travels in ``Input`` as a JSON string (corpus 08)."""
    event = _base(EventType.EventRaised, when)
    event.update({"Name": name, "Input": input_json})
    return event


def mark_played(past: list[Event], new: list[Event]) -> list[Event]:
    """Copy events adding ``IsPlayed`` (True for earlier episodes, False for this one)."""
    return [dict(e, IsPlayed=True) for e in past] + [dict(e, IsPlayed=False) for e in new]


def describe(event: Event) -> str:
    """Human wording of a scheduling event, in the SDK's API terms."""
    kind = EventType(event["EventType"])
    if kind is EventType.TaskScheduled:
        return f"call_activity({event.get('Name')!r})"
    if kind is EventType.TimerCreated:
        return f"create_timer(fire_at={event.get('FireAt')})"
    if kind is EventType.SubOrchestrationInstanceCreated:
        return f"call_sub_orchestrator({event.get('Name')!r})"
    if kind is EventType.EventSent:
        import json

        try:
            message = json.loads(event.get("Input") or "{}")
        except ValueError:
            message = {}
        verb = "signal_entity" if message.get("signal") else "call_entity"
        return f"{verb}({event.get('InstanceId')!r}, {message.get('op')!r})"
    return kind.name
