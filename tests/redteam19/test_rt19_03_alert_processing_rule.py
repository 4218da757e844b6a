"""RT19-03 (attacker b: Monitoring Contributor, which holds ``Microsoft.AlertsManagement/actionRules/*``): an *alert
processing rule* that removes all action groups (``RemoveAllActionGroups``, Alert Processing Rules REST 2021-08-08,
``Microsoft.AlertsManagement/actionRules``) on the production account, its resource group or the subscription
silences every detection there. The rules, their thresholds, their action groups and Firestop's webhook receiver
stay exactly as deployed: the alerts still fire into Alerts Management, but no notification reaches ``/api/alerts``
— nothing is contained, nobody is paged. The audit's ``monitoring.alert-rules`` (high; RT18-03/05 made it check that
each detection is the one deployed and notifies Firestop) never reads alert processing rules and passes.

Expected: the control reads the subscription's alert processing rules (``actionRules.list``) and fails when an
enabled one removes action groups for a scope covering a protected account's detection. The sandbox has no
``Microsoft.AlertsManagement/actionRules`` yet (the PUT below is answered 404): the fix needs it too.
"""

from __future__ import annotations

import pytest

from azure.mgmt.resource import ResourceManagementClient

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.redteam18.test_rt18_audit_decoy_rule import _control

APR_API = "2021-08-08"


@pytest.mark.sandbox_unrouted  # (until the sandbox models actionRules: drop it with the fix)
@pytest.mark.xfail(strict=True, reason="RT19-03: an alert processing rule removing all action groups silences every "
                                       "detection and monitoring.alert-rules still passes (not read; not in the sandbox)")
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
