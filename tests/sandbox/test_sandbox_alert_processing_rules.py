"""The alertsmanagement room's alert processing rules (``Microsoft.AlertsManagement/actionRules``, REST 2021-08-08,
RT19-03): ARM CRUD through azure-mgmt-resource's generic client, and the firing path leaving an alert that an enabled
``RemoveAllActionGroups`` rule covers without its webhooks (held in Alerts Management, ``actionStatus.isSuppressed``)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource import ResourceManagementClient

from firestop.azure.clients import ClientFactory
from tests.sandbox.test_sandbox_alert_evaluation import PROD, SUB, _attack, _tenant, _until

API = "2021-08-08"
RULE = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.AlertsManagement/actionRules/quiet"


def _clients(tenant) -> ClientFactory:
    return ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)


def _arm(tenant) -> ResourceManagementClient:
    return ResourceManagementClient(tenant.credential, SUB, transport=tenant.transport)


def _put(tenant, properties: dict):
    return _arm(tenant).resources.begin_create_or_update_by_id(RULE, API, {"location": "Global", "properties": properties}).result()


def test_crud_answers_as_the_spec_lists_and_refuses_a_bad_action_naming_the_field():
    tenant, _ = _tenant("leaked-api-key")
    arm = _arm(tenant)
    created = _put(tenant, {"scopes": [f"/subscriptions/{SUB}"], "actions": [{"actionType": "RemoveAllActionGroups"}]})
    assert created.type == "Microsoft.AlertsManagement/actionRules" and created.properties["enabled"] is True
    got = arm.resources.get_by_id(RULE, API)
    assert got.properties["scopes"] == [f"/subscriptions/{SUB}"]
    listed, complete = _clients(tenant).alert_processing_rules().list_by_subscription(SUB)  # the audit's reader
    assert [r["name"] for r in listed] == ["quiet"] and complete
    with pytest.raises(HttpResponseError) as refused:
        _put(tenant, {"scopes": [f"/subscriptions/{SUB}"], "actions": [{"actionType": "MuteEverything"}]})
    assert refused.value.status_code == 400 and "properties.actions[0].actionType" in str(refused.value)
    arm.resources.begin_delete_by_id(RULE, API).result()
    with pytest.raises(ResourceNotFoundError):
        arm.resources.get_by_id(RULE, API)


@pytest.mark.parametrize("properties, silenced", [
    ({"scopes": [f"/subscriptions/{SUB}"], "actions": [{"actionType": "RemoveAllActionGroups"}]}, True),
    ({"scopes": [PROD.rsplit("/providers/", 1)[0]], "actions": [{"actionType": "RemoveAllActionGroups"}],
      "conditions": [{"field": "AlertRuleName", "operator": "Contains", "values": ["leaked"]}]}, True),
    ({"scopes": [f"/subscriptions/{SUB}"], "actions": [{"actionType": "RemoveAllActionGroups"}],
      "conditions": [{"field": "AlertRuleName", "operator": "Equals", "values": ["some-other-rule"]}]}, False),
    ({"scopes": [f"/subscriptions/{SUB}/resourceGroups/rg-elsewhere"], "actions": [{"actionType": "RemoveAllActionGroups"}]}, False),
    ({"scopes": [f"/subscriptions/{SUB}"], "actions": [{"actionType": "RemoveAllActionGroups"}], "enabled": False}, False),
    ({"scopes": [f"/subscriptions/{SUB}"], "actions": [{"actionType": "RemoveAllActionGroups"}],
      "schedule": {"effectiveUntil": "2026-11-01T00:00:00"}}, False),
], ids=["subscription", "resource-group-and-rule-name", "other-rule", "other-scope", "disabled", "expired"])
def test_a_covering_remove_all_action_groups_rule_keeps_the_alert_but_posts_no_webhook(properties, silenced):
    tenant, _ = _tenant("leaked-api-key")
    _put(tenant, properties)
    key1 = tenant.account_keys(PROD)["key1"]
    fired = [n for _, _, n in _attack(tenant, minutes=2, per_minute=40, key=key1)] + _until(tenant, 240)
    first = next(n for n in fired if n.condition == "Fired")
    held = _clients(tenant).alerts_management().get_alert(first.payload["data"]["essentials"]["alertId"])
    assert held["properties"]["essentials"]["actionStatus"] == {"isSuppressed": silenced}  # Azure Monitor holds it
    if silenced:
        assert first.webhooks == [] and first.explain["suppressed_by"] == [RULE], first.explain
    else:
        assert [w["serviceUri"] for w in first.webhooks] == ["https://func.example/api/alerts?code=secret"]
        assert "suppressed_by" not in first.explain
