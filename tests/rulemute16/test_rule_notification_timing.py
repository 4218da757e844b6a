"""rulemute16 (attacker: Monitoring Contributor): a deployed detection left firing exactly as before, but muted or
made to resolve otherwise, was still "the playbook's detection as deployed" for the trust check (RT17-01) and for the
audit's ``monitoring.alert-rules`` (RT18-03): rule_trust compared what decides *when a rule fires*, not whether and
when its firing reaches Firestop.

``muteActionsDuration: P1D`` on the leaked-key detection (scheduledQueryRule_API.json 2023-12-01: "Mute actions for
the chosen period of time … after the alert is fired") lets only a day's first alert reach Firestop; ``autoMitigate:
false`` ("whether the alert should be automatically resolved") keeps a fired alert from resolving. Both failed here
before rule_trust.notification was compared (each test below failed on rulemute16's base, 865f548). Rules are written
through azure-mgmt-monitor into the sandbox tenant and read back through the source check's own client.
"""

from __future__ import annotations

import copy

import pytest
from azure.mgmt.monitor import MonitorManagementClient

from firestop.azure.alerts_management import AlertsManagementClient
from firestop.infra.rule_trust import trusted_detection
from firestop.playbooks import load_playbooks
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from tests.playbooks.test_detect_rules import PROFILE
from tests.redteam18.test_rt18_audit_decoy_rule import WORKSPACE_GUID, _control

PROD_RG = "rg-ai-prod"
LEAKED = "aoai-leaked-key-usage-contoso-openai-prod"


@pytest.fixture
def deployed(firestop_home):
    from firestop.tabletop.detection import deploy_detection

    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    client = AlertsManagementClient(tenant.credential, transport=tenant.transport)
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    playbooks = {p.name: p for p in load_playbooks(REPO_ROOT / "playbooks")}
    return tenant, client, monitor, playbooks


def _prod(tenant) -> str:
    return (f"/subscriptions/{tenant.subscription_id}/resourcegroups/{PROD_RG}/providers/"
            "microsoft.cognitiveservices/accounts/contoso-openai-prod")


def _why(tenant, client, playbooks, rule, playbook="leaked-api-key"):
    return trusted_detection(rule, playbooks[playbook], target=_prod(tenant), read_workspace=client.get_workspace,
                             workspace_guid=WORKSPACE_GUID, automation_principal_id=tenant.credential.principal_id,
                             read_rule=client.get_rule)


def _rule_id(tenant, kind: str, name: str) -> str:
    return f"/subscriptions/{tenant.subscription_id}/resourceGroups/{PROD_RG}/providers/Microsoft.Insights/{kind}/{name}"


def test_a_muted_leaked_key_detection_is_not_trusted(deployed):
    tenant, client, monitor, playbooks = deployed
    rule_id = _rule_id(tenant, "scheduledQueryRules", LEAKED)
    assert _why(tenant, client, playbooks, client.get_rule(rule_id)) is None  # infra's own rule, as deployed
    rule = monitor.scheduled_query_rules.get(PROD_RG, LEAKED)
    rule.mute_actions_duration = "P1D"  # the criteria, route and firestop-* properties untouched
    monitor.scheduled_query_rules.create_or_update(PROD_RG, LEAKED, rule)
    muted = client.get_rule(rule_id)
    assert muted["properties"]["muteActionsDuration"] == "P1D"
    why = _why(tenant, client, playbooks, muted)
    assert why is not None and "muteActionsDuration differs" in why, why


def test_a_detection_made_stateless_is_not_trusted(deployed):
    tenant, client, monitor, playbooks = deployed
    rule = monitor.scheduled_query_rules.get(PROD_RG, LEAKED)
    rule.auto_mitigate = False
    monitor.scheduled_query_rules.create_or_update(PROD_RG, LEAKED, rule)
    why = _why(tenant, client, playbooks, client.get_rule(_rule_id(tenant, "scheduledQueryRules", LEAKED)))
    assert why is not None and "autoMitigate" in why, why


@pytest.mark.parametrize("change, named", [
    ({"kind": "LogToMetric"}, "resource kind"),
    ({"properties": {"ruleResolveConfiguration": {"autoResolved": False}}}, "ruleResolveConfiguration.autoResolved"),
    ({"properties": {"ruleResolveConfiguration": {"autoResolved": True, "timeToResolve": "P2D"}}},
     "ruleResolveConfiguration.timeToResolve"),
    ({"properties": {"muteActionsDuration": "PT5M"}}, "muteActionsDuration"),
    ({"properties": {"autoMitigate": "false"}}, "autoMitigate"),  # (not the spec's type: equals no deployed value)
])
def test_each_notification_property_is_compared(deployed, change, named):
    """Properties the 2022-08-01-preview SDK model cannot write (``ruleResolveConfiguration``) judged on the rule as
    read back, edited: rule_trust is pure on the ARM JSON."""
    tenant, client, _, playbooks = deployed
    rule = client.get_rule(_rule_id(tenant, "scheduledQueryRules", LEAKED))
    edited = copy.deepcopy(rule)
    edited.update({k: v for k, v in change.items() if k != "properties"})
    edited["properties"].update(change.get("properties", {}))
    why = _why(tenant, client, playbooks, edited)
    assert why is not None and named in why, why


@pytest.mark.parametrize("change", [
    {"properties": {"muteActionsDuration": "PT0M"}},  # zero: no muting, as infra's absent value
    {"properties": {"ruleResolveConfiguration": {"autoResolved": True}}},  # the deployed autoMitigate, spelled out
    {"properties": {"ruleResolveConfiguration": None}},
    {"kind": "LogAlert"},
    {"properties": {"checkWorkspaceAlertsStorageConfigured": True, "skipQueryValidation": True}},  # left out: write-time
])
def test_equivalent_or_write_time_properties_keep_the_detection_trusted(deployed, change):
    tenant, client, _, playbooks = deployed
    rule = client.get_rule(_rule_id(tenant, "scheduledQueryRules", LEAKED))
    rule.pop("kind", None)  # absent: LogAlert (the spec's default)
    assert _why(tenant, client, playbooks, rule) is None
    rule.update({k: v for k, v in change.items() if k != "properties"})
    rule["properties"].update(change.get("properties", {}))
    assert _why(tenant, client, playbooks, rule) is None


def test_a_metric_detection_that_never_resolves_is_not_trusted(deployed):
    tenant, client, monitor, playbooks = deployed
    found = [(r, p) for r in monitor.metric_alerts.list_by_subscription()
             for p in [str((r.actions[0].web_hook_properties or {}).get("firestop-playbook") or "")]
             if r.id.split("/")[4] == PROD_RG and p]
    assert found
    rule, playbook = found[0]
    rule_id = rule.id
    assert _why(tenant, client, playbooks, client.get_rule(rule_id), playbook) is None
    assert client.get_rule(rule_id)["properties"]["autoMitigate"] is True
    rule.auto_mitigate = False
    monitor.metric_alerts.create_or_update(PROD_RG, rule.name, rule)
    why = _why(tenant, client, playbooks, client.get_rule(rule_id), playbook)
    assert why is not None and "autoMitigate differs" in why, why


def test_a_muted_detection_fails_the_alert_rules_control(deployed):
    tenant, _, monitor, _ = deployed
    before = _control(tenant)
    assert "leaked-api-key" not in before.detail, before.detail  # infra's own rules pass
    rule = monitor.scheduled_query_rules.get(PROD_RG, LEAKED)
    rule.mute_actions_duration = "P1D"
    monitor.scheduled_query_rules.create_or_update(PROD_RG, LEAKED, rule)
    result = _control(tenant)
    assert result.status.value == "fail", (result.status, result.detail)
    assert "leaked-api-key on contoso-openai-prod" in result.detail, result.detail

