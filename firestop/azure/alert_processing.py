"""Alert processing rules (``Microsoft.AlertsManagement/actionRules``, REST 2021-08-08) through azure-mgmt-core's ARM
pipeline, and which of them silence an alert rule that feeds Firestop (RT19-03).

Source of the API: ``AlertProcessingRules_ListBySubscription`` in Azure/azure-rest-api-specs,
``specification/alertsmanagement/resource-manager/Microsoft.AlertsManagement/AlertProcessingRules/stable/2021-08-08/
AlertProcessingRules.json`` (``GET /subscriptions/{s}/providers/Microsoft.AlertsManagement/actionRules
?api-version=2021-08-08`` → ``{"value": [rule], "nextLink"?}``; a rule: ``properties.scopes`` (ARM ids), ``conditions``
(``[{field, operator: Equals|NotEquals|Contains|DoesNotContain, values}]``, all must hold), ``schedule``
(``effectiveFrom``/``effectiveUntil``/``timeZone``/``recurrences``), ``actions`` (``[{actionType:
AddActionGroups|RemoveAllActionGroups}]``), ``enabled`` (default true); examples
``AlertProcessingRules_Create_or_update_remove_all_action_groups_*.json``). A rule applies to the alerts fired on
resources within its scopes (learn.microsoft.com/azure/azure-monitor/alerts/alerts-processing-rules); one that removes
all action groups leaves the alert in Alerts Management with no notification: nothing reaches ``/api/alerts``. Needs
``Microsoft.AlertsManagement/actionRules/read`` at the subscription (the audit role).

No SDK method is mocked: the pipeline is azure-core's (bearer token, ``RetryPolicy``), the sandbox is its transport.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError, map_error, ResourceNotFoundError
from azure.core.rest import HttpRequest

API_VERSION = "2021-08-08"
#: Pages followed at most (``nextLink``); a subscription holding more rules than this is read in part (the control
#: says so and fails: a rule not read cannot be ruled out).
MAX_PAGES = 20
#: Condition fields judged against what the audit knows of a detection (its rule id and name, its targets, severity);
#: any other field (``AlertContext``, ``Description``, ``MonitorService``, ``SignalType``, ``MonitorCondition``) is
#: taken to hold: the rule is counted as covering (fail safe).
JUDGED_FIELDS = ("AlertRuleId", "AlertRuleName", "TargetResource", "TargetResourceGroup", "TargetResourceType", "Severity")


class AlertProcessingRulesClient:
    """``list_by_subscription`` of alert processing rules (REST :data:`API_VERSION`)."""

    def __init__(self, credential: Any, *, transport: Any = None, retry_total: int = 4,
                 base_url: str = "https://management.azure.com") -> None:
        from firestop.azure.sentinel import arm_pipeline_client  # the one way the product builds a raw ARM pipeline

        self._client = arm_pipeline_client(credential, transport=transport, retry_total=retry_total, base_url=base_url,
                                           moniker="firestop-alertprocessing/1")

    def list_by_subscription(self, subscription_id: str) -> tuple[list[dict], bool]:
        """``(rules' ARM JSON, complete)``: ``complete`` is False when more than :data:`MAX_PAGES` pages were offered.
        ``HttpResponseError`` (4xx/5xx after the retries), ``ValueError`` (not a subscription id / a foreign nextLink)."""
        sub = str(subscription_id or "").strip()
        if not sub or "/" in sub or len(sub) > 64:
            raise ValueError("not a subscription id")
        request = HttpRequest("GET", self._client.format_url(f"/subscriptions/{sub}/providers/Microsoft.AlertsManagement/actionRules"),
                              params={"api-version": API_VERSION})
        out: list[dict] = []
        for _ in range(MAX_PAGES):
            response = self._client.send_request(request)
            if response.status_code >= 400:
                map_error(status_code=response.status_code, response=response, error_map={404: ResourceNotFoundError})
                raise HttpResponseError(response=response)
            body = response.json() if response.content else {}
            out += [r for r in (body.get("value") or []) if isinstance(r, dict)]
            link = body.get("nextLink")
            if not link:
                return out, True
            if urlsplit(str(link)).hostname != urlsplit(self._client.format_url("/")).hostname:
                raise ValueError("nextLink leaves Azure Resource Manager")
            request = HttpRequest("GET", str(link))
        return out, False


def _time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def removes_action_groups(rule: dict[str, Any], now: datetime) -> str | None:
    """None when ``rule`` cannot silence an alert now or later (disabled, no ``RemoveAllActionGroups`` action, its
    schedule's ``effectiveUntil`` past); else ``"always"`` or ``"scheduled"`` (a schedule: it silences some of the time,
    still a finding). ``effectiveUntil`` with no offset is read as UTC (its ``timeZone`` may be hours off: a day's
    slack is kept before calling it past)."""
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    if props.get("enabled", True) is False:
        return None
    if not any(isinstance(a, dict) and str(a.get("actionType", "")).lower() == "removeallactiongroups"
               for a in props.get("actions") or []):
        return None
    schedule = props.get("schedule") if isinstance(props.get("schedule"), dict) else None
    if not schedule:
        return "always"
    until = _time(schedule.get("effectiveUntil")) if schedule.get("effectiveUntil") else None
    if until is not None and (now - until).total_seconds() > 86400:
        return None
    return "scheduled"


def _under(resource: str, scope: str) -> bool:
    resource, scope = resource.strip().rstrip("/").lower(), scope.strip().rstrip("/").lower()
    return bool(resource) and bool(scope) and (resource == scope or resource.startswith(scope + "/"))


def _holds(condition: Any, fields: dict[str, str]) -> bool:
    """Whether ``condition`` holds for an alert with ``fields`` (:func:`_fields`). ``TargetResourceGroup`` is judged on
    the resource group's id, as Azure compares it (RT20-05, :func:`_fields`); a positive operator (``Equals``,
    ``Contains``) holds on its bare name too — a rule written with names counts as covering (fail safe) — while a
    negative one is judged on the id alone (else a legitimate "every group but production" rule would be read as
    silencing production)."""
    if not isinstance(condition, dict):
        return True
    field = str(condition.get("field") or "")
    if field not in JUDGED_FIELDS:
        return True  # not judged here: counted as holding (the rule covers the detection: fail safe)
    if field == "Severity" and not fields.get(field):
        return True  # A17-03/R17-03: a severity the detection does not give is not known here: it holds (fail safe)
    op = str(condition.get("operator") or "").lower()
    if field == "TargetResourceGroup" and op in ("equals", "contains") and fields.get(_GROUP_NAME):
        if _holds(condition, {field: fields[_GROUP_NAME]}):
            return True
    value = str(fields.get(field) or "").lower()
    wanted = [str(v).lower() for v in condition.get("values") or []]
    if op == "equals":
        return value in wanted
    if op == "notequals":
        return value not in wanted
    if op == "contains":
        return any(w in value for w in wanted)
    if op == "doesnotcontain":
        return not any(w in value for w in wanted)
    return True  # an operator this code does not know: fail safe


#: :func:`_fields`' key for the target's bare resource group name (not a condition field: see :func:`_holds`).
_GROUP_NAME = "resource group name"


def _fields(rule: dict[str, Any], target: str) -> dict[str, str]:
    """The condition fields of an alert of ``rule`` fired on ``target`` (an ARM id), by spec field name.
    ``TargetResourceGroup`` is the target's resource group **id** (``/subscriptions/<id>/resourceGroups/<name>``):
    AlertProcessingRules.json 2021-08-08's example gives ``"field": "TargetResourceGroup", "values": ["<id>"]`` and
    the azurerm provider documents the values as "valid resource group IDs" (RT20-05: the bare name was compared, so a
    rule naming the production group's id silenced its detections while this check saw nothing)."""
    parts = target.strip("/").split("/")
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    severity = props.get("severity")
    if str(rule.get("type") or "").rsplit("/", 1)[-1].lower() == "activitylogalerts":
        # A17-03: an activity log alert rule has no severity (activityLogAlerts_API.json 2020-10-01); its alerts fire
        # as Sev4 (Microsoft's test-action payloads for activity log, service health and resource health alerts)
        severity = 4
    return {"AlertRuleId": str(rule.get("id") or ""), "AlertRuleName": str(rule.get("name") or ""),
            "TargetResource": target, "TargetResourceGroup": "/" + "/".join(parts[:4]) if len(parts) > 3 else "",
            _GROUP_NAME: parts[3] if len(parts) > 3 else "",
            "TargetResourceType": "/".join(parts[5:7]) if len(parts) > 6 else "",
            "Severity": f"Sev{severity}" if isinstance(severity, int) else str(severity or "")}


def covers(processing_rule: dict[str, Any], detection: dict[str, Any], accounts: Iterable[str]) -> bool:
    """Whether ``processing_rule``'s scopes and conditions can hold an alert of ``detection`` (an alert rule's ARM JSON)
    fired on one of its targets: each of the rule's ``properties.scopes``, the protected ``accounts`` under them (an
    activity log or subscription-wide rule fires on the account) and the rule itself. A condition on a field not in
    :data:`JUDGED_FIELDS`, or on one whose value the detection does not give, counts as holding; any target satisfying
    scope and conditions is enough (fail safe). A log rule with a ``resourceIdColumn`` targets what that column names:
    every protected account counts as its target (A17-04)."""
    props = processing_rule.get("properties") if isinstance(processing_rule.get("properties"), dict) else {}
    scopes = [str(s) for s in props.get("scopes") or [] if isinstance(s, str)]
    rule_props = detection.get("properties") if isinstance(detection.get("properties"), dict) else {}
    rule_scopes = [str(s) for s in rule_props.get("scopes") or [] if isinstance(s, str)]
    criteria = rule_props.get("criteria") if isinstance(rule_props.get("criteria"), dict) else {}
    # A17-04: a log rule naming its target in a column (Log Alerts V2 ``resourceIdColumn``) fires on the resource the
    # column holds — an account outside its (workspace) scope: every protected account may be one (fail safe)
    by_column = any(isinstance(c, dict) and isinstance(c.get("resourceIdColumn"), str) and c["resourceIdColumn"].strip()
                    for c in criteria.get("allOf") or [])
    targets = (rule_scopes + [a for a in accounts if by_column or any(_under(a, s) for s in rule_scopes)]
               + [str(detection.get("id") or "")])
    for target in targets:
        if not any(_under(target, s) for s in scopes):
            continue
        fields = _fields(detection, target)
        if all(_holds(c, fields) for c in props.get("conditions") or []):
            return True
    return False
