"""The checklist audit run as the roles the template deploys for Firestop's identity (``infra/azuredeploy.json`` with
``python -m firestop infra``'s parameters, read back from the sandbox), not as Owner, reads everything its controls need.

Before: no deployed role held ``Microsoft.Insights/actionGroups/read`` (RT18-05's action-group read) nor the audit's
other reads (diagnostic settings, pricings, vaults, private endpoint connections, …), and the containment role is
assigned at the protected resources only while the audit lists alert rules, pricings and policy states
subscription-wide: on Azure the timer's audit could not judge those controls. Now a read-only audit role
(``python -m firestop permissions --audit``, the template's ``auditRoleActions``) is assigned at the subscription."""

from __future__ import annotations

from firestop.audit import AuditContext, run_audit
from firestop.azure.clients import ClientFactory
from firestop.playbooks import load_playbooks
from firestop.sandbox import Tenant
from firestop.sandbox.probe import unserved
from firestop.settings import REPO_ROOT, Settings
from firestop.tabletop.detection import deploy_detection
from firestop.infra.grants import enforced_roles, held
from runbooks.permissions import AUDIT_ACTIONS
from tests.infra.conftest import factory
from tests.defender18.relay import relay_raised_alerts
from tests.infra.test_infra_deploy import deploy

WORKSPACE_GUID = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"  # law-contoso-sec's customerId


def _audit(tenant: Tenant):
    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    settings = Settings.from_env(key_vault_url="https://kv-contoso-ai.vault.azure.net",  # (FIRESTOP_HOME: receipts)
                                 log_workspace_id=WORKSPACE_GUID, automation_principal_id=tenant.credential.principal_id)
    return run_audit(AuditContext(clients=clients, settings=settings, subscription=tenant.subscription_id, unserved=unserved,
                                  playbooks=tuple(load_playbooks(REPO_ROOT / "playbooks"))))


def test_the_audit_as_the_deployed_roles_reads_what_it_needs(firestop_home, monkeypatch):
    from tests.audit16.test_alert_rules_defender_fed import RELAY

    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)  # (trust17: the Defender-only playbooks' route is read too)
    tenant = Tenant.load()
    outputs = deploy(tenant).properties.outputs  # the template, as the deployment tests deploy it
    roles = enforced_roles(held(factory(tenant), tenant.subscription_id, outputs["identityPrincipalId"]["value"]))
    audit_role = [r for r in roles if "Microsoft.Insights/actionGroups/read" in r["Actions"]]
    assert [r["AssignableScopes"] for r in audit_role] == [[f"/subscriptions/{tenant.subscription_id}"]], roles
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    relay_raised_alerts(tenant)  # defender18: the relay delivered Defender's alerts (the route proven end to end)
    as_owner = {(r.control, r.resource): (r.status.value, r.detail) for r in _audit(tenant).results}
    tenant.enforce_role(roles)
    try:
        as_role = {(r.control, r.resource): (r.status.value, r.detail) for r in _audit(tenant).results}
    finally:
        tenant.enforce_role(None)
    refused = {k: v for k, v in as_role.items() if "403" in v[1] or "AuthorizationFailed" in v[1]}
    assert refused == {}, refused
    assert as_role == as_owner
    alert_rules = next(v for k, v in as_role.items() if k[0] == "monitoring.alert-rules")
    assert alert_rules[0] == "pass", alert_rules


def test_every_read_an_audit_control_declares_is_in_the_role():
    """Each control's ``reads`` maps (the sandbox's operation -> action table, Microsoft's operations list) to an action
    in :data:`AUDIT_ACTIONS`: a new read without its permission fails here."""
    from firestop.audit.registry import all_controls
    from firestop.sandbox.authorization.rbac import OPERATION_ACTIONS

    held = {a.lower() for a in AUDIT_ACTIONS}
    aliases = {"vaults.list": "vaults.listBySubscription"}
    missing = {}
    for c in all_controls():
        for read in c.reads:
            action, _ = OPERATION_ACTIONS[aliases.get(read, read)]
            if action.lower() not in held:
                missing[read] = action
    assert missing == {}



def test_permissions_audit_prints_the_audit_role(firestop_home):
    import json

    from typer.testing import CliRunner

    from firestop.cli.main import app

    result = CliRunner().invoke(app, ["permissions", "--scope", "/subscriptions/11111111-2222-3333-4444-555555555555", "--audit"])
    assert result.exit_code == 0, result.output
    role = json.loads(result.stdout)
    assert "Microsoft.Insights/actionGroups/read" in role["Actions"] and "Microsoft.Security/pricings/read" in role["Actions"]
    assert role["DataActions"] == ["Microsoft.KeyVault/vaults/secrets/readMetadata/action"]
    assert role["AssignableScopes"] == ["/subscriptions/11111111-2222-3333-4444-555555555555"]
