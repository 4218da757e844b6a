"""Red team 18 (noticed): the action group's webhook URL carries the function key and any Azure Reader can read it
(``Microsoft.Insights/actionGroups/read``), so a Reader can post alerts as Azure Monitor. The audit now says so (low)
while the action group posts with the key alone, and passes once it uses the secure webhook (``useAadAuth``)."""

from __future__ import annotations

from azure.mgmt.monitor import MonitorManagementClient

from firestop.audit.registry import all_controls
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.playbooks.test_detect_rules import PROFILE


def _result(tenant):
    from tests.redteam18.test_rt18_audit_decoy_rule import _control  # noqa: F401 — same set-up, another control
    from firestop.audit import AuditContext, run_audit
    from firestop.azure.clients import ClientFactory
    from firestop.playbooks import load_playbooks
    from firestop.sandbox.probe import unserved
    from firestop.settings import Settings

    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    settings = Settings.from_env(home=".")
    chosen = [c for c in all_controls() if c.id == "monitoring.webhook-aad"]
    assert chosen, "no monitoring.webhook-aad control"
    audit = run_audit(AuditContext(clients=clients, settings=settings, subscription=tenant.subscription_id, unserved=unserved,
                                   playbooks=tuple(load_playbooks(REPO_ROOT / "playbooks"))), controls=chosen)
    (result,) = audit.results
    return result


def test_an_action_group_posting_with_the_key_alone_is_a_low_finding(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")  # Firestop's action group, webhook with ?code=, no useAadAuth
    result = _result(tenant)
    assert result.status.value == "fail", result.detail
    assert "function key alone" in result.detail
    control = next(c for c in all_controls() if c.id == "monitoring.webhook-aad")
    assert control.severity.value == "low"


def test_the_secure_webhook_passes(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    for group in monitor.action_groups.list_by_subscription_id():
        for receiver in group.webhook_receivers or []:
            if receiver.service_uri and "/api/alerts" in receiver.service_uri:
                receiver.use_aad_auth = True
                receiver.object_id = "00000000-0000-0000-0000-0000000000aa"
                receiver.identifier_uri = "api://firestop"
                receiver.tenant_id = "00000000-0000-0000-0000-0000000000bb"
        monitor.action_groups.create_or_update(group.id.split("/")[4], group.name, group)
    result = _result(tenant)
    assert result.status.value == "pass", result.detail
    assert "Microsoft Entra token" in result.detail
