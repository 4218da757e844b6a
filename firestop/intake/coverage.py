"""Did a finished incident's containment already cover a later alert of its route? (pure, no I/O)

A Fired alert of the same route as an incident that ended and held (record status ``contained`` or
``resolved``) is *recorded onto* that incident only when it adds nothing the containment did not cover
(:func:`covered_by`); otherwise intake starts a new generation that contains again
(:mod:`firestop.intake.accept`). Covered means one of:

* **identity-linked**: the alert names the same attack identity as the incident — the same alert id, the
  same Defender ``systemAlertId``, or a Sentinel incident holding that Defender alert (``providerAlertId``;
  :func:`firestop.intake.events.identity_links` of the alert against :func:`incident_links` of the record) —
  and *only* identities the incident already named: a Sentinel incident that also holds another Defender alert
  reports an attack this containment never saw (RT5-04), and is judged by its times;
* **older activity**: the activity it reports began (:func:`activity_start`) strictly before the incident's
  containment completed (:func:`containment_done`: the record's ``contained_at``, else ``resolved_at`` — an
  incident blocked at source has no ``contained_at``) — a late evaluation of rows the containment already
  answered — **and**, for a security alert that says when the activity was last seen (:func:`activity_end`),
  that too was strictly before: activity still going on after containment completed means the containment did
  not take (RT5-01: a new Defender alert whose activity began before and went on after was recorded, nothing
  contained).

Everything else is new activity — the leaked-key rule firing again with requests made *after* the keys were
rotated (the new key leaked too, or containment did not take) — and must be contained again. When either
time is unknown (the alert carries no start, the record no containment time) the answer is "not covered":
fail safe, never suppress.

Where the start comes from (:func:`activity_start`; Azure facts from ``alerts-common-schema.md`` and the
payload samples, ``shared/corpus/alerts/NOTES.md``):

* Log Alerts V2 and metric alerts: ``alertContext.condition.windowStartTime`` (the evaluated window;
  :attr:`firestop.alerts.Alert.window_start`, :func:`firestop.alerts.normalize.evaluation_window`);
* Log Analytics / Application Insights V1: ``SearchIntervalStartTimeUtc`` (same field);
* Activity Log alerts (Administrative, Security, Policy, Resource/Service Health): ``alertContext.eventTimestamp``,
  when the event happened (kept in the webhook's lean context: :func:`firestop.alerts.parse.lean_context`);
* Defender for Cloud: ``startTimeUtc``; Sentinel incident: ``firstActivityTimeUtc``; Graph security alert:
  ``firstActivityDateTime`` (each the source's ``start``, :mod:`firestop.alerts.sources`).

Where the end comes from (:func:`activity_end`): Defender for Cloud ``endTimeUtc``, Sentinel incident
``lastActivityTimeUtc``, Graph security alert ``lastActivityDateTime`` — the last activity the source saw
(Defender REST ``Alert`` 2022-01-01 "the UTC time of the last event or activity included in the alert"; Sentinel
``Incidents`` 2024-03-01 ``lastActivityTimeUtc``; Graph ``security-alert`` ``lastActivityDateTime``).

Known limit: a Log/metric alert's evaluation window is compared by its *start*: an evaluation window that opens before containment
and closes after it counts as old activity (its newer rows are answered when the next window, opening
after containment, fires).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from firestop.alerts.times import parse_utc_or_none
from firestop.intake.events import identity_links

__all__ = ["activity_end", "activity_start", "containment_done", "covered_by", "incident_links"]

_DEFENDER_PREFIX = "microsoft.security/alerts/"
#: Entries of a record's joined-alert lists read for their identity links (the lists are bounded anyway).
_ENTRIES = 200


def activity_start(alert: Any) -> datetime | None:
    """When the activity ``alert`` (a parsed :class:`firestop.alerts.Alert`) reports began, aware UTC, or None
    when it carries no usable time (see the module docstring for the field of each source)."""
    start = getattr(alert, "window_start", None)
    if isinstance(start, datetime):
        return start.replace(tzinfo=timezone.utc) if start.tzinfo is None else start.astimezone(timezone.utc)
    context = getattr(alert, "context", None)
    if isinstance(context, dict):
        return parse_utc_or_none(context.get("eventTimestamp"))  # Activity Log: None when absent or insane
    return None


#: ``context.source`` prefixes of the security-alert shapes whose ``window_end`` is the last activity seen
#: (:mod:`firestop.alerts.sources.security_alert`: Defender ``endTimeUtc``, Sentinel ``lastActivityTimeUtc``, Graph
#: ``lastActivityDateTime``) — not an evaluation window's end, which is always about the time the rule ran.
_LAST_SEEN_SOURCES = ("defender:", "sentinel:", "graph:")


def activity_end(alert: Any) -> datetime | None:
    """When the activity a security alert (Defender, Sentinel, Graph) reports was last seen, aware UTC; None for
    other shapes (a Log/metric window's end is when the rule ran, not the activity's) or when it carries none."""
    context = getattr(alert, "context", None)
    source = str(context.get("source") or "").lower() if isinstance(context, dict) else ""
    end = getattr(alert, "window_end", None)
    if not source.startswith(_LAST_SEEN_SOURCES) or not isinstance(end, datetime):
        return None
    return end.replace(tzinfo=timezone.utc) if end.tzinfo is None else end.astimezone(timezone.utc)


def containment_done(record: Any) -> datetime | None:
    """When the finished incident's containment completed: ``contained_at``, else ``resolved_at`` of its
    record (ISO 8601 strings, ``firestop.lifecycle`` shape); None when neither is a usable time."""
    if not isinstance(record, dict):
        return None
    for field in ("contained_at", "resolved_at"):
        when = parse_utc_or_none(record.get(field)) if isinstance(record.get(field), str) else None
        if when is not None:
            return when
    return None


def _own_link(alert_id: Any) -> str | None:
    if isinstance(alert_id, str) and alert_id.lower().startswith(_DEFENDER_PREFIX) and len(alert_id) <= 300:
        return "defender:" + alert_id[len(_DEFENDER_PREFIX):].strip().lower()
    return None


def incident_links(record: Any) -> tuple[frozenset[str], frozenset[str]]:
    """``(alert ids lower-cased, identity links)`` a finished incident's record names: its own alert's id (a
    Defender alert's id ``Microsoft.Security/alerts/<systemAlertId>`` gives ``defender:<systemAlertId>``) and
    those of the alerts recorded with it (``correlated_alerts``, ``correlated_after_close``: their ids and
    ``links``)."""
    ids: set[str] = set()
    links: set[str] = set()
    if not isinstance(record, dict):
        return frozenset(), frozenset()
    own = record.get("alert") if isinstance(record.get("alert"), dict) else {}
    entries = [own]
    for name in ("correlated_alerts", "correlated_after_close"):
        listed = record.get(name)
        if isinstance(listed, list):
            entries.extend(e for e in listed[:_ENTRIES] if isinstance(e, dict))
    for entry in entries:
        alert_id = entry.get("alert_id")
        if isinstance(alert_id, str):
            ids.add(alert_id.lower())
        link = _own_link(alert_id)
        if link:
            links.add(link)
        listed_links = entry.get("links")
        for value in listed_links[:_ENTRIES] if isinstance(listed_links, list) else []:
            if isinstance(value, str):
                links.add(value.lower())
    return frozenset(ids), frozenset(links)


def covered_by(alert: Any, record: Any) -> str | None:
    """Why the finished incident ``record`` already covered ``alert`` (one sentence), or None when the alert
    may report new activity and must be contained again (module docstring). ``record``: the incident's filed
    record (``firestop.lifecycle`` shape); None or not a mapping → None."""
    if not isinstance(record, dict):
        return None
    ids, links = incident_links(record)
    incident = record.get("incident_id") or "the incident"
    if str(alert.alert_id).lower() in ids:
        return f"the same alert as {incident} already handled"
    named = set(identity_links(alert))
    own = _own_link(alert.alert_id)
    if own:
        named.add(own)
    shared = sorted(named & links)
    if shared and named <= links:  # every attack identity it names was this incident's (RT5-04: not just one of them)
        return f"names {shared[0]}, the attack {incident} already contained"
    start, done = activity_start(alert), containment_done(record)
    end = activity_end(alert)
    if end is not None and done is not None and end >= done:
        return None  # seen going on after containment completed: the containment did not take (RT5-01)
    if start is not None and done is not None and start < done:
        return (f"reports activity from {start.isoformat()}, before {incident}'s containment completed at "
                f"{done.isoformat()}")
    return None
