"""The aftermath rule (firestop/intake/aftermath.py) suppresses alerts that are not the containment working.

RT4-03: only the incident's *overlap* with the alert's targets is checked: a failed-requests alert naming the
contained account A **and** another account B (a multi-resource log/metric rule) is "aftermath" of A's incident
and opens nothing — B, which nothing contained, is never looked at (the same attacker's IPs hammering B's keys
are not "the containment working", A's containment refuses nothing on B).

RT4-04: a ``ClientErrors`` metric condition is treated as "refused requests" whatever its dimensions: one that
is explicitly split/filtered on ``StatusCode`` 429 (throttling: quota abuse with a still-valid credential) or 400
(content-filter refusals: a jailbreak being answered, which the module itself says must open its incident) is
suppressed for the whole correlation window after any containment on that account.
"""

from __future__ import annotations

import pytest

from firestop.intake.aftermath import aftermath_of
from tests.intake.conftest import ACCOUNT, OTHER

RECORD = {"incident_id": "inc-1", "status": "contained", "contained_at": "2026-11-29T03:10:00+00:00",
          "alert": {"target_ids": [ACCOUNT], "indicators": {"caller_ips": ["203.0.113.77"]}}}


def _client_errors(targets, dimensions=()):
    from firestop.alerts import parse_alert

    return parse_alert({"schemaId": "azureMonitorCommonAlertSchema", "data": {
        "essentials": {"alertId": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/rt4",
                       "alertRule": "aoai-client-errors", "severity": "Sev3", "signalType": "Metric",
                       "monitorCondition": "Fired", "monitoringService": "Platform", "alertTargetIDs": list(targets),
                       "firedDateTime": "2026-11-29T03:18:00Z"},
        "alertContext": {"conditionType": "SingleResourceMultipleMetricCriteria", "condition": {"allOf": [
            {"metricName": "ClientErrors", "metricNamespace": "Microsoft.CognitiveServices/accounts", "operator": "GreaterThan",
             "timeAggregation": "Total", "dimensions": list(dimensions), "metricValue": 220}]}}}})


def _refusals(targets):
    """A 401/403 log alert (the shipped rule's property) naming the contained caller."""
    from firestop.alerts import parse_alert

    return parse_alert({"schemaId": "azureMonitorCommonAlertSchema", "data": {
        "essentials": {"alertId": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/rt4-log",
                       "alertRule": "aoai-anomalous-usage", "severity": "Sev2", "signalType": "Log",
                       "monitorCondition": "Fired", "monitoringService": "Log Alerts V2", "alertTargetIDs": list(targets),
                       "firedDateTime": "2026-11-29T03:18:00Z"},
        "alertContext": {"condition": {"allOf": [{"dimensions": [{"name": "CallerIPAddress", "value": "203.0.113.77"}]}]}},
        "customProperties": {"firestop-signal": "failed-requests"}}})


def test_control_a_refusals_log_alert_on_the_contained_account_is_aftermath():
    assert aftermath_of(_refusals([ACCOUNT]), RECORD, window_seconds=3600)


def test_rt6_01_a_plain_client_errors_alert_is_no_longer_aftermath():
    """ClientErrors counts every 4xx (no StatusCode dimension): since RT6-01 no metric alert is aftermath."""
    assert aftermath_of(_client_errors([ACCOUNT]), RECORD, window_seconds=3600) is None


def test_rt4_03_an_alert_also_naming_an_uncontained_account_is_not_aftermath():
    assert aftermath_of(_refusals([ACCOUNT, OTHER]), RECORD, window_seconds=3600) is None


@pytest.mark.parametrize("status", ["429", "400"])
def test_rt4_04_client_errors_split_on_a_status_the_containment_does_not_cause_is_not_aftermath(status):
    alert = _client_errors([ACCOUNT], [{"name": "StatusCode", "value": status}])
    assert aftermath_of(alert, RECORD, window_seconds=3600) is None
