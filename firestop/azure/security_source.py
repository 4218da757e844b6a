"""The check that a Defender for Cloud alert or a Sentinel incident a webhook delivers is one its source holds
(``FIRESTOP_ALERT_SOURCE_CHECK``; the Common Alert Schema's twin is :mod:`firestop.azure.alerts_management`).

Defender for Cloud: Security Alerts REST **2022-01-01** through azure-mgmt-security 7.0.0's ``SecurityCenter``
(``alerts.get_resource_group_level`` / ``alerts.get_subscription_level``, the api-version it sends by default).
Source: Azure/azure-rest-api-specs ``specification/security/resource-manager/Microsoft.Security/stable/2022-01-01/
alerts.json`` (``Alerts_GetResourceGroupLevel``: ``GET /subscriptions/{subscriptionId}/resourceGroups/
{resourceGroupName}/providers/Microsoft.Security/locations/{ascLocation}/alerts/{alertName}``; ``Alerts_GetSubscriptionLevel``
without the resource group) and its examples ``GetAlertResourceGroupLocation_example.json`` /
``GetAlertSubscriptionLocation_example.json``: the alert's ``name`` is its ``systemAlertId``; ``properties``
``alertType``, ``severity`` (High/Medium/Low/Informational), ``status`` (Active/InProgress/Resolved/Dismissed),
``startTimeUtc``, ``endTimeUtc``, ``timeGeneratedUtc``, ``resourceIdentifiers[]`` (``AzureResource``:
``azureResourceId``). Needs ``Microsoft.Security/locations/alerts/read``.

Sentinel: REST **2024-03-01** (stable; ``specification/securityinsights/resource-manager/Microsoft.SecurityInsights/
stable/2024-03-01/Incidents.json``: ``Incidents_Get``, ``Incidents_ListAlerts``, ``Incidents_ListEntities``, examples
``GetIncidentById.json``, ``GetAllIncidentAlerts.json``, ``GetAllIncidentEntities.json``) through
:class:`firestop.azure.sentinel.SentinelClient` (azure-mgmt-core's ARM pipeline). Needs
``Microsoft.SecurityInsights/incidents/read``, ``…/incidents/alerts/read``, ``…/incidents/entities/read``.

Where the source is: the delivery's own ARM id of the alert (Defender REST ``id``; the export / workflow-automation
shape's ``id`` when it has one) or of the incident (Sentinel), which intake writes into the incident's input as
``source_ref`` after :mod:`firestop.alerts.source_refs` accepts its shape. A delivery without one (a Log Analytics ``SecurityAlert`` row names no location) is not confirmed.

Never mocked: the pipelines are the SDKs' (bearer token, ``RetryPolicy`` retrying 408/429/5xx ``retry_total``
times), the sandbox is their transport.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from azure.core.exceptions import AzureError

from firestop.azure.alerts_management import (MAX_FIRED_AGE_SECONDS, MAX_RESOLVED_AGE_SECONDS, SKEW_SECONDS, _unread,
                                              unread_code)
from firestop.source_reasons import Reason

from firestop.alerts.source_refs import DEFENDER, POLICY, SENTINEL, check_defender_alert_id, check_sentinel_incident_id  # noqa: F401

DEFENDER_API_VERSION = "2022-01-01"
SENTINEL_API_VERSION = "2024-03-01"
#: The payload's time (``fired_at``: ``timeGeneratedUtc``, else ``endTimeUtc``, else ``startTimeUtc``) and the
#: source's same time are one instant within this (seconds). Not exact: the continuous-export / workflow-automation
#: shapes are reported to name and round the times differently from the REST schema (``TimeGenerated``,
#: :mod:`firestop.alerts.sources.defender`); a minute still refuses another firing's time.
DEFENDER_TIME_TOLERANCE_SECONDS = 60.0
#: The relay posts the incident object as Sentinel holds it: ``createdTimeUtc`` equal within this (seconds; the
#: payload may carry 100 ns ticks, Python keeps microseconds).
SENTINEL_TIME_TOLERANCE_SECONDS = 1.0

_DEFENDER_PREFIX = "microsoft.security/alerts/"
_SENTINEL_PREFIX = "microsoft.securityinsights/incidents/"
_SEVERITY = {"high": 1, "medium": 2, "low": 3, "informational": 4, "information": 4}


def _norm(value: Any) -> str:
    return str(value or "").strip().rstrip("/").lower()


def _time(value: Any) -> datetime | None:
    from firestop.alerts.times import parse_utc_or_none

    if isinstance(value, datetime):
        return value
    return parse_utc_or_none(value)


def _targets_missing(alert: dict[str, Any], held: set[str]) -> str | None:
    claimed = [_norm(t) for t in alert.get("target_ids") or []]
    if not claimed:
        return "the alert names no target resource"
    differing = [t for t in claimed if t not in held]
    if differing:
        shown = ", ".join(sorted(held))[:300] or "none"
        return f"resource identifiers differ: the source names {shown}, the alert names {differing[0]!r}"
    return None


#: The indicators a playbook step can act on (``deployment.throttle`` the first deployment, ``identity.revoke_role_assignment``
#: the first principal, ``network.block_ips`` the caller IPs, the narrow runbooks the application / end user / user
#: agent): each one the delivery names must be one the source names too (RT14-02), else the check confirms the alert
#: and the steps act on what the delivery made up. ``alert_types`` are compared on their own (route).
ACTED_ON_INDICATORS = ("caller_ips", "principal_ids", "deployments", "applications", "end_user_ids", "user_agents")


def _indicators_missing(alert: dict[str, Any], source: Any) -> str | None:
    """None when every value of :data:`ACTED_ON_INDICATORS` in ``alert["indicators"]`` (the incident input's alert JSON)
    is among ``source``'s (an :class:`firestop.alerts.indicators.Indicators` read from the source's own alert), compared
    case-insensitively; else why not (naming the kind and the value). ``source`` None: the source's indicators could
    not be read, so any delivered one differs."""
    delivered = alert.get("indicators") if isinstance(alert.get("indicators"), dict) else {}
    for kind in ACTED_ON_INDICATORS:
        named = delivered.get(kind) or []
        if not named:
            continue
        held = {_norm(v) for v in (getattr(source, kind, ()) if source is not None else ())}
        for value in named if isinstance(named, list) else [named]:
            if _norm(value) not in held:
                return f"{kind} differ: the alert names {str(value)[:120]!r}, which the source's alert does not"
    return None


def _defender_indicators(props: dict[str, Any]) -> Any:
    """The indicators of a Defender alert's REST ``properties`` as intake reads a delivery's
    (:func:`firestop.alerts.sources.defender.parse_rest`); None when they cannot be read."""
    from firestop.alerts.errors import AlertPayloadError
    from firestop.alerts.sources.defender import _common
    from firestop.alerts.sources.security_alert import indicators_of

    try:
        return indicators_of(_common(props, "defender:rest", "properties."))
    except (AlertPayloadError, TypeError, ValueError, AttributeError):
        return None


def _sentinel_indicators(entities: list[Any]) -> Any:
    """The indicators of a Sentinel incident's entities (``Incidents_ListEntities``) as intake reads a delivery's
    ``relatedEntities`` (:func:`firestop.alerts.sources.sentinel.parse`); None when they cannot be read."""
    from firestop.alerts.sources.security_alert import SecurityAlert, indicators_of

    flat = []
    for e in entities or []:
        if not isinstance(e, dict):
            continue
        eprops = e.get("properties") if isinstance(e.get("properties"), dict) else {}
        flat.append({"type": str(e.get("kind") or ""), **{k: v for k, v in eprops.items() if not isinstance(v, (dict, list))}})
    try:
        return indicators_of(SecurityAlert(source="sentinel:incident", alert_type="", system_alert_id="", entities=flat))
    except (TypeError, ValueError, AttributeError):
        return None


def _age(started: datetime | None, now: datetime, what: str) -> str | None:
    if started is None:
        return f"the source gives no {what}"
    if started > now + timedelta(seconds=SKEW_SECONDS) or started < now - timedelta(seconds=MAX_FIRED_AGE_SECONDS):
        return f"{what} {started.isoformat()} is not within {MAX_FIRED_AGE_SECONDS // 3600} h before the check"
    return None


def compare_defender(alert: dict[str, Any], source: dict[str, Any], now: datetime) -> str | None:
    """None when ``source`` (the alert's REST 2022-01-01 JSON) confirms ``alert`` (the incident input's alert JSON),
    else why not (one sentence naming the field). Pure. The source's ``resourceIdentifiers`` include every
    ``target_ids``; every indicator a step acts on (:data:`ACTED_ON_INDICATORS`) is one the source's entities and
    extended properties name (RT14-02); ``alertType`` is ``rule_name`` (case-insensitive); severity maps to ``severity`` (High 1 …
    Informational 4); the source's time (generated, else end, else start) is ``fired_at`` within
    :data:`DEFENDER_TIME_TOLERANCE_SECONDS` and within 24 h before the check; ``Dismissed`` never confirms;
    ``Resolved`` confirms only a delivery saying Resolved (the REST alert has no resolution time, so "resolved since
    it was sent" cannot be told from "resolved long ago")."""
    props = (source or {}).get("properties") or {}
    held = {_norm(r.get("azureResourceId")) for r in props.get("resourceIdentifiers") or []
            if isinstance(r, dict) and isinstance(r.get("azureResourceId"), str)}
    why = _targets_missing(alert, held)
    if why:
        return why
    why = _indicators_missing(alert, _defender_indicators(props if isinstance(props, dict) else {}))
    if why:
        return why
    if _norm(props.get("alertType")) != _norm(alert.get("rule_name")) or not props.get("alertType"):
        return (f"alertType differs: the source says {str(props.get('alertType'))[:120]!r}, "
                f"the alert says {str(alert.get('rule_name'))[:120]!r}")
    severity = _SEVERITY.get(_norm(props.get("severity")))
    if severity is None or severity != alert.get("severity"):
        return f"severity differs: the source says {str(props.get('severity'))[:20]!r}, the alert says {alert.get('severity')!r}"
    generated = _time(props.get("timeGeneratedUtc")) or _time(props.get("endTimeUtc")) or _time(props.get("startTimeUtc"))
    why = _age(generated, now, "timeGeneratedUtc")
    if why:
        return why
    fired = _time(alert.get("fired_at"))
    if fired is None or abs((fired - generated).total_seconds()) > DEFENDER_TIME_TOLERANCE_SECONDS:
        return (f"time differs: the source says the alert was generated {generated.isoformat()}, "
                f"the alert says {str(alert.get('fired_at'))[:40]}")
    status = _norm(props.get("status"))
    if status == "dismissed":
        return "the source says the alert was dismissed"
    if alert.get("monitor_condition") == "Resolved" and status != "resolved":
        return f"status differs: the alert says resolved, the source says {str(props.get('status'))[:20]!r}"
    if alert.get("monitor_condition") != "Resolved" and status not in ("active", "inprogress", "new"):
        return (f"the source says the alert is {str(props.get('status'))[:20]!r} (Defender gives no time it was "
                "resolved: not a reason for automatic containment now)")
    return None


def _sentinel_resources(alerts: list[Any], entities: list[Any]) -> set[str]:
    """The ARM ids an incident's alerts (``resourceIdentifiers[].azureResourceId`` or ``.resourceId``) and its
    ``AzureResource`` entities (``properties.resourceId``) name, normalised."""
    held = set()
    for item in alerts or []:
        props = item.get("properties") if isinstance(item, dict) and isinstance(item.get("properties"), dict) else {}
        for ident in props.get("resourceIdentifiers") or []:
            if isinstance(ident, dict):
                for key in ("azureResourceId", "resourceId"):
                    if isinstance(ident.get(key), str):
                        held.add(_norm(ident[key]))
    for item in entities or []:
        if isinstance(item, dict) and str(item.get("kind") or "").lower() == "azureresource":
            rid = (item.get("properties") or {}).get("resourceId") if isinstance(item.get("properties"), dict) else None
            if isinstance(rid, str):
                held.add(_norm(rid))
    return held


def compare_sentinel(alert: dict[str, Any], incident: dict[str, Any], alerts: list[Any], entities: list[Any],
                     now: datetime) -> str | None:
    """None when the incident as Sentinel holds it (``Incidents_Get`` JSON, its ``Incidents_ListAlerts`` ``value``
    and ``Incidents_ListEntities`` ``entities``) confirms ``alert`` (the incident input's alert JSON), else why not.
    Pure. Its alerts' resource identifiers include every ``target_ids`` — its AzureResource entities count only when
    its alerts name no resource (A18-08: a bookmark's entity beside a related alert of another account); every indicator a
    step acts on (:data:`ACTED_ON_INDICATORS`) is one its entities name (RT14-02); it holds at least one alert (RT20-07:
    an incident without one — created by hand, Incidents - Create Or Update — is routed by its title, which anyone
    who may write incidents chooses, and entities a related bookmark gives: never confirmed), and one of its alerts has a
    Defender for Cloud AI alert type (RT20-08: a scheduled analytics rule's alerts are typed by its rule id, which its
    author chooses, so a Monitor name glob matching one is no detection); every alert type
    the delivery named (``indicators.alert_types``, ``rule_name``) is one of its alerts' (the route is chosen from
    them); severity maps; ``createdTimeUtc`` is ``fired_at`` within :data:`SENTINEL_TIME_TOLERANCE_SECONDS` and within
    24 h before the check; ``Closed`` confirms a delivery saying Resolved, or one saying Fired when
    ``lastModifiedTimeUtc`` is within 1 h (closed since it was sent), never an incident closed long ago."""
    props = (incident or {}).get("properties") or {}
    # A18-08: the alerts' own resources when they name any — an AzureResource entity a related bookmark gives (its
    # author's entity mapping) does not put a resource beside a genuine alert of another one
    named_by_alerts = _sentinel_resources(alerts, [])
    why = _targets_missing(alert, named_by_alerts or _sentinel_resources(alerts, entities))
    if why:
        return why
    why = _indicators_missing(alert, _sentinel_indicators(entities))
    if why:
        return why
    types = {_norm((a.get("properties") or {}).get("alertType")) for a in alerts or []
             if isinstance(a, dict) and isinstance(a.get("properties"), dict)} - {""}
    named = [_norm(t) for t in (alert.get("indicators") or {}).get("alert_types") or []]
    if not types:  # RT20-07: a hand-made incident (Incidents - Create, no alert): its title routes it, nothing detected it
        return (f"the incident holds no alert (made by hand, or its alerts are gone): its title "
                f"{str(props.get('title'))[:120]!r} is a person's words, not a detection — a responder decides")
    from firestop.alerts.sources.security_alert import playbook_for

    if not any(playbook_for(t) for t in types):  # RT20-08: an analytics rule's alert type is its author's rule id
        return (f"the incident's alerts are of no Defender for Cloud AI alert type ({', '.join(sorted(types))[:200]}): an "
                "analytics rule's alert type is the rule id its author chose, not a detection a playbook was written for "
                "— a responder decides")
    named.append(_norm(alert.get("rule_name")))
    differing = [t for t in named if t and t not in types] if types else []
    if differing:
        return f"alert type differs: the incident's alerts are {', '.join(sorted(types))[:200]}, the alert names {differing[0]!r}"
    severity = _SEVERITY.get(_norm(props.get("severity")))
    if severity is None or severity != alert.get("severity"):
        return f"severity differs: the source says {str(props.get('severity'))[:20]!r}, the alert says {alert.get('severity')!r}"
    created = _time(props.get("createdTimeUtc"))
    why = _age(created, now, "createdTimeUtc")
    if why:
        return why
    fired = _time(alert.get("fired_at"))
    if fired is None or abs((fired - created).total_seconds()) > SENTINEL_TIME_TOLERANCE_SECONDS:
        return f"createdTimeUtc differs: the source says {props.get('createdTimeUtc')}, the alert says {str(alert.get('fired_at'))[:40]}"
    status = _norm(props.get("status"))
    if alert.get("monitor_condition") == "Resolved":
        return None if status == "closed" else f"status differs: the alert says closed, the source says {str(props.get('status'))[:20]!r}"
    if status == "closed":
        modified = _time(props.get("lastModifiedTimeUtc"))
        if modified is None or modified < now - timedelta(seconds=MAX_RESOLVED_AGE_SECONDS):
            return f"the source says the incident was closed (last modified {props.get('lastModifiedTimeUtc')}), long before the check"
    elif status not in ("new", "active"):
        return f"status is {str(props.get('status'))[:20]!r} at the source"
    return None


def _ref_names_alert(alert: dict[str, Any], prefix: str, ref_name: str) -> bool:
    return _norm(alert.get("alert_id")) == prefix + ref_name.strip().lower()


def confirm_defender(security: Callable[[str], Any], alert: dict[str, Any], source_ref: Any, now: datetime) -> dict[str, Any]:
    """``{"confirmed": bool, "why": str}``: the Defender alert ``source_ref`` (its ARM id) read with
    ``security(subscription)`` (a ``SecurityCenter``) and compared (:func:`compare_defender`). The id's name must be
    the delivered ``systemAlertId`` (``alert_id`` is ``Microsoft.Security/alerts/<it>``). Never raises for what the
    source answers: 404, an error left after the retries, a malformed id: not confirmed (fail safe). One GET."""
    if source_ref is None:
        return {"confirmed": False, "why": "the delivery names no Defender alert id (…/locations/<ascLocation>/alerts/"
                                           "<name>, the REST shape's id): its source cannot be read"}
    try:
        sub, rg, location, name = check_defender_alert_id(source_ref)
    except ValueError as exc:
        return {"confirmed": False, "why": f"the delivery's Defender alert id is {str(source_ref)[:160]!r}: {exc}"}
    if not _ref_names_alert(alert, _DEFENDER_PREFIX, name):
        return {"confirmed": False, "why": f"the delivery's alert id names {name[:80]!r}, not its systemAlertId"}
    try:
        client = security(sub)
        found = (client.alerts.get_resource_group_level(rg, location, name) if rg
                 else client.alerts.get_subscription_level(location, name))
    except AzureError as exc:
        return {"confirmed": False, "why": _unread(exc, "the source could not be read", "",
                                                   "alert not found at its source (Defender for Cloud answered 404)"),
                "code": unread_code(exc, Reason.UNCLASSIFIED)}
    source = found.serialize(keep_readonly=True) if hasattr(found, "serialize") else found
    why = compare_defender(alert, source if isinstance(source, dict) else {}, now)
    return {"confirmed": why is None, "why": why or "the alert was found at its source (Defender for Cloud): resources, "
                                                      "alert type, severity, time and status match"}


def confirm_graph_copy(alert: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``{"confirmed": bool, "why": str, "code"}`` for Graph's copy of a Defender for Cloud alert (source
    :data:`firestop.alerts.source_refs.GRAPH_DEFENDER`): Firestop fetched it from Graph itself, so its content is not
    compared again; its ``fired_at`` (Graph's ``createdDateTime``) must lie within :data:`MAX_FIRED_AGE_SECONDS`
    before ``now`` and not past :data:`SKEW_SECONDS` after it, as an Azure Monitor alert's ``startDateTime`` must
    (:mod:`firestop.azure.alerts_management`). An ``AlertCreated`` event names any alert id Graph holds: an old alert
    never triaged (``status`` still ``new``) named again would otherwise contain now. Pure; never raises."""
    created = _time(alert.get("fired_at"))
    hours = MAX_FIRED_AGE_SECONDS // 3600
    if created is None:
        return {"confirmed": False, "code": Reason.DIFFERS,
                "why": "Graph's copy of the Defender for Cloud alert gives no createdDateTime: its age cannot be bounded"}
    if created > now + timedelta(seconds=SKEW_SECONDS):
        return {"confirmed": False, "code": Reason.TOO_OLD,
                "why": (f"Graph's copy of the Defender for Cloud alert says it was created {created.isoformat()}, after "
                        f"this check ({now.isoformat()}) by more than the {SKEW_SECONDS} s of clock skew allowed: not a "
                        "reason for automatic containment. Look it up in Defender for Cloud → Security alerts (its "
                        "systemAlertId); if it is there and active, decide it genuine here, else reject it")}
    if created < now - timedelta(seconds=MAX_FIRED_AGE_SECONDS):
        return {"confirmed": False, "code": Reason.TOO_OLD,
                "why": (f"Graph's copy of the Defender for Cloud alert was created {created.isoformat()}, more than "
                        f"{hours} h before this check ({now.isoformat()}): an old alert delivered now (a late, "
                        "replayed or re-sent AlertCreated event) is not a reason for automatic containment. Look it up "
                        "in Defender for Cloud → Security alerts (its systemAlertId): if it is still active and was "
                        "never handled, decide it genuine here; if it was handled or dismissed, reject it")}
    return {"confirmed": True, "code": Reason.CONFIRMED,
            "why": f"Graph's copy of a Defender for Cloud alert, created {created.isoformat()}, within {hours} h of the check"}


def confirm_sentinel(client: Any, alert: dict[str, Any], source_ref: Any, now: datetime) -> dict[str, Any]:
    """``{"confirmed": bool, "why": str}``: the Sentinel incident ``source_ref`` (its ARM id) read with ``client``
    (:class:`firestop.azure.sentinel.SentinelClient`: GET the incident, POST its alerts and entities, all read-only)
    and compared (:func:`compare_sentinel`). ``alert_id`` must be ``Microsoft.SecurityInsights/incidents/<that id>``.
    Never raises for what the source answers (fail safe, as :func:`confirm_defender`)."""
    if source_ref is None:
        return {"confirmed": False, "why": "the delivery names no Sentinel incident id (…/providers/Microsoft."
                                           "SecurityInsights/incidents/<id>): its source cannot be read"}
    try:
        incident_id = check_sentinel_incident_id(source_ref)
    except ValueError as exc:
        return {"confirmed": False, "why": f"the delivery's incident id is {str(source_ref)[:160]!r}: {exc}"}
    if not _ref_names_alert(alert, _SENTINEL_PREFIX, incident_id):
        return {"confirmed": False, "why": "the delivery's incident id is not the alert's"}
    try:
        incident = client.get_incident(incident_id)
    except AzureError as exc:
        return {"confirmed": False, "why": _unread(exc, "the source could not be read", "",
                                                   "incident not found at its source (Sentinel answered 404)"),
                "code": unread_code(exc, Reason.UNCLASSIFIED)}
    try:
        alerts = client.list_alerts(incident_id)
        entities = client.list_entities(incident_id)
    except AzureError as exc:
        return {"confirmed": False, "why": _unread(exc, "the incident's alerts or entities could not be read",
                                                   ": its resources cannot be confirmed",
                                                   "the incident's alerts or entities cannot be read (404)"),
                "code": unread_code(exc, Reason.UNCLASSIFIED)}
    why = compare_sentinel(alert, incident if isinstance(incident, dict) else {}, alerts if isinstance(alerts, list) else [],
                           entities if isinstance(entities, list) else [], now)
    return {"confirmed": why is None, "why": why or "the incident was found at its source (Sentinel): resources, "
                                                      "alert types, severity, creation time and status match"}
