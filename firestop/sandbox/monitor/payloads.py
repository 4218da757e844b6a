"""Common Alert Schema payloads, as an action group's webhook receives them.

Shapes: corpus ``alerts/test-actions/log-alert-v2.json`` (Log Alerts V2: ``conditionType``
``LogQueryCriteria``, ``condition.allOf[{searchQuery, metricMeasureColumn, targetResourceTypes,
operator, threshold (text), timeAggregation, dimensions[{name, value}], metricValue, failingPeriods,
linkToSearchResultsUI, linkToFilteredSearchResultsUI, linkToSearchResultsAPI,
linkToFilteredSearchResultsAPI}], windowStartTime, windowEndTime``),
``alerts/context-fragments/activitylog-administrative.alertContext.json`` (activity log:
``authorization, channels, claims`` (JSON text), ``caller, correlationId, eventSource,
eventTimestamp, eventDataId, level, operationName, operationId, status, subStatus,
submissionTimestamp``), ``metric-platform-static-threshold`` / ``metric-platform-dynamic-threshold``
(``conditionType`` ``SingleResourceMultipleMetricCriteria`` / ``DynamicThresholdCriteria``) and
``common-schema/metric-platform-static-resolved.json`` (``resolvedDateTime``). Sources:
MicrosoftDocs azure-monitor-docs ``alerts-common-schema.md``, ``alerts-payload-samples.md``
(see the corpus ``NOTES.md``). ``customProperties`` = the rule's custom/webhook properties.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Optional
from urllib.parse import quote

PORTAL = "https://portal.azure.com"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def alert_id(subscription_id: str, seed: str) -> str:
    """A stable ``/subscriptions/{s}/providers/Microsoft.AlertsManagement/alerts/{guid}`` for one alert instance."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid5(uuid.NAMESPACE_URL, seed)}"


def envelope(*, rule: dict, subscription_id: str, instance: str, signal_type: str, monitoring_service: str, target: str,
             fired_at: datetime, condition: str, resolved_at: Optional[datetime], context: dict, custom: dict) -> dict:
    """The common schema envelope around one ``alertContext``."""
    props = rule.get("properties") or {}
    essentials: dict[str, Any] = {
        "alertId": alert_id(subscription_id, instance),
        "alertRule": rule["name"],
        "alertRuleID": rule["id"],
        "severity": f"Sev{props.get('severity', 4) if isinstance(props.get('severity'), int) else 4}",
        "signalType": signal_type,
        "monitorCondition": condition,
        "monitoringService": monitoring_service,
        "alertTargetIDs": [target.lower()],
        "configurationItems": [target.rstrip("/").split("/")[-1]],
        "originAlertId": str(uuid.uuid5(uuid.NAMESPACE_URL, "origin:" + instance)),
        "firedDateTime": _iso(fired_at),
        "description": str(props.get("description") or ""),
        "essentialsVersion": "1.0",
        "alertContextVersion": "1.0",
    }
    if resolved_at is not None:
        essentials["resolvedDateTime"] = _iso(resolved_at)
    return {"schemaId": "azureMonitorCommonAlertSchema",
            "data": {"essentials": essentials, "alertContext": context, "customProperties": dict(custom)}}


def log_alert_context(*, rule: dict, condition: dict, dimensions: list[tuple[str, Any]], value: float, window: tuple[datetime, datetime],
                      workspace_customer_id: str, tenant_id: str, scope: str) -> dict:
    """``alertContext`` of a Log Alerts V2 alert (one dimension combination)."""
    start, end = window
    span = f"{start.strftime('%Y-%m-%dT%H:%M:%S')}.0000000Z%2f{end.strftime('%Y-%m-%dT%H:%M:%S')}.0000000Z"
    query = condition["query"]
    filtered = query + "".join(f"\n| where tostring({name}) == '{str(val)}'" for name, val in dimensions)
    ui_scope = quote(json.dumps({"resources": [{"resourceId": scope}]}, separators=(",", ":")), safe="")
    api = f"https://api.loganalytics.io/v1/workspaces/{workspace_customer_id}/query"
    threshold = condition.get("threshold")
    return {
        "properties": dict((rule.get("properties") or {}).get("actions", {}).get("customProperties") or {}),
        "conditionType": "LogQueryCriteria",
        "condition": {
            "windowSize": (rule.get("properties") or {}).get("windowSize"),
            "allOf": [{
                "searchQuery": query,
                "metricMeasureColumn": condition.get("metricMeasureColumn"),
                "targetResourceTypes": "['Microsoft.CognitiveServices/accounts']",
                "operator": condition.get("operator"),
                "threshold": f"{threshold:g}" if isinstance(threshold, (int, float)) else str(threshold),
                "timeAggregation": condition.get("timeAggregation"),
                "dimensions": [{"name": name, "value": str(val)} for name, val in dimensions],
                "metricValue": float(value),
                "failingPeriods": dict(condition.get("failingPeriods") or {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1}),
                "linkToSearchResultsUI": f"{PORTAL}#@{tenant_id}/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/{ui_scope}/q/{quote(query, safe='')}/prettify/1/timespan/{span}",
                "linkToFilteredSearchResultsUI": f"{PORTAL}#@{tenant_id}/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/{ui_scope}/q/{quote(filtered, safe='')}/prettify/1/timespan/{span}",
                "linkToSearchResultsAPI": f"{api}?query={quote(query, safe='')}&timespan={span}",
                "linkToFilteredSearchResultsAPI": f"{api}?query={quote(filtered, safe='')}&timespan={span}",
            }],
            "windowStartTime": _iso(start),
            "windowEndTime": _iso(end),
        },
    }


def activity_alert_context(event: dict) -> dict:
    """``alertContext`` of an activity log alert for one Activity Log ``EventData``."""
    return {
        "authorization": dict(event.get("authorization") or {}),
        "channels": event.get("channels", "Operation"),
        "claims": json.dumps(event.get("claims") or {}, separators=(",", ":")),
        "caller": event.get("caller", ""),
        "correlationId": event.get("correlationId", ""),
        "eventSource": (event.get("category") or {}).get("value", "Administrative"),
        "eventTimestamp": event.get("eventTimestamp"),
        "eventDataId": event.get("eventDataId"),
        "level": event.get("level", "Informational"),
        "operationName": (event.get("operationName") or {}).get("value"),
        "operationId": event.get("operationId"),
        "properties": {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in (event.get("properties") or {}).items()},
        "status": (event.get("status") or {}).get("value"),
        "subStatus": (event.get("subStatus") or {}).get("value", ""),
        "submissionTimestamp": event.get("submissionTimestamp"),
        "httpRequest": json.dumps(event.get("httpRequest") or {}, separators=(",", ":")),
    }


def metric_alert_context(*, rule: dict, criterion: dict, value: float, threshold: float, window: tuple[datetime, datetime],
                         dimensions: Optional[list[dict]] = None) -> dict:
    """``alertContext`` of a platform metric alert (static or dynamic threshold); ``dimensions``: the time series' values
    (``[{"name", "value"}]``, the common alert schema's ``condition.allOf[].dimensions``) when the rule splits by any."""
    dynamic = criterion.get("criterionType") == "DynamicThresholdCriterion"
    entry: dict[str, Any] = {
        "metricName": criterion["metricName"],
        "metricNamespace": criterion.get("metricNamespace", "Microsoft.CognitiveServices/accounts"),
        "operator": criterion.get("operator"),
        "threshold": f"{threshold:g}",
        "timeAggregation": criterion.get("timeAggregation"),
        "dimensions": [dict(d) for d in dimensions or []],
        "metricValue": value,
    }
    if dynamic:
        entry = {"alertSensitivity": criterion.get("alertSensitivity"),
                 "failingPeriods": dict(criterion.get("failingPeriods") or {}), "ignoreDataBefore": None, **entry}
    actions = (rule.get("properties") or {}).get("actions") or []
    custom = next((a.get("webHookProperties") for a in actions if isinstance(a, dict) and a.get("webHookProperties")), None)
    return {
        "properties": dict(custom) if custom else None,
        "conditionType": "DynamicThresholdCriteria" if dynamic else "SingleResourceMultipleMetricCriteria",
        "condition": {"windowSize": (rule.get("properties") or {}).get("windowSize"), "allOf": [entry],
                      "windowStartTime": _iso(window[0]), "windowEndTime": _iso(window[1])},
    }
