"""Accept a parsed alert: dedupe, correlate, then start an incident or notify an open one.

Everything goes through the Durable Functions client that an HTTP function
gets from ``@durable_client_input`` (the SDK's ``DurableOrchestrationClient``):
on Azure it talks to the Durable extension, locally to
``firestop.runtime.ManagementServer``. There is no other store: an incident
*is* its orchestration instance (id = ``Alert.incident_key``), and open
incidents are found with ``get_status_by`` (runtime status Pending/Running,
created within the correlation window) plus ``get_status(show_input=True)`` for
each one's ``alert.target_ids`` (instance lists do not carry inputs unless
``showInput=true``, which ``get_status_by`` does not send). An incident is
matched on the targets of the alert that started it.

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

Repeats of a joined or notified alert: a repeat is answered from an
in-process memo of accepted answers (``dedupe_key`` → outcome, kept
:data:`MEMO_SECONDS`) once the incident it names is confirmed to still exist
with the same creation time, so it gets the same answer and raises no second
event — even after that incident closed. Azure Monitor retries within about
75 s (5, 20, 5, 40, 5 s; ``action-groups.md``). Another worker process has no
memo: there a repeat is decided again (at worst the event is raised twice — the
orchestrator sees ``alert_id`` twice — or, if the incident closed meanwhile, a
Fired repeat opens a new incident).

Open-incident listings are reused for :data:`LISTING_SECONDS` of wall time
(a storm lists once, not once per alert). A stale listing is safe: an incident
it shows open that has closed refuses the event and the decision is retaken
with a fresh listing; an incident it does not show yet is found by the fresh
listing taken under the start lock before any new incident starts.

Failures: any error of the Durable client (store down, unexpected status,
transport) raises :class:`IntakeUnavailable` before anything is answered as
accepted; the webhook turns it into 503 so Azure Monitor retries.
"""

from __future__ import annotations

import json
import threading
import time
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
    "LISTING_SECONDS",
    "MEMO_SECONDS",
    "OPEN_STATUSES",
    "IntakeUnavailable",
    "Outcome",
    "OutcomeKind",
    "accept_alert",
    "clear_caches",
    "target_ids_of_input",
]

#: Runtime statuses of an open incident (``OrchestrationRuntimeStatus`` values).
OPEN_STATUSES: frozenset[str] = frozenset({"Pending", "Running"})

#: Seconds an accepted joined/notified answer is remembered for repeats (wall time).
MEMO_SECONDS = 900.0
#: Seconds of wall time an open-incident listing is reused.
LISTING_SECONDS = 1.0

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


class _Cache:
    """A bounded, thread-safe LRU map whose entries expire ``ttl`` seconds
    (``time.monotonic``) after they were put; ``ttl=None`` never expires."""

    def __init__(self, maxsize: int, ttl: float | None) -> None:
        self._maxsize = maxsize
        self._ttl = ttl
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if self._ttl is not None and time.monotonic() - entry[0] > self._ttl:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return entry[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def drop(self, key: Any) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# (scope, instance id, created time) -> target ids: an instance's input never changes
_targets_cache = _Cache(maxsize=4096, ttl=None)
# (scope, dedupe key) -> (Outcome, created time of its incident)
_answers = _Cache(maxsize=20_000, ttl=MEMO_SECONDS)
# (scope, window seconds) -> list[OpenIncident]
_listings = _Cache(maxsize=64, ttl=LISTING_SECONDS)


def clear_caches() -> None:
    """Forget remembered answers, listings and incident targets (tests; a task hub reset)."""
    for cache in (_targets_cache, _answers, _listings):
        cache.clear()


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
    scope: str


async def _open_incidents(call: _Call, *, fresh: bool = False) -> list[OpenIncident]:
    """Open incidents created within the window (a listing at most LISTING_SECONDS old unless ``fresh``)."""
    key = (call.scope, call.settings.window_seconds)
    if not fresh:
        cached = _listings.get(key)
        if cached is not None:
            return cached
    found = await _list_open_incidents(call)
    _listings.put(key, found)
    return found


async def _list_open_incidents(call: _Call) -> list[OpenIncident]:
    from azure.durable_functions import OrchestrationRuntimeStatus

    since = (call.now - timedelta(seconds=call.settings.window_seconds)).astimezone(timezone.utc)
    try:
        listed = await call.client.get_status_by(
            created_time_from=since,
            runtime_status=[OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running],
        )
    except Exception as exc:  # noqa: BLE001
        raise IntakeUnavailable(f"get_status_by(open incidents) failed: {type(exc).__name__}") from exc
    found: list[OpenIncident] = []
    for status in listed:
        created = getattr(status, "created_time", None)
        if status.name != call.orchestrator_name or not status.instance_id or created is None:
            continue
        if _runtime(status) not in OPEN_STATUSES:
            continue
        key = (call.scope, status.instance_id, created.isoformat())
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
                             data: dict[str, Any], kind: OutcomeKind, *, fresh: bool = False) -> Outcome | None:
    """Raise ``event`` on the open incident ``alert`` correlates with; None if there is none."""
    for attempt in range(_ATTEMPTS):
        candidates = await _open_incidents(call, fresh=fresh or attempt > 0)
        match = find_incident(keys, candidates, now=call.now, settings=call.settings, exclude=alert.incident_key)
        if match is None:
            return None
        if await _raise(call.client, match.instance_id, event, data) is None:
            _remember(call, alert, Outcome(kind, match.instance_id, correlated_to=match.instance_id),
                      match.created_time)
            return Outcome(kind, match.instance_id, correlated_to=match.instance_id)
    return None


def _remember(call: _Call, alert: Any, outcome: Outcome, created: datetime | None) -> None:
    if created is not None:
        _answers.put((call.scope, alert.dedupe_key), (outcome, created.isoformat()))


async def _remembered(call: _Call, alert: Any) -> Outcome | None:
    """The answer given to an earlier delivery of ``alert``, if its incident still exists unchanged."""
    entry = _answers.get((call.scope, alert.dedupe_key))
    if entry is None:
        return None
    outcome, created = entry
    status = await _status(call.client, outcome.instance_id)
    if status is None or getattr(status, "created_time", None) is None or status.created_time.isoformat() != created:
        _answers.drop((call.scope, alert.dedupe_key))  # purged or replaced since: decide again
        return None
    return outcome


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
        joined = await _notify_correlated(call, alert, keys, EVENT_CORRELATED, data, OutcomeKind.CORRELATED,
                                          fresh=True)
        if joined is not None:
            return joined
        started = await _start(call, alert)
        _listings.drop((call.scope, call.settings.window_seconds))
        return started


async def _resolved(call: _Call, alert: Any) -> Outcome:
    data = resolved_event(alert, received_at=call.now)
    own = await _status(call.client, alert.incident_key)
    if own is not None:
        runtime = _runtime(own)
        if runtime in OPEN_STATUSES:
            runtime = await _raise(call.client, alert.incident_key, EVENT_RESOLVED, data)
            if runtime is None:
                outcome = Outcome(OutcomeKind.RESOLVED, alert.incident_key)
                _remember(call, alert, outcome, getattr(own, "created_time", None))
                return outcome
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
    cache_scope: str = "",
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
        cache_scope: what, besides the client's task hub and endpoint, tells
            one Durable backend from another in this process (the memo and
            listings are kept per scope).

    Returns:
        The :class:`Outcome`; when ``outcome.accepted`` the alert is recorded in
        the Durable store (instance started, or event enqueued).

    Raises:
        IntakeUnavailable: the Durable client failed; nothing is known to be recorded.
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware UTC datetime")
    scope = f"{_scope(client)}|{cache_scope}"
    call = _Call(client, now.astimezone(timezone.utc), settings, orchestrator_name, start_input, scope)
    async with _deliveries.hold([f"delivery:{alert.dedupe_key}"]):
        remembered = await _remembered(call, alert)
        if remembered is not None:
            return remembered
        if alert.is_resolved:
            return await _resolved(call, alert)
        return await _fired(call, alert)
