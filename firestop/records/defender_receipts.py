"""Which Defender for Cloud alerts reached Firestop's ``POST /api/alerts`` (defender18, attack 17's A17-02): the
intake side of the audit's end-to-end proof that the workflow automation's relay delivers them.

Why it exists: a workflow automation's Logic App action is called at its ``uri`` — "The Logic App trigger URI
endpoint (it will not be included in any response)" (``AutomationActionLogicApp``, Azure/azure-rest-api-specs
``specification/security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/automations.json``) — while
``logicAppResourceId`` beside it is a label the writer chooses. No read of the automation tells where Defender posts,
so ``monitoring.alert-rules`` compares what Defender raised (``Microsoft.Security/alerts`` list) with what Firestop
received, kept here by the webhook (:mod:`firestop.functions.http_alerts`).

Store: the records store (``FIRESTOP_RECORDS_CONTAINER``; ``FIRESTOP_HOME/records`` locally),
``received-defender/<sha256 of the alert key>.json`` = ``{"received_at": ISO-8601 UTC, "alert_type": the delivery's
alert type (lower case), "resources": [16 hex digests of the ARM ids it was received on] (A18-01), "seal"}``, written
create-if-absent (Put Blob ``If-None-Match: *`` / an atomic link locally): the first delivery's time stands, a
redelivery writes nothing new. The alert key is :func:`alert_key`: ``Microsoft.Security/alerts/<systemAlertId>``
lower-cased — intake's ``alert_id`` of every Defender shape (:mod:`firestop.alerts.sources`), and what the audit
derives from a listed alert's ``name`` (its ``systemAlertId``, Security Alerts REST 2022-01-01). One ~150-byte blob
per Defender alert received. Outside every incident's names (``records.store`` reads ``<incident>.json`` revisions
only).

Since when (review18, R18-02): versions before defender18 kept no receipt, so on the first audit after an upgrade
every Defender alert the relay had delivered in the week before read as "not received" — the control failed, "broken
or diverted", in every deployment with a working relay and a recent alert, for up to a week; so did every alert whose
receipt a key since dropped sealed. Each key of the ring therefore marks when it began keeping receipts:
``received-defender/since-<32 hex>.json`` (:func:`marker_name`: the hex from the key's seal over a fixed statement, so
nobody without the key can make it first) = ``{"since": ISO-8601 UTC, "seal"}`` sealed for its name, filed
create-if-absent by the first receipt the key seals (:func:`keep`; never by an audit, R18-06: an audit run outside
the app — another machine's store and key — would start judging receipts it can never hold). An alert generated
before the oldest marker the ring believes (:func:`keeping_since`), or with none, and no receipt, is not judged.

Sealed: a Storage Blob Data writer could otherwise plant a receipt for every alert Defender raised and keep the
audit passing while the route is diverted. Each receipt carries the app's seal (:class:`firestop.trust.seal.SealKey`,
purpose :data:`PURPOSE`, bound to the receipt's name, covering the time and the alert type); one without a valid
seal, or over :data:`READ_LIMIT` bytes, reads as not received. The alert type (review18, R18-03): a receipt is kept for
whatever Fired Defender delivery intake accepts, so a holder of the webhook key who diverted the automation could post
each alert's ``systemAlertId`` under a type no playbook is routed by — received, nothing run; the audit counts a
receipt only for Defender's own ``alertType`` of the alert. Nothing of the alert but its key's digest and its type is
kept (no payload content, no secret).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: Where receipts are kept in the records store.
PREFIX = "received-defender/"
#: What a receipt's seal is for.
PURPOSE = "defender-alert-received"
#: The most bytes a receipt is read at: one this module writes is ~160 bytes; ×25 margin. A bigger blob is planted.
READ_LIMIT = 4096
#: The :class:`firestop.alerts.Alert` ``schema_id`` values a relay posts (Security Alerts REST 2022-01-01 shape, or the
#: continuous-export / workflow-automation ``triggerBody()`` shape; :mod:`firestop.alerts.sources.defender`). A Log
#: Analytics ``SecurityAlert`` row, the Activity Log copy and Graph's copy are other routes, not the relay's.
RELAYED_SCHEMAS = frozenset({"defender:rest", "defender:export"})


def alert_key(system_alert_id: str) -> str:
    """The key of a Defender alert: intake's ``alert_id`` for it (``Microsoft.Security/alerts/`` + ``systemAlertId``,
    lower-cased, stripped), from its ``systemAlertId`` (a listed alert's ``name``)."""
    return "microsoft.security/alerts/" + str(system_alert_id or "").strip().lower()


def _normal(key: str) -> str:
    return str(key or "").strip().lower()


def receipt_name(key: str) -> str:
    """The store name of the receipt of the alert with intake ``alert_id`` ``key`` (any case)."""
    return f"{PREFIX}{hashlib.sha256(_normal(key).encode('utf-8', 'replace')).hexdigest()}.json"


def _type(alert_type: Any) -> str:
    return str(alert_type or "").strip().lower()[:256]


#: The alert's resources a receipt names at most (as digests: :func:`_resource_digest`).
MAX_RESOURCES = 20


def _resource_digest(resource_id: Any) -> str:
    """16 hex of the SHA-256 of an ARM id, lower-cased without a trailing slash (what a receipt keeps of a resource)."""
    text = str(resource_id or "").strip().rstrip("/").lower()
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def _covered(when: str, alert_type: str, resources: list[str] | None = None) -> str:
    """What a receipt's seal covers: its time and alert type, and (A18-01) the digests of the resources it was received
    on when it names any (a receipt naming none covers what R18-03's did)."""
    return f"{when}\n{alert_type}" + (f"\n{','.join(resources)}" if resources else "")


def keep(store: Any, key: str, received_at: str, seal_key: Any, alert_type: str = "",
         resources: list[str] | tuple[str, ...] = ()) -> None:
    """Keep that the alert ``key`` (intake's ``alert_id``) of ``alert_type`` (the delivery's) on ``resources`` (the ARM
    ids it was received on: intake's targets) was received at ``received_at`` (ISO-8601 UTC), sealed with ``seal_key``
    — create-if-absent: the first receipt stands. Raises the store's errors (the webhook answers 503, so the relay
    retries and the redelivery, a duplicate for intake, keeps it). A18-01: the resources are sealed too, so a copy of
    Defender's alert posted on another resource (the dev account: its playbook refused there, production not
    contained) is no receipt of it."""
    from firestop.storage.base import AlreadyExists

    name = receipt_name(key)
    when = str(received_at).replace("\r", " ").replace("\n", " ")[:40]
    kind = _type(alert_type)
    digests = sorted({_resource_digest(r) for r in list(resources)[:MAX_RESOURCES] if str(r or "").strip()})
    seal = seal_key.sign(PURPOSE, name, _covered(when, kind, digests))
    try:
        store.create(name, json.dumps({"received_at": when, "alert_type": kind, "resources": digests,
                                       "seal": seal}).encode(), "application/json")
    except AlreadyExists:
        return
    mark_since(store, when, seal_key)  # (after a new receipt: the key's first files its since-marker)


#: What a since-marker's name is derived from (see the module docstring).
_MARKER_STATEMENT = "received-defender-since-marker"


def marker_name(seal_key: Any) -> str:
    """The since-marker name of ``seal_key`` (a :class:`~firestop.trust.seal.SealKey`; a ring: its current key)."""
    from firestop.trust.seal import ring_keys

    one = ring_keys(seal_key)[0]
    tag = hashlib.sha256(one.sign(PURPOSE, _MARKER_STATEMENT, "0" * 64).encode("ascii")).hexdigest()
    return f"{PREFIX}since-{tag[:32]}.json"


def mark_since(store: Any, when: str, seal_key: Any) -> None:
    """File the current key's since-marker at ``when`` unless one is there (create-if-absent; :func:`keep` does, at
    the key's first receipt). Raises the store's errors but AlreadyExists."""
    from firestop.storage.base import AlreadyExists

    name = marker_name(seal_key)
    if name in _MARKED:  # (filed, or found filed, by this process: no second write per receipt)
        return
    try:
        store.create(name, json.dumps({"since": when, "seal": seal_key.sign(PURPOSE, name, when)}).encode(),
                     "application/json")
    except AlreadyExists:
        pass
    _MARKED.add(name)


#: The since-marker names this process has filed or found filed (a name is one key's: :func:`marker_name`).
_MARKED: set[str] = set()


def _document(store: Any, name: str) -> dict | None:
    """The JSON object at ``name`` (read at most :data:`READ_LIMIT` bytes), or None: absent, bigger, not a JSON object.
    Raises the store's other errors."""
    from firestop.records.sealed_blob import read_object

    return read_object(store, name, READ_LIMIT)


def _since_of(store: Any, name: str, seal_key: Any) -> str | None:
    doc = _document(store, name)
    when = doc.get("since") if doc is not None else None
    if not isinstance(when, str) or not seal_key.check(PURPOSE, name, when, doc.get("seal"))[0]:
        return None
    return when


def keeping_since(store: Any, seal_key: Any) -> str | None:
    """Since when this store has kept receipts sealed by ``seal_key``'s ring (ISO-8601 text): the oldest since-marker of
    a key of the ring that its seal believes (at most 4 reads), or None — no receipt was ever kept here under the ring:
    an app that has not received a Defender alert from a relay since its upgrade (or since its keys were dropped), or a
    store that is not the app's (``audit run --azure`` from an operator's machine: its own ``FIRESTOP_HOME`` and seal
    key, R18-06). Only :func:`keep` files a marker. Raises the store's errors."""
    from firestop.trust.seal import ring_keys

    found = [w for w in (_since_of(store, marker_name(one), seal_key) for one in ring_keys(seal_key)) if w]
    return min(found) if found else None


def received_at(store: Any, key: str, seal_key: Any, alert_type: str | None = None,
                resources: list[str] | None = None) -> str | None:
    """When the alert ``key`` was first received (the receipt's ISO-8601 text), or None: no receipt, a blob this
    module did not write (no valid seal of ``seal_key`` for its name, time, type and resources, or over
    :data:`READ_LIMIT` bytes), or — ``alert_type`` given — one received as another alert type (R18-03), or — ``resources``
    given (the ARM ids Defender names the alert on, its ``resourceIdentifiers``) — one received on none of them when it
    names any (A18-01). Raises the store's other errors."""
    name = receipt_name(key)
    doc = _document(store, name)
    when, kind, seal = ((doc.get("received_at"), doc.get("alert_type"), doc.get("seal")) if doc is not None
                        else (None, None, None))
    on = doc.get("resources", []) if doc is not None else []
    if not isinstance(when, str) or not isinstance(kind, str) or not (
            isinstance(on, list) and all(isinstance(d, str) for d in on)):
        return None
    if alert_type is not None and kind != _type(alert_type):
        return None
    if on and resources and not {_resource_digest(r) for r in resources} & set(on):
        return None
    ok, _ = seal_key.check(PURPOSE, name, _covered(when, kind, on), seal)
    return when if ok else None
