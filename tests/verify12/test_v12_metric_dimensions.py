"""verify12 item 1, metric alerts: a metric alert's dimension a step acts on is read from the metric at its source.

Attacker: the webhook-key holder of item 1, re-posting a genuine metric alert split by ``ModelDeploymentName`` (routed
to ``ai-denial-of-wallet``, whose ``throttle-deployment`` halves the capacity of the deployment the alert names) with
another deployment: on 04bd7c9 it was confirmed (Alerts Management keeps no dimension values). Now the metric is read
for the window that fired with ``$filter`` ``ModelDeploymentName eq '<value>'`` (``Metrics_List`` 2021-05-01) and must
have data there; a value that could bend the filter is never sent.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, post_delivery

SUB = "11111111-2222-3333-4444-555555555555"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
RULE = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Insights/metricAlerts/aoai-deployment-requests"
APP = "3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def metric_payload(env, deployment: str, alert_guid: str, rule: str = "aoai-deployment-requests",
                   aggregation: str = "Total", description: str = "requests per deployment") -> dict:
    """A Common Alert Schema metric alert of ``rule`` (in rg-ai-prod) on contoso-openai-prod: ``AzureOpenAIRequests``
    split by ``ModelDeploymentName`` = ``deployment``, ``aggregation`` over PT15M GreaterThan 3, fired now."""
    fired = env.tenant.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rule_id = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Insights/metricAlerts/{rule}"
    return {"schemaId": "azureMonitorCommonAlertSchema", "data": {
        "essentials": {"alertId": f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/{alert_guid}",
                       "alertRule": rule, "alertRuleID": rule_id, "severity": "Sev2",
                       "signalType": "Metric", "monitorCondition": "Fired", "monitoringService": "Platform",
                       "alertTargetIDs": [ACCOUNT.lower()], "configurationItems": ["contoso-openai-prod"],
                       "originAlertId": alert_guid, "firedDateTime": fired, "description": description,
                       "essentialsVersion": "1.0", "alertContextVersion": "1.0"},
        "alertContext": {"properties": None, "conditionType": "SingleResourceMultipleMetricCriteria", "condition": {
            "windowSize": "PT15M", "allOf": [{
                "metricName": "AzureOpenAIRequests", "metricNamespace": "Microsoft.CognitiveServices/accounts",
                "operator": "GreaterThan", "threshold": "3", "timeAggregation": aggregation,
                "dimensions": [{"name": "ModelDeploymentName", "value": deployment}], "metricValue": 6.0}]}},
        "customProperties": {"firestop-playbook": "ai-denial-of-wallet"}}}


_payload = metric_payload


def _genuine(env) -> dict:
    from firestop.alerts import parse_alert
    from firestop.sandbox.alertsmanagement.models import payload_of

    for _ in range(6):  # the burst the rule saw, on gpt-4o
        env.tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.9", principal=APP, deployment="gpt-4o")
    body = _payload(env, "gpt-4o", str(uuid.uuid4()))
    assert env.tenant.fire_alert(payload_of(parse_alert(json.dumps(body))))  # Azure Monitor fired it (and holds its rule)
    return body


def _checks(env, server, app, body: dict) -> list:
    return confirm_checks(env, post_delivery(env, server, app, body)["id"])


def test_the_real_metric_alert_naming_another_deployment_is_not_confirmed(served):  # noqa: F811
    env, server, app = served
    body = _genuine(env)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][0]["value"] = "text-embedding-3-large"
    checks = _checks(env, server, app, body)
    assert checks and checks[0][0] == "not confirmed", checks
    assert "has no data for the delivered dimensions" in checks[0][1], checks


def test_the_genuine_metric_alert_is_confirmed(served):  # noqa: F811
    env, server, app = served
    checks = _checks(env, server, app, _genuine(env))
    assert [c[0] for c in checks] == ["ok"], checks
    assert [r.operation for r in env.tenant.requests if r.operation == "metrics.list"], "the metric was not read"


def test_a_value_that_would_bend_the_filter_is_not_confirmed_and_never_sent(served):  # noqa: F811
    env, server, app = served
    body = _genuine(env)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][0]["value"] = "gpt-4o' or ModelDeploymentName eq 'x"
    sent = len(env.tenant.requests)
    checks = _checks(env, server, app, body)
    assert checks and checks[0][0] == "not confirmed" and "not sent" in checks[0][1], checks
    assert "metrics.list" not in [r.operation for r in env.tenant.requests[sent:]]
