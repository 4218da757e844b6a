"""The external events intake raises on an open incident, and their data (pure).

The incident orchestrator (``firestop.lifecycle``) waits for these by name;
names and data shapes are a contract between intake and the orchestrator:

* joined alerts — since issue 18 (hot incidents) intake no longer raises an event per batch:
  it *signals* the incident's tally entity :data:`TALLY_ENTITY` (``@incident_alerts@<incident id>``,
  operation :data:`TALLY_ADD`) with the batch below, and the orchestrator reads the entity's count
  and sample once (:mod:`firestop.lifecycle.tally`), so a storm adds nothing to the incident's
  history. The batch is the data the ``alert_correlated`` event carried, which the orchestrator
  still reads from history (incidents started before the change, tests).
* :data:`EVENT_CORRELATED` ``"alert_correlated"`` — new Fired alerts joined the
  incident. One event carries a *batch*: every alert one worker accepted for
  the incident while its previous event was being raised (so a storm adds a
  handful of events to the incident's history, not one per alert). Data::

      {"count": int (alerts in the batch, >= 1),
       "alert_ids": [str, …] (every alert of the batch, up to MAX_BATCH_IDS),
       "alerts": [<summary>, …] (the newest SAMPLE_SIZE of them, oldest first),
       "received_at": "<ISO 8601 UTC>" (the first), "last_received_at": "<ISO 8601 UTC>"}

  where a summary is ``{"alert_id", "rule_name", "severity", "target_ids",
  "fired_at", "received_at"}`` plus ``"links"`` (attack identities, :func:`identity_links`) and
  ``"part"`` (the incident running this alert's own playbook) when there are any (never the alert
  context or its indicators).
  Earlier versions raised ``{"alert": <Alert JSON>, "received_at"}`` per
  alert; the orchestrator reads both (that shape counts one).

* :data:`EVENT_RESOLVED` ``"alert_resolved"`` — Azure Monitor sent "Resolved"
  for an alert of the incident. Data::

      {"alert_id": str, "resolved_at": "<ISO 8601 UTC>" | null, "received_at": "<ISO 8601 UTC>"}

  ``resolved_at`` is ``essentials.resolvedDateTime``; Azure documents it as
  "currently only applicable for metric alerts" (``alerts-common-schema.md``),
  so it is null when the payload has none.

Delivery is at least once: Azure Monitor redelivers a webhook up to 5 times
(``action-groups.md``) and each delivery that reaches an open incident raises
the event again, so the orchestrator must treat a repeated ``alert.alert_id``
(``alert_correlated``) or ``alert_id`` (``alert_resolved``) as the same event.
Data raised through the SDK's ``DurableOrchestrationClient`` reaches the
orchestrator as JSON *text* (azure-functions-durable-python#295; see
``firestop.runtime.management``), so decode a ``str`` before use.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any

import orjson

from firestop.alerts.times import isoformat_utc

__all__ = ["EVENT_CORRELATED", "EVENT_RESOLVED", "SAMPLE_SIZE", "TALLY_ENTITY", "TALLY_ADD", "alert_digest",
           "alert_summary", "identity_links", "correlated_batch", "correlated_event", "resolved_event"]

#: Alerts summarised in one ``alert_correlated`` event (and kept in the record); the rest are counted.
SAMPLE_SIZE = 20
#: Alert ids listed in one ``alert_correlated`` event (a batch is at most the deliveries one worker had
#: waiting for one raise: bounded by its concurrency).
MAX_BATCH_IDS = 1000

EVENT_CORRELATED = "alert_correlated"
EVENT_RESOLVED = "alert_resolved"
#: The durable entity (one per incident, key = the incident id) that joined alerts are signalled to
#: (operation :data:`TALLY_ADD`, input a :func:`correlated_batch`): :mod:`firestop.lifecycle.tally`.
TALLY_ENTITY = "incident_alerts"
TALLY_ADD = "add"


def alert_digest(alert_id: str) -> str:
    """16 hex digits of SHA-256 of ``alert_id`` (as given): how the tally entity remembers which alerts it
    counted (exact dedupe without keeping the ids' text)."""
    return hashlib.sha256(alert_id.encode("utf-8")).hexdigest()[:16]


#: ``when.astimezone(timezone.utc).isoformat()``, ValueError for a naive ``when`` (the same text, written faster
#: for a UTC datetime: :func:`firestop.alerts.times.isoformat_utc`)
_iso = isoformat_utc
_UTC = timezone.utc
_dumps = orjson.dumps


#: Identity links kept per alert (see :func:`identity_links`).
MAX_LINKS = 10
#: The context keys a link is read from
_LINK_KEYS = frozenset({"systemAlertId", "providerAlertId", "providerAlertIds"})


def identity_links(alert: Any) -> list[str]:
    """The attack identities an alert names, ``["defender:<systemAlertId>", …]`` (lower-case, at most
    :data:`MAX_LINKS`): a Defender alert its own ``systemAlertId``, a Sentinel incident the ``providerAlertId`` of
    every alert it holds (the Defender alert's ``systemAlertId``; the alert's own ``systemAlertId`` is Sentinel's copy), a Graph security alert its ``providerAlertId`` when Defender for Cloud raised it.
    The same Defender alert seen through several sources carries the same link (recorded beside each alert)."""
    context = getattr(alert, "context", None) or {}
    if _LINK_KEYS.isdisjoint(context):
        return []  # no identity named (most alerts)
    found: list[str] = []
    ids = context.get("providerAlertIds") if str(context.get("source") or "").startswith("sentinel:") else None
    for value in [context.get("systemAlertId") if str(context.get("source") or "").startswith("defender:") else None,
                  context.get("providerAlertId"), *(ids if isinstance(ids, list) else [])]:
        if isinstance(value, str) and value.strip() and len(value) <= 256:
            link = "defender:" + value.strip().lower()
            if link not in found:
                found.append(link)
    return found[:MAX_LINKS]


def alert_summary(alert: Any, *, received_at: datetime, part: str | None = None) -> dict[str, Any]:
    """What an ``alert_correlated`` event says of one alert (see the module docstring); ``links`` when the
    alert names attack identities (:func:`identity_links`), ``part`` when its own playbook runs in another
    incident of the same attack (:mod:`firestop.intake.accept`).

    Raises:
        ValueError: ``received_at`` is naive.
    """
    fired = alert.fired_at
    summary = {
        "alert_id": alert.alert_id,
        "rule_name": alert.rule_name,
        "severity": alert.severity,
        "target_ids": list(alert.target_ids[:SAMPLE_SIZE]),
        # _iso's usual case in line (a plain datetime in UTC: orjson's text, as isoformat_utc writes it), else _iso
        "fired_at": (None if fired is None else _dumps(fired)[1:-1].decode("ascii")
                     if type(fired) is datetime and fired.tzinfo is _UTC else _iso(fired)),
        "received_at": (_dumps(received_at)[1:-1].decode("ascii")
                        if type(received_at) is datetime and received_at.tzinfo is _UTC else _iso(received_at)),
    }
    # identity_links answers [] at once for a context that is empty or names none of _LINK_KEYS (most alerts): not
    # called for it
    context = getattr(alert, "context", None)
    links = identity_links(alert) if context and not _LINK_KEYS.isdisjoint(context) else None
    if links:
        summary["links"] = links
    if part:
        summary["part"] = part
    return summary


_ALERT_ID = itemgetter("alert_id")


def correlated_batch(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Data of :data:`EVENT_CORRELATED` for a batch of :func:`alert_summary` values (oldest first).

    Raises:
        ValueError: ``summaries`` is empty.
    """
    if not summaries:
        raise ValueError("a correlated batch needs at least one alert")
    return {
        "count": len(summaries),
        "alert_ids": list(map(_ALERT_ID, summaries[:MAX_BATCH_IDS])),
        "alerts": summaries[-SAMPLE_SIZE:],
        "received_at": summaries[0]["received_at"],
        "last_received_at": summaries[-1]["received_at"],
    }


def correlated_event(alert: Any, *, received_at: datetime) -> dict[str, Any]:
    """Data of :data:`EVENT_CORRELATED` for ``alert`` (a parsed ``Alert``) alone: a batch of one.

    Raises:
        ValueError: ``received_at`` is naive.
    """
    return correlated_batch([alert_summary(alert, received_at=received_at)])


def resolved_event(alert: Any, *, received_at: datetime) -> dict[str, Any]:
    """Data of :data:`EVENT_RESOLVED` for ``alert`` (a parsed Resolved ``Alert``).

    Raises:
        ValueError: ``received_at`` is naive.
    """
    return {
        "alert_id": alert.alert_id,
        "resolved_at": _iso(alert.resolved_at) if alert.resolved_at is not None else None,
        "received_at": _iso(received_at),
    }
