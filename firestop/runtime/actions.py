"""Parsing what the Durable Functions Python SDK returns from an orchestrator.

Output shape (NOTES.md "Orchestrator output", SDK ``OrchestratorState``):
``{"isDone": bool, "schemaVersion": 2 (absent for V1), "actions": [[...]],
"output": any (absent if None), "error": str (only on failure),
"customStatus": any (only if truthy)}``.

* Schema V2/V3 (what the local host asks for): ``actions`` is one inner list
  that keeps growing, one entry per ``yield``; ``task_all``/``task_any`` are
  compound actions (actionType 12/11) with ``compoundActions``; a retryable
  call is wrapped in a WhenAll compound.
* Entity actions (CallEntity 7, SignalEntity 9): ``instanceId`` is the
  entity's scheduler id ``@name@key``, ``operation`` the operation name,
  ``input`` JSON text (``CallEntityAction`` / ``SignalEntityAction``).
* Schema V1: a list of per-yield groups with compounds flattened.
* An unhandled orchestrator exception makes the SDK *raise*
  ``Exception("<message>\\n\\n$OutOfProcData$:<state JSON>")``
  (``TaskOrchestrationExecutor.get_orchestrator_state_str``, corpus 14);
  :func:`parse_raised` recovers the state from it.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct, structs

from .history import parse_timestamp

OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


class ActionType(enum.IntEnum):
    """Extension ``AsyncActionType`` (OutOfProcOrchestrationShim.cs)."""

    CallActivity = 0
    CallActivityWithRetry = 1
    CallSubOrchestrator = 2
    CallSubOrchestratorWithRetry = 3
    ContinueAsNew = 4
    CreateTimer = 5
    WaitForExternalEvent = 6
    CallEntity = 7
    CallHttp = 8
    SignalEntity = 9
    ScheduledSignalEntity = 10
    WhenAny = 11
    WhenAll = 12


class RetryPolicy(Struct, frozen=True):
    """DurableTask.Core ``RetryOptions`` as the extension builds them from ``retryOptions``.

    The Python SDK sends only ``firstRetryIntervalInMilliseconds`` and
    ``maxNumberOfAttempts``; the other fields default like .NET's
    (coefficient 1, no max interval, no timeout).
    """

    first_retry_interval_ms: float
    max_number_of_attempts: int
    backoff_coefficient: float = 1.0
    max_retry_interval_ms: float | None = None
    retry_timeout_ms: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RetryPolicy":
        return cls(
            first_retry_interval_ms=float(data["firstRetryIntervalInMilliseconds"]),
            max_number_of_attempts=int(data["maxNumberOfAttempts"]),
            backoff_coefficient=float(data.get("backoffCoefficient", 1.0) or 1.0),
            max_retry_interval_ms=_opt_float(data.get("maxRetryIntervalInMilliseconds")),
            retry_timeout_ms=_opt_float(data.get("retryTimeoutInMilliseconds")),
        )

    def next_delay(self, retry_count: int, first_attempt: datetime, now: datetime) -> timedelta:
        """DurableTask.Core ``RetryInterceptor.ComputeNextDelay``; zero means "give up"."""
        if self.retry_timeout_ms is not None and now >= first_attempt + timedelta(
            milliseconds=self.retry_timeout_ms
        ):
            return timedelta(0)
        delay_ms = self.first_retry_interval_ms * (self.backoff_coefficient**retry_count)
        if self.max_retry_interval_ms is not None:
            delay_ms = min(delay_ms, self.max_retry_interval_ms)
        return timedelta(milliseconds=delay_ms)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Action:
    """One action of the SDK output (compound actions keep their children)."""

    type: ActionType
    function_name: str | None = None
    input: str | None = None  # JSON text, as the SDK serialized it
    instance_id: str | None = None
    fire_at: datetime | None = None
    is_canceled: bool = False
    event_name: str | None = None
    operation: str | None = None  # entity operation name (CallEntity / SignalEntity)
    retry: RetryPolicy | None = None
    children: tuple["Action", ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> str:
        """Human wording in the SDK's API terms, e.g. ``call_activity('get_account')``."""
        t = self.type
        if t in (ActionType.CallActivity, ActionType.CallActivityWithRetry):
            suffix = "_with_retry" if t is ActionType.CallActivityWithRetry else ""
            return f"call_activity{suffix}({self.function_name!r})"
        if t in (ActionType.CallSubOrchestrator, ActionType.CallSubOrchestratorWithRetry):
            suffix = "_with_retry" if t is ActionType.CallSubOrchestratorWithRetry else ""
            return f"call_sub_orchestrator{suffix}({self.function_name!r})"
        if t is ActionType.CreateTimer:
            return f"create_timer(fire_at={self.fire_at.isoformat() if self.fire_at else None})"
        if t is ActionType.WaitForExternalEvent:
            return f"wait_for_external_event({self.event_name!r})"
        if t is ActionType.ContinueAsNew:
            return "continue_as_new(...)"
        if t in (ActionType.CallEntity, ActionType.SignalEntity):
            verb = "call_entity" if t is ActionType.CallEntity else "signal_entity"
            return f"{verb}({self.instance_id!r}, {self.operation!r})"
        if t in (ActionType.WhenAll, ActionType.WhenAny):
            name = "task_all" if t is ActionType.WhenAll else "task_any"
            return f"{name}([{', '.join(c.describe() for c in self.children)}])"
        return t.name

    def atoms(self) -> list["Action"]:
        """Depth-first list of non-compound actions (V1-style flattening)."""
        if self.children or self.type in (ActionType.WhenAll, ActionType.WhenAny):
            out: list[Action] = []
            for child in self.children:
                out.extend(child.atoms())
            return out
        return [self]


def parse_action(data: dict[str, Any]) -> Action:
    """Parse one action dict (recursively for compound actions)."""
    kind = ActionType(int(data["actionType"]))
    fire_at = data.get("fireAt")
    retry = data.get("retryOptions")
    return Action(
        type=kind,
        function_name=data.get("functionName"),
        input=data.get("input"),
        instance_id=data.get("instanceId"),
        fire_at=parse_timestamp(fire_at) if isinstance(fire_at, str) else None,
        is_canceled=bool(data.get("isCanceled", False)),
        event_name=data.get("externalEventName"),
        operation=data.get("operation"),
        retry=RetryPolicy.from_json(retry) if isinstance(retry, dict) else None,
        children=tuple(parse_action(c) for c in data.get("compoundActions") or ()),
        raw=data,
    )


class OrchestratorOutput(Struct, frozen=True):
    """One episode's answer from the SDK.

    ``actions`` is the V2/V3 single action list (for V1 output: the groups
    concatenated, compounds already flattened by the SDK). ``raised`` tells
    whether the SDK raised (unhandled orchestrator exception) rather than
    returned.
    """

    is_done: bool
    schema_version: int
    actions: tuple[Action, ...]
    action_groups: tuple[tuple[Action, ...], ...]
    output: Any = None
    error: str | None = None
    custom_status: Any = None
    raised: bool = False


def raw_actions(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The action dicts of a decoded state, groups concatenated (V2/V3: the one growing list)."""
    return [a for group in state.get("actions") or () for a in group]


def parse_state(state: dict[str, Any], *, raised: bool = False, skip: int = 0) -> OrchestratorOutput:
    """Parse the decoded state dict (returned JSON or ``$OutOfProcData$`` payload).

    ``skip``: leave out the first ``skip`` actions (of the concatenated list),
    which the caller already holds parsed; ``actions`` then holds the rest and
    ``action_groups`` is empty.
    """
    if skip:
        flat = tuple(parse_action(a) for a in raw_actions(state)[skip:])
        groups: tuple[tuple[Action, ...], ...] = ()
    else:
        groups = tuple(tuple(parse_action(a) for a in group) for group in state.get("actions") or ())
        flat = tuple(a for group in groups for a in group)
    return OrchestratorOutput(
        is_done=bool(state.get("isDone", False)),
        schema_version=int(state.get("schemaVersion", 0)),
        actions=flat,
        action_groups=groups,
        output=state.get("output"),
        error=state.get("error"),
        custom_status=state.get("customStatus"),
        raised=raised,
    )


def parse_output(returned: str | dict[str, Any]) -> OrchestratorOutput:
    """Parse the string an orchestrator ``handle`` returned."""
    state = json.loads(returned) if isinstance(returned, (str, bytes)) else returned
    return parse_state(state)


def parse_raised(exc: BaseException) -> OrchestratorOutput:
    """Parse the exception the SDK raised for an unhandled orchestrator exception.

    The message is ``"<error>\\n\\n$OutOfProcData$:<state JSON>"``; the state
    carries the actions so far and ``error``. An exception without the marker
    (an SDK-internal error) becomes a failed state with no actions.
    """
    message = str(exc)
    head, marker, tail = message.partition(OUT_OF_PROC_MARKER)
    if marker:
        try:
            state = json.loads(tail)
        except ValueError:
            state = None
        if isinstance(state, dict):
            parsed = parse_state(state, raised=True)
            if not parsed.error:
                parsed = structs.replace(parsed, error=head or type(exc).__name__)
            return parsed
    return OrchestratorOutput(
        is_done=False,
        schema_version=0,
        actions=(),
        action_groups=(),
        error=message or type(exc).__name__,
        raised=True,
    )
