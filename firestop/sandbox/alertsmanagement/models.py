"""Alerts Management state and JSON: the shape of the REST spec example ``Alerts_GetById.json``
(Azure/azure-rest-api-specs, ``specification/alertsmanagement/resource-manager/Microsoft.AlertsManagement/
AlertsManagement/stable/2019-03-01/examples/Alerts_GetById.json``): ``{"id", "type", "name", "properties":
{"essentials": {severity, signalType, alertState, monitorCondition, monitorService, targetResource,
targetResourceName, targetResourceGroup, targetResourceType, alertRule, startDateTime, lastModifiedDateTime,
monitorConditionResolvedDateTime?, description, ...}, "context": {}, "egressConfig": {}}}``.

``essentials.alertRule`` is the rule's ARM id (the Common Alert Schema's ``alertRuleID``; the rule name when the
payload gives no id). One alert has one ``targetResource``: a payload naming several targets is registered with
its first (Alerts Management keeps one alert per target)."""

from __future__ import annotations

import json

from datetime import datetime
from typing import Any, Optional

from ..core.clock import format_utc

ALERT_TYPE = "Microsoft.AlertsManagement/alerts"
CAS = "azureMonitorCommonAlertSchema"


def section(state) -> dict:
    found = state.doc.setdefault("alerts_management", {})
    found.setdefault("alerts", {})
    return found


def _text(value: Any) -> Any:
    """Strings as the tenant's journal can write them (a lone surrogate a payload carried becomes ``?``), lists of them
    too; other values as they are."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def record_fired(state, payload: Any, now: datetime) -> Optional[str]:
    """Register the alert a Common Alert Schema ``payload`` describes (Azure Monitor's copy of it) and return its
    id; None when the payload is not a Common Alert Schema alert with an ``essentials.alertId``. A second payload
    of the same alert (it resolved, or fired again) updates ``monitorCondition`` and the times."""
    if not isinstance(payload, dict) or payload.get("schemaId") != CAS:
        return None
    essentials = ((payload.get("data") or {}).get("essentials") or {}) if isinstance(payload.get("data"), dict) else {}
    essentials = {k: _text(v) for k, v in essentials.items()} if isinstance(essentials, dict) else {}
    alert_id = essentials.get("alertId")
    if not isinstance(alert_id, str) or not alert_id.startswith("/"):
        return None
    targets = [t for t in essentials.get("alertTargetIDs") or [] if isinstance(t, str)]
    target = targets[0] if targets else ""
    parts = target.split("/")
    condition = essentials.get("monitorCondition") or "Fired"
    stamp = format_utc(now)
    alerts = section(state)["alerts"]
    existing = alerts.get(alert_id.lower())
    body = existing or {"id": alert_id, "type": ALERT_TYPE, "name": str(essentials.get("alertRule") or alert_id.rsplit("/", 1)[-1]),
                        "properties": {"essentials": {}, "context": {}, "egressConfig": {}}}
    ess = body["properties"]["essentials"]
    if existing is None:
        ess.update({
            "severity": essentials.get("severity"), "signalType": essentials.get("signalType"), "alertState": "New",
            "monitorService": essentials.get("monitoringService"), "targetResource": target,
            "targetResourceName": parts[-1] if target else None,
            "targetResourceGroup": parts[4] if len(parts) > 4 else None,
            "targetResourceType": parts[-2] if len(parts) > 2 else None,
            "alertRule": essentials.get("alertRuleID") or essentials.get("alertRule"),
            "startDateTime": essentials.get("firedDateTime") or stamp,
            "lastModifiedUserName": "System", "actionStatus": {"isSuppressed": False},
            "description": essentials.get("description") or "",
        })
    ess["monitorCondition"] = condition
    ess["lastModifiedDateTime"] = stamp
    if condition == "Resolved":
        ess["monitorConditionResolvedDateTime"] = essentials.get("resolvedDateTime") or stamp
    else:
        ess.pop("monitorConditionResolvedDateTime", None)
    alerts[alert_id.lower()] = body
    return alert_id


def activity_context_of(alert: Any, context: dict) -> dict:
    """The ``alertContext`` of an activity log alert as a parsed alert keeps it: its lean context's event ids and
    time, its first operation, its principals (the first as the ``oid`` claim, the last as ``caller``) and caller IPs
    (the first as the ``ipaddr`` claim, the last as ``httpRequest.clientIpAddress``)."""
    indicators = getattr(alert, "indicators", None)
    ips = list(getattr(indicators, "caller_ips", None) or ())
    principals = list(getattr(indicators, "principal_ids", None) or ())
    operations = list(getattr(indicators, "operation_names", None) or ())
    targets = list(getattr(alert, "target_ids", None) or ())
    claims = {"aud": "https://management.core.windows.net/"}
    if ips:
        claims["ipaddr"] = ips[0]
    if principals:
        claims["http://schemas.microsoft.com/identity/claims/objectidentifier"] = principals[0]
    service = str(getattr(alert, "monitoring_service", None) or "")
    out = {k: context[k] for k in ("eventDataId", "correlationId", "eventTimestamp") if isinstance(context.get(k), str)}
    out.update({"eventSource": service.split(" - ", 1)[1] if " - " in service else "Administrative",
                "operationName": operations[0] if operations else "", "caller": principals[-1] if principals else "",
                "authorization": {"action": operations[0] if operations else "", "scope": targets[0] if targets else ""},
                "claims": json.dumps(claims), "status": "Succeeded", "subStatus": ""})
    if ips:
        out["httpRequest"] = json.dumps({"clientIpAddress": ips[-1]})
    return out


def payload_of(alert: Any) -> dict:
    """The Common Alert Schema payload (essentials and customProperties) of a parsed ``firestop.alerts.Alert`` (or
    IntakeAlert): what ``alert handle`` and a tabletop scenario fire with :meth:`firestop.sandbox.Tenant.fire_alert`
    (the custom properties give the route of the rule it registers when the tenant holds none). A Defender alert's or
    Sentinel incident's payload also carries ``data.source``: its delivered ARM id (``ref``), activity window and
    alert types, so Defender / Sentinel hold what was fired (the source check reads it back)."""
    def stamp(value: Any) -> Any:
        return format_utc(value) if isinstance(value, datetime) else value

    payload = {"schemaId": getattr(alert, "schema_id", None), "data": {"essentials": {
        "alertId": alert.alert_id, "alertRule": alert.rule_name, "alertRuleID": alert.rule_id,
        "severity": None if alert.severity is None else f"Sev{alert.severity}", "signalType": alert.signal_type,
        "monitorCondition": alert.monitor_condition, "monitoringService": alert.monitoring_service,
        "alertTargetIDs": list(alert.target_ids), "firedDateTime": stamp(alert.fired_at),
        "resolvedDateTime": stamp(alert.resolved_at), "description": alert.description},
        "customProperties": dict(getattr(alert, "custom_properties", None) or {})}}
    context = getattr(alert, "context", None)
    if payload["schemaId"] == CAS and isinstance(context, dict) and isinstance(context.get("condition"), dict):
        # the rule's condition as fired (its query, window, dimensions): the rule fire_alert registers when the tenant
        # holds none runs it, so a log search alert's dimensions are found where the source check re-reads them
        payload["data"]["alertContext"] = {"condition": context["condition"]}
    elif payload["schemaId"] == CAS and isinstance(context, dict) and isinstance(context.get("eventDataId"), str):
        # an activity log alert: the event it reports, as the parsed alert names it (Tenant.fire_alert logs it when
        # the Activity Log holds none of that eventDataId, so the source check finds it: verify13)
        payload["data"]["alertContext"] = activity_context_of(alert, context)
    if payload["schemaId"] != CAS and isinstance(context, dict):
        # a Defender alert / Sentinel incident: where it lives (its delivered ARM id) and what Defender / Sentinel
        # hold of it beyond the essentials (security/models.record_delivered, sentinel/models.record_delivered)
        indicators = getattr(alert, "indicators", None)
        payload["data"]["source"] = {
            "ref": context.get("alertResourceId") or context.get("incidentId"),
            "start": stamp(getattr(alert, "window_start", None)), "end": stamp(getattr(alert, "window_end", None)),
            "alertTypes": list(getattr(indicators, "alert_types", None) or ()),
            # what a step can act on: the source holds it too (its entities / extended properties), so the source
            # check, which compares them (RT14-02), confirms a fired alert as Defender / Sentinel would
            "indicators": {kind: list(getattr(indicators, kind, None) or ()) for kind in INDICATOR_KINDS}}
    return payload


#: The indicators ``payload_of`` carries in ``data.source.indicators`` (firestop.azure.security_source.ACTED_ON_INDICATORS;
#: the sandbox imports no firestop module).
INDICATOR_KINDS = ("caller_ips", "principal_ids", "deployments", "applications", "end_user_ids", "user_agents")


def delivered_entities(source: Any) -> tuple[list[dict], dict]:
    """``(entities, extended properties)`` of a Defender alert as Defender would hold the indicators ``payload_of``
    wrote (``data.source.indicators``): IPs as ``ip`` entities, principals as ``account`` entities (``aadUserId``),
    end users as ``account`` entities (``name``), applications as ``cloud-application`` entities, deployments and user
    agents as extended properties (one spelling each, Defender names a value once per key)."""
    found = source.get("indicators") if isinstance(source, dict) and isinstance(source.get("indicators"), dict) else {}

    def values(kind: str) -> list[str]:
        return [v for v in found.get(kind) or [] if isinstance(v, str)]

    entities: list[dict] = []
    entities += [{"type": "ip", "address": v} for v in values("caller_ips")]
    entities += [{"type": "account", "aadUserId": v} for v in values("principal_ids")]
    entities += [{"type": "account", "name": v} for v in values("end_user_ids")]
    entities += [{"type": "cloud-application", "name": v} for v in values("applications")]
    for number, entity in enumerate(entities, start=1):
        entity["$id"] = str(number)
    extended: dict = {}
    for keys, kind in ((("Deployment name", "DeploymentName", "Deployment", "Model deployment"), "deployments"),
                       (("User agent", "UserAgent", "Client user agent", "HTTP user agent"), "user_agents")):
        for key, value in zip(keys, values(kind)):
            extended[key] = value
    return entities, extended
