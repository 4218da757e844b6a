"""An Activity Log alert's caller, claims and client IP, confirmed at their source: the Activity Log event (verify13).

Alerts Management confirms that an activity log alert with that id fired from that rule on that target
(:func:`firestop.azure.alerts_management.confirm`), but the caller, the principal claims (``oid``) and the client IP
the steps act on (``revoke-principal``, ``block-caller``) came from the delivery's ``alertContext``: the genuine
``aoai-suspicious-key-access`` alert re-posted naming another principal's object id was confirmed, and the role
assignments of that principal were the ones removed. Here the event the delivery names is read back:

* **where**: ``Activity Logs - List`` (``GET /subscriptions/{subscriptionId}/providers/Microsoft.Insights/eventtypes/
  management/values?api-version=2015-04-01&$filter=…``; azure-rest-api-specs ``specification/monitor/
  resource-manager/Microsoft.Insights/stable/2015-04-01/activityLogs_API.json``, operation ``ActivityLogs_List``;
  azure-mgmt-monitor 6.0.2's ``activity_logs.list(filter=…)``, which pages through ``nextLink``). Its ``$filter``
  "is very restricted": ``eventTimestamp ge '<start>' and eventTimestamp le '<end>' and correlationId eq
  '<correlationID>'`` is one of the patterns it allows. Needs ``Microsoft.Insights/eventtypes/values/read`` (the
  role's only addition: Azure resource provider operations, "Read management event type values").
* **what is sent**: the delivered ``correlationId`` and ``eventDataId`` must be GUIDs and the ``eventTimestamp`` an
  ISO time (:func:`parse_event_ref`); anything else is not confirmed and never sent. The window is
  :data:`EVENT_SLACK_SECONDS` either side of the delivered ``eventTimestamp``, written by us.
* **what must hold** (:func:`compare_event`): the list holds the event with the delivered ``eventDataId``, at the
  delivered ``eventTimestamp`` (within :data:`EVENT_TOLERANCE_SECONDS`), on the alert's target resource, whose
  ``operationName`` / ``authorization.action`` are every operation the delivery names, that meets the alert rule's
  own ``condition`` (activityLogAlerts 2020-10-01 ``condition.allOf[]`` ``{field, equals | containsAny | anyOf}``,
  :func:`condition_holds`: an event of another operation the same caller ran does not stand in for it), logged no
  later than the alert started and at most :data:`MAX_EVENT_LAG_SECONDS` before; and the event names every acted-on
  indicator of the delivery (its ``claims`` ``ipaddr`` / ``oid``, ``caller``, ``httpRequest.clientIpAddress``, read
  by the same name rules as the delivery's: :func:`firestop.alerts.indicators.extract_indicators`). A delivery that
  adds a kind the event cannot give (a deployment, a ``condition`` dimension) is not confirmed.

Left (README): Alerts Management does not say which event an activity log alert fired for, so another event that
meets the same rule on the same resource within :data:`MAX_EVENT_LAG_SECONDS` before the alert (two listKeys by two
principals a minute apart) can be named by a delivery of either alert id.

Not confirmed → the steps wait for the ``alert.genuine`` decision (the orchestrator's existing path). Never raises
for what Azure answers; the SDK's pipeline, the sandbox as its transport (``activitylog`` room), nothing mocked.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Callable

from azure.core.exceptions import AzureError

from firestop.alerts.source_refs import ACTIVITY_EVENT_REASON
from firestop.azure.errors import unread_why

#: Either side of the delivered ``eventTimestamp`` in the ``$filter`` (seconds): the event is looked for at that
#: instant; the slack only absorbs the precision the delivery's text may have lost (Azure writes 7 decimals).
EVENT_SLACK_SECONDS = 60
#: The event's own ``eventTimestamp`` and the delivered one are the same instant within this (seconds).
EVENT_TOLERANCE_SECONDS = 1.0
#: The alert started at most this long after the event it reports (seconds). Not a documented figure: Activity Log
#: alerts are evaluated as events arrive (the event's ``submissionTimestamp`` is seconds to minutes after its
#: ``eventTimestamp``); an alert reporting an older event is not confirmed (a responder decides).
MAX_EVENT_LAG_SECONDS = 30 * 60
#: At most this many events of one correlation id are read (an ARM operation writes a handful: Started, Accepted,
#: Succeeded, …).
MAX_EVENTS = 200
#: How every reason of this check starts (:data:`firestop.alerts.source_refs.ACTIVITY_EVENT_REASON`, the one place
#: its wording is keyed on: :mod:`firestop.lifecycle.cli_hints` gives an activity log alert's responder the Activity
#: Log to look at, not the alert or a metric).
REASON_PREFIX = ACTIVITY_EVENT_REASON
#: Clock skew allowed between the event's time and the alert's start (seconds).
SKEW_SECONDS = 300
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SUBSCRIPTION = re.compile(r"^/subscriptions/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/",
                           re.IGNORECASE)
#: activityLogAlerts 2020-10-01 condition fields read from an ``EventData`` (REST JSON), by lower-case name:
#: (key, sub-key of its ``{value, localizedValue}``). ``properties.<name>`` reads the event's ``properties``.
_FIELDS = {"category": ("category", "value"), "operationname": ("operationName", "value"), "status": ("status", "value"),
           "substatus": ("subStatus", "value"), "resourcetype": ("resourceType", "value"), "level": ("level", None),
           "caller": ("caller", None), "resourcegroup": ("resourceGroupName", None), "resourceid": ("resourceId", None),
           "resourceprovider": ("resourceProviderName", "value")}


def _time(value: Any) -> datetime | None:
    from firestop.alerts.times import parse_utc_or_none

    return value if isinstance(value, datetime) and value.tzinfo else parse_utc_or_none(value)


def parse_event_ref(ref: Any) -> tuple[dict[str, Any] | None, str | None]:
    """``({"correlationId", "eventDataId", "eventTimestamp": datetime}, None)`` from an incident input's
    ``source_ref`` (:func:`firestop.alerts.source_refs.activity_event_ref`'s JSON), else ``(None, why not)``: no
    reference, not JSON, a correlation or event id that is not a GUID, a time that is not one. Pure."""
    if not isinstance(ref, str) or not ref.strip():
        return None, "the delivery names no Activity Log event (correlationId, eventDataId, eventTimestamp)"
    try:
        data = json.loads(ref) if len(ref) <= 1024 else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return None, "the delivery's Activity Log event reference is unreadable"
    for key in ("correlationId", "eventDataId"):
        value = data.get(key)
        if not isinstance(value, str) or not _GUID.fullmatch(value):
            return None, (f"the delivered {key} {str(value)[:60]!r} is not a GUID: the Activity Log is not asked about it"
                          if value is not None else f"the delivery names no {key}: its Activity Log event cannot be read")
    when = _time(data.get("eventTimestamp"))
    if when is None:
        return None, f"the delivered eventTimestamp {str(data.get('eventTimestamp'))[:40]!r} is not a time"
    return {"correlationId": data["correlationId"].lower(), "eventDataId": data["eventDataId"].lower(),
            "eventTimestamp": when}, None


def event_filter(ref: dict[str, Any]) -> str:
    """The ``$filter`` of :func:`parse_event_ref`'s answer: the correlation id, :data:`EVENT_SLACK_SECONDS` either
    side of the event's time (times written here, ISO UTC). Pure."""
    at = ref["eventTimestamp"]
    start = (at - timedelta(seconds=EVENT_SLACK_SECONDS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (at + timedelta(seconds=EVENT_SLACK_SECONDS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"eventTimestamp ge '{start}' and eventTimestamp le '{end}' and correlationId eq '{ref['correlationId']}'"


def _field(event: dict[str, Any], name: str) -> tuple[bool, Any]:
    """(known, value) of an activity log alert condition ``field`` in ``event`` (REST JSON)."""
    low = name.strip().lower()
    if low.startswith("properties."):
        props = event.get("properties")
        return True, props.get(name.strip().split(".", 1)[1]) if isinstance(props, dict) else None
    if low not in _FIELDS:
        return False, None
    key, sub = _FIELDS[low]
    value = event.get(key)
    return True, (value.get(sub) if isinstance(value, dict) else None) if sub else value


def condition_holds(event: dict[str, Any], condition: Any) -> str | None:
    """None when ``event`` meets an activity log alert rule's ``condition`` (``{"allOf": [{field, equals} |
    {field, containsAny} | {anyOf: [...]}]}``, compared case-insensitively as Azure Monitor does), else why not
    (naming the field). A field this check cannot read from an event is a reason too (fail safe). Pure."""
    items = condition.get("allOf") if isinstance(condition, dict) else None
    if not isinstance(items, list) or not items:
        return "the alert rule's condition names nothing to meet"

    def holds(item: Any) -> str | None:
        if not isinstance(item, dict):
            return "the alert rule's condition is unreadable"
        if "anyOf" in item:
            reasons = [holds(c) for c in item.get("anyOf") or []]
            return None if any(r is None for r in reasons) else (reasons[0] if reasons else "an empty anyOf")
        name = str(item.get("field") or "")
        known, value = _field(event, name)
        if not known:
            return f"the alert rule's condition field {name[:60]!r} is not one this check reads"
        text = "" if value is None else str(value).lower()
        if "containsAny" in item:
            wanted = item.get("containsAny") if isinstance(item.get("containsAny"), list) else []
            return None if any(str(v).lower() in text for v in wanted) else f"the event's {name[:60]} is not one the rule names"
        return None if text == str(item.get("equals", "")).lower() else f"the event's {name[:60]} is not the rule's {str(item.get('equals'))[:80]!r}"

    for item in items:
        why = holds(item)
        if why is not None:
            return why
    return None


def event_indicators(event: dict[str, Any]) -> Any:
    """The :class:`~firestop.alerts.indicators.Indicators` an Activity Log ``EventData`` (REST JSON) gives by the
    delivery's own name rules: its ``claims`` (``ipaddr``, ``oid``), ``caller``, ``httpRequest.clientIpAddress``,
    ``authorization.action``, ``operationName``."""
    from firestop.alerts.indicators import extract_indicators

    operation = event.get("operationName")
    return extract_indicators({"claims": event.get("claims"), "caller": event.get("caller"),
                               "httpRequest": event.get("httpRequest"), "authorization": event.get("authorization"),
                               "operationName": operation.get("value") if isinstance(operation, dict) else operation})


def compare_event(event: dict[str, Any], ref: dict[str, Any], alert: dict[str, Any], rule: dict[str, Any],
                  started: datetime, wanted: dict[str, list[str]]) -> str | None:
    """None when ``event`` (REST JSON ``EventData``) is the one ``ref`` names and confirms the delivery (module
    docstring, "what must hold"), else why not (one sentence). ``alert``: the incident input's alert JSON;
    ``rule``: the activity log alert rule's ARM JSON; ``started``: the source's ``startDateTime``; ``wanted``:
    :func:`firestop.azure.monitor_source.delivered`. Pure."""
    from firestop.azure.monitor_source import KIND_LABELS

    at = _time(event.get("eventTimestamp"))
    if at is None or abs((at - ref["eventTimestamp"]).total_seconds()) > EVENT_TOLERANCE_SECONDS:
        return f"the event's eventTimestamp is {str(event.get('eventTimestamp'))[:40]}, not the delivered one"
    if at > started + timedelta(seconds=SKEW_SECONDS) or at < started - timedelta(seconds=MAX_EVENT_LAG_SECONDS):
        return (f"the event ({str(event.get('eventTimestamp'))[:40]}) is not within {MAX_EVENT_LAG_SECONDS // 60} min "
                "before the alert started: not the event this alert fired for")
    resource = str(event.get("resourceId") or "").strip().rstrip("/").lower()
    targets = {str(t).strip().rstrip("/").lower() for t in alert.get("target_ids") or []}
    if not resource or resource not in targets:
        return f"the event is on {str(event.get('resourceId'))[:160]!r}, not the alert's target"
    found = event_indicators(event)
    operations = {v.lower() for v in found.operation_names}
    named = (alert.get("indicators") or {}).get("operation_names") or []
    other = [str(v) for v in named if str(v).strip().lower() not in operations]
    if other:
        return f"the event's operation is not the delivered {other[0][:120]!r}"
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    why = condition_holds(event, props.get("condition"))
    if why is not None:
        return f"the event does not meet the alert rule's condition ({why})"
    for kind, values in wanted.items():
        held = {str(v).strip().lower() for v in getattr(found, kind, ())}
        missing = [v for v in values if v.strip().lower() not in held]
        if missing:
            return (f"the Activity Log event does not name the delivered {KIND_LABELS.get(kind, kind)} "
                    f"{missing[0][:80]!r}: the event names {', '.join(sorted(held))[:160] or 'none'}")
    return None


def _as_dict(model: Any) -> dict[str, Any]:
    """An SDK ``EventData`` as its REST JSON (``serialize(keep_readonly=True)``), a dict as it is."""
    if isinstance(model, dict):
        return model
    serialize = getattr(model, "serialize", None)
    return serialize(keep_readonly=True) if serialize is not None else {}


def confirm_activity_event(monitor: Callable[[str], Any] | None, alert: dict[str, Any], rule: dict[str, Any],
                           source: dict[str, Any], ref_text: Any, wanted: dict[str, list[str]]) -> str | None:
    """None when the Activity Log event the delivery names (``ref_text``: the input's ``source_ref``) confirms
    ``wanted`` (:func:`compare_event`), else why not, starting with :data:`REASON_PREFIX` (every reason of this
    check: the responder's "Check first" advice is chosen by it, :mod:`firestop.lifecycle.cli_hints`).
    ``monitor(subscription)``: an azure-mgmt-monitor ``MonitorManagementClient`` (None: not confirmed); ``source``:
    the Alerts Management alert (``startDateTime``, ``targetResource``). One read (its pages, at most
    :data:`MAX_EVENTS` events); never raises for what Azure answers."""
    why = _confirm_event(monitor, alert, rule, source, ref_text, wanted)
    if why is None:
        return None
    return type(why)(REASON_PREFIX + why)  # (a CouldNotCheck stays one: variants14)


def _confirm_event(monitor: Callable[[str], Any] | None, alert: dict[str, Any], rule: dict[str, Any],
                   source: dict[str, Any], ref_text: Any, wanted: dict[str, list[str]]) -> str | None:
    ref, why = parse_event_ref(ref_text)
    if ref is None:
        return why
    essentials = ((source or {}).get("properties") or {}).get("essentials") or {}
    started = _time(essentials.get("startDateTime"))
    if started is None:
        return "the source gives no startDateTime to read the Activity Log event at"
    subscription = _SUBSCRIPTION.match(str(essentials.get("targetResource") or ""))
    if subscription is None:
        return "the alert's target names no subscription whose Activity Log could be read"
    if monitor is None:
        return "the Activity Log event cannot be read (no Azure Monitor client)"
    try:
        events = []
        for item in monitor(subscription.group(1)).activity_logs.list(filter=event_filter(ref)):
            events.append(_as_dict(item))
            if len(events) >= MAX_EVENTS:
                break
    except AzureError as exc:
        status = getattr(exc, "status_code", None)
        said = f"HTTP {status}" if status else type(exc).__name__
        return unread_why(exc, f"the Activity Log could not be read ({said} after retries)")
    event = next((e for e in events if str(e.get("eventDataId") or "").lower() == ref["eventDataId"]), None)
    if event is None:
        return (f"the Activity Log holds no event {ref['eventDataId']} of correlation {ref['correlationId']} at the "
                "delivered eventTimestamp")
    return compare_event(event, ref, alert, rule, started, wanted)
