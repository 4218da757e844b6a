"""Alert processing rules (``Microsoft.AlertsManagement/actionRules``, REST 2021-08-08) and what they do to a firing alert.

Source: azure-rest-api-specs ``specification/alertsmanagement/resource-manager/Microsoft.AlertsManagement/
AlertProcessingRules/stable/2021-08-08/AlertProcessingRules.json`` and its examples
(``…/examples/2021-08-08/AlertProcessingRules_Create_or_update_remove_all_action_groups_recurring_maintenance_window.json``,
``…_from_specific_alert_rule.json``): ``{"id", "name", "type": "Microsoft.AlertsManagement/actionRules", "location":
"Global", "tags", "systemData", "properties": {"scopes": [ARM ids], "conditions"?: [{"field", "operator", "values"}],
"schedule"?: {"effectiveFrom"?, "effectiveUntil"?, "timeZone"?, "recurrences"?}, "actions": [{"actionType":
"AddActionGroups" (+ "actionGroupIds") | "RemoveAllActionGroups"}], "description"?, "enabled" (default true)}}``.

State: ``doc["alerts_management"]["action_rules"]`` = ``{lower rule id: ARM JSON}`` (created on first use).

What the sandbox models of their effect (:func:`suppressing`): an enabled rule with a ``RemoveAllActionGroups`` action
whose scopes hold the alert (an alert's target resource, or its rule, at or under a scope: compared as lower-case ARM
id prefixes, as Azure applies a rule to the resources within its scopes) and whose conditions all hold removes every
action group of the alert: Azure Monitor still holds the alert (``actionStatus.isSuppressed`` true), no webhook is
posted. Conditions evaluated (``Equals``/``NotEquals``/``Contains``/``DoesNotContain``, case-insensitive, a condition
holds when any value does — all values for the negative operators): ``AlertRuleId``, ``AlertRuleName``,
``TargetResource``, ``TargetResourceGroup``, ``TargetResourceType``, ``Severity``, ``MonitorCondition``,
``MonitorService``, ``SignalType``, ``Description``. ``TargetResourceGroup`` is the target's resource group **id**
(``/subscriptions/<id>/resourceGroups/<name>``: the spec's example gives ``"values": ["<id>"]``, the azurerm provider's
``target_resource_group`` "should be valid resource group IDs"; RT20-05: the bare name was compared before, so a rule
naming the id silenced nothing here while Azure silences). Any other field (``AlertContext``…) is taken as holding
(the rule covers the alert). Schedule: ``effectiveFrom``/``effectiveUntil`` bound when the rule acts (read as UTC
whatever ``timeZone``); ``recurrences`` are not evaluated (the rule acts all through its effective window), so a
scheduled rule suppresses more in the sandbox than on Azure, never less. ``AddActionGroups`` is stored, not applied.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Optional

from ..core.clock import parse_utc

RULE_TYPE = "Microsoft.AlertsManagement/actionRules"
ACTION_TYPES = ("AddActionGroups", "RemoveAllActionGroups")
FIELDS = ("AlertContext", "AlertRuleId", "AlertRuleName", "Description", "MonitorCondition", "MonitorService", "Severity",
          "SignalType", "TargetResource", "TargetResourceGroup", "TargetResourceType")
OPERATORS = ("Equals", "NotEquals", "Contains", "DoesNotContain")


def rules(state) -> dict:
    found = state.doc.setdefault("alerts_management", {})
    return found.setdefault("action_rules", {})


def validate(body: Any) -> Optional[str]:
    """The 400 message naming the field a PUT body gets wrong, else None (the spec's required members and enums)."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        return "properties: required (an object with scopes and actions)."
    props = body["properties"]
    scopes = props.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) and s.startswith("/subscriptions/") for s in scopes):
        return "properties.scopes: required, a non-empty list of ARM ids (/subscriptions/…)."
    actions = props.get("actions")
    if not isinstance(actions, list) or not actions:
        return "properties.actions: required, a non-empty list of {actionType}."
    for i, action in enumerate(actions):
        kind = action.get("actionType") if isinstance(action, dict) else None
        if kind not in ACTION_TYPES:
            return f"properties.actions[{i}].actionType: one of {', '.join(ACTION_TYPES)}."
        if kind == "AddActionGroups" and not (isinstance(action.get("actionGroupIds"), list) and action["actionGroupIds"]):
            return f"properties.actions[{i}].actionGroupIds: required for AddActionGroups."
    for i, cond in enumerate(props.get("conditions") or []):
        if not isinstance(cond, dict) or cond.get("field") not in FIELDS or cond.get("operator") not in OPERATORS \
                or not isinstance(cond.get("values"), list):
            return (f"properties.conditions[{i}]: {{field: one of {', '.join(FIELDS)}; operator: one of "
                    f"{', '.join(OPERATORS)}; values: a list}}.")
    schedule = props.get("schedule")
    if schedule is not None:
        if not isinstance(schedule, dict):
            return "properties.schedule: an object."
        for key in ("effectiveFrom", "effectiveUntil"):
            if schedule.get(key) is not None and _time(schedule[key]) is None:
                return f"properties.schedule.{key}: an ISO 8601 time (yyyy-MM-ddTHH:mm:ss)."
    if "enabled" in props and not isinstance(props["enabled"], bool):
        return "properties.enabled: true or false."
    return None


def _time(value: Any) -> Optional[datetime]:
    """An ISO 8601 time as aware UTC (no offset given: read as UTC), None when it is not one."""
    if value is None:
        return None
    try:
        return parse_utc(str(value))
    except (TypeError, ValueError):
        return None


def _under(resource: str, scope: str) -> bool:
    resource, scope = resource.rstrip("/").lower(), scope.rstrip("/").lower()
    return bool(resource) and bool(scope) and (resource == scope or resource.startswith(scope + "/"))


def _holds(cond: dict, alert: dict) -> bool:
    value = alert.get(str(cond.get("field")))
    if value is None and cond.get("field") not in ("Description", "TargetResourceGroup"):
        return True  # a field the sandbox does not evaluate (AlertContext) or the alert does not carry: covered
    value = str(value or "").lower()
    wanted = [str(v).lower() for v in cond.get("values") or []]
    op = cond.get("operator")
    if op == "Equals":
        return value in wanted
    if op == "NotEquals":
        return value not in wanted
    if op == "Contains":
        return any(w in value for w in wanted)
    if op == "DoesNotContain":
        return not any(w in value for w in wanted)
    return True


def _effective(props: dict, now: datetime) -> bool:
    schedule = props.get("schedule") if isinstance(props.get("schedule"), dict) else {}
    start, until = _time(schedule.get("effectiveFrom")), _time(schedule.get("effectiveUntil"))
    return (start is None or start <= now) and (until is None or now <= until)


def alert_fields(payload: Any) -> dict:
    """The condition fields of a Common Alert Schema ``payload`` (``data.essentials``), by spec field name."""
    essentials = ((payload or {}).get("data") or {}).get("essentials") if isinstance(payload, dict) else None
    essentials = essentials if isinstance(essentials, dict) else {}
    targets = [t for t in essentials.get("alertTargetIDs") or [] if isinstance(t, str)]
    target = targets[0] if targets else ""
    parts = target.strip("/").split("/")
    return {"AlertRuleId": essentials.get("alertRuleID"), "AlertRuleName": essentials.get("alertRule"),
            "TargetResource": target, "TargetResourceGroup": "/" + "/".join(parts[:4]) if len(parts) > 3 else "",
            "TargetResourceType": "/".join(parts[5:7]) if len(parts) > 6 else "",
            "Severity": essentials.get("severity"), "MonitorCondition": essentials.get("monitorCondition"),
            "MonitorService": essentials.get("monitoringService"), "SignalType": essentials.get("signalType"),
            "Description": essentials.get("description") or ""}


def suppressing(state, payload: Any, now: datetime) -> list[str]:
    """Ids of the enabled ``RemoveAllActionGroups`` rules acting on the alert ``payload`` describes at ``now`` (see the
    module docstring for what is evaluated); empty: its action groups are notified as the rule says."""
    fields = alert_fields(payload)
    held = [r for r in (fields["TargetResource"], fields["AlertRuleId"]) if isinstance(r, str) and r]
    out = []
    for rule in rules(state).values():
        props = rule.get("properties") or {}
        if props.get("enabled", True) is False or not _effective(props, now):
            continue
        if not any(isinstance(a, dict) and a.get("actionType") == "RemoveAllActionGroups" for a in props.get("actions") or []):
            continue
        if not any(_under(r, str(s)) for r in held for s in props.get("scopes") or []):
            continue
        if all(_holds(c, fields) for c in props.get("conditions") or [] if isinstance(c, dict)):
            out.append(rule["id"])
    return out


def public(rule: dict) -> dict:
    return copy.deepcopy(rule)
