"""RT6-01: a ClientErrors metric alert after a containment is swallowed as its "aftermath".

Attack: the anomalous-usage playbook shipped ``aoai-client-errors-dynamic`` (metric ``ClientErrors``) with the
custom property ``firestop-signal: failed-requests``, and :mod:`firestop.intake.aftermath` also took any metric
alert whose conditions are all ``ClientErrors`` as "refused requests". ClientErrors counts every 4xx — 429
throttling and 400 content-filter refusals too. After an incident on an account is contained, an attacker burning
quota (or probing the content filter) with another *valid* key raises ClientErrors; the alert names no caller, so
intake answered ``aftermath`` and opened nothing for the whole correlation window. Narrowing the rule to 401/403 on
``StatusCode`` is impossible: Microsoft's supported-metrics table lists ClientErrors' dimensions as ApiName,
OperationName, Region, RatelimitKey, and ARM refuses a metric alert on another dimension.

Fix: no metric alert is aftermath (only a ``Log`` alert whose rule carries the property); the playbook loader
accepts ``firestop-signal: failed-requests`` only on a scheduled query rule whose ResultSignature filters provably
keep 401/403 and nothing else (``firestop.playbooks.detect.refusal_statuses``); the ClientErrors rule is gone (its
property with it; Microsoft: "Do not use for Azure OpenAI service"), and the 401 storm rule counts 403 (a closed
network) too, so the leaked-key exercise still ends with one incident, its aftermath proven per caller. The
sandbox refuses a metric alert naming a dimension its metric does not have (the table below, source beside it).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from firestop.settings import REPO_ROOT
from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401  (fixture)
from tests.redteam5.usage_contained import USAGE, contained_usage_incident
from tests.e2e.test_webhook import what_intake_did

HERE = Path(__file__).parent
BASE = {"name": "p", "version": "1", "match": {"rule_names": ["x"]}, "contain": [{"id": "s", "runbook": "evidence.snapshot_logs"}]}


def _z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _client_errors_alert(at: datetime, account: str, custom: dict, metric: str = "ClientErrors", dimensions: list | None = None) -> dict:
    """A dynamic-threshold ClientErrors alert as Azure Monitor's common schema sends it (no caller, no status); with
    ``metric``/``dimensions``, the same for another metric (AzureOpenAIRequests split by StatusCode: a status, still no caller)."""
    body = copy.deepcopy(USAGE)
    essentials = body["data"]["essentials"]
    essentials.update({"alertRule": "aoai-client-errors-dynamic", "signalType": "Metric", "monitoringService": "Platform",
                       "severity": "Sev3", "firedDateTime": _z(at),
                       "alertId": essentials["alertId"].rsplit("/", 1)[0] + f"/rt6-01-{metric.lower()}"})
    body["data"]["alertContext"] = {"conditionType": "DynamicThresholdCriteria", "condition": {
        "windowSize": "PT5M", "windowStartTime": _z(at - timedelta(minutes=5)), "windowEndTime": _z(at),
        "allOf": [{"metricName": metric, "metricNamespace": "Microsoft.CognitiveServices/accounts",
                   "operator": "GreaterThan", "timeAggregation": "Total", "dimensions": dimensions or [], "metricValue": 240,
                   "alertSensitivity": "Low"}]}}
    body["data"]["customProperties"] = custom
    return body


@pytest.mark.parametrize(("metric", "dimensions"), [
    ("ClientErrors", []),
    # the metric that has a StatusCode: even a 401 series names no caller, so it is never the containment's aftermath
    ("AzureOpenAIRequests", [{"name": "StatusCode", "value": "401"}]),
])
def test_rt6_01_client_errors_after_containment_open_an_incident(endpoint, metric, dimensions):
    """Quota abuse with another valid key after a containment: even a rule deployed before the fix (still carrying
    firestop-signal: failed-requests) opens an incident instead of being taken as the containment working."""
    env, call, record = contained_usage_incident(endpoint)
    clock = env.clients.clock
    clock.set(datetime.fromisoformat(record["contained_at"]) + timedelta(minutes=10))
    custom = {**USAGE["data"]["customProperties"], "firestop-signal": "failed-requests"}
    answer = call("post_alert", "alerts", _client_errors_alert(clock.now(), record["alert"]["target_ids"][0], custom, metric, dimensions))
    assert what_intake_did(answer)["outcome"] == "started", answer.get_body()


def test_rt6_01_no_shipped_metric_rule_claims_refusals_and_the_log_rule_proves_them():
    from firestop.playbooks import load_playbooks
    from firestop.playbooks.detect import FAILED_REQUESTS, REFUSAL_STATUSES, SIGNAL_PROPERTY, refusal_statuses

    books = load_playbooks(REPO_ROOT / "playbooks")
    metric = [r.name for p in books for r in p.detect.metric_alerts + p.detect.activity_log_alerts
              if SIGNAL_PROPERTY in {k.lower() for k in r.custom_properties}]
    assert metric == []
    marked = {r.name: refusal_statuses(r.query) for p in books for r in p.detect.scheduled_query_rules
              if (r.custom_properties or {}).get(SIGNAL_PROPERTY) == FAILED_REQUESTS}
    assert marked.get("aoai-anomalous-usage") == REFUSAL_STATUSES  # 401 revoked key, 403 closed network


@pytest.mark.parametrize(("detect", "fragment"), [
    ({"metric_alerts": [{"name": "m", "metric": "ClientErrors", "threshold": 5,
                         "custom_properties": {"firestop-signal": "failed-requests"}}]}, "cannot prove"),
    # AzureOpenAIRequests narrowed to exactly the refusals is still a metric: no caller, so never aftermath (detection only)
    ({"metric_alerts": [{"name": "m", "metric": "AzureOpenAIRequests", "threshold": 5,
                         "dimensions": [{"name": "StatusCode", "values": ["401", "403"]}],
                         "custom_properties": {"firestop-signal": "failed-requests"}}]}, "names no caller"),
    ({"scheduled_query_rules": [{"name": "q", "query": 'T\n| where ResultSignature in ("401", "429")',
                                 "custom_properties": {"firestop-signal": "failed-requests"}}]}, "ResultSignature"),
    ({"scheduled_query_rules": [{"name": "q", "query": 'T\n| where ResultSignature == "401" or ResultSignature == "429"',
                                 "custom_properties": {"firestop-signal": "failed-requests"}}]}, "ResultSignature"),
    ({"scheduled_query_rules": [{"name": "q", "query": 'T\n| where ResultSignature startswith "4"',
                                 "custom_properties": {"firestop-signal": "failed-requests"}}]}, "ResultSignature"),
    ({"scheduled_query_rules": [{"name": "q", "query": "T | summarize n = count()",
                                 "custom_properties": {"firestop-signal": "failed-requests"}}]}, "ResultSignature"),
])
def test_rt6_01_the_loader_refuses_the_property_on_a_rule_that_could_count_other_statuses(tmp_path, detect, fragment):
    from firestop.playbooks import PlaybookError, load_playbook

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**BASE, "detect": detect}))
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert "firestop-signal" in str(err.value) and fragment in str(err.value)


def test_rt6_01_the_loader_accepts_a_401_403_rule(tmp_path):
    from firestop.playbooks import load_playbook

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**BASE, "detect": {"scheduled_query_rules": [{
        "name": "q", "query": 'T\n| where ResultSignature == "401"\n| where ResultSignature in ("401", "403")',
        "custom_properties": {"firestop-signal": "failed-requests"}}]}}))
    assert load_playbook(path).detect.scheduled_query_rules[0].custom_properties["firestop-signal"] == "failed-requests"


def test_rt6_01_sandbox_metric_dimensions_are_microsofts():
    from firestop.sandbox.monitor.models import METRIC_DIMENSIONS
    from firestop.sandbox.monitor.traffic import METRIC_NAMES

    table = json.loads((HERE / "cognitiveservices-metrics.json").read_text())  # source: cognitiveservices-metrics.md
    assert set(METRIC_DIMENSIONS) == set(METRIC_NAMES)
    assert {m: set(d) for m, d in METRIC_DIMENSIONS.items()} == {m: set(table[m]) for m in METRIC_NAMES}
    assert "StatusCode" not in table["ClientErrors"] and "StatusCode" in table["AzureOpenAIRequests"]
    # what the sandbox records per call of AzureOpenAIRequests is among what Azure offers
    from firestop.sandbox.monitor.traffic import RECORDED_DIMENSIONS

    assert set(RECORDED_DIMENSIONS) <= set(METRIC_DIMENSIONS)
    assert all(set(d) <= set(METRIC_DIMENSIONS[m]) for m, d in RECORDED_DIMENSIONS.items())


def test_rt6_01_the_sandbox_refuses_a_client_errors_alert_split_on_status_code():
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.monitor import MonitorManagementClient

    from firestop.sandbox import Tenant
    from tests.sandbox.test_sandbox_monitor import PROD, PROFILE

    tenant = Tenant.load()
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)

    def body(dimension: str) -> dict:
        return {"location": "global", "properties": {"severity": 3, "enabled": True, "scopes": [PROD], "evaluationFrequency": "PT5M",
                "windowSize": "PT5M", "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [
                    {"criterionType": "StaticThresholdCriterion", "name": "c1", "metricName": "ClientErrors",
                     "metricNamespace": "Microsoft.CognitiveServices/accounts", "operator": "GreaterThan", "threshold": 5,
                     "timeAggregation": "Total", "dimensions": [{"name": dimension, "operator": "Include", "values": ["401", "403"]}]}]},
                "autoMitigate": True, "actions": []}}

    with pytest.raises(HttpResponseError) as err:
        monitor.metric_alerts.create_or_update("rg-ai-prod", "client-errors-401", body("StatusCode"))
    assert err.value.status_code == 400 and "StatusCode" in err.value.message and "RatelimitKey" in err.value.message
    made = monitor.metric_alerts.create_or_update("rg-ai-prod", "client-errors-by-op", body("OperationName"))
    assert made.criteria.all_of[0].dimensions[0].name == "OperationName"
