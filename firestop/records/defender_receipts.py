"""Which Defender for Cloud alerts reached Firestop's ``POST /api/alerts`` (defender18, attack 17's A17-02): the
intake side of the audit's end-to-end proof that the workflow automation's relay delivers them.

Why it exists: a workflow automation's Logic App action is called at its ``uri`` — "The Logic App trigger URI
endpoint (it will not be included in any response)" (``AutomationActionLogicApp``, Azure/azure-rest-api-specs
``specification/security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/automations.json``) — while
``logicAppResourceId`` beside it is a label the writer chooses. No read of the automation tells where Defender posts,
so ``monitoring.alert-rules`` compares what Defender raised (``Microsoft.Security/alerts`` list) with what Firestop
received, kept here by the webhook (:mod:`firestop.functions.http_alerts`).

Store: the records store (``FIRESTOP_RECORDS_CONTAINER``; ``FIRESTOP_HOME/records`` locally),
``received-defender/<sha256 of the alert key>.json`` = ``{"received_at": ISO-8601 UTC, "alert_type": lower-case
text, "seal"}``, written
create-if-absent (Put Blob ``If-None-Match: *`` / an atomic link locally): the first delivery's time stands, a
redelivery writes nothing new. The alert key is :func:`alert_key`: ``Microsoft.Security/alerts/<systemAlertId>``
lower-cased — intake's ``alert_id`` of every Defender shape (:mod:`firestop.alerts.sources`), and what the audit
derives from a listed alert's ``name`` (its ``systemAlertId``, Security Alerts REST 2022-01-01). One ~150-byte blob
per Defender alert received. Outside every incident's names (``records.store`` reads ``<incident>.json`` revisions
only).

Sealed: a Storage Blob Data writer could otherwise plant a receipt for every alert Defender raised and keep the
audit passing while the route is diverted. Each receipt carries the app's seal (:class:`firestop.trust.seal.SealKey`,
purpose :data:`PURPOSE`, bound to the receipt's name, covering the time); one without a valid seal, or over
:data:`READ_LIMIT` bytes, reads as not received. Nothing of the alert but its key's digest is kept (no payload
content, no secret).
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


#: The alert's resources a receipt names at most (digests: :func:`_resource_digest`).
MAX_RESOURCES = 20


def _resource_digest(resource_id: str) -> str:
    """16 hex of the SHA-256 of an ARM id, lower-cased without a trailing slash (what a receipt keeps of a resource)."""
    text = str(resource_id or "").strip().rstrip("/").lower()
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def _sealed(when: str, alert_type: str | None, resources: list[str] | None = None) -> str:
    """What a receipt's seal covers: its time, and (A18-01) the alert type intake received, lower-cased, and the
    digests of the resources it was on — a receipt written before A18-01 covers the time only (``alert_type`` None)."""
    if alert_type is None:
        return when
    return f"{when}|{_normal(alert_type)[:256]}|{','.join(resources or [])}"


def keep(store: Any, key: str, received_at: str, seal_key: Any, alert_type: str = "",
         resources: list[str] | tuple[str, ...] = ()) -> None:
    """Keep that the alert ``key`` (intake's ``alert_id``) of type ``alert_type`` (its ``alertType`` as received) on
    ``resources`` (the ARM ids it was received on: intake's targets) was received at ``received_at`` (ISO-8601 UTC),
    sealed with ``seal_key`` — create-if-absent: the first receipt stands. Raises the store's errors (the webhook
    answers 503, so the relay retries and the redelivery, a duplicate for intake, keeps it). A18-01: the type and the
    resources are sealed with the time, so a copy of Defender's alert posted under another type or on another
    resource (which starts no playbook, or none on the account Defender named) is no receipt of it."""
    from firestop.storage.base import AlreadyExists

    name = receipt_name(key)
    when = str(received_at).replace("\r", " ").replace("\n", " ")[:40]
    kind = _normal(alert_type)[:256]
    digests = sorted({_resource_digest(r) for r in list(resources)[:MAX_RESOURCES] if str(r or "").strip()})
    seal = seal_key.sign(PURPOSE, name, _sealed(when, kind, digests))
    try:
        store.create(name, json.dumps({"received_at": when, "alert_type": kind, "resources": digests,
                                       "seal": seal}).encode(), "application/json")
    except AlreadyExists:
        pass


def received_at(store: Any, key: str, seal_key: Any, alert_type: str | None = None,
                resources: list[str] | None = None) -> str | None:
    """When the alert ``key`` was first received (the receipt's ISO-8601 text), or None: no receipt, a blob this
    module did not write (no valid seal of ``seal_key`` for its name, time, type and resources, or over
    :data:`READ_LIMIT` bytes), or (A18-01) a receipt of another type than ``alert_type`` (Defender's ``alertType`` of
    the alert; None: any type), or on none of ``resources`` (the ARM ids Defender names the alert on, its
    ``resourceIdentifiers``; None or empty: not compared) when it names any. A receipt written before A18-01 names
    no type and counts for any. Raises the store's other errors."""
    from firestop.storage.base import TooLarge

    name = receipt_name(key)
    try:
        raw = store.read(name, limit=READ_LIMIT)
    except TooLarge:
        return None
    try:
        doc = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    when, seal, kind, on = doc.get("received_at"), doc.get("seal"), doc.get("alert_type"), doc.get("resources", [])
    if (not isinstance(when, str) or not (kind is None or isinstance(kind, str))
            or not (isinstance(on, list) and all(isinstance(d, str) for d in on))):
        return None
    ok, _ = seal_key.check(PURPOSE, name, _sealed(when, kind, on), seal)
    if not ok:
        return None
    if kind is not None and alert_type is not None and kind != _normal(alert_type)[:256]:
        return None
    if on and resources and not {_resource_digest(r) for r in resources} & set(on):
        return None
    return when
