"""RT20-05 (attacker b: Monitoring Contributor): an alert processing rule whose condition names the production resource
group **as Azure names it** — ``TargetResourceGroup`` ``Equals`` ``/subscriptions/<sub>/resourceGroups/rg-ai-prod`` —
silenced every detection there while ``monitoring.alert-rules`` passed (RT19-03's check bypassed).

A ``TargetResourceGroup`` condition's values are resource group **ids** (Alert Processing Rules REST 2021-08-08,
``AlertProcessingRules.json`` examples: ``"field": "TargetResourceGroup", "values": ["<id>"]``; the azurerm provider's
``target_resource_group``: "The values should be valid resource group IDs"). Both the audit
(:func:`firestop.azure.alert_processing._fields`) and the sandbox (``firestop/sandbox/alertsmanagement/processing``)
compared them with the bare resource group *name* (``rg-ai-prod``): the sandbox did not silence the alert Azure silences,
and the audit judged the rule as covering nothing. Both tests failed before the fix (the sandbox posted the webhook; the
control passed)."""

from __future__ import annotations

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.redteam18.test_rt18_audit_decoy_rule import _control
from tests.redteam19.test_rt19_03_alert_processing_rule import _with_rule
from tests.sandbox.test_sandbox_alert_evaluation import PROD, SUB, _attack, _tenant, _until
from tests.sandbox.test_sandbox_alert_processing_rules import RULE, _clients, _put

RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod"
BY_GROUP_ID = {"actions": [{"actionType": "RemoveAllActionGroups"}],
               "conditions": [{"field": "TargetResourceGroup", "operator": "Equals", "values": [RG_ID]}]}


def test_the_sandbox_silences_an_alert_whose_resource_group_id_a_rule_names():
    tenant, _ = _tenant("leaked-api-key")
    _put(tenant, {"scopes": [f"/subscriptions/{SUB}"], **BY_GROUP_ID})
    fired = [n for _, _, n in _attack(tenant, minutes=2, per_minute=40, key=tenant.account_keys(PROD)["key1"])] + _until(tenant, 240)
    first = next(n for n in fired if n.condition == "Fired")
    held = _clients(tenant).alerts_management().get_alert(first.payload["data"]["essentials"]["alertId"])
    assert held["properties"]["essentials"]["actionStatus"] == {"isSuppressed": True}
    assert first.webhooks == [] and first.explain["suppressed_by"] == [RULE], first.explain


def test_a_rule_naming_the_resource_group_id_fails_the_alert_rules_control(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    result = _with_rule(tenant, {"scopes": [f"/subscriptions/{tenant.subscription_id}"], **BY_GROUP_ID})
    assert result.status.value == "fail", (result.status, result.detail)
    assert "quiet-hours (always;" in result.detail and "aoai-leaked-key-usage" in result.detail, result.detail


def test_a_rule_naming_another_resource_group_id_leaves_the_control_as_it_was(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    other = {**BY_GROUP_ID, "conditions": [{"field": "TargetResourceGroup", "operator": "Equals",
                                             "values": [f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-elsewhere"]}]}
    result = _with_rule(tenant, {"scopes": [f"/subscriptions/{tenant.subscription_id}"], **other})
    assert "quiet-hours" not in result.detail, result.detail


import pytest  # noqa: E402

DETECTION = {"id": f"{RG_ID}/providers/Microsoft.Insights/scheduledQueryRules/aoai-leaked-key-usage",
             "name": "aoai-leaked-key-usage", "type": "Microsoft.Insights/scheduledQueryRules",
             "properties": {"scopes": [PROD], "severity": 1}}


@pytest.mark.parametrize("operator, values, covers", [
    ("Equals", [RG_ID], True),
    ("Equals", [RG_ID.upper()], True),  # ids compare case-insensitively
    ("Equals", ["rg-ai-prod"], True),  # a name where Azure wants an id: counted as covering (fail safe)
    ("Contains", ["rg-ai-prod"], True),
    ("Equals", [f"/subscriptions/{SUB}/resourceGroups/rg-elsewhere"], False),
    ("NotEquals", [RG_ID], False),  # "every group but production": production is not silenced
    ("NotEquals", [f"/subscriptions/{SUB}/resourceGroups/rg-elsewhere"], True),
    ("DoesNotContain", ["rg-ai-prod"], False),
], ids=["id", "id-other-case", "bare-name", "contains-name", "other-id", "not-equals-prod", "not-equals-other",
        "does-not-contain-prod"])
def test_the_audit_judges_a_resource_group_condition_on_its_id(operator, values, covers):
    from firestop.azure.alert_processing import covers as judged

    rule = {"properties": {"scopes": [f"/subscriptions/{SUB}"], "actions": [{"actionType": "RemoveAllActionGroups"}],
                           "conditions": [{"field": "TargetResourceGroup", "operator": operator, "values": values}]}}
    assert judged(rule, DETECTION, [PROD.lower()]) is covers
