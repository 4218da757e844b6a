"""The monitor room: alert rules, action groups and diagnostic settings through azure-mgmt-monitor (no mocks)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.monitor import MonitorManagementClient
from azure.profiles import ProfileDefinition

from firestop.sandbox import Tenant
from firestop.sandbox.monitor import models

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DEV = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec"
#: azure-mgmt-monitor 6.0.2 is multi-API: Log Alerts V2 live in 2022-08-01-preview
PROFILE = ProfileDefinition({"azure.mgmt.monitor.MonitorManagementClient": {None: "2023-01-01", "scheduled_query_rules": "2022-08-01-preview",
                                                                             "activity_log_alerts": "2020-10-01", "metric_alerts": "2018-03-01",
                                                                             "diagnostic_settings": "2021-05-01-preview"}}, "firestop-test")


@pytest.fixture()
def tenant():
    return Tenant.load()


@pytest.fixture()
def monitor(tenant):
    return MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)


def _rule(query: str, column: str = "n") -> dict:
    return {"location": "swedencentral", "kind": "LogAlert", "properties": {
        "severity": 1, "enabled": True, "scopes": [WS], "evaluationFrequency": "PT5M", "windowSize": "PT5M",
        "criteria": {"allOf": [{"query": query, "timeAggregation": "Total", "metricMeasureColumn": column,
                                "operator": "GreaterThan", "threshold": 20,
                                "dimensions": [{"name": "CallerIPAddress", "operator": "Include", "values": ["*"]}],
                                "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1}}]},
        "actions": {"actionGroups": [f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Insights/actionGroups/ag-firestop"],
                    "customProperties": {"firestop-playbook": "anomalous-usage"}}}}


def test_default_tenant_seeds_the_prod_diagnostic_setting_and_action_groups_round_trip(tenant, monitor):
    (setting,) = list(monitor.diagnostic_settings.list(PROD))
    assert setting.workspace_id == WS
    assert {(l.category, l.enabled) for l in setting.logs} == {("Audit", True), ("RequestResponse", True), ("Trace", True)}
    assert [(m.category, m.enabled) for m in setting.metrics] == [("AllMetrics", True)]
    assert list(monitor.diagnostic_settings.list(DEV)) == []  # the dev account sends nothing
    with pytest.raises(ResourceNotFoundError):  # action groups come from `firestop infra`, not the seed
        monitor.action_groups.get("rg-ai-prod", "ag-firestop")
    group = monitor.action_groups.create_or_update("rg-ai-prod", "ag-test", {"location": "Global", "group_short_name": "test", "enabled": True,
        "webhook_receivers": [{"name": "firestop", "service_uri": "https://func.example/api/alerts", "use_common_alert_schema": True}]})
    assert group.webhook_receivers[0].use_common_alert_schema is True
    assert [g.name for g in monitor.action_groups.list_by_resource_group("rg-ai-prod")] == ["ag-test"]
    assert models.log_workspaces(tenant._state, PROD, "RequestResponse")[0]["name"] == "law-contoso-sec"
    assert models.log_workspaces(tenant._state, DEV, "RequestResponse") == []
    assert models.metrics_exported(tenant._state, PROD) and not models.metrics_exported(tenant._state, DEV)


def test_scheduled_query_rule_crud_and_a_wrong_column_is_refused_with_the_kql_error(tenant, monitor):
    rule = monitor.scheduled_query_rules.create_or_update(
        "rg-ai-prod", "r1", _rule("AzureDiagnostics | summarize n = count() by CallerIPAddress"))
    assert rule.criteria.all_of[0].metric_measure_column == "n" and rule.type == "Microsoft.Insights/scheduledQueryRules"
    assert [r.name for r in monitor.scheduled_query_rules.list_by_resource_group("rg-ai-prod")] == ["r1"]
    assert [r.name for r in monitor.scheduled_query_rules.list_by_subscription()] == ["r1"]
    with pytest.raises(HttpResponseError) as err:
        monitor.scheduled_query_rules.create_or_update("rg-ai-prod", "r2", _rule("AzureDiagnostics | where Categoryy == 'Audit' | summarize n = count() by CallerIPAddress"))
    assert err.value.status_code == 400 and "Categoryy" in err.value.message
    with pytest.raises(HttpResponseError) as err:  # the measure column must be in the result
        monitor.scheduled_query_rules.create_or_update("rg-ai-prod", "r3", _rule("AzureDiagnostics | summarize m = count() by CallerIPAddress"))
    assert err.value.status_code == 400 and "'n'" in err.value.message
    monitor.scheduled_query_rules.delete("rg-ai-prod", "r1")
    with pytest.raises(ResourceNotFoundError):
        monitor.scheduled_query_rules.get("rg-ai-prod", "r1")


def test_a_rule_put_is_judged_on_the_tables_columns_not_their_rows(tenant, monitor):
    """The PUT-time query check compiles the query against the scope's columns (every KqlError is a compile-time
    one); it never evaluates the rows, so a row the query could not evaluate (a string in the long DurationMs)
    changes no verdict. Before, the check ran the query over every live row: that row raised TypeError (a 500)."""
    (workspace,) = [w for w in tenant._state.doc["workspaces"].values() if w["resource_id"] == WS]  # noqa: SLF001
    table = workspace["tables"]["AzureDiagnostics"]
    assert len(table["rows"]) > 100  # the seeded traffic: a check over the rows would have evaluated them
    names = [c["name"] for c in table["columns"]]
    table["rows"].append([None] * len(names))
    table["rows"][-1][names.index("DurationMs")] = "not a number"
    table["rows"][-1][names.index("TimeGenerated")] = table["rows"][0][names.index("TimeGenerated")]
    query = "AzureDiagnostics | where DurationMs > 5 | summarize n = count() by CallerIPAddress"
    rule = monitor.scheduled_query_rules.create_or_update("rg-ai-prod", "slow-calls", _rule(query))
    assert rule.criteria.all_of[0].query == query
    with pytest.raises(HttpResponseError) as err:  # a compile error is still refused, whatever the rows
        monitor.scheduled_query_rules.create_or_update("rg-ai-prod", "bad", _rule("AzureDiagnostics | where DurationMss > 5 | summarize n = count() by CallerIPAddress"))
    assert err.value.status_code == 400 and "DurationMss" in err.value.message
    with pytest.raises(HttpResponseError) as err:  # and so is a result without the measure column
        monitor.scheduled_query_rules.create_or_update("rg-ai-prod", "bad", _rule("AzureDiagnostics | where DurationMs > 5 | summarize m = count() by CallerIPAddress"))
    assert err.value.status_code == 400 and "'n'" in err.value.message


def test_activity_log_and_metric_alerts_round_trip(monitor):
    alert = monitor.activity_log_alerts.create_or_update("rg-ai-prod", "listkeys", {
        "location": "Global", "properties": {"scopes": [f"/subscriptions/{SUB}"], "enabled": True,
        "condition": {"allOf": [{"field": "category", "equals": "Administrative"},
                                {"field": "operationName", "equals": "Microsoft.CognitiveServices/accounts/listKeys/action"}]},
        "actions": {"actionGroups": [{"actionGroupId": "ag", "webhookProperties": {"firestop-playbook": "suspicious-key-access"}}]}}})
    assert alert.condition.all_of[1].equals.endswith("listKeys/action")
    metric = monitor.metric_alerts.create_or_update("rg-ai-prod", "client-errors", {
        "location": "global", "properties": {"severity": 2, "enabled": True, "scopes": [PROD], "evaluationFrequency": "PT1M",
        "windowSize": "PT5M", "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [
            {"criterionType": "StaticThresholdCriterion", "name": "c1", "metricName": "ClientErrors", "metricNamespace": "Microsoft.CognitiveServices/accounts",
             "operator": "GreaterThan", "threshold": 50, "timeAggregation": "Total"}]}, "autoMitigate": True, "actions": []}})
    assert metric.criteria.all_of[0].metric_name == "ClientErrors"
    with pytest.raises(HttpResponseError) as err:
        monitor.activity_log_alerts.create_or_update("rg-ai-prod", "bad", {"location": "Global", "properties": {
            "scopes": [f"/subscriptions/{SUB}"], "condition": {"allOf": [{"field": "operationName", "equals": "x"}]}, "actions": {"actionGroups": []}}})
    assert err.value.status_code == 400 and "category" in err.value.message


def test_diagnostic_setting_put_delete_and_unknown_resource(monitor):
    monitor.diagnostic_settings.create_or_update(DEV, "to-law", {"workspace_id": WS, "logs": [{"category_group": "allLogs", "enabled": True}],
                                                                 "metrics": [{"category": "AllMetrics", "enabled": True}]})
    assert [s.name for s in monitor.diagnostic_settings.list(DEV)] == ["to-law"]
    monitor.diagnostic_settings.delete(DEV, "to-law")
    assert list(monitor.diagnostic_settings.list(DEV)) == []
    with pytest.raises(ResourceNotFoundError):
        list(monitor.diagnostic_settings.list(DEV.replace("contoso-openai-dev", "nope")))
    with pytest.raises(HttpResponseError) as err:
        monitor.diagnostic_settings.create_or_update(DEV, "nowhere", {"logs": []})
    assert err.value.status_code == 400 and "workspaceId" in err.value.message
