"""A17-04 (attacker E, Monitoring Contributor; high): an alert processing rule scoped to the account silences the
workspace-scoped detection that targets it (``resourceIdColumn``), and ``monitoring.alert-rules`` does not name it.

``aoai-anomalous-usage-apim`` reads the Log Analytics workspace and names the account in ``AccountId``, its
``resourceIdColumn``: each alert it fires *targets the account* (Log Alerts V2 ``Condition.resourceIdColumn``; the
sandbox fires it so, ``firestop/sandbox/monitor/evaluate.py``). RT19-03's :func:`firestop.azure.alert_processing.covers`
placed its alerts on the rule's scopes (the workspace), the accounts *under* them (none) and the rule id only — never
on the account. A processing rule ``RemoveAllActionGroups`` scoped to the production account with ``AlertRuleName
Equals aoai-anomalous-usage-apim`` (so it leaves every other detection alone) silences the storm detection through
API Management, and the control passes. Fix: a log rule with a ``resourceIdColumn`` may target any protected account:
each is one of its targets (fail safe).
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
from tests.redteam18.test_rt18_audit_decoy_rule import _control
from tests.redteam19.test_rt19_03_alert_processing_rule import _with_rule

DETECTION = "aoai-anomalous-usage-apim-contoso-openai-prod"


def test_a_processing_rule_on_the_account_silencing_the_workspace_detection_fails_the_control(firestop_home, monkeypatch):
    from firestop.sandbox.alertsmanagement.processing import suppressing

    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    relay_raised_alerts(tenant)  # (defender18: the relay delivered Defender's alerts: its route proven)
    assert _control(tenant).status.value == "pass"  # the deployment as it is feeds every playbook
    account = (f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod/providers/"
               "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
    result = _with_rule(tenant, {"scopes": [account],
                                 "conditions": [{"field": "AlertRuleName", "operator": "Equals", "values": [DETECTION]}],
                                 "actions": [{"actionType": "RemoveAllActionGroups"}]})
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    rule = next(r for r in monitor.scheduled_query_rules.list_by_subscription() if r.name == DETECTION)
    assert "workspaces/" in rule.scopes[0].lower()  # the rule reads the workspace; its alerts target the account
    payload = {"data": {"essentials": {"alertRuleID": rule.id, "alertRule": rule.name, "severity": "Sev2",
                                       "alertTargetIDs": [account.lower()]}}}
    with tenant._exclusive() as state:  # noqa: SLF001 - what the firing path reads
        assert suppressing(state, payload, datetime.now(timezone.utc)), "the sandbox does not silence it"
    assert result.status.value == "fail", (result.status, result.detail)
    assert "quiet-hours" in result.detail and DETECTION in result.detail, result.detail
