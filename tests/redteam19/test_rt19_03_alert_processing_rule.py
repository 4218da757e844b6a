"""RT19-03 (attacker b: Monitoring Contributor, which holds ``Microsoft.AlertsManagement/actionRules/*``): an *alert
processing rule* that removes all action groups (``RemoveAllActionGroups``, Alert Processing Rules REST 2021-08-08,
``Microsoft.AlertsManagement/actionRules``) on the production account, its resource group or the subscription
silences every detection there. The rules, their thresholds, their action groups and Firestop's webhook receiver
stay exactly as deployed: the alerts still fire into Alerts Management, but no notification reaches ``/api/alerts``
— nothing is contained, nobody is paged. The audit's ``monitoring.alert-rules`` (high; RT18-03/05 made it check that
each detection is the one deployed and notifies Firestop) never reads alert processing rules and passes.

Expected: the control reads the subscription's alert processing rules (``actionRules.list``) and fails when an
enabled one removes action groups for a scope covering a protected account's detection. (Before the fix the sandbox
had no ``Microsoft.AlertsManagement/actionRules`` either: the PUT was answered 501; it models them now, and its firing
path leaves a covered alert without webhooks: tests/sandbox/test_sandbox_alert_processing_rules.py.)
"""

from __future__ import annotations

import pytest
from azure.mgmt.resource import ResourceManagementClient

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.redteam18.test_rt18_audit_decoy_rule import _control

APR_API = "2021-08-08"


def test_rt19_03_a_processing_rule_silencing_the_detections_fails_the_alert_rules_control(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    before = _control(tenant)
    assert "leaked-api-key" not in before.detail, before.detail  # the detections as deployed feed the playbook
    arm = ResourceManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    rule_id = (f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod/providers/"
               "Microsoft.AlertsManagement/actionRules/maintenance-window")
    arm.resources.begin_create_or_update_by_id(rule_id, APR_API, {
        "location": "Global",
        "properties": {"scopes": [f"/subscriptions/{tenant.subscription_id}"], "enabled": True,
                       "description": "planned maintenance",
                       "actions": [{"actionType": "RemoveAllActionGroups"}]}}).result()
    result = _control(tenant)
    assert result.status.value == "fail", (result.status, result.detail)
    assert "maintenance-window" in result.detail, result.detail


def _with_rule(tenant, properties: dict):
    arm = ResourceManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    rule_id = (f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod/providers/"
               "Microsoft.AlertsManagement/actionRules/quiet-hours")
    arm.resources.begin_create_or_update_by_id(rule_id, APR_API, {"location": "Global", "properties": properties}).result()
    return _control(tenant)


@pytest.mark.parametrize("extra, fails", [
    ({"schedule": {"recurrences": [{"recurrenceType": "Daily", "startTime": "22:00:00", "endTime": "06:00:00"}]}}, "scheduled"),
    ({"conditions": [{"field": "AlertRuleName", "operator": "Contains", "values": ["leaked-key"]}]}, "always"),
    ({"conditions": [{"field": "AlertContext", "operator": "Contains", "values": ["anything"]}]}, "always"),  # not judged: covers
    ({"conditions": [{"field": "AlertRuleName", "operator": "Equals", "values": ["not-a-firestop-rule"]}]}, None),
    ({"enabled": False}, None),
    ({"actions": [{"actionType": "AddActionGroups", "actionGroupIds": ["/subscriptions/x/resourceGroups/y/providers/"
                                                                       "microsoft.insights/actionGroups/z"]}]}, None),
    ({"schedule": {"effectiveFrom": "2020-01-01T00:00:00", "effectiveUntil": "2020-02-01T00:00:00"}}, None),
], ids=["recurring-schedule", "rule-name", "unjudged-field", "other-rule", "disabled", "adds-groups", "expired"])
def test_rt19_03_which_processing_rules_fail_the_control(firestop_home, extra, fails):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    result = _with_rule(tenant, {"scopes": [f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod"],
                                 "actions": [{"actionType": "RemoveAllActionGroups"}], **extra})
    if fails:
        assert result.status.value == "fail", (result.status, result.detail)
        assert f"quiet-hours ({fails};" in result.detail and "aoai-leaked-key-usage" in result.detail, result.detail
    else:
        assert "quiet-hours" not in result.detail, result.detail


def test_rt19_03_a_processing_rule_on_another_resource_group_leaves_the_control_as_it_was(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    before = _control(tenant)
    after = _with_rule(tenant, {"scopes": [f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-unrelated"],
                                "actions": [{"actionType": "RemoveAllActionGroups"}]})
    assert (after.status, after.detail) == (before.status, before.detail)
