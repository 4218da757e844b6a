"""Microsoft Defender for Cloud alerts in every delivery shape → one :class:`Alert`.

=======================  =====================================================================================
shape (``schema_id``)    recognised by / source of the shape
=======================  =====================================================================================
``defender:rest``        ``{"id", "name", "type": "Microsoft.Security/Locations/alerts", "properties": {alertType,
                         systemAlertId, …}}`` — Security Alerts REST API 2022-01-01 (``Alerts_Get…`` responses;
                         spec example ``GetAlertSubscriptionLocation_example.json``). A relay that posts
                         ``alerts.get`` output sends this.
``defender:export``      a flat object with ``AlertType`` + ``SystemAlertId`` (any key case, no ``properties``):
                         continuous export to Event Hubs and the workflow-automation Logic App trigger
                         ("When a Defender for Cloud alert is created or triggered") relayed as ``triggerBody()``.
                         Exported events are reported to differ from the documented schema (PascalCase vs
                         camelCase, ``TimeGenerated`` vs ``timeGeneratedUtc``, ``ResourceIdentifiers`` with
                         ``AzureResourceId``): keys are read case-insensitively under both names.
``defender:securityalert`` a Log Analytics ``SecurityAlert`` row (``Type: "SecurityAlert"`` or ``AlertSeverity``):
                         ``AlertName``/``DisplayName``, ``AlertSeverity``, ``StartTime``/``EndTime``,
                         ``ResourceId``, ``Entities``/``ExtendedProperties`` as JSON **strings**
                         (azure-reference-other ``tables/securityalert.md``).
(common schema)          an Activity Log alert with ``monitoringService: "Activity Log - Security"`` is parsed by
                         the common-schema parser and recognised there (:func:`enrich_activity_log_security`).
=======================  =====================================================================================

Required: the alert type, the system alert id and one time (generated, end or start). A body that
looks like a Defender alert without them is a 422 naming the shape recognised and the fields missing.
"""

from __future__ import annotations

import json
from typing import Any

from firestop.alerts.alert import ROUTE_PROPERTY, Alert
from firestop.alerts.errors import AlertPayloadError
from firestop.alerts.sources import Recognition, source
from firestop.alerts.sources.security_alert import SecurityAlert, parse_time, playbook_for, text, to_alert, indicators_of


def ci(obj: Any, *names: str) -> Any:
    """``obj[name]`` for the first of ``names`` present, keys compared case-insensitively (None if none)."""
    if not isinstance(obj, dict):
        return None
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is not None:
            return value
    return None


def _json_text(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value[:262144])
        except (ValueError, RecursionError):
            return None
    return value


def _missing(obj: dict, prefix: str, required: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(prefix + shown for shown, names in required.items() if text(ci(obj, *names)) is None)


_TIMES = ("timeGeneratedUtc", "TimeGenerated", "timeGenerated", "endTimeUtc", "EndTime", "startTimeUtc", "StartTime")
_REQUIRED = {"alertType": ("alertType",), "systemAlertId": ("systemAlertId",), "timeGeneratedUtc|startTimeUtc": _TIMES}


def _resource_ids(identifiers: Any, *extra: Any) -> list[str]:
    out = []
    for item in identifiers if isinstance(identifiers, list) else []:
        rid = ci(item, "azureResourceId")
        if isinstance(rid, str) and rid.strip().startswith("/subscriptions/"):
            out.append(rid.strip())
    for rid in extra:
        if isinstance(rid, str) and rid.strip().lower().startswith("/subscriptions/"):
            out.append(rid.strip())
    return out


def _common(obj: dict, source_name: str, path: str, **overrides: Any) -> SecurityAlert:
    entities = _json_text(ci(obj, "entities"))
    ext = _json_text(ci(obj, "extendedProperties"))
    return SecurityAlert(
        source=source_name,
        alert_type=text(ci(obj, "alertType"), 256) or "",
        system_alert_id=text(ci(obj, "systemAlertId", "VendorOriginalId"), 256) or "",
        display_name=text(ci(obj, "alertDisplayName", "AlertName", "DisplayName")),
        description=text(ci(obj, "description"), 2000),
        severity=text(ci(obj, "severity", "AlertSeverity"), 32),
        status=text(ci(obj, "status"), 32),
        start=parse_time(ci(obj, "startTimeUtc", "StartTime"), f"{path}startTimeUtc"),
        end=parse_time(ci(obj, "endTimeUtc", "EndTime"), f"{path}endTimeUtc"),
        generated=parse_time(ci(obj, "timeGeneratedUtc", "TimeGenerated"), f"{path}timeGeneratedUtc"),
        resource_ids=_resource_ids(ci(obj, "resourceIdentifiers"), ci(obj, "AzureResourceId", "ResourceId")),
        entities=entities if isinstance(entities, list) else [],
        extended_properties=ext if isinstance(ext, dict) else {},
        product=text(ci(obj, "productName"), 128) or "Microsoft Defender for Cloud",
        **overrides,
    )


# --- REST 2022-01-01 ------------------------------------------------------------------------------

def recognise_rest(body: dict) -> Recognition | None:
    props = body.get("properties")
    kind = str(body.get("type") or "").lower()
    if not isinstance(props, dict) or not ("microsoft.security" in kind and kind.endswith("/alerts") or "alertType" in props):
        return None
    return Recognition("Defender for Cloud alert (Security Alerts REST 2022-01-01)", _missing(props, "properties.", _REQUIRED))


@source("defender:rest", "Defender for Cloud alert, REST shape (Microsoft.Security/locations/alerts 2022-01-01)", recognise_rest,
        keys=frozenset({"properties"}))
def parse_rest(body: dict) -> Alert:
    alert = _common(body["properties"], "defender:rest", "properties.",
                    alert_resource_id=text(body.get("id"), 1024),
                    extra_context={"compromisedEntity": text(body["properties"].get("compromisedEntity"))})
    return to_alert(alert)


# --- Log Analytics SecurityAlert row (before export: both are flat PascalCase) ----------------------

def recognise_row(body: dict) -> Recognition | None:
    if "properties" in body:
        return None
    if str(ci(body, "Type") or "") != "SecurityAlert" and ci(body, "AlertSeverity") is None:
        return None
    required = {"AlertType": ("AlertType",), "SystemAlertId": ("SystemAlertId", "VendorOriginalId"),
                "TimeGenerated|StartTime": ("TimeGenerated", "EndTime", "StartTime")}
    return Recognition("Log Analytics SecurityAlert row (continuous export to a workspace)", _missing(body, "", required))


@source("defender:securityalert", "Log Analytics SecurityAlert row (Defender alert exported to a workspace)", recognise_row,
        keys=frozenset({"type", "alertseverity"}))
def parse_row(body: dict) -> Alert:
    return to_alert(_common(body, "defender:securityalert", "",
                            extra_context={"compromisedEntity": text(ci(body, "CompromisedEntity"))}))


# --- continuous export (Event Hubs) / workflow automation ------------------------------------------

def recognise_export(body: dict) -> Recognition | None:
    if "properties" in body:
        return None
    # systemAlertId, or alertType with a Defender display name: a legacy log alert also has "AlertType"
    if ci(body, "systemAlertId") is None and (ci(body, "alertType") is None or ci(body, "alertDisplayName") is None):
        return None
    return Recognition("Defender for Cloud alert, continuous-export / workflow-automation shape", _missing(body, "", _REQUIRED))


@source("defender:export", "Defender for Cloud alert, continuous export (Event Hubs) or workflow automation relay", recognise_export,
        keys=frozenset({"systemalertid", "alerttype"}))
def parse_export(body: dict) -> Alert:
    return to_alert(_common(body, "defender:export", "",
                            alert_resource_id=text(ci(body, "id"), 1024) if str(ci(body, "id") or "").startswith("/subscriptions/") else None,
                            extra_context={"compromisedEntity": text(ci(body, "CompromisedEntity"))}))


# --- Activity Log "Security" event through an action group (common schema) -------------------------

def is_activity_log_security(monitoring_service: str | None) -> bool:
    """Whether an alert of ``monitoring_service`` is an Activity Log "Security" event, which
    :func:`enrich_activity_log_security` enriches (every other alert it returns unchanged)."""
    return (monitoring_service or "").strip().lower() == "activity log - security"


def enrich_activity_log_security(alert: Alert) -> Alert:
    """An Activity Log alert of category Security *is* a Defender alert: add its alert type, IPs and route.

    The event's ``properties`` (``alerts-payload-samples.md`` "Activity log alert - Security") carry the
    alert's fields flat (``severity``, ``compromisedEntity``, ``alertType``/``category``, for AI alerts
    the extended properties too); read tolerantly, never rejecting the alert.
    """
    if not is_activity_log_security(alert.monitoring_service):
        return alert
    props = alert.context.get("properties") if isinstance(alert.context.get("properties"), dict) else {}
    alert_type = text(ci(props, "alertType", "AlertType", "category"), 256)
    extra = SecurityAlert(source="defender:activitylog", alert_type=alert_type or "", system_alert_id="",
                          extended_properties={k: v for k, v in props.items() if not isinstance(v, (dict, list))},
                          entities=_json_text(props.get("entities")) if isinstance(_json_text(props.get("entities")), list) else [])
    found = indicators_of(extra)
    merged = alert.indicators.model_copy(update={
        "caller_ips": tuple(dict.fromkeys(alert.indicators.caller_ips + found.caller_ips)),
        "user_agents": found.user_agents, "end_user_ids": found.end_user_ids, "applications": found.applications,
        "deployments": found.deployments, "alert_types": found.alert_types if alert_type else (),
    })
    custom = dict(alert.custom_properties)
    routed = playbook_for(alert_type)
    if routed and not any(k.lower() == ROUTE_PROPERTY for k in custom):
        custom[ROUTE_PROPERTY] = routed
    return alert.model_copy(update={"indicators": merged, "custom_properties": custom})
