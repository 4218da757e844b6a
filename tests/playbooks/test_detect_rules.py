"""The ``detect:`` section: schema errors with file:line:field, and every shipped rule accepted by Azure Monitor's API
(the sandbox compiles each query with its KQL engine, so a wrong column fails here as Azure would refuse the rule)."""

from __future__ import annotations

import copy

import pytest
import yaml
from azure.core.exceptions import HttpResponseError
from azure.mgmt.monitor import MonitorManagementClient
from azure.profiles import ProfileDefinition

from firestop.playbooks import PlaybookError, load_playbook, load_playbooks
from firestop.playbooks.detect import ROUTE_PROPERTY, ScheduledQueryRule, arm_body, rule_kind
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
AG = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Insights/actionGroups/ag-firestop"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec"
APIM = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.ApiManagement/service/apim-contoso-ai"
PROFILE = ProfileDefinition({"azure.mgmt.monitor.MonitorManagementClient": {
    None: "2023-01-01", "scheduled_query_rules": "2022-08-01-preview", "activity_log_alerts": "2020-10-01", "metric_alerts": "2018-03-01"}}, "t")
BASE = {"name": "p", "match": {"rule_names": ["r"]}}
RULE = {"name": "r1", "query": "AzureDiagnostics | summarize n = count() by CallerIPAddress", "time_aggregation": "Total",
        "metric_measure_column": "n", "threshold": 5}


def _deploy(monitor, playbook, rule):
    scopes = [f"/subscriptions/{SUB}"] if rule_kind(rule) == "activityLogAlerts" else [WS] if getattr(rule, "scope", "") == "workspace" else [PROD]
    body = arm_body(rule, playbook=playbook, scopes=scopes, action_group_id=AG, placeholders={
        "nsg_id": "/nsg", "automation_principal_id": "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e", "apim_id": APIM,
        "account_id": PROD, "account_endpoint": "https://contoso-openai-prod.openai.azure.com/"})
    operations = {"scheduledQueryRules": monitor.scheduled_query_rules, "activityLogAlerts": monitor.activity_log_alerts,
                  "metricAlerts": monitor.metric_alerts}[rule_kind(rule)]
    return operations.create_or_update("rg-ai-prod", rule.name, body)


def test_every_shipped_playbook_ships_its_rules_and_keeps_no_kql_in_its_description():
    for playbook in load_playbooks(REPO_ROOT / "playbooks"):
        # a Defender for AI family is its own detection (Defender raises the alert): it says so instead
        defender_only = any(r.startswith("AI.Azure_") for r in playbook.match.rule_names) and \
            "Defender alerts are their own detection" in playbook.description
        assert playbook.detect.rules() or defender_only, f"{playbook.name} has no detect rules"
        assert "AzureDiagnostics" not in playbook.description and "AzureActivity" not in playbook.description, playbook.name


def test_every_shipped_rule_is_accepted_by_the_monitor_api_and_routes_to_its_playbook():
    tenant = Tenant.load()
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    deployed = 0
    for playbook in load_playbooks(REPO_ROOT / "playbooks"):
        for rule in playbook.detect.rules():
            _deploy(monitor, playbook.name, rule)
            deployed += 1
    assert deployed >= 9
    rule = monitor.scheduled_query_rules.get("rg-ai-prod", "aoai-leaked-key-usage")
    assert rule.actions.custom_properties[ROUTE_PROPERTY] == "leaked-api-key"
    # the tabletop's drill playbooks too: their rules run in the narrow-* exercises (deployed under their own names)
    drills = [d for d in sorted((REPO_ROOT / "tabletop" / "scenarios" / "playbooks").iterdir()) if d.is_dir()]
    for playbook in [p for folder in drills for p in load_playbooks(folder)]:
        for rule in playbook.detect.rules():
            _deploy(monitor, playbook.name, rule.model_copy(update={"name": f"drill-{rule.name}"}))
            deployed += 1
    assert monitor.scheduled_query_rules.get("rg-ai-prod", "drill-aoai-entra-token-abuse")


#: Metrics of Microsoft.CognitiveServices/accounts whose row in Microsoft's supported-metrics table says "Do not use for
#: Azure OpenAI service" (categories "Cognitive Services - HTTP Requests" and "Cognitive Services - SLI";
#: learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-cognitiveservices-accounts-metrics,
#: MicrosoftDocs/azure-monitor-docs). ``Ratelimit`` is "The current ratelimit of the ratelimit key": a limit, not a
#: count of 429s. Azure OpenAI's own request count is ``AzureOpenAIRequests`` (split by ``StatusCode``).
NOT_FOR_AZURE_OPENAI = {"BlockedCalls", "ClientErrors", "DataIn", "DataOut", "Latency", "Ratelimit", "ServerErrors",
                        "SuccessfulCalls", "TotalCalls", "TotalErrors", "SuccessRate"}


def test_no_shipped_metric_alert_uses_a_metric_microsoft_says_not_to_use_for_azure_openai():
    used = {(p.name, r.name): r.metric for p in load_playbooks(REPO_ROOT / "playbooks") for r in p.detect.metric_alerts}
    assert used and {k: m for k, m in used.items() if m in NOT_FOR_AZURE_OPENAI} == {}
    spike = next(r for p in load_playbooks(REPO_ROOT / "playbooks") for r in p.detect.metric_alerts if r.name == "aoai-ratelimit-spike")
    assert spike.metric == "AzureOpenAIRequests" and [(d.name, d.values) for d in spike.dimensions] == [("StatusCode", ["429"])]


def test_a_wrong_column_in_a_rule_query_is_refused_with_the_kql_engines_error():
    tenant = Tenant.load()
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    shipped = next(p for p in load_playbooks(REPO_ROOT / "playbooks") if p.name == "leaked-api-key")
    rule = shipped.detect.scheduled_query_rules[0]
    typo = rule.model_copy(update={"query": rule.query.replace("CallerIPAddress startswith", "CallerIpAdress startswith")})
    with pytest.raises(HttpResponseError) as err:
        _deploy(monitor, shipped.name, typo)
    assert err.value.status_code == 400
    assert "CallerIpAdress" in err.value.message and "Failed to resolve" in err.value.message


@pytest.mark.parametrize(("rule", "field", "message"), [
    ({**RULE, "evaluation_frequency": "5m"}, "detect.scheduled_query_rules.0.evaluation_frequency", "not an ISO 8601 duration"),
    ({**RULE, "evaluation_frequency": "PT30S"}, "detect.scheduled_query_rules.0.evaluation_frequency", "outside PT1M..P1D"),
    ({**RULE, "metric_measure_column": None}, "detect.scheduled_query_rules.0", "needs metric_measure_column"),
    ({**RULE, "severity": 7}, "detect.scheduled_query_rules.0.severity", "less than or equal to 4"),
    ({**RULE, "operator": "Above"}, "detect.scheduled_query_rules.0.operator", "GreaterThan"),
    ({**RULE, "failing_periods": {"evaluations": 1, "min_failing": 2}}, "detect.scheduled_query_rules.0.failing_periods", "above evaluations"),
    ({**RULE, "scope": "workspace"}, "detect.scheduled_query_rules.0", "needs resource_id_column"),
    ({**RULE, "resource_id_column": "AccountId"}, "detect.scheduled_query_rules.0", "applies to scope workspace only"),
    ({**RULE, "scope": "workspace", "resource_id_column": "Account Id"}, "detect.scheduled_query_rules.0", "is not a column name"),
    ({**RULE, "scope": "workspace", "resource_id_column": "CallerIPAddress", "dimensions": ["CallerIPAddress"]},
     "detect.scheduled_query_rules.0", "is also a dimension"),
    ({**RULE, "scope": "resource-group"}, "detect.scheduled_query_rules.0.scope", "'account' or 'workspace'"),
])
def test_detect_mistakes_name_file_line_and_field(tmp_path, rule, field, message):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**BASE, "detect": {"scheduled_query_rules": [rule]}}, sort_keys=False))
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert any(f == field and message in m for _, f, m in info.value.problems), info.value.problems
    assert all(line is not None for line, _, _ in info.value.problems)


def test_metric_alert_needs_exactly_one_threshold_and_a_rule_cannot_route_elsewhere(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**BASE, "detect": {"metric_alerts": [{"name": "m", "metric": "ClientErrors"}]}}))
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert any("either threshold" in m for _, _, m in info.value.problems)
    rule = ScheduledQueryRule(**{**RULE, "custom_properties": {"Firestop-Playbook": "other"}})
    with pytest.raises(ValueError, match="routes to 'other'"):
        arm_body(rule, playbook="p", scopes=[PROD], action_group_id=AG)


def test_a_workspace_scoped_rule_renders_per_account_with_resource_id_column_and_the_workspace_as_scope():
    """``scope: workspace``: one Log Alerts V2 rule per protected account on the workspace, the account's id and endpoint
    in its query, ``resourceIdColumn`` on its condition and no targetResourceTypes (ARM: scheduledQueryRules Condition)."""
    from firestop.infra.detection import rule_resources

    usage = next(p for p in load_playbooks(REPO_ROOT / "playbooks") if p.name == "anomalous-usage")
    dev = PROD.replace("rg-ai-prod", "rg-ai-dev").replace("contoso-openai-prod", "contoso-openai-dev")
    endpoints = {PROD: "https://contoso-openai-prod.openai.azure.com/", dev: "https://contoso-openai-dev.openai.azure.com/"}
    out = rule_resources([usage], accounts=[PROD, dev], subscription_id=SUB, action_group_id=AG, workspace_id=WS,
                         endpoints=endpoints, placeholders={"nsg_id": "/nsg", "apim_id": APIM})
    apim = {r.name: r for r in out if r.rule == "aoai-anomalous-usage-apim"}
    assert set(apim) == {"aoai-anomalous-usage-apim-contoso-openai-prod", "aoai-anomalous-usage-apim-contoso-openai-dev"}
    for account, res in ((PROD, apim["aoai-anomalous-usage-apim-contoso-openai-prod"]), (dev, apim["aoai-anomalous-usage-apim-contoso-openai-dev"])):
        props = res.body["properties"]
        (cond,) = props["criteria"]["allOf"]
        assert props["scopes"] == [WS] and "targetResourceTypes" not in props and cond["resourceIdColumn"] == "AccountId"
        assert f'startswith "{endpoints[account]}"' in cond["query"] and f'AccountId = "{account}"' in cond["query"]
        assert [d["name"] for d in cond["dimensions"]] == ["ApimSubscriptionId", "CallerIpAddress"]
        assert props["actions"]["customProperties"] == {"firestop-nsg": "/nsg", "firestop-apim": APIM, "firestop-playbook": "anomalous-usage"}
    # the account's own rules stay on the account, split by resource type
    own = next(r for r in out if r.name == "aoai-anomalous-usage-contoso-openai-prod").body["properties"]
    assert own["scopes"] == [PROD] and own["targetResourceTypes"] == ["Microsoft.CognitiveServices/accounts"]
    with pytest.raises(ValueError, match="scoped to the Log Analytics workspace"):
        rule_resources([usage], accounts=[PROD], subscription_id=SUB, action_group_id=AG, endpoints=endpoints)
    with pytest.raises(ValueError, match=r"needs the placeholder \{account_endpoint\}"):
        rule_resources([usage], accounts=[PROD], subscription_id=SUB, action_group_id=AG, workspace_id=WS)
    # the account's id and endpoint land inside KQL string literals: anything but their Azure shapes is refused
    with pytest.raises(ValueError, match="is not an https endpoint"):
        rule_resources([usage], accounts=[PROD], subscription_id=SUB, action_group_id=AG, workspace_id=WS,
                       endpoints={PROD: 'https://x.openai.azure.com/" | union AzureActivity //'})
    with pytest.raises(ValueError, match="is not a Microsoft.CognitiveServices/accounts resource ID"):
        rule_resources([usage], accounts=[PROD + '"'], subscription_id=SUB, action_group_id=AG, workspace_id=WS, endpoints=endpoints)
