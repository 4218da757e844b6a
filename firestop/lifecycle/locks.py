"""Containment on one resource, one incident at a time: a lease entity per protected resource.

Two incidents may act on one resource (two playbooks routed to one account,
``firestop.intake.correlation``; or an incident and a responder's rerun).
Their containment steps must not interleave: two ``keys.rotate`` runs woven
together regenerate a key the other has just handed to the consumers. So the
step-group sub-orchestrator (:mod:`firestop.lifecycle.group`) holds a
*lease* on every resource its mutating ``apply`` calls target, from before
its first attempt until its last retry is over.

The lease is a durable entity, :data:`LOCK_ENTITY` (``resource_lock``), one per
resource. Its key is :func:`lock_key`: 32 hex digits of SHA-256 of the resource
id's comparison form (``firestop.resource_id.resource_id_key``): ARM ids hold
``/``, which instance ids may not on the Azure Storage backend (Microsoft Learn
"Manage instances in Durable Functions": "Instance IDs ... must not contain
'/', '\\\\', '#' or '?'"; an entity's instance id is ``@name@key``).

Entity operations (:func:`operate`), input/result JSON:

* ``acquire {"owner", "resource", "now", "until"}`` → ``{"granted": bool,
  "holder": str | None, "until": ISO | None}``: granted when the lease is
  free, already the caller's (its ``until`` is then extended: a renewal), or
  expired (``until`` before ``now``);
* ``release {"owner"}`` → the holder after the call (None when freed); only
  the holder frees it;
* ``get`` → the state ``{"holder", "resource", "until", "granted_at"}``.

Operations on one entity run one at a time, in order (the Durable entity
guarantee), so two acquirers can never both win. ``now`` comes from the
orchestration (``context.current_utc_datetime``), keeping the entity
deterministic. The owner is the step group's instance id
(``<incident>:group-<n>``), unique per group.

Why a lease and not ``context.lock``: the Durable Functions Python SDK (1.x,
checked on 1.7) has no critical-section API — no ``lock`` on the
orchestration context and no lock action type (its ``ActionType`` stops at
WhenAll = 12), unlike .NET's ``LockAsync`` (Microsoft Learn "Entity functions
— Critical sections"). The lease is the documented equivalent written with
``call_entity``: a critical section held across the group's activities and
timers, released at the end; an expiry (:data:`LEASE_SECONDS`, renewed before
each attempt) frees it if its holder is terminated or purged mid-way, so no
resource stays locked forever. Waiting is a durable timer poll every
:data:`POLL_SECONDS`; leases are taken in sorted key order, so two groups
wanting the same two resources cannot deadlock.

On Azure's Durable backends the same code behaves the same: the entity is a
Durable entity on the task hub (Azure Storage: its operations are queue
messages processed one at a time by the partition owning ``@resource_lock@key``;
Durable Task Scheduler: entities are a scheduler feature, operations
serialised per entity the same way), and ``call_entity`` is a request/response
message pair — whichever Function App instance runs the incident, one lease
per resource holds across all of them. Locally the host runs the entity
(``firestop.runtime.entities``) with the same one-batch-at-a-time rule,
fenced by a lease in SQLite across processes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Generator, Iterable

from firestop.alerts.alert import INCIDENT_ID_PREFIX
from firestop.instance_listing import decoded
from firestop.resource_id import resource_id_key

LOCK_ENTITY = "resource_lock"
#: How long a lease lasts without renewal (seconds of orchestration time); renewed before every attempt.
LEASE_SECONDS = 900.0
#: How often a group waiting for a lease asks again (seconds of orchestration time).
POLL_SECONDS = 5.0


def lock_key(resource_id: str) -> str:
    """The :data:`LOCK_ENTITY` key of ``resource_id``: 32 hex digits of SHA-256 of its comparison form.

    An id that is not a valid ARM id is hashed lower-cased as given (it still gets one lease).
    """
    try:
        text = resource_id_key(resource_id)
    except ValueError:
        text = resource_id.strip().lower()
    return hashlib.sha256(b"LOCK\n" + text.encode("utf-8")).hexdigest()[:32]


def _before(until: Any, now: str) -> bool:
    """True if the lease end ``until`` (ISO 8601) is before ``now`` (ISO 8601); an unreadable ``until`` has expired."""
    try:
        return datetime.fromisoformat(str(until)) < datetime.fromisoformat(now)
    except (TypeError, ValueError):
        return True


def operate(context: Any) -> None:
    """Entity function body of :data:`LOCK_ENTITY` (a ``df.DurableEntityContext``); see the module docstring."""
    state = context.get_state(lambda: {"holder": None, "resource": None, "until": None, "granted_at": None})
    request = context.get_input()
    request = request if isinstance(request, dict) else {}
    op = context.operation_name
    if op == "acquire":
        owner, now, until = str(request.get("owner") or ""), str(request.get("now") or ""), request.get("until")
        free = state["holder"] is None or state["holder"] == owner or _before(state["until"], now)
        if free and owner:
            granted_at = state["granted_at"] if state["holder"] == owner else now
            state = {"holder": owner, "resource": request.get("resource"), "until": until, "granted_at": granted_at}
        context.set_result({"granted": bool(free and owner), "holder": state["holder"], "until": state["until"]})
    elif op == "release":
        if state["holder"] is not None and state["holder"] == request.get("owner"):
            state = {"holder": None, "resource": state["resource"], "until": None, "granted_at": None}
        context.set_result(state["holder"])
    elif op == "get":
        context.set_result(state)
    else:
        raise ValueError(f"{LOCK_ENTITY}: unknown operation {op!r} (acquire, release, get)")
    context.set_state(state)


def _entity(key: str) -> Any:
    import azure.durable_functions as df

    return df.EntityId(LOCK_ENTITY, key)


def hold(context: Any, resources: Iterable[str], owner: str) -> Generator[Any, Any, float]:
    """Take (or renew) the lease on every resource, in key order, waiting while another holds one.

    Orchestrator code (``yield from``). Returns the orchestration seconds spent waiting.
    """
    waited = 0.0
    keys = sorted({lock_key(r): r for r in resources}.items())
    for key, resource in keys:
        while True:
            now = context.current_utc_datetime
            answer = yield context.call_entity(_entity(key), "acquire", {
                "owner": owner, "resource": resource, "now": now.isoformat(),
                "until": (now + timedelta(seconds=LEASE_SECONDS)).isoformat()})
            if (answer or {}).get("granted"):
                break
            yield context.create_timer(now + timedelta(seconds=POLL_SECONDS))
            waited += POLL_SECONDS
    return waited


def release(context: Any, resources: Iterable[str], owner: str) -> Generator[Any, Any, None]:
    """Give back the leases :func:`hold` took (reverse key order). Orchestrator code (``yield from``)."""
    for key in sorted({lock_key(r) for r in resources}, reverse=True):
        yield context.call_entity(_entity(key), "release", {"owner": owner})


# -- the same lease taken from outside an orchestration (a responder's undo) ------------------------------
class LeaseBusy(Exception):
    """Another holder kept a resource's lease for the whole wait. ``resource``, ``holder``: which and who."""

    def __init__(self, resource: str, holder: str | None, waited_s: float) -> None:
        super().__init__(f"{resource} is held by {holder} (waited {waited_s:g} s)")
        self.resource, self.holder, self.waited_s = resource, holder, waited_s


class LeasePort:
    """What :func:`hold_outside` needs from a Durable backend (async; see :class:`HostLeasePort`,
    :class:`ClientLeasePort`): ``signal(key, op, input)`` an operation to ``resource_lock@key``,
    ``read(key)`` its state (None if it never ran), ``now()`` (aware UTC, the clock orchestrations use),
    ``pump()`` (let the backend run queued entity operations), ``pause(seconds)`` (let time pass)."""

    async def signal(self, key: str, op: str, data: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def read(self, key: str) -> dict[str, Any] | None:  # pragma: no cover - interface
        raise NotImplementedError

    def now(self) -> datetime:  # pragma: no cover - interface
        raise NotImplementedError

    async def pump(self) -> None:
        return None

    async def pause(self, seconds: float) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def open_instances(self, name: str, limit: int) -> list[tuple[str, Any, Any]]:  # pragma: no cover - interface
        """The Pending/Running instances of orchestrator ``name`` (at most ``limit``, oldest first), each
        ``(instance_id, input, custom_status)`` decoded — what an undo reads to see incidents still open."""
        raise NotImplementedError

    async def instances_since(self, name: str, since: datetime) -> list[str] | None:
        """Ids of every instance of orchestrator ``name`` created at or after ``since`` (aware UTC), any status —
        the incidents an undo's later-incident check reads the filed records of
        (:func:`firestop.lifecycle.undo.later_reliance`); None when the backend cannot say (the check then reads
        filed records by name, up to its bound)."""
        return None


#: Runtime statuses of an instance still open (the Durable runtime's names).
OPEN_STATUSES = ("Pending", "Running")




class HostLeasePort(LeasePort):
    """A :class:`LeasePort` on a ``firestop.runtime.LocalDurableHost`` in this process (the CLI): ``pump`` runs
    what is runnable now (the entity's operations, and whatever incident holds the lease — its due timers
    included; no timer is jumped to), ``pause`` moves a virtual clock on (the CLI's sandbox clock only flows
    through work) or sleeps on a real one."""

    def __init__(self, host: Any) -> None:
        self.host = host

    async def signal(self, key: str, op: str, data: Any) -> None:
        self.host.signal_entity((LOCK_ENTITY, key), op, data)

    async def read(self, key: str) -> dict[str, Any] | None:
        exists, state = self.host.read_entity_state((LOCK_ENTITY, key))
        return state if exists and isinstance(state, dict) else None

    def now(self) -> datetime:
        return self.host.clock.now()

    async def pump(self) -> None:
        self.host.run_until_idle()

    async def open_instances(self, name: str, limit: int) -> list[tuple[str, Any, Any]]:
        found = self.host.list_instances(runtime_status=OPEN_STATUSES, name=name)[:limit]
        return [(s.instance_id, decoded(s.input), decoded(s.custom_status)) for s in found]

    async def instances_since(self, name: str, since: datetime) -> list[str] | None:
        return [s.instance_id for s in self.host.list_instances(created_from=since, name=name)]

    async def pause(self, seconds: float) -> None:
        import asyncio

        from firestop.clock import is_virtual

        if is_virtual(self.host.clock):
            self.host.clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)


class ClientLeasePort(LeasePort):
    """A :class:`LeasePort` on the SDK's ``DurableOrchestrationClient`` (an HTTP function: the console): the
    backend's own workers run the entity (``pump`` does nothing), ``pause`` sleeps ``poll_s`` wall seconds
    whatever the orchestration time asked for (bounded by the caller's wait).

    ``instance_id_prefix``: sent as ``instanceIdPrefix`` on both listings (default
    :data:`firestop.alerts.alert.INCIDENT_ID_PREFIX`, how every incident's id starts; None lists every instance).
    The extension's ``GET instances/`` lists entity instances too (``@resource_lock@<key>``,
    ``@incident_alerts@<incident>``, all Running, one per resource and incident for good: Azure/azure-functions-durable-extension
    v3.x 92fecfc ``HttpApiHandler.HandleGetStatusRequestAsync`` sets no ``ExcludeEntities``; see
    :mod:`firestop.instance_listing`), so without the prefix they fill the listing's page bound and every undo
    on Azure would in time refuse as "listing cut"."""

    def __init__(self, client: Any, clock: Any, *, poll_s: float = 0.1,
                 instance_id_prefix: str | None = INCIDENT_ID_PREFIX) -> None:
        self.client, self.clock, self.poll_s = client, clock, poll_s
        self.instance_id_prefix = instance_id_prefix

    async def signal(self, key: str, op: str, data: Any) -> None:
        await self.client.signal_entity(_entity(key), op, data)

    async def read(self, key: str) -> dict[str, Any] | None:
        answer = await self.client.read_entity_state(_entity(key))
        state = getattr(answer, "entity_state", None)
        if isinstance(state, str):
            import json

            try:
                state = json.loads(state)
            except ValueError:
                return None
        return state if getattr(answer, "entity_exists", False) and isinstance(state, dict) else None

    def now(self) -> datetime:
        return self.clock.now()

    async def pause(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(self.poll_s)

    async def open_instances(self, name: str, limit: int) -> list[tuple[str, Any, Any]]:
        """Every open instance listed, every page (:func:`firestop.instance_listing.list_instances`: the SDK's
        ``get_status_by`` reads one page only), then ``get_status(show_input=True)`` of each of ``name`` (a list
        does not carry inputs), at most ``limit``. Raises
        :class:`~firestop.instance_listing.InstanceListingIncomplete` when the listing stopped at its page bound
        (an unread open incident may be the one relying on the state: the caller refuses), and whatever the
        client raises (the caller refuses)."""
        from firestop.instance_listing import list_instances

        listing = (await list_instances(self.client, runtime_status=OPEN_STATUSES,
                                        instance_id_prefix=self.instance_id_prefix)).require_complete()
        mine = sorted((s for s in listing.statuses if getattr(s, "name", None) in (None, name) and getattr(s, "instance_id", None)),
                      key=lambda s: str(getattr(s, "created_time", "") or ""))[:limit]
        out = []
        for status in mine:
            full = await self.client.get_status(status.instance_id, show_input=True)
            if full:
                out.append((status.instance_id, decoded(getattr(full, "input_", getattr(full, "input", None))),
                            decoded(getattr(full, "custom_status", None))))
        return out

    async def instances_since(self, name: str, since: datetime) -> list[str] | None:
        """The ids of ``name``'s instances created since ``since``, every page
        (:func:`firestop.instance_listing.list_instances`). Raises
        :class:`~firestop.instance_listing.InstanceListingIncomplete` when the listing stopped at its page bound
        (an unread later incident may rely on the state: the caller refuses), and whatever the client raises."""
        from firestop.instance_listing import list_instances

        listing = (await list_instances(self.client, created_time_from=since,
                                        instance_id_prefix=self.instance_id_prefix)).require_complete()
        return [s.instance_id for s in listing.statuses
                if getattr(s, "name", None) in (None, name) and getattr(s, "instance_id", None)]


async def hold_outside(port: LeasePort, resources: Iterable[str], owner: str, *,
                       max_polls: int = int(LEASE_SECONDS // POLL_SECONDS)) -> float:
    """Take the lease on every resource for ``owner`` from outside an orchestration, in key order as
    :func:`hold` does (so an undo and a step group wanting the same resources cannot deadlock): signal
    ``acquire``, let the backend run it, read the entity's state — granted when ``owner`` holds it; else
    pause :data:`POLL_SECONDS` and ask again, at most ``max_polls`` times (default: one lease's length).

    Returns the seconds paused. Raises :class:`LeaseBusy` (after giving back what it took) when a resource
    stayed held by another owner.
    """
    waited = 0.0
    taken: list[str] = []
    for key, resource in sorted({lock_key(r): r for r in resources}.items()):
        for poll in range(max_polls + 1):
            now = port.now()
            await port.signal(key, "acquire", {"owner": owner, "resource": resource, "now": now.isoformat(),
                                               "until": (now + timedelta(seconds=LEASE_SECONDS)).isoformat()})
            await port.pump()
            state = await port.read(key) or {}
            if state.get("holder") == owner:
                taken.append(resource)
                break
            if poll == max_polls:
                await release_outside(port, taken, owner)
                raise LeaseBusy(resource, state.get("holder"), waited)
            await port.pause(POLL_SECONDS)
            waited += POLL_SECONDS
    return waited


async def release_outside(port: LeasePort, resources: Iterable[str], owner: str) -> None:
    """Give back the leases :func:`hold_outside` took (a ``release`` signal each, reverse key order)."""
    for key in sorted({lock_key(r) for r in resources}, reverse=True):
        await port.signal(key, "release", {"owner": owner})
    await port.pump()
