"""Accept a parsed alert: dedupe, correlate, then start an incident or notify an open one.

Everything goes through the Durable Functions client that an HTTP function
gets from ``@durable_client_input`` (the SDK's ``DurableOrchestrationClient``):
on Azure it talks to the Durable extension, locally to
``firestop.runtime.ManagementServer``. There is no other store: an incident
*is* its orchestration instance (id = ``Alert.incident_key``), and open
incidents are found with ``get_status_by`` (runtime status Pending/Running,
created within the correlation window) plus ``get_status(show_input=True)`` for
each one's ``alert.target_ids`` (instance lists do not carry inputs unless
``showInput=true``, which ``get_status_by`` does not send).

Decisions (:func:`accept_alert`):

* **Fired**, instance ``incident_key`` exists in any state → ``duplicate``
  (same answer as the first delivery; nothing started). Else an open incident
  sharing a correlation key (:mod:`firestop.intake.correlation`) → raise
  ``alert_correlated`` on it → ``correlated``. Else ``start_new`` →
  ``started``; if the start is refused (Azure: "already exists" when host.json
  sets ``overridableExistingInstanceStates: NonRunningStates``; the default
  ``AnyState`` replaces a running instance — learn.microsoft.com,
  ``OverridableStates`` enum) and the instance now exists → ``duplicate``.
* **Resolved**: instance ``incident_key`` open → raise ``alert_resolved`` →
  ``resolved``; finished → ``closed``; missing → the open incident the alert
  correlates with gets ``alert_resolved`` → ``resolved`` (with
  ``correlated_to``), else ``no_incident``. Never starts anything.

Concurrency: deliveries with the same dedupe key, and starts for the same
correlation key, are serialised per worker process (:class:`KeyedLocks`), so
within one process a burst of distinct alerts for one resource starts exactly
one incident. Across scaled-out workers the list-then-start is not atomic: two
workers can each start an incident for the same resource in the same instant.

Failures: any error of the Durable client (store down, unexpected status,
transport) raises :class:`IntakeUnavailable` before anything is answered as
accepted; the webhook turns it into 503 so Azure Monitor retries.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Callable

from firestop.intake.correlation import (
    CorrelationSettings,
    OpenIncident,
    correlation_keys,
    find_incident,
)
from firestop.intake.events import EVENT_CORRELATED, EVENT_RESOLVED, correlated_event, resolved_event
from firestop.intake.locks import KeyedLocks

__all__ = [
    "OPEN_STATUSES",
    "IntakeUnavailable",
    "Outcome",
    "OutcomeKind",
    "accept_alert",
    "target_ids_of_input",
]

#: Runtime statuses of an open incident (``OrchestrationRuntimeStatus`` values).
OPEN_STATUSES: frozenset[str] = frozenset({"Pending", "Running"})

# How many times a decision is retaken when the incident it picked closes
# between the listing and the raise_event.
_ATTEMPTS = 3


class IntakeUnavailable(Exception):
    """The Durable store could not be read or written; nothing was accepted.

    The message says which call failed (no payload content).
    """


class OutcomeKind(StrEnum):
    """What :func:`accept_alert` did."""

    STARTED = "started"  # a new incident orchestration was started
    DUPLICATE = "duplicate"  # this Fired alert's incident already exists: nothing started
    CORRELATED = "correlated"  # alert_correlated raised on an open incident
    RESOLVED = "resolved"  # alert_resolved raised on an open incident
    CLOSED = "closed"  # Resolved for an incident that has already finished: nothing done
    NO_INCIDENT = "no_incident"  # Resolved with no incident to reach: nothing done


_ACCEPTED = frozenset({OutcomeKind.STARTED, OutcomeKind.DUPLICATE, OutcomeKind.CORRELATED, OutcomeKind.RESOLVED})


@dataclass(frozen=True)
class Outcome:
    """The decision for one delivery.

    Attributes:
        kind: see :class:`OutcomeKind`.
        instance_id: the incident the alert belongs to (the one started, found,
            joined or notified); None for ``no_incident``.
        correlated_to: the open incident's id when the alert reached an
            incident other than its own (``correlated``, ``resolved``), else None.
        runtime_status: for ``closed``, the incident's runtime status.
    """

    kind: OutcomeKind
    instance_id: str | None
    correlated_to: str | None = None
    runtime_status: str | None = None

    @property
    def accepted(self) -> bool:
        """True when the alert is durably recorded on an incident (answer 202)."""
        return self.kind in _ACCEPTED

    @property
    def http_status(self) -> int:
        """202 when :attr:`accepted`, else 200."""
        return 202 if self.accepted else 200


_deliveries = KeyedLocks()
_starts = KeyedLocks()


class _TargetCache:
    """``(scope, instance id, created time) → target ids``: an instance's input never changes."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._maxsize = maxsize
        self._data: OrderedDict[tuple[str, str, str], tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> tuple[str, ...] | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, str], value: tuple[str, ...]) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_targets_cache = _TargetCache()


def target_ids_of_input(value: Any) -> tuple[str, ...]:
    """``alert.target_ids`` of an incident orchestration input (pure).

    ``value`` is the input as a status query returns it: the decoded object,
    or JSON text (possibly JSON text encoded again as a JSON string, as the SDK
    client posts it). Anything without a list of strings there gives ``()``.
    """
    for _ in range(3):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            return ()
    if not isinstance(value, dict):
        return ()
    alert = value.get("alert")
    targets = alert.get("target_ids") if isinstance(alert, dict) else None
    if not isinstance(targets, list):
        return ()
    return tuple(t for t in targets if isinstance(t, str))


def _runtime(status: Any) -> str | None:
    value = getattr(status, "runtime_status", None)
    return getattr(value, "value", value)


def _scope(client: Any) -> str:
    bindings = getattr(client, "_orchestration_bindings", None)
    return f"{getattr(client, 'task_hub_name', '')}|{getattr(bindings, 'rpc_base_url', '')}"


async def _status(client: Any, instance_id: str, *, show_input: bool = False) -> Any | None:
    """The instance's status, None if it does not exist; IntakeUnavailable on any failure.

    The SDK returns a falsy status for a 404 (body = text) and a falsy status
    carrying ``Message``/``ExceptionMessage`` for an error body (500).
    """
    try:
        status = await client.get_status(instance_id, show_input=show_input)
    except Exception as exc:  # noqa: BLE001 — transport, unexpected status code
        raise IntakeUnavailable(f"get_status({instance_id}) failed: {type(exc).__name__}") from exc
    if status:
        return status
    if getattr(status, "ExceptionMessage", None) is not None or getattr(status, "Message", None) is not None:
        raise IntakeUnavailable(f"get_status({instance_id}) answered an error")
    return None


@dataclass(frozen=True)
class _Call:
    """One delivery's collaborators and receive time."""

    client: Any
    now: datetime
    settings: CorrelationSettings
    orchestrator_name: str
    start_input: Callable[[Any, datetime], Any]


async def _open_incidents(call: _Call) -> list[OpenIncident]:
    from azure.durable_functions import OrchestrationRuntimeStatus

    since = (call.now - timedelta(seconds=call.settings.window_seconds)).astimezone(timezone.utc)
    try:
        listed = await call.client.get_status_by(
            created_time_from=since,
            runtime_status=[OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running],
        )
    except Exception as exc:  # noqa: BLE001
        raise IntakeUnavailable(f"get_status_by(open incidents) failed: {type(exc).__name__}") from exc
    scope = _scope(call.client)
    found: list[OpenIncident] = []
    for status in listed:
        created = getattr(status, "created_time", None)
        if status.name != call.orchestrator_name or not status.instance_id or created is None:
            continue
        if _runtime(status) not in OPEN_STATUSES:
            continue
        key = (scope, status.instance_id, created.isoformat())
        targets = _targets_cache.get(key)
        if targets is None:
            full = await _status(call.client, status.instance_id, show_input=True)
            if full is None:  # purged since the listing
                continue
            targets = target_ids_of_input(full.input_)
            _targets_cache.put(key, targets)
        found.append(OpenIncident(status.instance_id, created, targets))
    return found


async def _raise(client: Any, instance_id: str, name: str, data: dict[str, Any]) -> str | None:
    """Raise the event; None when delivered, else the runtime status that made it
    undeliverable (the incident finished, or vanished: ``"missing"``, meanwhile)."""
    try:
        await client.raise_event(instance_id, name, data)
        return None
    except Exception as exc:  # noqa: BLE001 — 404/410 or a store failure; the status tells which
        status = await _status(client, instance_id)
        if status is None:
            return "missing"
        runtime = _runtime(status)
        if runtime in OPEN_STATUSES:
            raise IntakeUnavailable(f"raise_event({instance_id}, {name}) failed: {type(exc).__name__}") from exc
        return str(runtime)


def _keys(call: _Call, alert: Any) -> frozenset[str]:
    if not call.settings.enabled:
        return frozenset()
    return correlation_keys(alert.target_ids, call.settings.key)


async def _notify_correlated(call: _Call, alert: Any, keys: frozenset[str], event: str,
                             data: dict[str, Any], kind: OutcomeKind) -> Outcome | None:
    """Raise ``event`` on the open incident ``alert`` correlates with; None if there is none."""
    for _ in range(_ATTEMPTS):
        candidates = await _open_incidents(call)
        match = find_incident(keys, candidates, now=call.now, settings=call.settings, exclude=alert.incident_key)
        if match is None:
            return None
        if await _raise(call.client, match.instance_id, event, data) is None:
            return Outcome(kind, match.instance_id, correlated_to=match.instance_id)
    return None


async def _start(call: _Call, alert: Any) -> Outcome:
    try:
        await call.client.start_new(call.orchestrator_name, alert.incident_key, call.start_input(alert, call.now))
    except Exception as exc:  # noqa: BLE001 — refused (already exists) or the store failed
        if await _status(call.client, alert.incident_key) is not None:
            return Outcome(OutcomeKind.DUPLICATE, alert.incident_key)
        raise IntakeUnavailable(f"start_new({alert.incident_key}) failed: {type(exc).__name__}") from exc
    return Outcome(OutcomeKind.STARTED, alert.incident_key)


async def _fired(call: _Call, alert: Any) -> Outcome:
    if await _status(call.client, alert.incident_key) is not None:
        return Outcome(OutcomeKind.DUPLICATE, alert.incident_key)
    keys = _keys(call, alert)
    if not keys:
        return await _start(call, alert)
    data = correlated_event(alert, received_at=call.now)
    joined = await _notify_correlated(call, alert, keys, EVENT_CORRELATED, data, OutcomeKind.CORRELATED)
    if joined is not None:
        return joined
    async with _starts.hold(f"start:{key}" for key in keys):
        # another delivery may have started an incident for these keys while we listed
        joined = await _notify_correlated(call, alert, keys, EVENT_CORRELATED, data, OutcomeKind.CORRELATED)
        if joined is not None:
            return joined
        return await _start(call, alert)


async def _resolved(call: _Call, alert: Any) -> Outcome:
    data = resolved_event(alert, received_at=call.now)
    own = await _status(call.client, alert.incident_key)
    if own is not None:
        runtime = _runtime(own)
        if runtime in OPEN_STATUSES:
            runtime = await _raise(call.client, alert.incident_key, EVENT_RESOLVED, data)
            if runtime is None:
                return Outcome(OutcomeKind.RESOLVED, alert.incident_key)
        return Outcome(OutcomeKind.CLOSED, alert.incident_key, runtime_status=str(runtime))
    keys = _keys(call, alert)
    if keys:
        reached = await _notify_correlated(call, alert, keys, EVENT_RESOLVED, data, OutcomeKind.RESOLVED)
        if reached is not None:
            return reached
    return Outcome(OutcomeKind.NO_INCIDENT, None)


async def accept_alert(
    client: Any,
    alert: Any,
    *,
    now: datetime,
    settings: CorrelationSettings,
    orchestrator_name: str,
    start_input: Callable[[Any, datetime], Any],
) -> Outcome:
    """Decide and record what happens to ``alert`` (see the module docstring).

    Args:
        client: a ``DurableOrchestrationClient`` (or anything with its async
            ``get_status``, ``get_status_by``, ``start_new``, ``raise_event``).
        alert: a parsed ``firestop.alerts.Alert``.
        now: the receive time, aware UTC, from the same clock as the Durable
            backend's created times (the correlation window is measured with it).
        settings: correlation window (seconds) and key.
        orchestrator_name: the incident orchestrator's name (open incidents are
            instances of it).
        start_input: ``(alert, now) → orchestration input`` for a new incident.

    Returns:
        The :class:`Outcome`; when ``outcome.accepted`` the alert is recorded in
        the Durable store (instance started, or event enqueued).

    Raises:
        IntakeUnavailable: the Durable client failed; nothing is known to be recorded.
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware UTC datetime")
    call = _Call(client, now.astimezone(timezone.utc), settings, orchestrator_name, start_input)
    async with _deliveries.hold([f"delivery:{alert.dedupe_key}"]):
        if alert.is_resolved:
            return await _resolved(call, alert)
        return await _fired(call, alert)
