"""A17-03 (attacker E, Monitoring Contributor; high): an alert processing rule on ``Severity Equals Sev4`` silences the
activity log detection (``aoai-public-network-change``: the account opened to public networks) and
``monitoring.alert-rules`` does not name it.

An activity log alert rule has no ``severity`` (``activityLogAlerts_API.json`` 2020-10-01; Firestop's body has none):
its alerts fire as **Sev4** (Microsoft's test-action payloads for activity log, service health and resource health
alerts: ``tests/alerts/data/test-actions/*.json`` ``"severity": "Sev4"``; the sandbox fires them so too,
``firestop/sandbox/monitor/payloads.py``). RT19-03's check (:func:`firestop.azure.alert_processing.covers`) judged a
``Severity`` condition against ``""`` for such a rule — no severity, so ``Equals Sev4`` "does not hold" and the rule is
not counted as covering: the audit passes the detection the processing rule silences. Fix: an activity log rule's
alerts are judged as Sev4; a detection whose severity is not known makes a ``Severity`` condition hold (fail safe, as
for fields not judged).
"""

from __future__ import annotations

from datetime import datetime, timezone

from azure.mgmt.monitor import MonitorManagementClient

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.audit16.test_alert_rules_defender_fed import RELAY
from tests.defender18.relay import relay_raised_alerts
from tests.playbooks.test_detect_rules import PROFILE
from tests.redteam19.test_rt19_03_alert_processing_rule import _with_rule

DETECTION = "aoai-public-network-change"


def test_a_sev4_processing_rule_silencing_the_activity_log_detection_fails_the_control(firestop_home, monkeypatch):
    from firestop.sandbox.alertsmanagement.processing import suppressing
    from tests.redteam18.test_rt18_audit_decoy_rule import _control

    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    relay_raised_alerts(tenant)  # (defender18: the relay delivered Defender's alerts: its route proven)
    assert _control(tenant).status.value == "pass"  # the deployment as it is feeds every playbook
    result = _with_rule(tenant, {"scopes": [f"/subscriptions/{tenant.subscription_id}"],
                                 "conditions": [{"field": "Severity", "operator": "Equals", "values": ["Sev4"]}],
                                 "actions": [{"actionType": "RemoveAllActionGroups"}]})
    # the sandbox's own firing path silences the activity log detection's alert (Sev4, as Azure fires it)
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    rule = next(r for r in monitor.activity_log_alerts.list_by_subscription_id() if r.name == DETECTION)
    payload = {"data": {"essentials": {"alertRuleID": rule.id, "alertRule": rule.name, "severity": "Sev4",
                                       "alertTargetIDs": [f"/subscriptions/{tenant.subscription_id}"]}}}
    with tenant._exclusive() as state:  # noqa: SLF001 - what the firing path reads
        assert suppressing(state, payload, datetime.now(timezone.utc)), "the sandbox does not silence it"
    assert result.status.value == "fail", (result.status, result.detail)
    assert "quiet-hours" in result.detail and DETECTION in result.detail, result.detail


def test_a_sev0_processing_rule_does_not_name_the_activity_log_detection(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    result = _with_rule(tenant, {"scopes": [f"/subscriptions/{tenant.subscription_id}"],
                                 "conditions": [{"field": "Severity", "operator": "Equals", "values": ["Sev0"]}],
                                 "actions": [{"actionType": "RemoveAllActionGroups"}]})
    assert DETECTION not in result.detail, result.detail
