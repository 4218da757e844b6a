"""Upgrade from the single 401+429 platform-metric rule (before metric16): a deployed old ``aoai-anomalous-usage-requests``
is no longer the playbook's detection (RT17-01: its StatusCode dimension and its firestop-* properties differ), so
its alerts wait for a responder (fail safe) and the audit lists it as not acting; ``firestop infra`` deploys the 401
rule under the same name, so deploying again overwrites it in place, and both new rules are recognised.

Rules are written into the sandbox tenant through azure-mgmt-monitor and read back through the source check's client."""

from __future__ import annotations

import copy

from azure.mgmt.monitor import MonitorManagementClient

from firestop.azure.alerts_management import AlertsManagementClient
from firestop.infra.rule_trust import trusted_detection
from firestop.playbooks import load_playbooks
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.playbooks.test_detect_rules import PROFILE
from tests.redteam18.test_rt18_audit_decoy_rule import WORKSPACE_GUID, _control

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
OLD = "aoai-anomalous-usage-requests-contoso-openai-prod"
THROTTLED = "aoai-anomalous-usage-metric-throttled-contoso-openai-prod"


def _rule_id(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Insights/metricAlerts/{name}"


def _why(tenant, client, rule) -> str | None:
    (playbook,) = [p for p in load_playbooks(REPO_ROOT / "playbooks") if p.name == "anomalous-usage"]
    return trusted_detection(rule, playbook, target=PROD.lower(), read_workspace=client.get_workspace,
                             workspace_guid=WORKSPACE_GUID, automation_principal_id=tenant.credential.principal_id,
                             read_rule=client.get_rule)


def _put_old_rule(tenant) -> None:
    """The rule as ``firestop infra`` deployed it before metric16: StatusCode 401 and 429, no firestop-metric-signal."""
    monitor = MonitorManagementClient(tenant.credential, SUB, transport=tenant.transport, profile=PROFILE)
    rule = monitor.metric_alerts.get("rg-ai-prod", OLD)
    body = copy.deepcopy(rule)
    body.criteria.all_of[0].dimensions[0].values = ["401", "429"]
    for action in body.actions:
        action.web_hook_properties.pop("firestop-metric-signal")
    monitor.metric_alerts.create_or_update("rg-ai-prod", OLD, body)


def test_both_new_rules_are_trusted_and_an_old_401_429_rule_is_not_until_infra_runs_again(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    client = AlertsManagementClient(tenant.credential, transport=tenant.transport)
    new = client.get_rule(_rule_id(OLD))
    (criterion,) = new["properties"]["criteria"]["allOf"]
    assert criterion["dimensions"][0]["values"] == ["401"]
    assert _why(tenant, client, new) is None
    assert _why(tenant, client, client.get_rule(_rule_id(THROTTLED))) is None

    _put_old_rule(tenant)
    why = _why(tenant, client, client.get_rule(_rule_id(OLD)))
    assert why is not None and "allOf[0].dimensions differs" in why, why
    audit = _control(tenant)
    inert = next(e.value for e in audit.evidence if e.read.startswith("alert rules routed but not acting"))
    assert f"{OLD} (anomalous-usage)" in inert, inert

    deploy_detection(tenant, REPO_ROOT / "playbooks")  # firestop infra again: the same name, overwritten in place
    assert _why(tenant, client, client.get_rule(_rule_id(OLD))) is None
    audit = _control(tenant)
    routed = next(e.value for e in audit.evidence if e.read.startswith("alert rules with custom property"))
    assert {OLD, THROTTLED} <= set(routed["anomalous-usage"]), routed
