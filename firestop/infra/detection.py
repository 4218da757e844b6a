"""What the playbooks' ``detect:`` sections imply on Azure Monitor: alert rules and diagnostic settings.

``rule_resources(playbooks, accounts=…, subscription_id=…, action_group_id=…, placeholders=…)`` →
``[RuleResource(kind, resource_group, name, body)]``: one scheduled query rule and one metric alert
per rule and protected account (resource-centric, in the account's resource group; named
``<rule>`` for one account, ``<rule>-<account>`` for several), one activity log alert per rule at
subscription scope (in the action group's resource group). ``diagnostic_setting(workspace_id)``:
the body that sends an account's ``Audit``, ``RequestResponse`` and ``Trace`` logs and
``AllMetrics`` to the workspace (without it the log rules see no rows).

Two ways out, the same resources:

* :func:`template` — an ARM template (``firestop infra --detect-out FILE``) deploying the rules
  and diagnostic settings next to ``infra/azuredeploy.json`` (parameters ``actionGroupId``,
  ``workspaceId``, ``nsgId``, ``strictRaiPolicy``); accounts in other resource groups get a nested deployment each;
* :func:`apply` — PUT through ``azure-mgmt-monitor`` (tabletop exercises, ``sandbox simulate``).

API versions: scheduled query rules 2022-08-01-preview (azure-mgmt-monitor 6.0.2's newest Log
Alerts V2 operations; the template uses 2023-12-01), activity log alerts 2020-10-01, metric alerts
2018-03-01, diagnostic settings 2021-05-01-preview (``firestop.azure.clients.MONITOR_API_VERSIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from firestop.playbooks.detect import arm_body, rule_kind

TEMPLATE_API_VERSIONS = {"scheduledQueryRules": "2023-12-01", "activityLogAlerts": "2020-10-01", "metricAlerts": "2018-03-01",
                         "diagnosticSettings": "2021-05-01-preview"}
DIAGNOSTIC_SETTING_NAME = "firestop-to-workspace"
LOG_CATEGORIES = ("Audit", "RequestResponse", "Trace")


@dataclass(frozen=True)
class RuleResource:
    kind: str  # scheduledQueryRules | activityLogAlerts | metricAlerts
    resource_group: str
    name: str
    body: dict
    playbook: str
    rule: str


def _account_parts(account_id: str) -> tuple[str, str]:
    parts = account_id.strip("/").split("/")
    return parts[3], parts[-1]


def rule_resources(playbooks: list[Any], *, accounts: list[str], subscription_id: str, action_group_id: str,
                   placeholders: Optional[dict[str, str]] = None, location: str = "swedencentral") -> list[RuleResource]:
    """Every alert rule the playbooks ship, bound to the protected ``accounts`` (ARM ids)."""
    group_rg = action_group_id.strip("/").split("/")[3]
    out: list[RuleResource] = []
    for playbook in playbooks:
        for rule in playbook.detect.rules():
            kind = rule_kind(rule)
            if kind == "activityLogAlerts":
                body = arm_body(rule, playbook=playbook.name, scopes=[f"/subscriptions/{subscription_id}"],
                                action_group_id=action_group_id, placeholders=placeholders)
                out.append(RuleResource(kind, group_rg, rule.name, body, playbook.name, rule.name))
                continue
            for account_id in accounts:
                rg, name = _account_parts(account_id)
                body = arm_body(rule, playbook=playbook.name, scopes=[account_id], action_group_id=action_group_id,
                                placeholders=placeholders, location=location)
                out.append(RuleResource(kind, rg, rule.name if len(accounts) == 1 else f"{rule.name}-{name}", body, playbook.name, rule.name))
    return out


def diagnostic_setting(workspace_id: str) -> dict:
    """Body of the diagnostic setting sending an account's logs and metrics to ``workspace_id``."""
    return {"properties": {
        "workspaceId": workspace_id,
        "logs": [{"category": c, "enabled": True} for c in LOG_CATEGORIES],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
    }}


def apply(monitor: Any, resources: list[RuleResource], *, accounts: list[str] = (), workspace_id: Optional[str] = None) -> list[str]:
    """PUT ``resources`` (and, with ``workspace_id``, each account's diagnostic setting) through
    ``ClientFactory.monitor(subscription)``; returns the ids written.
    ``HttpResponseError`` from Azure (e.g. a query the service refuses) propagates."""
    written: list[str] = []
    if workspace_id:
        for account_id in accounts:
            written.append(monitor.diagnostic_settings.create_or_update(account_id, DIAGNOSTIC_SETTING_NAME, diagnostic_setting(workspace_id)).id)
    for res in resources:
        operations = {"scheduledQueryRules": monitor.scheduled_query_rules, "activityLogAlerts": monitor.activity_log_alerts,
                      "metricAlerts": monitor.metric_alerts}[res.kind]
        written.append(operations.create_or_update(res.resource_group, res.name, res.body).id)
    return written


def template(playbooks: list[Any], *, accounts: list[str], subscription_id: str, action_group_rg: str,
             location: str = "swedencentral") -> dict:
    """An ARM template deploying every rule and each account's diagnostic setting (deploy it into ``action_group_rg``)."""
    ag = "[parameters('actionGroupId')]"
    resources = rule_resources(playbooks, accounts=accounts, subscription_id=subscription_id,
                               action_group_id=f"/subscriptions/{subscription_id}/resourceGroups/{action_group_rg}/providers/Microsoft.Insights/actionGroups/x",
                               placeholders={name: _MARK + param + _MARK for name, param in _PARAMETERS.items()}, location=location)
    resources = [RuleResource(r.kind, r.resource_group, r.name, _expressions(r.body), r.playbook, r.rule) for r in resources]
    by_rg: dict[str, list[dict]] = {}
    for res in resources:
        body = _swap_action_group(res.body, ag)
        by_rg.setdefault(res.resource_group, []).append({
            "type": f"Microsoft.Insights/{res.kind}", "apiVersion": TEMPLATE_API_VERSIONS[res.kind], "name": res.name, **body})
    for account_id in accounts:
        rg, name = _account_parts(account_id)
        by_rg.setdefault(rg, []).append({
            "type": "Microsoft.Insights/diagnosticSettings", "apiVersion": TEMPLATE_API_VERSIONS["diagnosticSettings"],
            "name": DIAGNOSTIC_SETTING_NAME, "scope": f"Microsoft.CognitiveServices/accounts/{name}",
            **_swap_workspace(diagnostic_setting("x"))})
    params = {"actionGroupId": {"type": "string"}, "workspaceId": {"type": "string"}, "nsgId": {"type": "string", "defaultValue": ""},
              "strictRaiPolicy": {"type": "string", "defaultValue": "", "metadata": {"description": "a stricter RAI policy an abused deployment may be moved to (empty: none)"}},
              "automationPrincipalId": {"type": "string", "metadata": {"description": "Firestop's identity (object id): rules leave its own key rotations out"}}}
    top = list(by_rg.pop(action_group_rg, []))
    for rg, items in sorted(by_rg.items()):
        top.append({
            "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": f"firestop-detect-{rg}"[:64], "resourceGroup": rg,
            "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                           "parameters": {k: {"value": f"[parameters('{k}')]"} for k in params},
                           "template": {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                                        "contentVersion": "1.0.0.0", "parameters": params, "resources": items}}})
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
            "parameters": params, "resources": top}


#: placeholder -> template parameter; values are spliced into strings as ARM ``concat`` expressions.
_PARAMETERS = {"nsg_id": "nsgId", "automation_principal_id": "automationPrincipalId", "strict_rai_policy": "strictRaiPolicy"}
_MARK = "\u0000"


def _expressions(value: Any) -> Any:
    """Strings holding marked parameter names -> ``[concat('…', parameters('p'), '…')]`` (quotes doubled)."""
    if isinstance(value, dict):
        return {k: _expressions(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expressions(v) for v in value]
    if isinstance(value, str) and _MARK in value:
        parts = value.split(_MARK)
        pieces = [f"parameters('{p}')" if i % 2 else "'" + p.replace("'", "''") + "'" for i, p in enumerate(parts) if p or i % 2]
        return "[concat(" + ", ".join(pieces) + ")]"
    return value


def _swap_action_group(body: dict, expression: str) -> dict:
    import copy

    body = copy.deepcopy(body)
    actions = body["properties"].get("actions")
    if isinstance(actions, dict) and isinstance(actions.get("actionGroups"), list):
        actions["actionGroups"] = [({**g, "actionGroupId": expression} if isinstance(g, dict) else expression) for g in actions["actionGroups"]]
    elif isinstance(actions, list):
        body["properties"]["actions"] = [{**a, "actionGroupId": expression} for a in actions]
    return body


def _swap_workspace(body: dict) -> dict:
    body["properties"]["workspaceId"] = "[parameters('workspaceId')]"
    return body
