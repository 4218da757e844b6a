"""Azure Monitor's fired alerts (Alerts Management REST 2019-03-01) through azure-mgmt-core's ARM pipeline, and the
check that a Common Alert Schema webhook names an alert Azure Monitor actually fired.

Source of the API: ``Alerts_GetById`` in Azure/azure-rest-api-specs,
``specification/alertsmanagement/resource-manager/Microsoft.AlertsManagement/AlertsManagement/stable/2019-03-01/
AlertsManagement.json`` and its example ``examples/Alerts_GetById.json`` (``GET {alertId}?api-version=2019-03-01``
→ ``{"id", "name", "type": "Microsoft.AlertsManagement/alerts", "properties": {"essentials": {"targetResource",
"alertRule", "monitorCondition": "Fired"|"Resolved", "startDateTime", "monitorConditionResolvedDateTime", …}}}``).
The Common Alert Schema's ``essentials.alertId`` is that id
(``/subscriptions/<sub>/providers/Microsoft.AlertsManagement/alerts/<guid>``,
https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema). It needs
``Microsoft.AlertsManagement/alerts/read`` at the subscription (the template's custom role).

No SDK method is mocked: the pipeline is azure-core's (bearer token for ``https://management.azure.com/.default``,
``RetryPolicy`` retrying 408/429/5xx ``retry_total`` times honouring ``Retry-After``), the sandbox is its transport.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError, map_error
from azure.core.rest import HttpRequest

API_VERSION = "2019-03-01"
#: What intake writes into a new incident's input (``source_check``) for a Common Alert Schema alert.
AZURE_MONITOR = "azure-monitor"
_ALERT_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/providers/Microsoft\.AlertsManagement/alerts/[0-9a-fA-F-]{36}$",
                       re.IGNORECASE)
#: An alert whose ``startDateTime`` is older than this (seconds) is not a reason for automatic containment now.
MAX_FIRED_AGE_SECONDS = 24 * 3600
#: An alert the source says resolved more than this long (seconds) before the check is "resolved long ago".
MAX_RESOLVED_AGE_SECONDS = 3600
#: Clock skew allowed between the source's times and ours (seconds).
SKEW_SECONDS = 300
#: The payload's ``essentials.firedDateTime`` and the source's ``startDateTime`` are the same instant (both "when the
#: alert instance fired": learn.microsoft.com azure-monitor/alerts/alerts-common-schema, and the Essentials model of
#: @azure/arm-alertsmanagement, "Creation time (ISO-8601 format) of alert instance"); the payload carries 100 ns ticks
#: (``2019-03-22T13:58:24.3713213Z``, alerts-payload-samples), Python keeps microseconds: equal within this (seconds).
FIRED_TOLERANCE_SECONDS = 1.0


def check_alert_id(value: Any) -> str:
    """The id itself, else ``ValueError`` naming the expected form (it lands in a URL path)."""
    if not isinstance(value, str) or not _ALERT_ID.match(value.strip()):
        raise ValueError("not an Alerts Management alert id (/subscriptions/<id>/providers/Microsoft.AlertsManagement/alerts/<guid>)")
    return value.strip()


class AlertsManagementClient:
    """``get_alert`` of Azure Monitor's fired alerts (REST :data:`API_VERSION`)."""

    def __init__(self, credential: Any, *, transport: Any = None, retry_total: int = 4,
                 base_url: str = "https://management.azure.com") -> None:
        from firestop.azure.sentinel import arm_pipeline_client  # the one way the product builds a raw ARM pipeline

        self._client = arm_pipeline_client(credential, transport=transport, retry_total=retry_total, base_url=base_url,
                                           moniker="firestop-alertsmanagement/1")

    def get_alert(self, alert_id: str) -> dict:
        """The alert's ARM JSON. ``ResourceNotFoundError`` (404), ``HttpResponseError`` (another 4xx/5xx after the
        retries), ``ValueError`` (not an alert id)."""
        request = HttpRequest("GET", self._client.format_url(check_alert_id(alert_id)), params={"api-version": API_VERSION})
        response = self._client.send_request(request)
        if response.status_code >= 400:
            map_error(status_code=response.status_code, response=response, error_map={404: ResourceNotFoundError})
            raise HttpResponseError(response=response)
        return response.json()


def _norm(value: Any) -> str:
    return str(value or "").strip().rstrip("/").lower()


def _time(value: Any) -> datetime | None:
    from firestop.alerts.times import parse_utc_or_none

    return parse_utc_or_none(value)


def _severity(value: Any) -> Any:
    from firestop.alerts.essentials import parse_severity

    try:
        return parse_severity(value)
    except (TypeError, ValueError):
        return f"unreadable {str(value)[:20]!r}"


def _signal(value: Any) -> str | None:
    from firestop.alerts.essentials import normalize_signal_type

    return normalize_signal_type(value) if isinstance(value, str) else None


def compare(alert: dict[str, Any], source: dict[str, Any], now: datetime) -> str | None:
    """None when ``source`` (the ``get_alert`` JSON) confirms ``alert`` (the incident input's alert JSON:
    ``target_ids``, ``rule_id``, ``rule_name``, ``fired_at``, ``severity`` (0..4), ``signal_type``,
    ``monitor_condition``), else why not (one sentence naming the field that differed). Pure.

    Besides target and rule (an alert with that id fired on that target from that rule, within 24 h), the delivery
    must be that alert (RT13): its ``fired_at`` is the source's ``startDateTime`` within
    :data:`FIRED_TOLERANCE_SECONDS`, its severity the source's (``Sev0``..``Sev4``), its signal type the source's
    (compared normalised; a source that gives none or ``Unknown`` — the REST enum's third value — is not compared), and
    a delivery saying ``Resolved`` needs a source that says so (one saying ``Fired`` may meet a source resolved since)."""
    essentials = ((source or {}).get("properties") or {}).get("essentials") or {}
    target = _norm(essentials.get("targetResource"))
    claimed = [_norm(t) for t in alert.get("target_ids") or []]
    if not claimed:
        return "the alert names no target resource"
    differing = [t for t in claimed if t != target]
    if differing:
        return f"targetResource differs: the source says {essentials.get('targetResource')!r}, the alert names {differing[0]!r}"
    rule = _norm(essentials.get("alertRule"))
    rule_id, rule_name = _norm(alert.get("rule_id")), _norm(alert.get("rule_name"))
    if not rule or (rule_id and rule != rule_id) or (not rule_id and rule.rsplit("/", 1)[-1] != rule_name):
        return f"alertRule differs: the source says {essentials.get('alertRule')!r}, the alert names {alert.get('rule_id') or alert.get('rule_name')!r}"
    started = _time(essentials.get("startDateTime"))
    if started is None:
        return "the source gives no startDateTime"
    if started > now + timedelta(seconds=SKEW_SECONDS) or started < now - timedelta(seconds=MAX_FIRED_AGE_SECONDS):
        return f"startDateTime {essentials.get('startDateTime')} is not within {MAX_FIRED_AGE_SECONDS // 3600} h before the check"
    fired = _time(alert.get("fired_at"))
    if fired is None or abs((fired - started).total_seconds()) > FIRED_TOLERANCE_SECONDS:
        return (f"firedDateTime differs: the source says it started {essentials.get('startDateTime')}, "
                f"the alert says {str(alert.get('fired_at'))[:40]}")
    if _severity(essentials.get("severity")) != alert.get("severity"):
        return f"severity differs: the source says {str(essentials.get('severity'))[:20]!r}, the alert says {alert.get('severity')!r}"
    signal = _signal(essentials.get("signalType"))
    if signal not in (None, "Unknown") and signal != _signal(alert.get("signal_type")):
        return f"signalType differs: the source says {signal!r}, the alert says {str(alert.get('signal_type'))[:20]!r}"
    condition = essentials.get("monitorCondition")
    if alert.get("monitor_condition") not in ("Fired", "Resolved"):
        return f"the alert's monitorCondition is {str(alert.get('monitor_condition'))[:20]!r}"
    if alert.get("monitor_condition") == "Resolved" and condition != "Resolved":
        return f"monitorCondition differs: the alert says Resolved, the source says {str(condition)[:20]!r}"
    if condition == "Resolved":
        resolved = _time(essentials.get("monitorConditionResolvedDateTime"))
        if resolved is None or resolved < now - timedelta(seconds=MAX_RESOLVED_AGE_SECONDS):
            return f"the source says the alert resolved at {essentials.get('monitorConditionResolvedDateTime')}, long before the check"
    elif condition != "Fired":
        return f"monitorCondition is {condition!r} at the source, not Fired"
    return None


def confirm(client: AlertsManagementClient, alert: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``{"confirmed": bool, "why": str}``: ``alert`` (incident input alert JSON) read from its source. Never raises
    for what the source answers: a 404 is "alert not found at its source", an error left after the pipeline's retries
    (429/5xx/network) is not confirmed either (fail safe: a responder decides)."""
    try:
        alert_id = check_alert_id(alert.get("alert_id"))
    except ValueError as exc:
        return {"confirmed": False, "why": f"the alert's id is {str(alert.get('alert_id'))[:160]!r}: {exc}"}
    try:
        source = client.get_alert(alert_id)
    except ResourceNotFoundError:
        return {"confirmed": False, "why": "alert not found at its source (Alerts Management answered 404)"}
    except HttpResponseError as exc:
        return {"confirmed": False, "why": f"the source could not be read (HTTP {exc.status_code} after retries)"}
    except AzureError as exc:
        return {"confirmed": False, "why": f"the source could not be read ({type(exc).__name__} after retries)"}
    why = compare(alert, source if isinstance(source, dict) else {}, now)
    return {"confirmed": why is None, "why": why or "the alert was found at its source: target, rule, firing time, severity, signal type and condition match"}
