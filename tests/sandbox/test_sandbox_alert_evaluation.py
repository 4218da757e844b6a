"""The monitor room's evaluator: rules run on the virtual clock over the sandbox's own traffic, logs and
Activity Log, and deliver the Common Alert Schema (compared with the corpus samples in data/alerts/)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from firestop.alerts import parse_alert
from firestop.azure.clients import ClientFactory
from firestop.infra.detection import apply, rule_resources
from firestop.playbooks import load_playbooks
from firestop.sandbox import Tenant
from firestop.sandbox.core.clock import parse_utc
from firestop.sandbox.monitor.delivery import RETRY_DELAYS_S, deliver
from firestop.settings import REPO_ROOT

DATA = Path(__file__).parent / "data" / "alerts"
SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec"
T0 = "2026-11-29T04:00:00Z"


def _tenant(playbook: str, *, diagnostics: bool = True) -> tuple[Tenant, object]:
    tenant = Tenant.load()
    tenant.clock.set(parse_utc(T0))
    monitor = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True).monitor(SUB)
    group = monitor.action_groups.create_or_update("rg-ai-prod", "ag-firestop", {
        "location": "Global", "group_short_name": "firestop", "enabled": True,
        "webhook_receivers": [{"name": "firestop", "service_uri": "https://func.example/api/alerts?code=secret", "use_common_alert_schema": True}]})
    playbooks = [p for p in load_playbooks(REPO_ROOT / "playbooks") if p.name == playbook]
    apply(monitor, rule_resources(playbooks, accounts=[PROD], subscription_id=SUB, action_group_id=group.id,
                                  placeholders={"automation_principal_id": tenant.credential.principal_id, "nsg_id": "/nsg"},
                                  workspace_id=WS, endpoints={PROD: "https://contoso-openai-prod.openai.azure.com/"}))
    if not diagnostics:
        monitor.diagnostic_settings.delete(PROD, "to-law-contoso-sec")
    tenant.evaluate_alerts()  # the evaluator starts counting from here
    return tenant, monitor


def _attack(tenant: Tenant, *, minutes: int, per_minute: int, key: str, after=None) -> list:
    start = tenant.clock.now()
    out = []
    for i in range(minutes * per_minute):
        at = start + timedelta(seconds=i * 60 / per_minute)
        if after:
            after(at)
        if at > tenant.clock.now():
            tenant.clock.set(at)
        status = tenant.data_plane_call(at=at, account="contoso-openai-prod", ip="203.0.113.77", key=key, tag="attack")
        out.extend((at, status, n) for n in tenant.evaluate_alerts())
    return out


def _until(tenant: Tenant, seconds: int) -> list:
    out = []
    for _ in range(seconds // 60):
        tenant.clock.advance(60)
        out.extend(tenant.evaluate_alerts())
    return out


def test_leaked_key_traffic_fires_the_log_alert_with_the_common_schema_and_resolves():
    tenant, _ = _tenant("leaked-api-key")
    start = tenant.clock.now()
    key1 = tenant.account_keys(PROD)["key1"]
    fired = [n for _, _, n in _attack(tenant, minutes=5, per_minute=40, key=key1)]
    fired += _until(tenant, 900)
    first = next(n for n in fired if n.condition == "Fired")
    # 21st request at +30 s, visible 120 s later, seen at the next whole-minute evaluation
    mttd = (first.at - start).total_seconds()
    assert 150 <= mttd <= 150 + 60, mttd
    assert first.explain["dimensions"] == {"CallerIPAddress": "203.0.113.77"} and first.explain["value"] > 20
    payload = first.payload
    sample = json.loads((DATA / "log-alert-v2.json").read_text())
    assert payload.keys() == sample.keys()
    assert set(sample["data"]["essentials"]) <= set(payload["data"]["essentials"]) | {"alertRuleID"}
    condition, ref = payload["data"]["alertContext"]["condition"], sample["data"]["alertContext"]["condition"]
    assert set(ref) == set(condition) and set(ref["allOf"][0]) == set(condition["allOf"][0])
    assert isinstance(condition["allOf"][0]["threshold"], str) and isinstance(condition["allOf"][0]["metricValue"], float)
    alert = parse_alert(json.dumps(payload).encode())
    assert alert.routed_playbook == "leaked-api-key" and alert.monitoring_service == "Log Alerts V2"
    assert alert.indicators.caller_ips == ("203.0.113.77",)
    assert [w["serviceUri"] for w in first.webhooks] == ["https://func.example/api/alerts?code=secret"]
    resolved = [n for n in fired if n.condition == "Resolved"]
    assert resolved and resolved[0].payload["data"]["essentials"]["alertId"] == payload["data"]["essentials"]["alertId"]
    assert "resolvedDateTime" in resolved[0].payload["data"]["essentials"]


def test_no_diagnostic_setting_no_rows_no_alert():
    tenant, _ = _tenant("leaked-api-key", diagnostics=False)
    key1 = tenant.account_keys(PROD)["key1"]
    fired = [n for _, _, n in _attack(tenant, minutes=3, per_minute=40, key=key1)] + _until(tenant, 600)
    assert fired == []
    assert len([c for c in tenant.data_plane_log() if c["status"] == 200]) == 120  # served, just never logged


def test_a_rotated_key_gets_401_and_a_locked_network_403():
    tenant, _ = _tenant("leaked-api-key")
    key1 = tenant.account_keys(PROD)["key1"]
    assert tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.77", key=key1) == 200
    ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True) \
        .cognitive_services(SUB).accounts.regenerate_key("rg-ai-prod", "contoso-openai-prod", key_name="Key1")
    assert tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.77", key=key1) == 401
    key2 = tenant.account_keys(PROD)["key2"]
    assert tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.77", key=key2, content_filtered=True) == 400
    ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True, polling_interval=0) \
        .cognitive_services(SUB).accounts.begin_update("rg-ai-prod", "contoso-openai-prod",
                                                       {"properties": {"networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "198.51.100.0/24"}]}}}).result()
    assert tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.77", key=key2) == 403
    assert tenant.data_plane_call(account="contoso-openai-prod", ip="198.51.100.10", principal="app") == 200


def test_metric_alerts_fire_on_platform_metrics_even_without_a_diagnostic_setting():
    tenant, monitor = _tenant("content-abuse", diagnostics=False)
    group = monitor.action_groups.get("rg-ai-prod", "ag-firestop")
    monitor.metric_alerts.create_or_update("rg-ai-prod", "client-errors-dynamic", {"location": "global", "properties": {
        "severity": 3, "enabled": True, "scopes": [PROD], "evaluationFrequency": "PT5M", "windowSize": "PT5M",
        "criteria": {"odata.type": "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria", "allOf": [{
            "criterionType": "DynamicThresholdCriterion", "name": "c1", "metricName": "ClientErrors", "timeAggregation": "Total",
            "operator": "GreaterThan", "alertSensitivity": "High", "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1}}]},
        "actions": [{"actionGroupId": group.id, "webHookProperties": {"firestop-playbook": "anomalous-usage"}}]}})
    key1 = tenant.account_keys(PROD)["key1"]
    start = tenant.clock.now()
    fired = []
    for i in range(120):  # two minutes of prompts the content filter rejects
        at = start + timedelta(seconds=i)
        tenant.clock.set(at)
        tenant.data_plane_call(at=at, account="contoso-openai-prod", ip="203.0.113.200", key=key1, content_filtered=True, tag="abuse")
        fired.extend(tenant.evaluate_alerts())
    fired += _until(tenant, 900)
    by_rule = {n.rule_name: n for n in fired if n.condition == "Fired"}
    static, dynamic = by_rule["aoai-rai-rejected"], by_rule["client-errors-dynamic"]
    assert static.explain["value"] == 120 and static.explain["threshold"] == 100
    for notification, sample, kind in ((static, "metric-platform-static-threshold", "SingleResourceMultipleMetricCriteria"),
                                       (dynamic, "metric-platform-dynamic-threshold", "DynamicThresholdCriteria")):
        context = notification.payload["data"]["alertContext"]
        ref = json.loads((DATA / f"{sample}.alertContext.json").read_text())["alertContext"]
        assert context["conditionType"] == kind and set(ref["condition"]["allOf"][0]) == set(context["condition"]["allOf"][0])
        assert notification.payload["data"]["essentials"]["monitoringService"] == "Platform"
    assert parse_alert(json.dumps(static.payload).encode()).routed_playbook == "content-abuse"
    assert parse_alert(json.dumps(dynamic.payload).encode()).routed_playbook == "anomalous-usage"
    assert "aoai-content-abuse" not in by_rule  # the log rule sees nothing: no diagnostic setting


def test_azure_openai_requests_split_by_status_code_alerts_per_status_named_in_the_payload():
    """anomalous-usage's platform-metric rule on an account without a diagnostic setting: AzureOpenAIRequests counts every
    call with its StatusCode; the rule keeps 401 (429 has its own rule, metric16). A 401 storm fires it naming StatusCode 401;
    as many content-filter 400s and network-refused 403s fire nothing; when the storm stops the 401 series resolves."""
    tenant, _ = _tenant("anomalous-usage", diagnostics=False)
    key1 = tenant.account_keys(PROD)["key1"]
    start = tenant.clock.now()
    for i in range(90):  # 90 s: 60 wrong keys (401) and 90 prompts the content filter rejects (400) with a valid key
        at = start + timedelta(seconds=i)
        tenant.clock.set(at)
        if i < 60:
            assert tenant.data_plane_call(at=at, account="contoso-openai-prod", ip="203.0.113.140", key="wrong", tag="guess") == 401
        assert tenant.data_plane_call(at=at, account="contoso-openai-prod", ip="203.0.113.200", key=key1, content_filtered=True) == 400
    fired = _until(tenant, 40 * 60)  # a 15 min window every 5 min; resolved after 3 healthy evaluations
    mine = [n for n in fired if n.rule_name == "aoai-anomalous-usage-requests"]
    assert [n.condition for n in mine] == ["Fired", "Resolved"]
    context = mine[0].payload["data"]["alertContext"]
    (criterion,) = context["condition"]["allOf"]
    assert criterion["metricName"] == "AzureOpenAIRequests" and criterion["metricValue"] == 60
    assert criterion["dimensions"] == [{"name": "StatusCode", "value": "401"}]
    assert mine[1].payload["data"]["essentials"]["alertId"] == mine[0].payload["data"]["essentials"]["alertId"]
    alert = parse_alert(json.dumps(mine[0].payload).encode())
    assert alert.routed_playbook == "anomalous-usage" and [t.lower() for t in alert.target_ids] == [PROD.lower()]
    # 403s (the network refuses the caller: what network.lock makes of a contained attacker) are not counted
    from firestop.azure.clients import ClientFactory

    ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True, polling_interval=0) \
        .cognitive_services(SUB).accounts.begin_update("rg-ai-prod", "contoso-openai-prod",
                                                       {"properties": {"networkAcls": {"defaultAction": "Deny", "ipRules": []}}}).result()
    start = tenant.clock.now()
    for i in range(120):
        at = start + timedelta(seconds=i)
        tenant.clock.set(at)
        assert tenant.data_plane_call(at=at, account="contoso-openai-prod", ip="203.0.113.140", key="wrong") == 403
    assert not [n for n in _until(tenant, 20 * 60) if n.rule_name == "aoai-anomalous-usage-requests"]


def test_ratelimit_spike_counts_429_answers_on_azure_openai_requests_not_the_ratelimit_metric():
    """aoai-ratelimit-spike: a deployment throttled to 1 capacity unit (6 calls a minute) asked 60 times a minute for two
    minutes answers 108 × 429; the rule counts them on AzureOpenAIRequests' StatusCode 429 series (Microsoft marks
    Ratelimit "Do not use for Azure OpenAI service": the current limit, not throttled calls), not the 12 served calls."""
    tenant, _ = _tenant("anomalous-usage", diagnostics=False)
    cs = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True,
                       polling_interval=0).cognitive_services(SUB)
    dep = cs.deployments.get("rg-ai-prod", "contoso-openai-prod", "gpt-4o")
    dep.sku.capacity = 1
    cs.deployments.begin_create_or_update("rg-ai-prod", "contoso-openai-prod", "gpt-4o", dep).result()
    tenant.clock.set(tenant.clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1))
    tenant.evaluate_alerts()
    key1 = tenant.account_keys(PROD)["key1"]
    statuses = []
    start = tenant.clock.now()
    for i in range(120):
        at = start + timedelta(seconds=i)
        tenant.clock.set(at)
        statuses.append(tenant.data_plane_call(at=at, account="contoso-openai-prod", ip="198.51.100.10", key=key1))
    assert statuses.count(429) == 108 and statuses.count(200) == 12
    mine = [n for n in _until(tenant, 15 * 60) if n.rule_name == "aoai-ratelimit-spike"]
    assert [n.condition for n in mine] == ["Fired", "Resolved"]
    (criterion,) = mine[0].payload["data"]["alertContext"]["condition"]["allOf"]
    assert criterion["metricName"] == "AzureOpenAIRequests" and criterion["metricValue"] == 108
    assert criterion["dimensions"] == [{"name": "StatusCode", "value": "429"}]
    assert parse_alert(json.dumps(mine[0].payload).encode()).routed_playbook == "anomalous-usage"


def test_activity_log_alert_fires_once_the_event_is_submitted():
    tenant, _ = _tenant("public-network-exposure")
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
    from firestop.sandbox import SandboxCredential

    bob = CognitiveServicesManagementClient(SandboxCredential(tenant.tenant_id, "bob@contoso.com"), SUB, transport=tenant.transport, polling_interval=0)
    start = tenant.clock.now()
    bob.accounts.begin_update("rg-ai-dev", "contoso-openai-dev", {"properties": {"publicNetworkAccess": "Enabled",
                                                                                  "networkAcls": {"defaultAction": "Allow", "ipRules": []}}}).result()
    fired = tenant.evaluate_alerts() + _until(tenant, 120)
    (alert,) = fired
    assert 20 <= (alert.at - start).total_seconds() <= 21
    context = alert.payload["data"]["alertContext"]
    sample = json.loads((DATA / "activitylog-administrative.alertContext.json").read_text())["alertContext"]
    assert set(sample) <= set(context)
    assert context["caller"] == "bob@contoso.com" and context["operationName"] == "Microsoft.CognitiveServices/accounts/write"
    assert alert.payload["data"]["essentials"]["monitoringService"] == "Activity Log - Administrative"
    assert parse_alert(json.dumps(alert.payload).encode()).routed_playbook == "public-network-exposure"


def test_delivery_retries_as_action_groups_do_and_never_logs_the_key():
    calls, waits = [], []

    def post(url, body):
        calls.append(url)
        if len(calls) == 1:
            raise OSError("connection reset")
        return 503 if len(calls) == 2 else 202

    log = deliver({"schemaId": "azureMonitorCommonAlertSchema"}, [{"serviceUri": "https://f.example/api/alerts?code=k3y"}], post, waits.append)
    assert [e.get("status") for e in log] == [None, 503, 202] and waits == list(RETRY_DELAYS_S[:2])
    assert all("k3y" not in e["url"] for e in log)
    calls.clear()
    log = deliver({}, [{"serviceUri": "https://f.example/x"}], lambda u, b: 400, waits.append)
    assert [e["status"] for e in log] == [400]  # 400 is not retried


APIM = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.ApiManagement/service/apim-contoso-ai"


def test_calls_through_api_management_pass_the_gateway_and_log_there():
    """A consumer's calls reach the account from the gateway's address (the account's own row shows the gateway);
    the gateway's ApiManagementGatewayLogs row names the caller and the subscription; a suspended subscription is
    401 at the gateway and never reaches the account."""
    tenant, monitor = _tenant("leaked-api-key")
    workspace = next(iter(tenant._state.doc["workspaces"].values()))  # noqa: SLF001 — the test's own tenant
    for setting in monitor.diagnostic_settings.list(APIM):  # the default tenant's own: this test sets its own up
        monitor.diagnostic_settings.delete(APIM, setting.name)
    monitor.diagnostic_settings.create_or_update(APIM, "apim-to-law", {
        "workspace_id": workspace["resource_id"], "log_analytics_destination_type": "Dedicated",
        "logs": [{"category": "GatewayLogs", "enabled": True}]})
    call = dict(account="contoso-openai-prod", ip="203.0.113.90", apim="apim-contoso-ai", apim_subscription="partner-acme", tag="x")
    assert tenant.data_plane_call(**call) == 200
    assert tenant.data_plane_call(**{**call, "apim_subscription": "no-such-consumer"}) == 401
    ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True) \
        .api_management(SUB).subscription.update("rg-ai-prod", "apim-contoso-ai", "partner-acme", "*", {"state": "suspended"})
    assert tenant.data_plane_call(**call) == 401
    log = tenant.data_plane_log()
    assert [(e["ip"], e["status"], e.get("via")) for e in log[-3:]] == [
        ("203.0.113.90", 200, "apim-contoso-ai/partner-acme"), ("203.0.113.90", 401, "apim-contoso-ai/no-such-consumer"),
        ("203.0.113.90", 401, "apim-contoso-ai/partner-acme")]
    diag = workspace["tables"]["AzureDiagnostics"]
    ip = [c["name"] for c in diag["columns"]].index("CallerIPAddress")
    assert [p["row"][ip] for p in diag.get("pending", [])] == ["198.51.100.20"]  # only the forwarded call, from the gateway
    gateway = workspace["tables"]["ApiManagementGatewayLogs"]
    names = [c["name"] for c in gateway["columns"]]
    rows = [dict(zip(names, p["row"])) for p in gateway["pending"]]
    assert [(r["CallerIpAddress"], r["ApimSubscriptionId"], r["ResponseCode"], r["BackendResponseCode"]) for r in rows] == [
        ("203.0.113.90", "partner-acme", 200, 200), ("203.0.113.90", "no-such-consumer", 401, 0), ("203.0.113.90", "partner-acme", 401, 0)]
    endpoint = tenant._state.doc["resources"][PROD.lower()]["properties"]["endpoint"].rstrip("/")  # noqa: SLF001
    # the backend the gateway forwarded to (the account's endpoint); none when it refused the call
    assert [r["BackendUrl"] for r in rows] == [f"{endpoint}/openai/deployments/gpt-4o/chat/completions", "", ""]
    assert endpoint.startswith("https://")


def test_gateway_logs_in_azure_diagnostics_mode_land_in_azurediagnostics_not_the_resource_specific_table():
    """A GatewayLogs setting without logAnalyticsDestinationType Dedicated: the gateway's row goes to AzureDiagnostics
    (Category GatewayLogs), so a rule over ApiManagementGatewayLogs has nothing to read."""
    tenant, monitor = _tenant("leaked-api-key")
    workspace = next(iter(tenant._state.doc["workspaces"].values()))  # noqa: SLF001 — the test's own tenant
    for setting in monitor.diagnostic_settings.list(APIM):
        monitor.diagnostic_settings.delete(APIM, setting.name)
    monitor.diagnostic_settings.create_or_update(APIM, "apim-to-law", {
        "workspace_id": workspace["resource_id"], "logs": [{"category": "GatewayLogs", "enabled": True}]})
    before = len(workspace["tables"].get("ApiManagementGatewayLogs", {}).get("pending", []))
    assert tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.90", apim="apim-contoso-ai",
                                  apim_subscription="partner-acme", tag="x") == 200
    assert len(workspace["tables"].get("ApiManagementGatewayLogs", {}).get("pending", [])) == before
    diag = workspace["tables"]["AzureDiagnostics"]
    names = [c["name"] for c in diag["columns"]]
    rows = [dict(zip(names, p["row"])) for p in diag["pending"]]
    gateway = [r for r in rows if r["Category"] == "GatewayLogs"]
    assert [(r["ResourceProvider"], r["CallerIPAddress"], r["ResultSignature"]) for r in gateway] == [("MICROSOFT.APIMANAGEMENT", "203.0.113.90", "200")]
    assert gateway[0]["_ResourceId"] == APIM.lower()


def test_a_workspace_rule_with_a_resource_id_column_targets_each_resource_it_names():
    """Log Alerts V2 ``resourceIdColumn``: a rule over the workspace fires one alert per resource id in that column,
    whose target (alertTargetIDs) is that resource, not the workspace; the column is no dimension of the payload."""
    tenant, monitor = _tenant("leaked-api-key")
    workspace = next(iter(tenant._state.doc["workspaces"].values()))  # noqa: SLF001 — the test's own tenant
    group = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Insights/actionGroups/ag-firestop"
    for name, rid_col in (("by-resource", "_ResourceId"), ("whole-workspace", None)):
        monitor.scheduled_query_rules.create_or_update("rg-ai-prod", name, {
            "location": "swedencentral", "kind": "LogAlert", "properties": {
                "severity": 2, "enabled": True, "scopes": [workspace["resource_id"]], "evaluationFrequency": "PT5M", "windowSize": "PT5M",
                "criteria": {"allOf": [{
                    "query": "AzureDiagnostics | summarize n = count() by CallerIPAddress, _ResourceId", "timeAggregation": "Total",
                    "metricMeasureColumn": "n", "operator": "GreaterThan", "threshold": 20,
                    **({"resourceIdColumn": rid_col} if rid_col else {}),
                    "dimensions": [{"name": "CallerIPAddress", "operator": "Include", "values": ["*"]}],
                    "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1}}]},
                "actions": {"actionGroups": [group], "customProperties": {}}}})
    key1 = tenant.account_keys(PROD)["key1"]
    fired = [n for _, _, n in _attack(tenant, minutes=5, per_minute=40, key=key1)] + _until(tenant, 600)
    first = {n.payload["data"]["essentials"]["alertRule"]: n for n in reversed(fired) if n.condition == "Fired"}
    by_resource, whole = first["by-resource"], first["whole-workspace"]
    assert by_resource.payload["data"]["essentials"]["alertTargetIDs"] == [PROD.lower()]
    assert whole.payload["data"]["essentials"]["alertTargetIDs"] == [workspace["resource_id"].lower()]
    dims = by_resource.payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"]
    assert dims == [{"name": "CallerIPAddress", "value": "203.0.113.77"}] and by_resource.explain["dimensions"] == {"CallerIPAddress": "203.0.113.77"}
    parsed = parse_alert(by_resource.payload)
    assert [t.lower() for t in parsed.target_ids] == [PROD.lower()] and parsed.resource_type == "microsoft.cognitiveservices/accounts"
