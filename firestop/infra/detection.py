"""What the playbooks' ``detect:`` sections imply on Azure Monitor: alert rules and diagnostic settings.

``rule_resources(playbooks, accounts=…, subscription_id=…, action_group_id=…, placeholders=…)`` →
``[RuleResource(kind, resource_group, name, body)]``: one scheduled query rule and one metric alert
per rule and protected account (resource-centric, in the account's resource group; named
``<rule>`` for one account, ``<rule>-<account>`` for several; a ``scope: workspace`` rule is
scoped to ``workspace_id`` instead, with that account's ``{account_id}``/``{account_endpoint}``
in its query and ``resourceIdColumn`` naming the account), one activity log alert per rule at
subscription scope (in the action group's resource group). ``diagnostic_setting(workspace_id)``:
the body that sends an account's ``Audit``, ``RequestResponse`` and ``Trace`` logs and
``AllMetrics`` to the workspace (without it the log rules see no rows);
``apim_diagnostic_setting(workspace_id)``: an API Management service's ``GatewayLogs`` to the
resource-specific table ``ApiManagementGatewayLogs`` (``logAnalyticsDestinationType: Dedicated``;
Azure Monitor's API Management resource logs reference) and ``AllMetrics`` — what the workspace-scoped
rules over the gateway read.

Two ways out, the same resources:

* :func:`template` — an ARM template (``firestop infra --detect-out FILE``) deploying the rules
  and diagnostic settings next to ``infra/azuredeploy.json`` (parameters ``actionGroupId``,
  ``workspaceId``, ``nsgId``, ``strictRaiPolicy``, ``apimId``; an account's endpoint is
  ``reference(<account id>, '2023-05-01').endpoint``); resources in other resource groups get a nested deployment each;
* :func:`apply` — PUT through ``azure-mgmt-monitor`` (tabletop exercises, ``sandbox simulate``).

API versions: scheduled query rules 2022-08-01-preview (azure-mgmt-monitor 6.0.2's newest Log
Alerts V2 operations; the template uses 2023-12-01), activity log alerts 2020-10-01, metric alerts
2018-03-01, diagnostic settings 2021-05-01-preview (``firestop.azure.clients.MONITOR_API_VERSIONS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from firestop.playbooks.detect import arm_body, rule_kind

TEMPLATE_API_VERSIONS = {"scheduledQueryRules": "2023-12-01", "activityLogAlerts": "2020-10-01", "metricAlerts": "2018-03-01",
                         "diagnosticSettings": "2021-05-01-preview"}
DIAGNOSTIC_SETTING_NAME = "firestop-to-workspace"
LOG_CATEGORIES = ("Audit", "RequestResponse", "Trace")
#: API Management's gateway log category (resource-specific table ApiManagementGatewayLogs with destination type Dedicated)
APIM_LOG_CATEGORIES = ("GatewayLogs",)


_ACCOUNT_ID = re.compile(r"^/subscriptions/[0-9A-Za-z-]+/resourceGroups/[-\w.()]+/providers/Microsoft\.CognitiveServices/accounts/[-\w.]+$",
                         re.IGNORECASE)
_ENDPOINT = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?/?$")


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
                   placeholders: Optional[dict[str, str]] = None, location: str = "swedencentral",
                   workspace_id: Optional[str] = None, endpoints: Optional[dict[str, str]] = None) -> list[RuleResource]:
    """Every alert rule the playbooks ship, bound to the protected ``accounts`` (ARM ids).

    ``workspace_id``: the Log Analytics workspace ``scope: workspace`` rules are scoped to; ``endpoints``:
    account id -> its endpoint (``properties.endpoint``), for ``{account_endpoint}``. ``ValueError`` when a
    workspace-scoped rule is shipped and ``workspace_id`` is missing, or a query needs an endpoint not given."""
    group_rg = action_group_id.strip("/").split("/")[3]
    by_id = {k.lower(): v for k, v in (endpoints or {}).items()}
    for account_id in accounts:  # these land inside KQL string literals: only the shapes Azure gives them
        if _MARK not in account_id and not _ACCOUNT_ID.match(account_id):
            raise ValueError(f"accounts: {account_id!r} is not a Microsoft.CognitiveServices/accounts resource ID")
    for account_id, endpoint in by_id.items():
        if _MARK not in endpoint and not _ENDPOINT.match(endpoint):
            raise ValueError(f"endpoints: {endpoint!r} (of {account_id}) is not an https endpoint such as https://NAME.openai.azure.com/")
    out: list[RuleResource] = []
    for playbook in playbooks:
        for rule in playbook.detect.rules():
            kind = rule_kind(rule)
            if kind == "activityLogAlerts":
                body = arm_body(rule, playbook=playbook.name, scopes=[f"/subscriptions/{subscription_id}"],
                                action_group_id=action_group_id, placeholders=placeholders)
                out.append(RuleResource(kind, group_rg, rule.name, body, playbook.name, rule.name))
                continue
            on_workspace = getattr(rule, "scope", "account") == "workspace"
            if on_workspace and not workspace_id:
                raise ValueError(f"rule {rule.name!r} of playbook {playbook.name!r} is scoped to the Log Analytics workspace: "
                                 "give the workspace (firestop infra --workspace RG/NAME)")
            for account_id in accounts:
                rg, name = _account_parts(account_id)
                per_account = {**(placeholders or {}), "account_id": account_id}
                if account_id.lower() in by_id:
                    per_account["account_endpoint"] = by_id[account_id.lower()]
                body = arm_body(rule, playbook=playbook.name, scopes=[workspace_id if on_workspace else account_id],
                                action_group_id=action_group_id, placeholders=per_account, location=location)
                out.append(RuleResource(kind, rg, rule.name if len(accounts) == 1 else f"{rule.name}-{name}", body, playbook.name, rule.name))
    return out


def diagnostic_setting(workspace_id: str) -> dict:
    """Body of the diagnostic setting sending an account's logs and metrics to ``workspace_id``."""
    return {"properties": {
        "workspaceId": workspace_id,
        "logs": [{"category": c, "enabled": True} for c in LOG_CATEGORIES],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
    }}


def apim_diagnostic_setting(workspace_id: str) -> dict:
    """Body of the diagnostic setting sending an API Management service's gateway logs (resource-specific
    table ``ApiManagementGatewayLogs``) and metrics to ``workspace_id``."""
    return {"properties": {
        "workspaceId": workspace_id, "logAnalyticsDestinationType": "Dedicated",
        "logs": [{"category": c, "enabled": True} for c in APIM_LOG_CATEGORIES],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
    }}


def apply(monitor: Any, resources: list[RuleResource], *, accounts: list[str] = (), workspace_id: Optional[str] = None,
          apim_services: list[str] = ()) -> list[str]:
    """PUT ``resources`` (and, with ``workspace_id``, each account's and each ``apim_services`` id's diagnostic
    setting) through ``ClientFactory.monitor(subscription)``; returns the ids written.
    ``HttpResponseError`` from Azure (e.g. a query the service refuses) propagates."""
    written: list[str] = []
    if workspace_id:
        for account_id in accounts:
            written.append(monitor.diagnostic_settings.create_or_update(account_id, DIAGNOSTIC_SETTING_NAME, diagnostic_setting(workspace_id)).id)
        for service_id in apim_services:
            written.append(monitor.diagnostic_settings.create_or_update(service_id, DIAGNOSTIC_SETTING_NAME, apim_diagnostic_setting(workspace_id)).id)
    for res in resources:
        operations = {"scheduledQueryRules": monitor.scheduled_query_rules, "activityLogAlerts": monitor.activity_log_alerts,
                      "metricAlerts": monitor.metric_alerts}[res.kind]
        written.append(operations.create_or_update(res.resource_group, res.name, res.body).id)
    return written


def template(playbooks: list[Any], *, accounts: list[str], subscription_id: str, action_group_rg: str,
             location: str = "swedencentral", apim_services: list[str] = ()) -> dict:
    """An ARM template deploying every rule, each account's and each API Management service's
    (``apim_services``, ARM ids) diagnostic setting (deploy it into ``action_group_rg``)."""
    ag = "[parameters('actionGroupId')]"
    resources = rule_resources(playbooks, accounts=accounts, subscription_id=subscription_id,
                               action_group_id=f"/subscriptions/{subscription_id}/resourceGroups/{action_group_rg}/providers/Microsoft.Insights/actionGroups/x",
                               placeholders={name: _MARK + param + _MARK for name, param in _PARAMETERS.items()}, location=location,
                               workspace_id=_MARK + "workspaceId" + _MARK,
                               endpoints={a: f"{_MARK}=reference('{a}', '{ACCOUNT_API_VERSION}').endpoint{_MARK}" for a in accounts})
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
    for service_id in apim_services:
        rg, name = _account_parts(service_id)
        by_rg.setdefault(rg, []).append({
            "type": "Microsoft.Insights/diagnosticSettings", "apiVersion": TEMPLATE_API_VERSIONS["diagnosticSettings"],
            "name": DIAGNOSTIC_SETTING_NAME, "scope": f"Microsoft.ApiManagement/service/{name}",
            **_swap_workspace(apim_diagnostic_setting("x"))})
    params = {"actionGroupId": {"type": "string"}, "workspaceId": {"type": "string"}, "nsgId": {"type": "string", "defaultValue": ""},
              "apimId": {"type": "string", "defaultValue": apim_services[0] if apim_services else "", "metadata": {"description": "the API Management service in front of the accounts (empty: none)"}},
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
_PARAMETERS = {"nsg_id": "nsgId", "automation_principal_id": "automationPrincipalId", "strict_rai_policy": "strictRaiPolicy",
               "apim_id": "apimId"}
_MARK = "\u0000"
#: Microsoft.CognitiveServices/accounts API version the template reads an account's endpoint with
ACCOUNT_API_VERSION = "2023-05-01"


def _expressions(value: Any) -> Any:
    """Strings holding marked parameter names -> ``[concat('…', parameters('p'), '…')]`` (quotes doubled);
    a marked ``=expr`` is spliced in as the ARM expression ``expr``."""
    if isinstance(value, dict):
        return {k: _expressions(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expressions(v) for v in value]
    if isinstance(value, str) and _MARK in value:
        parts = value.split(_MARK)
        pieces = [(p[1:] if p.startswith("=") else f"parameters('{p}')") if i % 2 else "'" + p.replace("'", "''") + "'"
                  for i, p in enumerate(parts) if p or i % 2]
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
