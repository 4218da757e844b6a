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
    if payload["schemaId"] != CAS and isinstance(context, dict):
        # a Defender alert / Sentinel incident: where it lives (its delivered ARM id) and what Defender / Sentinel
        # hold of it beyond the essentials (security/models.record_delivered, sentinel/models.record_delivered)
        indicators = getattr(alert, "indicators", None)
        payload["data"]["source"] = {
            "ref": context.get("alertResourceId") or context.get("incidentId"),
            "start": stamp(getattr(alert, "window_start", None)), "end": stamp(getattr(alert, "window_end", None)),
            "alertTypes": list(getattr(indicators, "alert_types", None) or ())}
    return payload
