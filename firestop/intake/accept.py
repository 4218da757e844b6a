"""Accept a parsed alert: dedupe, correlate, then start an incident or join an open one.

Everything goes through the Durable Functions client that an HTTP function
gets from ``@durable_client_input`` (the SDK's ``DurableOrchestrationClient``):
on Azure it talks to the Durable extension, locally to
``firestop.runtime.ManagementServer``. There is no other store: an incident
*is* its orchestration instance.

One incident per attack, decided by the store (not by a worker's memory)
------------------------------------------------------------------------
A Fired alert's correlation keys (:mod:`firestop.intake.correlation`; by
default its target resources) each own a *slot*: the deterministic incident
ids ``slot_id(key, 1)``, ``slot_id(key, 2)``, … that every worker computes
alike. The current generation of a slot is found with point reads
(``get_status`` of ``slot_id(key, g)`` from the last generation this process
saw finished, upwards): the first one that is **open** (Pending/Running,
created within the correlation window) is the incident the alert joins; the
first that **does not exist** is the one to start. Among several keys, the
oldest open incident wins; a new incident takes the slot of the smallest key.

The start is ``start_new(orchestrator, slot_id(key, g))`` — *start if
absent*: host.json sets ``overridableExistingInstanceStates:
NonRunningStates``, so a start of an id whose instance is Pending or Running
is refused ("Option to only start a new orchestrator instance with an
existing instance Id when the existing instance is in a terminated, failed,
or completed state": ``OverridableStates`` enum, learn.microsoft.com; the
extension passes it as the *dedupe statuses* of every creation path — HTTP
API, client binding, and the gRPC server the Durable Task Scheduler uses —
and the create throws ``OrchestrationAlreadyExistsException``, answered 409:
azure-functions-durable-extension release notes, v1.16.0-worker-extension).
Two workers (two ``firestop serve`` processes on one FIRESTOP_HOME, two
Function App instances) racing for one slot both call ``start_new`` with the
same id; one start succeeds, the other is refused, reads the slot again and
joins. Locally the refusal is one SQLite ``BEGIN IMMEDIATE`` transaction
(``LocalDurableHost._create``: read the row, refuse if Pending/Running,
insert), atomic across the processes sharing the database — proven by
``tests/e2e/test_intake_processes.py`` and ``bench/intake.py storm``. On
Azure the same code needs nothing else: with the **Durable Task Scheduler**
the scheduler service owns the instance table and applies the dedupe check
to the create itself; with **Azure Storage** the check reads the Instances
table before the ExecutionStarted message is queued, so two creates within
the same few milliseconds can both pass it — both messages then land in the
one control queue that owns the id and run as one instance id (one
incident), but the second start's input may replace the first's. Neither
backend was exercised here (no Azure deployment); the Azure Storage window is
the reason the per-resource entity (below) is the next step. Residual gap on
every backend: NonRunningStates *replaces* a Completed instance, so if
generation g starts, runs to its end and completes between another worker's
read "g is absent" and that worker's start of g, the start replaces the
finished incident (its record stays filed under its id); the window is the
read-to-start gap of one request, an incident runs for seconds to hours.

Per-process locks (:class:`KeyedLocks`) only spare refused starts: they
serialise deliveries with the same dedupe key and starts for the same
correlation keys within one worker.

Correlated alerts go to the incident's tally entity, not its history
--------------------------------------------------------------------
A joined alert is *signalled* to the incident's tally entity
(``@incident_alerts@<incident id>``, :mod:`firestop.lifecycle.tally`) in a
batch (:func:`~firestop.intake.events.correlated_batch`); the 202 is answered
once the signal is stored (one short write: locally one insert into
``entity_ops``; on Azure the extension has queued the operation). Per
incident, a worker has at most one signal in flight; alerts accepted meanwhile
wait for it and go out together in the next (group commit without a delay:
:data:`RAISE_SPACING_SECONDS` is 0). Each batch reads the incident's status
first, after all its alerts arrived, and is signalled only while the incident
is Pending or Running; else its alerts decide again from fresh slot reads (a
new generation, or recorded after close). So the incident an alert joins may
come from the slot read of an earlier alert of this process (:data:`_open`,
kept :data:`OPEN_REUSE_SECONDS`): a storm on one incident costs one status read
and one signal per batch, no per-alert slot read, and an alert arriving after
its incident finished is still never tallied on it. The entity counts (deduped by alert id
digest across workers) and samples them; the orchestrator reads the tally once
before filing its record, so a storm adds two events to the incident's
history, not one per batch. A signal is not refused when the incident has
just finished (unlike ``raise_event``'s 410): an alert whose slot read found
the incident open in the milliseconds before it closed is counted by the
tally as ``late``, and the orchestrator puts it on its filed record
through the after-close path once that record is filed
(:func:`firestop.lifecycle.tally.late`; before lifecycle8 it was in no record).

One incident per attack across sources and playbooks
----------------------------------------------------
A slot is per resource *and route*, so an alert never joins an open incident running another
playbook and loses its own containment (the red team's decoy: ``tests/trust/test_redteam_correlation.py``).
What makes the same attack, seen by several sources, **one** incident:

* **Same route, incident open** → the alert joins it (``correlated``), as above. A Sentinel incident
  routes by the Defender alert types it holds and names the same resource, so a Defender alert and the
  Sentinel incident holding it share a slot; their identity link (the Defender ``systemAlertId`` in the
  incident's alerts, :func:`firestop.intake.events.identity_links`) is recorded with each.
* **Same route, incident ended** at most ``window_seconds`` ago (``last_updated_time``) **and it held**
  (record status ``contained`` or ``resolved``), the alert naming one resource: the alert is *recorded
  onto that incident* (``recorded``: a record revision lists it under ``correlated_after_close`` and on
  the timeline, ``record_after_close`` given by the Functions layer; nothing starts) **only when it adds
  nothing the containment did not already cover** (:func:`firestop.intake.coverage.covered_by`):

  - it is *identity-linked* to the incident — the same alert id, the same Defender ``systemAlertId``, a
    Sentinel incident holding that Defender alert (:func:`firestop.intake.events.identity_links` against
    the ids and links the record names); or
  - the activity it reports *began before the containment completed* — its evidence window start
    (Log Alerts V2 / metric ``condition.windowStartTime``, V1 ``SearchIntervalStartTimeUtc``), Activity Log
    ``eventTimestamp``, Defender ``startTimeUtc``, Sentinel ``firstActivityTimeUtc``
    (:func:`~firestop.intake.coverage.activity_start`) strictly before the record's ``contained_at``, else
    ``resolved_at``: a late evaluation of rows the containment already answered — and, for a security alert,
    its last activity (Defender ``endTimeUtc``, Sentinel ``lastActivityTimeUtc``, Graph ``lastActivityDateTime``,
    :func:`~firestop.intake.coverage.activity_end`) strictly before it too (activity seen after containment is new).

  Anything else reports **new activity** — the leaked-key rule firing again with requests made after the keys
  were rotated (the new key leaked too, or containment did not take) — and a new generation starts and
  contains again, its input and record naming the held incident (``follows: <id>``) so responders see the
  chain. An alert with no usable start time, or a record with no containment time, is never suppressed (fail
  safe: new incident). An incident that did not hold (``needs_responder``, ``stopped``, …) takes nothing after
  its end: a new generation starts and contains again. (The ``aftermath`` rule, below, is separate: failed
  requests only, naming only callers that incident already contained.)
* **Another route** on the same resource (a Policy state change routed to ``public-network-exposure``
  during a jailbreak incident): its playbook would contain something the first does not, so it **always
  starts its own run** in its own slot — immediately, never behind the other's approval — as a *part* of
  the attack's incident: the *anchor*, the oldest incident of another playbook route (``routes``, one
  point read per playbook) on the same resource, open or ended at most ``window_seconds`` ago (followed
  to its own anchor when it is itself a part). The part's input and record carry ``part_of``; the anchor
  gets the alert with ``part`` (an ``alert_correlated`` event while open, else a record revision). A decoy
  can thus at most add a line to the record of the alert it tries to swallow; it never holds its containment.
  Routes by alert rule (no ``firestop-playbook``) are not probed: such an alert can anchor nothing.

Decisions (:func:`accept_alert`):

* **Fired** with correlation keys → join the open incident of a slot
  (``correlated``), else start the slot's next generation (``started``); a
  start refused because the id just became Pending/Running → read again and
  join. A Fired alert that started the slot's last *finished* incident, or is
  sampled in its record → ``duplicate`` of it: a redelivery after the
  containment ended opens nothing.
* **Fired**, own slot with no open incident: its last finished generation ended within the window, held
  and covered the alert → ``recorded`` onto it (``correlated_to`` = it, ``reason`` = why covered;
  ``duplicate`` when already recorded); else a new generation starts (``started``, with ``part_of`` when an
  anchor of another route exists, ``follows`` when the last generation held but the alert is new activity).
* **Fired** without keys (correlation off, no target) → its own incident
  ``Alert.incident_key``; that instance existing in any state → ``duplicate``.
* **Resolved**: the instance ``incident_key`` or the open incident of a slot
  gets ``alert_resolved`` → ``resolved``; the slot's last incident finished and
  was this alert's → ``closed``; else ``no_incident``. Never starts anything. With the source check on, the
  incident holding the alert's confirmed Fired delivery (its once-marker names it) comes first — ``resolved``
  while open, else ``closed`` — so the notification reaches the genuine delivery's incident, not a forged one
  open on the slot (variants13).

Repeats: a repeat is answered from an in-process memo of accepted answers
(``dedupe_key`` → outcome, kept :data:`MEMO_SECONDS`) once the incident it
names is confirmed to still exist with the same creation time, so it gets the
same answer and raises no second event. Another worker has no memo: there a
repeat joins the same open incident again (counted twice in its tally), and a
repeat of the alert that started it joins it too — the same incident either
way, never a second one.

Cost per delivery: one point read per correlation key plus one signal or
start, independent of how many incidents are open; deliveries that need the
same instance's status while a read of it is in flight share that read, and
an alert whose keys' open incidents this process read in the last
:data:`OPEN_REUSE_SECONDS` reads no slot (a storm on one incident costs one
status read and one signal per batch of joined alerts, not one per alert). Generations known to be
finished are remembered per process (:data:`GENERATIONS_KEPT` slots); a fresh
process reads each finished generation of a slot once.

Failures: any error of the Durable client (store down, unexpected status,
transport) raises :class:`IntakeUnavailable` before anything is answered as
accepted; the webhook turns it into 503 so Azure Monitor retries.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Awaitable, Callable, Sequence

from msgspec import Struct

from firestop.instance_listing import decoded
from firestop.intake.correlation import CorrelationSettings, alert_keys, slot_id
from firestop.intake.events import (
    EVENT_RESOLVED,
    TALLY_ADD,
    TALLY_ENTITY,
    alert_summary,
    correlated_batch,
    resolved_event,
)
from firestop.intake.locks import KeyedLocks

log = logging.getLogger(__name__)

__all__ = [
    "GENERATIONS_KEPT",
    "MEMO_SECONDS",
    "HELD_STATUSES",
    "OPEN_STATUSES",
    "ConfirmedIncident",
    "RecordAfterClose",
    "RAISE_SPACING_SECONDS",
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
#: Slots whose first possibly-current generation this process remembers.
GENERATIONS_KEPT = 65_536
# Generations read in one walk up a slot: a fresh process on a resource with more finished
# incidents than this answers 503 (Azure Monitor retries) and goes on from there next time.
_WALK = 64

#: Seconds (``time.monotonic``) a slot read that found an open incident names the incident later alerts of that
#: correlation key join without reading the slot again. Not a validity of the status: every batch of joined alerts
#: reads the incident's status again before its signal (:class:`_Joiner`), so no alert is tallied on an incident
#: that had finished when it arrived; this only bounds how long a process keeps the hint.
OPEN_REUSE_SECONDS = 5.0

#: Seconds between two tally signals one worker sends for one incident (0: none; a signal is one short store
#: write). Joined alerts arriving while a signal is in flight wait for it and go out together in the next one.
RAISE_SPACING_SECONDS = 0.0

# How many times a decision is retaken when the incident it picked closes meanwhile, or a
# start is refused because another worker started the same slot.
_ATTEMPTS = 4


class IntakeUnavailable(Exception):
    """The Durable store could not be read or written; nothing was accepted.

    The message says which call failed (no payload content).
    """


class OutcomeKind(StrEnum):
    """What :func:`accept_alert` did."""

    STARTED = "started"  # a new incident orchestration was started
    DUPLICATE = "duplicate"  # this Fired alert's incident already exists: nothing started
    CORRELATED = "correlated"  # alert_correlated raised on an open incident
    RECORDED = "recorded"  # recorded onto the incident of its route that ended (and held) within the window
    RESOLVED = "resolved"  # alert_resolved raised on an open incident
    CLOSED = "closed"  # Resolved for an incident that has already finished: nothing done
    NO_INCIDENT = "no_incident"  # Resolved with no incident to reach: nothing done
    AFTERMATH = "aftermath"  # Fired on the attacker being refused after a recent containment: nothing started (aftermath.py)


_ACCEPTED = frozenset({OutcomeKind.STARTED, OutcomeKind.DUPLICATE, OutcomeKind.CORRELATED, OutcomeKind.RESOLVED,
                       OutcomeKind.RECORDED})
#: Record statuses of an incident that held: a later alert of its route is recorded onto it, not contained again.
HELD_STATUSES: frozenset[str] = frozenset({"contained", "resolved"})
#: Resources (correlation scopes) of one alert probed for an anchor of another route.
_ANCHOR_SCOPES = 5

#: ``(incident id, entry) -> "recorded" | "duplicate" | None``: file a revision of the finished incident's
#: record with ``entry`` (an :func:`alert_summary`, maybe with ``part``) added; None when it has no filed record.
RecordAfterClose = Callable[[str, dict[str, Any]], Awaitable[str | None]]

#: ``alert id -> incident id | None``: the incident whose source check confirmed this alert's Fired delivery (the
#: once-marker the confirm activity claims: :func:`firestop.azure.alerts_management.claim_name`), None when none did.
#: Raises on a store failure (the delivery is answered 503).
ConfirmedIncident = Callable[[str], Awaitable[str | None]]

#: ``(incident id, its run's received_at, delivery content digest, variant id, the variant's start input) ->
#: verdict``: keeps the delivery as a pending join of that incident run (create-if-absent:
#: :func:`firestop.records.pending_joins.keep`), *then* reads the run's source check verdict
#: (:func:`firestop.records.check_verdicts.read`): True confirmed, False not, None not answered yet. Raises on a store
#: failure (the delivery is answered 503). joins14.
PendingJoin = Callable[[str, str, str, str, Any], Awaitable[bool | None]]


class Outcome(Struct, frozen=True):
    """The decision for one delivery.

    Attributes:
        kind: see :class:`OutcomeKind`.
        instance_id: the incident the alert belongs to (the one started, found,
            joined or notified); None for ``no_incident``.
        correlated_to: the open incident's id when the alert reached an
            incident other than its own (``correlated``, ``resolved``), else None.
        runtime_status: for ``closed``, the incident's runtime status.
        reason: for ``aftermath``, why the alert belongs to that finished incident; for ``recorded``, why that
            incident's containment already covered it (:func:`firestop.intake.coverage.covered_by`).
        part_of: for ``started``, the attack's incident (another route, same resource) this one is a part of.
        follows: for ``started``, the held incident of the same route this alert reports new activity after.
    """

    kind: OutcomeKind
    instance_id: str | None
    correlated_to: str | None = None
    runtime_status: str | None = None
    reason: str | None = None
    part_of: str | None = None
    follows: str | None = None

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


# (scope, dedupe key) -> (Outcome, created time of its incident: an aware UTC datetime)
_answers = _Cache(maxsize=20_000, ttl=MEMO_SECONDS)
# (scope, correlation key) -> lowest generation that may be current (every one below is finished)
_generations = _Cache(maxsize=GENERATIONS_KEPT, ttl=None)
# (scope, correlation key) -> (id, status, created time) of the incident a slot read last found open and fresh: which
# incident the next alert of that key joins, for OPEN_REUSE_SECONDS. A hint only: the join checks it is still open with a
# read made after the alert arrived (_Joiner), and drops the hint when it is not.
_open = _Cache(maxsize=GENERATIONS_KEPT, ttl=OPEN_REUSE_SECONDS)


def clear_caches() -> None:
    """Forget remembered answers, slot generations and open incidents (tests; a task hub reset)."""
    for cache in (_answers, _generations, _open):
        cache.clear()


def target_ids_of_input(value: Any) -> tuple[str, ...]:
    """``alert.target_ids`` of an incident orchestration input (pure).

    ``value`` is the input as a status query returns it: the decoded object,
    or JSON text (possibly JSON text encoded again as a JSON string, as the SDK
    client posts it). Anything without a list of strings there gives ``()``.
    """
    value = decoded(value)
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


# (event loop, scope, instance id) -> the status read in flight: deliveries that need the same instance's status
# while a read of it is on its way share that read (a storm on one incident reads it once per round trip, not once
# per alert). Nothing is kept once the read is answered: every decision uses a read that was still in flight when
# the delivery asked, never an older one.
_reads: dict[tuple[int, str, str], asyncio.Future] = {}


async def _shared_status(call: "_Call", instance_id: str) -> Any | None:
    """:func:`_status` of ``instance_id``, joining a read of it already in flight on this event loop."""
    loop = asyncio.get_running_loop()
    key = (id(loop), call.scope, instance_id)
    pending = _reads.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    pending = _reads[key] = loop.create_future()
    try:
        status = await _status(call.client, instance_id)
    except BaseException as exc:
        # the reader's own cancellation (its request dropped) is not the sharers': they get IntakeUnavailable (503,
        # Azure Monitor retries), not a CancelledError that would end their deliveries unanswered
        pending.set_exception(IntakeUnavailable(f"get_status({instance_id}) was cancelled; retry")
                              if isinstance(exc, asyncio.CancelledError) else exc)
        pending.exception()  # retrieved: no "never retrieved" warning when nobody else waited
        raise
    else:
        pending.set_result(status)
        return status
    finally:
        _reads.pop(key, None)


class _Call(Struct, frozen=True):
    """One delivery's collaborators and receive time."""

    client: Any
    now: datetime
    settings: CorrelationSettings
    orchestrator_name: str
    start_input: Callable[..., Any]
    scope: str
    routes: tuple[str, ...] = ()
    record_after_close: RecordAfterClose | None = None
    #: the delivery's ``alert.dedupe_key``, derived once (a SHA-256 of the alert id each time it is read: it was
    #: read three times per correlated alert — the delivery lock, the memo's lookup and its entry)
    dedupe_key: str = ""
    #: verify12: FIRESTOP_ALERT_SOURCE_CHECK is on (each incident's alert is read back from its source) and this
    #: delivery's content digest (:func:`delivery_digest`): another delivery of the same alert id with other content,
    #: whose incident is not confirmed at its source, gets an incident of its own (:func:`_variant`)
    source_checked: bool = False
    digest: str = ""
    #: variants13: ``alert id -> the incident holding its confirmed Fired delivery, or None`` (the source check's
    #: once-marker), given when the check is on: a Resolved delivery goes there (:func:`_resolved`)
    confirmed_incident: "ConfirmedIncident | None" = None
    #: joins14: keeps a delivery that joins an incident whose check is pending, then reads its verdict
    #: (:data:`PendingJoin`); None: such a delivery's variant is started at once (checked on its own, never unchecked)
    pending_join: "PendingJoin | None" = None


class _Slot(Struct):
    """Where a correlation key's slot stands: ``open`` (status of the incident to join, id
    ``open_id``) or else ``free`` (the generation to start); ``last_id``: the newest finished
    generation, if any."""

    key: str
    free: int
    open: Any | None = None
    open_id: str | None = None
    last_id: str | None = None


def _created(status: Any) -> datetime | None:
    created = getattr(status, "created_time", None)
    if created is None:
        return None
    return created.replace(tzinfo=timezone.utc) if created.tzinfo is None else created.astimezone(timezone.utc)


def _fresh(call: _Call, status: Any) -> bool:
    """Open and created at most ``window_seconds`` before now (clock skew: age 0)."""
    if _runtime(status) not in OPEN_STATUSES:
        return False
    created = _created(status)
    return created is not None and (call.now - created).total_seconds() <= call.settings.window_seconds


async def _slot(call: _Call, key: str) -> _Slot:
    """Read ``key``'s slot upwards from the first generation that may be current."""
    cache_key = (call.scope, key)
    generation, last_id = _generations.get(cache_key) or (1, None)
    for _ in range(_WALK):
        instance_id = slot_id(key, generation)
        status = await _shared_status(call, instance_id)
        if status is None:
            # a purged generation leaves a hole: the slot goes on if the next one exists
            if await _status(call.client, slot_id(key, generation + 1)) is None:
                return _Slot(key, generation, last_id=last_id)
            generation += 1
            continue
        if _fresh(call, status):
            _open.put(cache_key, (instance_id, status, _created(status)))
            return _Slot(key, generation, open=status, open_id=instance_id, last_id=last_id)
        _open.drop(cache_key)
        if _runtime(status) not in OPEN_STATUSES:
            last_id = instance_id
            _generations.put(cache_key, (generation + 1, last_id))  # finished for good: not read again here
        generation += 1  # finished, or open but older than the window: it takes no new alerts
    _generations.put(cache_key, (generation, last_id))
    raise IntakeUnavailable(f"more than {_WALK} generations of a correlation slot to read; retry")


def _reused(call: _Call, keys: list[str]) -> _Slot | None:
    """The slot to join as the last slot reads of this process found it (:data:`_open`): the oldest open incident
    among ``keys`` when every key has one remembered and still fresh by the window, else None (read the slots).

    An entry is put only for a status :func:`_fresh` found open, with its created time (aware UTC): the status read
    is a snapshot, so "still fresh" is its age by the window, measured here without reading the status again
    (``_runtime``, ``_created``'s ``astimezone`` and the ``min`` over one slot were ~10 µs a correlated alert)."""
    window = call.settings.window_seconds
    if len(keys) == 1:  # the usual: one correlation key
        key = keys[0]
        hit = _open.get((call.scope, key))
        if hit is None or hit[2] is None or (call.now - hit[2]).total_seconds() > window:
            return None
        return _Slot(key, 0, open=hit[1], open_id=hit[0])
    slots = []
    for key in keys:
        hit = _open.get((call.scope, key))
        if hit is None or hit[2] is None or (call.now - hit[2]).total_seconds() > window:
            return None
        slots.append(_Slot(key, 0, open=hit[1], open_id=hit[0]))
    return _oldest_open(slots)


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


async def _tally(client: Any, instance_id: str, batch: dict[str, Any]) -> str | None:
    """Signal ``batch`` (:func:`correlated_batch`) to the incident's tally entity
    (:data:`~firestop.intake.events.TALLY_ENTITY`) if the incident is open now: None once the signal is stored,
    else the runtime status that made it undeliverable (``"missing"``: no such instance). IntakeUnavailable on any
    failure.

    The status is read here, after every alert of the batch arrived (the batch is closed before this runs), and
    the signal is sent only when it is Pending or Running: an alert that arrives after the incident finished is
    never tallied on it (a finished incident's tally counts nothing into its filed record), whatever the alert's
    earlier slot read or :data:`_open` said. On Azure the same two calls of the SDK client: the status query of
    the Durable extension's HTTP API (with the Azure Storage backend a read of the Instances table; with the
    Durable Task Scheduler, of the scheduler's instance store), then the entity signal (queued for the entity).
    What remains is the gap between this read and the signal (and the orchestrator's close of the tally before it
    completes): an alert read open there is counted as ``late`` on the incident named in its 202 and put on its
    record by the orchestrator once the record is filed (lifecycle8)."""
    import azure.durable_functions as df

    status = await _status(client, instance_id)
    if status is None:
        return "missing"
    runtime = _runtime(status)
    if runtime not in OPEN_STATUSES:
        return str(runtime)
    try:
        await client.signal_entity(df.EntityId(TALLY_ENTITY, instance_id), TALLY_ADD, batch)
    except Exception as exc:  # noqa: BLE001 — transport, unexpected status code: nothing is known to be stored
        raise IntakeUnavailable(f"signal_entity({TALLY_ENTITY}, {instance_id}) failed: {type(exc).__name__}") from exc
    return None


#: A waiter's future set to this: the batch's raiser was cancelled before closing it, and this alert raises it now.
_RAISE: Any = object()


class _Batch(Struct):
    summaries: list[dict[str, Any]]
    #: one future per alert of the batch but the one raising it: the raise's result (None, or why undeliverable) or
    #: its exception, or :data:`_RAISE` (it inherits the raise). Each alert waits on its own future — a cancelled wait
    #: cancels only its own, as ``asyncio.shield`` of one shared future did, without shield's extra future and two
    #: callbacks per alert
    waiters: list[asyncio.Future]
    turn: asyncio.Future | None = None  # set when the raise before this batch is over


class _Joiner:
    """Group commit of ``alert_correlated`` per (event loop, incident): at most one raise in
    flight, and a raise at most every ``spacing`` seconds; alerts arriving meanwhile wait and go
    out together as the next event. The first alert of a batch raises it; every alert of the
    batch gets that raise's result. A raise is :func:`_tally`: the incident's status read once the
    batch is closed, then the signal only while it is open.

    Cancellation (the delivery's request dropped: client gone, server shutting down, a timeout around it) —
    joiner26, hot25's report: a raiser cancelled before its signal left its batch and every later alert of the
    incident waiting forever. Now, whoever is cancelled, every other alert is answered and the next batch goes out:

    * an alert **waiting** in a batch: only its own wait ends (CancelledError); its summary stays in the batch and
      is signalled with it;
    * the **raiser before its batch is closed** (waiting for the raise before it, or out the spacing): the first
      alert of the batch still waiting inherits the raise (:data:`_RAISE`) and the batch goes out as one signal,
      the cancelled raiser's summary included; a batch left with no live alert is dropped (nothing of it is
      signalled) and the turn passes on as if it had been raised;
    * the **raiser inside its signal** (the status read or the signal): whether the signal was stored is unknown,
      so every other alert of the batch gets :class:`IntakeUnavailable`; the turn passes on.

    The cancelled delivery's own caller gets no answer from here (the host answers a dropped or timed-out request;
    Azure Monitor retries a delivery answered 408/429/503/504 or failed in transport — a dropped connection, a
    timeout — up to 5 times: ``action-groups.md``, tests/alerts/data/NOTES.md), and an
    alert answered IntakeUnavailable gets the webhook's 503 and is retried the same way. A retried alert is joined
    again; if its earlier signal was stored too, the tally counts it once (deduped by alert id digest,
    :mod:`firestop.lifecycle.tally`, up to its ``MAX_TRACKED`` distinct alerts per incident)."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._guard = threading.Lock()
        # (loop, incident) present = a batch is being raised; value = the batch filling behind it
        self._busy: dict[tuple[int, str], _Batch | None] = {}
        self._last: dict[tuple[int, str], float] = {}  # when the last raise ended (time.monotonic)

    async def join(self, client: Any, instance_id: str, summary: dict[str, Any]) -> str | None:
        loop = asyncio.get_running_loop()
        key = (id(loop), instance_id)
        with self._guard:
            if key not in self._busy:  # nothing in flight: this one raises (after the spacing)
                batch = self._busy[key] = _Batch([summary], [])
                waiter = None
            elif self._busy[key] is None:  # first behind the one in flight: this one raises next
                batch = self._busy[key] = _Batch([summary], [], loop.create_future())
                waiter = None
            else:
                batch = self._busy[key]
                batch.summaries.append(summary)
                waiter = loop.create_future()
                batch.waiters.append(waiter)
        if waiter is not None:  # the batch's raiser hands every other alert its result
            try:
                result = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None and waiter.result() is _RAISE:
                    self._abandon(key, batch)  # it had inherited the raise: the next one still waiting does
                raise
            if result is not _RAISE:
                return result
        try:
            if batch.turn is not None:
                await batch.turn
            wait = self._last.get(key, -math.inf) + self.spacing - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # alerts arriving meanwhile join this batch
        except BaseException:
            self._abandon(key, batch)
            raise
        with self._guard:
            self._busy[key] = None  # in flight now: later alerts form the next batch (waiters is final)
        try:
            result = await _tally(client, instance_id, correlated_batch(batch.summaries))
        except asyncio.CancelledError:  # stored or not, unknown: the others are answered 503 (retried), not cancelled
            for other in batch.waiters:
                if not other.done():
                    other.set_exception(IntakeUnavailable(
                        f"the signal to {TALLY_ENTITY}@{instance_id} was cancelled; retry"))
            raise
        except BaseException as exc:  # noqa: BLE001 — every alert of the batch gets it
            for other in batch.waiters:
                if not other.done():  # (a cancelled wait)
                    other.set_exception(exc)
            raise
        else:
            for other in batch.waiters:
                if not other.done():
                    other.set_result(result)
            return result
        finally:
            with self._guard:
                self._last[key] = time.monotonic()
                if len(self._last) > GENERATIONS_KEPT:  # forget incidents quiet for longer than the spacing
                    cutoff = time.monotonic() - self.spacing
                    self._last = {k: t for k, t in self._last.items() if t > cutoff}
                following = self._busy.get(key)
                if following is None:
                    self._busy.pop(key, None)
                elif following.turn.cancelled():  # its raiser's cancel (not run yet) cancelled it: give a done one,
                    following.turn = loop.create_future()  # so _abandon finds the turn given
                    following.turn.set_result(None)
                else:
                    following.turn.set_result(None)

    def _abandon(self, key: tuple[int, str], batch: _Batch) -> None:
        """The raiser of ``batch`` (still filling: ``self._busy[key] is batch``) stops before closing it: the first
        alert of it still waiting raises it instead; with none, the batch is dropped and the turn moves on — to the
        raise in flight before it when there is one (it ends the key, nothing is behind it now), else the key is idle."""
        with self._guard:
            if batch.turn is not None and batch.turn.cancelled():  # the raiser's cancel cancelled the turn it awaited
                # and the raise before is still in flight (once over, it replaces a cancelled turn with a done one)
                batch.turn = batch.turn.get_loop().create_future()
            while batch.waiters:
                heir = batch.waiters.pop(0)  # (its summary stays in the batch; it is no longer answered as a waiter)
                if not heir.done():  # (a cancelled wait)
                    heir.set_result(_RAISE)
                    return
            if self._busy.get(key) is batch:
                if batch.turn is not None and not batch.turn.done():
                    self._busy[key] = None
                else:
                    self._busy.pop(key, None)


_joiner = _Joiner(RAISE_SPACING_SECONDS)


def _keys(call: _Call, alert: Any) -> list[str]:
    if not call.settings.enabled:
        return []
    return alert_keys(alert, call.settings.key)


def _remember(call: _Call, alert: Any, outcome: Outcome, created: datetime | None) -> None:
    """Keep ``outcome`` for redeliveries of the call's alert, with its incident's created time (aware UTC,
    :func:`_created`: compared as a datetime, which for UTC times is what comparing their ISO text was)."""
    if created is not None:
        _answers.put((call.scope, call.dedupe_key), (outcome, created))


async def _remembered(call: _Call, alert: Any) -> Outcome | None:
    """The answer given to an earlier delivery of ``alert``, if its incident still exists unchanged."""
    entry = _answers.get((call.scope, call.dedupe_key))
    if entry is None:
        return None
    outcome, created = entry
    status = await _shared_status(call, outcome.instance_id)
    if status is None or _created(status) != created:  # (None != a datetime)
        _answers.drop((call.scope, call.dedupe_key))  # purged or replaced since: decide again
        return None
    return outcome




async def _belonged_to(call: _Call, alert: Any, instance_id: str) -> Any | None:
    """The status of the (finished) incident ``instance_id`` when ``alert`` started it or is
    sampled in its record, else None."""
    full = await _status(call.client, instance_id, show_input=True)
    if full is None:
        return None
    started = decoded(full.input_)
    started_by = started.get("alert") if isinstance(started, dict) else None
    if isinstance(started_by, dict) and started_by.get("alert_id") == alert.alert_id:
        return full
    record = decoded(getattr(full, "output", None))
    joined = record.get("correlated_alerts") if isinstance(record, dict) else None
    if isinstance(joined, list) and any(isinstance(a, dict) and a.get("alert_id") == alert.alert_id for a in joined):
        return full
    return None


async def _start(call: _Call, alert: Any, instance_id: str, *, part_of: str | None = None,
                 follows: str | None = None, variant_of: str | None = None) -> Outcome | None:
    """Start ``instance_id`` unless it is open: the outcome, or None when the start was
    refused because the id is open now (another worker took the slot first). ``part_of``, ``follows`` and
    ``variant_of`` go to ``start_input`` only when given."""
    extra: dict[str, str] = {"part_of": part_of} if part_of else {}
    if follows:
        extra["follows"] = follows
    if variant_of:
        extra["variant_of"] = variant_of
    try:
        await call.client.start_new(call.orchestrator_name, instance_id, call.start_input(alert, call.now, instance_id, **extra))
    except Exception as exc:  # noqa: BLE001 — refused (already exists) or the store failed
        status = await _status(call.client, instance_id)
        if status is not None and _runtime(status) in OPEN_STATUSES:
            return None
        raise IntakeUnavailable(f"start_new({instance_id}) failed: {type(exc).__name__}") from exc
    return Outcome(OutcomeKind.STARTED, instance_id, part_of=part_of, follows=follows)


async def _join(call: _Call, alert: Any, slot: _Slot) -> Outcome | None:
    """Record ``alert`` on the slot's open incident; None if that closed meanwhile (the slot's :data:`_open` hint
    is dropped)."""
    assert slot.open_id is not None
    if await _joiner.join(call.client, slot.open_id, alert_summary(alert, received_at=call.now)) is not None:
        _open.drop((call.scope, slot.key))
        return None
    outcome = Outcome(OutcomeKind.CORRELATED, slot.open_id, correlated_to=slot.open_id)
    _remember(call, alert, outcome, _created(slot.open))
    return outcome


#: At most this many recently finished incidents are read to decide whether a new alert is an aftermath.
AFTERMATH_CANDIDATES = 20


async def _aftermath(call: _Call, alert: Any) -> Outcome | None:
    """The ``aftermath`` outcome when ``alert`` reports the attacker refused after a recent containment of
    its resource (:func:`firestop.intake.aftermath.aftermath_of`), else None. Reads the incidents completed
    and created within twice the correlation window (newest :data:`AFTERMATH_CANDIDATES`), whatever their route:
    the containment that refuses the attacker is another playbook's incident. Lists every page
    (:func:`firestop.instance_listing.list_instances`, incident ids only: ``instanceIdPrefix`` keeps the Azure
    Storage query to the incidents' PartitionKey range, where a status filter alone would read the entity rows too,
    which the listing's documentation allows to come back as short or empty pages); raises :class:`IntakeUnavailable` (503, the sender retries)
    when the listing fails or stops at its page bound."""
    from firestop.alerts.alert import INCIDENT_ID_PREFIX
    from firestop.instance_listing import list_instances
    from firestop.intake.aftermath import aftermath_of

    window = call.settings.window_seconds
    try:  # every page (the SDK's get_status_by reads one); a listing cut at its bound may hide the containment
        listing = await list_instances(call.client, created_time_from=call.now - timedelta(seconds=2 * window),
                                       runtime_status=["Completed"], instance_id_prefix=INCIDENT_ID_PREFIX)
    except Exception as exc:  # noqa: BLE001 — transport, unexpected status code
        raise IntakeUnavailable(f"instance listing failed: {type(exc).__name__}") from exc
    if not listing.complete:  # 503: the sender retries, rather than an aftermath filed as a new incident
        raise IntakeUnavailable(f"instance listing cut at {len(listing.statuses)} completed incidents")
    finished = sorted((s for s in listing.statuses if getattr(s, "name", None) in (None, call.orchestrator_name)),
                      key=lambda s: _created(s) or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    for status in finished[:AFTERMATH_CANDIDATES]:
        instance_id = getattr(status, "instance_id", None)
        if not instance_id:
            continue
        full = await _status(call.client, instance_id, show_input=True)
        if full is None:
            continue
        # the filed record names the resource and the callers it contained (a sealed input is not read here)
        why = aftermath_of(alert, decoded(getattr(full, "output", None)), window_seconds=window)
        if why:
            log.info("alert %r is the aftermath of incident %r: %s", alert.alert_id, instance_id, why)
            return Outcome(OutcomeKind.AFTERMATH, instance_id, correlated_to=instance_id, reason=why)
    return None


def _oldest_open(slots: list[_Slot]) -> _Slot | None:
    opened = [s for s in slots if s.open is not None]
    return min(opened, key=lambda s: (_created(s.open), s.open_id)) if opened else None


def _ended(status: Any) -> datetime | None:
    ended = getattr(status, "last_updated_time", None)
    if not isinstance(ended, datetime):
        return None
    return ended.replace(tzinfo=timezone.utc) if ended.tzinfo is None else ended.astimezone(timezone.utc)


def _ended_within(call: _Call, status: Any) -> bool:
    """Finished at most ``window_seconds`` before now (clock skew: age 0)."""
    ended = _ended(status)
    return (_runtime(status) not in OPEN_STATUSES and ended is not None
            and (call.now - ended).total_seconds() <= call.settings.window_seconds)


def _record_status(status: Any) -> str | None:
    record = decoded(getattr(status, "output", None))
    return record.get("status") if isinstance(record, dict) else None


async def _after_close(call: _Call, alert: Any, keys: list[str], slot: _Slot) -> tuple[Outcome | None, str | None]:
    """``(outcome, follows)``: the outcome when ``alert`` is recorded onto its slot's last incident — that ended
    within the window, held, and its containment covered the alert (:func:`firestop.intake.coverage.covered_by`:
    identity-linked, or activity that began before containment completed); else None, with ``follows`` the
    held incident when the alert reports new activity after it (the new generation names it), else None."""
    if call.record_after_close is None or slot.last_id is None or len(keys) != 1:
        return None, None
    status = await _status(call.client, slot.last_id, show_input=True)
    if status is None or not _ended_within(call, status) or _record_status(status) not in HELD_STATUSES:
        return None, None
    from firestop.intake.coverage import covered_by

    why = covered_by(alert, decoded(getattr(status, "output", None)))
    if why is None:  # new activity (or no usable start time: fail safe) -> contain again
        log.info("alert %r is new activity after incident %r held: a new incident follows it", alert.alert_id,
                 slot.last_id)
        return None, slot.last_id
    try:
        answer = await call.record_after_close(slot.last_id, {**alert_summary(alert, received_at=call.now), "covered": why})
    except Exception as exc:  # noqa: BLE001 — the records store failed: nothing recorded, the sender retries
        raise IntakeUnavailable(f"record revision of {slot.last_id} failed: {type(exc).__name__}") from exc
    if answer is None:
        return None, None  # no filed record to add to: contain again
    kind = OutcomeKind.DUPLICATE if answer == "duplicate" else OutcomeKind.RECORDED
    return Outcome(kind, slot.last_id, correlated_to=slot.last_id, reason=why), None


def _split(key: str) -> tuple[str, str]:
    scope, _, route = key.partition("#")  # scopes are ARM ids (no '#'); a route may hold one
    return scope, route


async def _anchor(call: _Call, keys: list[str]) -> tuple[str, Any] | None:
    """The attack's incident on the alert's resources under another playbook route: (id, status), or None."""
    if not call.routes:
        return None
    best: tuple[datetime, str, Any] | None = None
    scopes = sorted({_split(k)[0] for k in keys})[:_ANCHOR_SCOPES]
    own = {_split(k)[1] for k in keys}
    for scope in scopes:
        for route in call.routes:
            if route in own:
                continue
            slot = await _slot(call, f"{scope}#{route}")
            status, instance_id = slot.open, slot.open_id
            if status is None and slot.last_id is not None:
                status, instance_id = await _status(call.client, slot.last_id), slot.last_id
                if status is None or not _ended_within(call, status):
                    continue
            if status is None or _created(status) is None:
                continue
            if best is None or (_created(status), instance_id) < best[:2]:
                best = (_created(status), instance_id, status)
    if best is None:
        return None
    full = await _status(call.client, best[1], show_input=True)
    inp = decoded(getattr(full, "input_", None)) if full is not None else None
    root = inp.get("part_of") if isinstance(inp, dict) else None
    if isinstance(root, str) and root and root != best[1]:  # the anchor is itself a part: the attack's incident is its anchor
        rooted = await _status(call.client, root)
        if rooted is not None:
            return root, rooted
    return best[1], best[2]


async def _note_part(call: _Call, alert: Any, anchor: tuple[str, Any], part_id: str) -> None:
    """Tell the anchor a part started (best effort: the part's own input already names the anchor)."""
    anchor_id, status = anchor
    summary = alert_summary(alert, received_at=call.now, part=part_id)
    try:
        if _runtime(status) in OPEN_STATUSES and await _joiner.join(call.client, anchor_id, summary) is None:
            return
        if call.record_after_close is not None:
            await call.record_after_close(anchor_id, summary)
    except Exception as exc:  # noqa: BLE001 — the part runs anyway; its record names the anchor
        import logging

        logging.getLogger("firestop.intake").warning("part %r not noted on incident %r: %r", part_id, anchor_id,
                                                     type(exc).__name__)


#: Hex digits of a delivery's content digest (:func:`delivery_digest`) in its variant's id, ``<incident_key>-v<digits>``
#: (variants13): the variant of one content is the only id that content can take, so no other content (a forger's
#: posts, however many) can hold it. 64 bits: a forger cannot make another content land on the genuine delivery's id.
VARIANT_DIGITS = 16
#: The timeline step the source check writes (firestop.lifecycle.incident) and its confirmed outcome.
_CONFIRM_STEP, _CONFIRMED = "confirm alert at source", "ok"


_NO_REF = object()


def delivery_digest(alert: Any, source_ref: Any = _NO_REF) -> str:
    """SHA-256 (hex) of the incident input's alert JSON of ``alert`` (:func:`firestop.alerts.alert.alert_input_json`
    as canonical JSON, or that JSON itself when ``alert`` is a dict: an incident's input; ``indicators.truncated``
    left out, the input does not keep it there) with the input's ``source_ref`` when there is one: what tells two
    deliveries of one alert id apart. Azure Monitor's redeliveries of one notification carry the same content, so the
    same digest. ``source_ref``: for a dict, the input's (None: it has none); for a parsed alert it is derived
    (:func:`firestop.alerts.source_refs.delivered_ref`). RT16-01: the reference the source check reads (an Activity
    Log event, a Defender alert's or Sentinel incident's id) lives in the delivery's context, outside the alert JSON:
    a copy of the genuine delivery naming another event had its digest and held it as a duplicate, unchecked. Without
    a reference the digest is the alert JSON's alone, as before (metric and log alerts' variant ids unchanged)."""
    import hashlib
    import json

    from firestop.alerts.alert import alert_input_json
    from firestop.alerts.source_refs import delivered_ref

    data = alert if isinstance(alert, dict) else alert_input_json(alert)
    indicators = data.get("indicators")
    if isinstance(indicators, dict) and "truncated" in indicators:  # (the input keeps them as indicators_truncated)
        data = {**data, "indicators": {k: v for k, v in indicators.items() if k != "truncated"}}
    if source_ref is _NO_REF:
        source_ref = None if isinstance(alert, dict) else delivered_ref(alert)
    if source_ref is not None:
        data = {"alert": data, "source_ref": str(source_ref)}
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def confirm_outcome(status: Any) -> str | None:
    """The outcome of the incident's "confirm alert at source" timeline line (custom status while it runs, record
    when it finished), None when it has none yet. While it runs, the custom status's ``source_check`` first
    (listing14: the timeline there keeps only its newest lines, so a long run dropped the check's line and read as
    not checked yet; older runs publish none: their timeline is read)."""
    custom = decoded(getattr(status, "custom_status", None))
    if isinstance(custom, dict) and isinstance(custom.get("source_check"), str):
        return custom["source_check"]
    for source in (custom, getattr(status, "output", None)):
        doc = decoded(source)
        timeline = doc.get("timeline") if isinstance(doc, dict) else None
        for entry in timeline if isinstance(timeline, list) else []:
            if isinstance(entry, dict) and entry.get("step") == _CONFIRM_STEP:
                return str(entry.get("outcome"))
    return None


def published_not_confirmed(status: Any) -> bool:
    """Whether the incident's status as read (:func:`_status`) shows its source check answered, and not "ok"
    (:func:`confirm_outcome`). R12-06: intake, reading no verdict, takes this for "not confirmed" and starts the
    delivery's variant itself; listing14: the incident's ``start_pending_joins`` lists its pending joins only once
    its own status reads so — the one predicate on both sides, so that a join whose read missed it was kept before
    that list."""
    outcome = confirm_outcome(status)
    return outcome is not None and outcome != _CONFIRMED


def _may_be_variant(call: _Call, alert: Any, status: Any) -> bool:
    """Cheap filter before :func:`_variant` reads an incident's input: the check is on, and the incident (its status
    as read, maybe a cached one) is not confirmed at its source (or not yet checked: :func:`_variant` reads it afresh
    and decides). Whatever its rule (RT15-03: alerts routed by
    ``firestop-playbook`` share a slot across rules, so a forged alert of a made-up rule held the genuine one)."""
    if not call.source_checked or status is None:
        return False
    return confirm_outcome(status) != _CONFIRMED


def takes_variant(opened_by: Any, outcome: str | None, alert: Any, digest: str, opened_ref: Any = None) -> bool:
    """Whether the delivery of ``alert`` with content digest ``digest`` (:func:`delivery_digest`) gets an incident of
    its own (:func:`variant_id`) rather than joining or repeating the incident opened by ``opened_by`` (that
    incident's input alert JSON) whose source check answered ``outcome`` (:func:`confirm_outcome`; None: not run
    yet). ``opened_ref``: that incident's input ``source_ref`` (RT16-01: part of its content). Pure; the one decision
    intake (:func:`_variant`) and ``alert handle`` (:mod:`firestop.cli.incidents`) take.

    False when there is no input to compare, the incident was confirmed at its source, or its check has not run yet
    (a burst of genuine alerts while the first one's check runs is one attack: one incident, not one per alert), and
    for the very delivery that opened it (one incident per source alert); True otherwise — another alert id
    (RT15-03) or the same id with other content (verify12)."""
    if not isinstance(opened_by, dict) or outcome in (None, _CONFIRMED):
        return False
    same = str(opened_by.get("alert_id") or "").strip().lower() == str(alert.alert_id).strip().lower()
    return not (same and delivery_digest(opened_by, opened_ref) == digest)


def variant_id(alert: Any, digest: str) -> str:
    """The incident of the delivery of ``alert`` whose content digest is ``digest`` (:func:`delivery_digest`) when it
    gets one of its own (:func:`_variant`): ``<incident_key>-v<first VARIANT_DIGITS hex digits>``. Pure."""
    return f"{alert.incident_key}-v{digest[:VARIANT_DIGITS]}"


async def _variant(call: _Call, alert: Any, instance_id: str) -> Outcome | None:
    """verify12 item 2: the incident of this delivery when ``instance_id`` (the incident it would join or duplicate)
    was opened by a delivery of the same alert id with other content and its source check said "not confirmed" — its
    variant :func:`variant_id`, started now (``started``, its input naming ``variant_of`` = ``instance_id``) or found
    (``duplicate``: this same content posted before) — else None (decide as before). While its check has not
    answered, None too (join it: a burst of genuine alerts is one attack), but a delivery that would take a variant
    were the check to say "not confirmed" is first kept as a pending join of that run (``call.pending_join``,
    joins14), which then reads the run's verdict: not confirmed (answered meanwhile) — its variant, started now or
    found, as above; confirmed or not answered — None (joined; the incident starts the pending joins' variants if
    its check says "not confirmed": :data:`firestop.lifecycle.incident.ACTIVITY_START_PENDING_JOINS`). Without
    ``call.pending_join``, the variant at once (checked on its own, never unchecked). RT15-03: opened by *another* alert id (any alert of the slot, :func:`_may_be_variant`) and not confirmed
    there, likewise: a forged delivery with a made-up id must not make the genuine alert join it unchecked.

    variants13: keyed by the delivery's content, not numbered: verify12's 3 per alert id were used up by 3 forged
    deliveries of the genuine alert's id posted first, and the genuine one then joined a forged incident unchecked.
    Unbounded in number, a variant is bounded in what it costs: a variant its check finds not confirmed ends there
    (:func:`firestop.lifecycle.incident.run_incident`: it names ``variant_of``, where the responder decides) — one
    incident instance, one source check and one filed record per distinct content posted; only ``instance_id`` waits.
    Reads: the incident's status with its input, the variant's status (and a start); while the check is pending,
    instead: one blob created (or found) and one read per such delivery (and, when it reads no verdict, one more
    status read of ``instance_id``: R12-06), no instance."""
    full = await _status(call.client, instance_id, show_input=True)
    inp = decoded(getattr(full, "input_", None)) if full is not None else None
    opened_by = inp.get("alert") if isinstance(inp, dict) else None
    opened_ref = inp.get("source_ref") if isinstance(inp, dict) else None
    outcome = confirm_outcome(full)
    if (outcome is None and _runtime(full) in OPEN_STATUSES
            and takes_variant(opened_by, "not confirmed", alert, call.digest, opened_ref)):
        # joins14: its check has not answered. Joined (a burst of genuine alerts is one attack); this delivery is kept
        # as a pending join of that run *before* its verdict is read — the incident writes the verdict *before* it
        # lists them — so, were it forged, this alert is checked on its own: by the variant started here (verdict
        # "not confirmed" already) or by the incident (ACTIVITY_START_PENDING_JOINS). Confirmed or still pending:
        # nothing more (no instance per joined alert)
        variant = variant_id(alert, call.digest)
        if call.pending_join is not None:
            sealed = call.start_input(alert, call.now, variant, variant_of=instance_id)
            try:
                verdict = await call.pending_join(instance_id, str(inp.get("received_at") or ""), call.digest,
                                                  variant, sealed)
            except Exception as exc:  # noqa: BLE001 — not kept: not joined either (503, Azure Monitor retries)
                raise IntakeUnavailable(f"pending join of {instance_id} not kept: {type(exc).__name__}") from exc
            if verdict is None:
                # R12-06: "not answered" may be a verdict blob a storage writer made unreadable (planted first, or
                # written over the real one). The incident publishes its check's outcome in its status, and lists
                # the pending joins only once its own read of that status shows it (listing14: on Azure's Storage
                # backend the list can run before that status is written): read it once more — still pending, this
                # join was kept before that list (which starts it); "not confirmed", the list may have run
                # already: start the variant here
                verdict = False if published_not_confirmed(await _status(call.client, instance_id)) else None
            if verdict is not False:
                return None
        if await _status(call.client, variant) is None:
            started = await _start(call, alert, variant, variant_of=instance_id)
            if started is not None:
                return started
        return Outcome(OutcomeKind.DUPLICATE, variant)
    if not takes_variant(opened_by, outcome, alert, call.digest, opened_ref):
        return None
    variant = variant_id(alert, call.digest)
    if await _status(call.client, variant) is None:
        started = await _start(call, alert, variant, variant_of=instance_id)
        if started is not None:
            return started
    return Outcome(OutcomeKind.DUPLICATE, variant)  # this content's variant exists (or another worker just started it)


async def _fired(call: _Call, alert: Any) -> Outcome:
    keys = _keys(call, alert)
    if not keys:
        own = await _status(call.client, alert.incident_key)
        if own is not None:
            if _may_be_variant(call, alert, own):
                found = await _variant(call, alert, alert.incident_key)
                if found is not None:
                    return found
            return Outcome(OutcomeKind.DUPLICATE, alert.incident_key)
        return await _start(call, alert, alert.incident_key) or Outcome(OutcomeKind.DUPLICATE, alert.incident_key)
    for attempt in range(_ATTEMPTS):
        # the incident a slot read of this process found open (checked open again before the signal, _tally), else
        # the slots read now; after a join found the incident closed, always read
        target = _reused(call, keys) if attempt == 0 else None
        if target is None:
            target = _oldest_open([await _slot(call, key) for key in keys])
        if target is None:
            async with _starts.hold(f"start:{key}" for key in keys):  # within this worker: one start at a time
                slots = [await _slot(call, key) for key in keys]
                target = _oldest_open(slots)
                if target is None:
                    first = slots[0]
                    if first.last_id is not None and (ended := await _belonged_to(call, alert, first.last_id)) is not None:
                        found = await _variant(call, alert, first.last_id) if _may_be_variant(call, alert, ended) else None
                        return found or Outcome(OutcomeKind.DUPLICATE, first.last_id)
                    if (own := await _status(call.client, alert.incident_key)) is not None:
                        # the same alert already handled by ``alert handle`` (the CLI keys its incident by the alert
                        # id) on this store: contained once, never twice (one point read, only before a start)
                        found = await _variant(call, alert, alert.incident_key) if _may_be_variant(call, alert, own) else None
                        return found or Outcome(OutcomeKind.DUPLICATE, alert.incident_key)
                    after = await _aftermath(call, alert)
                    if after is not None:
                        return after
                    recorded, follows = await _after_close(call, alert, keys, first)
                    if recorded is not None:
                        return recorded
                    anchor = await _anchor(call, keys)
                    started = await _start(call, alert, slot_id(first.key, first.free),
                                           part_of=anchor[0] if anchor is not None else None, follows=follows)
                    if started is not None:
                        status = await _status(call.client, started.instance_id)  # its created time, for the memo
                        _remember(call, alert, Outcome(OutcomeKind.DUPLICATE, started.instance_id), _created(status))
                        if anchor is not None:
                            await _note_part(call, alert, anchor, started.instance_id)
                        return started
                    continue  # another worker took the slot: read it again and join
        if _may_be_variant(call, alert, target.open):
            found = await _variant(call, alert, target.open_id)
            if found is not None:
                return found
        joined = await _join(call, alert, target)
        if joined is not None:
            return joined
        # it closed meanwhile: read the slots again
    raise IntakeUnavailable("the incident of this alert's resource kept changing; retry")


async def _to_confirmed(call: _Call, alert: Any, data: dict[str, Any]) -> Outcome | None:
    """variants13 item 3: with the source check on, the Resolved ``alert`` goes to the incident that holds its alert's
    confirmed Fired delivery — ``resolved`` while it is open, ``closed`` once it ended — not to the slot's open
    incident, which may be a forged delivery's (not confirmed, waiting) while the genuine one ran in its variant.
    None when no incident holds it, or the one its marker names was not opened by this alert id (a planted marker,
    R12-02) (decide as before). One read of the once-marker, one status read (with its input)."""
    try:
        held = await call.confirmed_incident(alert.alert_id)
    except Exception as exc:  # noqa: BLE001 — the records store failed: nothing done, the sender retries
        raise IntakeUnavailable(f"the once-marker of the alert could not be read: {type(exc).__name__}") from exc
    status = await _status(call.client, held, show_input=True) if held else None
    if status is None:
        return None
    # R12-02: the once-marker is unsealed — one planted for this alert id may name any incident. Only the incident the
    # marker was written for (opened by this very alert id, or its variant) takes its Resolved delivery.
    inp = decoded(getattr(status, "input_", None))
    opened_by = inp.get("alert") if isinstance(inp, dict) else None
    if not isinstance(opened_by, dict) or \
            str(opened_by.get("alert_id") or "").strip().lower() != str(alert.alert_id).strip().lower():
        return None
    runtime = _runtime(status)
    if runtime in OPEN_STATUSES:
        runtime = await _raise(call.client, held, EVENT_RESOLVED, data)
        if runtime is None:
            outcome = Outcome(OutcomeKind.RESOLVED, held, correlated_to=held if held != alert.incident_key else None)
            _remember(call, alert, outcome, _created(status))
            return outcome
    return Outcome(OutcomeKind.CLOSED, held, runtime_status=str(runtime))


async def _resolved(call: _Call, alert: Any) -> Outcome:
    data = resolved_event(alert, received_at=call.now)
    if call.confirmed_incident is not None and (confirmed := await _to_confirmed(call, alert, data)) is not None:
        return confirmed
    own = await _status(call.client, alert.incident_key)
    if own is not None:
        runtime = _runtime(own)
        if runtime in OPEN_STATUSES:
            runtime = await _raise(call.client, alert.incident_key, EVENT_RESOLVED, data)
            if runtime is None:
                outcome = Outcome(OutcomeKind.RESOLVED, alert.incident_key)
                _remember(call, alert, outcome, _created(own))
                return outcome
        return Outcome(OutcomeKind.CLOSED, alert.incident_key, runtime_status=str(runtime))
    closed: Outcome | None = None
    for key in _keys(call, alert):
        slot = await _slot(call, key)
        if slot.open is not None:
            if await _raise(call.client, slot.open_id, EVENT_RESOLVED, data) is None:
                outcome = Outcome(OutcomeKind.RESOLVED, slot.open_id, correlated_to=slot.open_id)
                _remember(call, alert, outcome, _created(slot.open))
                return outcome
        elif closed is None and slot.last_id is not None:
            finished = await _belonged_to(call, alert, slot.last_id)
            if finished is not None:
                closed = Outcome(OutcomeKind.CLOSED, slot.last_id, runtime_status=str(_runtime(finished)))
    return closed or Outcome(OutcomeKind.NO_INCIDENT, None)


async def accept_alert(
    client: Any,
    alert: Any,
    *,
    now: datetime,
    settings: CorrelationSettings,
    orchestrator_name: str,
    start_input: Callable[..., Any],
    cache_scope: str = "",
    routes: Sequence[str] = (),
    record_after_close: RecordAfterClose | None = None,
    source_checked: bool = False,
    confirmed_incident: ConfirmedIncident | None = None,
    pending_join: PendingJoin | None = None,
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
        start_input: ``(alert, now, instance_id, *, part_of=None, follows=None, variant_of=None) → orchestration
            input`` for a new incident started under ``instance_id`` (``part_of`` passed only when there is an anchor,
            ``follows`` only when the slot's last incident held and the alert reports new activity after it,
            ``variant_of`` only for a variant: the incident not confirmed at its source it would have joined) (its slot's id, or the alert's
            own key without correlation; an input sealed for its instance binds it).
        routes: the playbook routes (``playbook:<name>``, :func:`firestop.intake.correlation.route_of`) probed
            for the attack's incident of another route on the same resource (an *anchor*: the new incident
            is started as a part of it, with ``start_input(..., part_of=<anchor id>)``); empty: none probed.
        record_after_close: files a revision of a finished incident's record with an alert added (see
            :data:`RecordAfterClose`); None: an alert of a finished slot always starts a new generation
            (its last one is not read, so nothing ``follows``).
        source_checked: ``FIRESTOP_ALERT_SOURCE_CHECK`` is on: a Fired delivery of an alert id whose incident was
            opened by other content and is not confirmed at its source gets an incident of its own (one per
            content, :func:`_variant`: verify12 — the first delivery no longer holds the alert; variants13 — nor
            do forged deliveries posted before it), and repeats are remembered per content.
        confirmed_incident: with ``source_checked``, finds the incident holding an alert's confirmed Fired delivery
            (:data:`ConfirmedIncident`): a Resolved delivery goes there (variants13: not to a forged incident open on
            the slot); None: Resolved deliveries are routed as without the check.
        pending_join: with ``source_checked``, keeps a delivery joining an incident whose check is pending and
            reads that check's verdict (:data:`PendingJoin`, joins14); None: such a delivery gets its variant at once.
        cache_scope: what, besides the client's task hub and endpoint, tells
            one Durable backend from another in this process (the memo and
            the slot generations are kept per scope).

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
    dedupe_key = alert.dedupe_key
    digest = delivery_digest(alert) if source_checked and not alert.is_resolved else ""
    call = _Call(client, now.astimezone(timezone.utc), settings, orchestrator_name, start_input, scope,
                 tuple(routes), record_after_close, f"{dedupe_key}|{digest[:16]}" if digest else dedupe_key,
                 source_checked=bool(digest), digest=digest,
                 confirmed_incident=confirmed_incident if source_checked else None,
                 pending_join=pending_join if source_checked else None)
    async with _deliveries.hold([f"delivery:{dedupe_key}"]):
        remembered = await _remembered(call, alert)
        if remembered is not None:
            return remembered
        if alert.is_resolved:
            return await _resolved(call, alert)
        return await _fired(call, alert)
