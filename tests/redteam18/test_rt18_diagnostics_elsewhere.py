"""RT18-04 (attacker b: Monitoring Contributor, which holds ``Microsoft.Insights/diagnosticSettings/*``): the audit's
``monitoring.diagnostic-settings`` control (severity high) passed for an account whose logs go to *any* workspace.

The attacker points ``contoso-openai-prod``'s diagnostic setting at a workspace of their own (another subscription's;
a diagnostic setting may name any workspace its writer can reach). From then on the account's RequestResponse and
Audit rows land there: ``evidence.snapshot_logs`` reads ``FIRESTOP_LOG_WORKSPACE_ID`` and keeps nothing, a detection
whose rule cannot read the attacker's workspace sees nothing, and the attacker reads every caller IP and operation.
The control said "Audit, RequestResponse and Trace go to a Log Analytics workspace". With ``FIRESTOP_LOG_WORKSPACE_ID``
set (required on Azure), the categories must reach *that* workspace.
"""

from __future__ import annotations

from firestop.audit import AuditContext, run_audit
from firestop.audit.registry import all_controls
from firestop.azure.clients import ClientFactory
from firestop.sandbox import Tenant
from firestop.sandbox.probe import unserved
from firestop.settings import Settings

WORKSPACE_GUID = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"  # law-contoso-sec's customerId
ELSEWHERE = ("/subscriptions/99999999-8888-7777-6666-555555555555/resourceGroups/rg-mallory/providers/"
             "Microsoft.OperationalInsights/workspaces/law-mallory")


def _control(tenant, workspace_guid=WORKSPACE_GUID):
    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    settings = Settings.from_env(home=".", key_vault_url="https://kv-contoso-ai.vault.azure.net", log_workspace_id=workspace_guid)
    chosen = [c for c in all_controls() if c.id == "monitoring.diagnostic-settings"]
    audit = run_audit(AuditContext(clients=clients, settings=settings, subscription=tenant.subscription_id, unserved=unserved),
                      controls=chosen)
    return {r.resource_name: r for r in audit.results}["contoso-openai-prod"]


def test_rt18_04_logs_sent_to_another_workspace_fail_the_control(firestop_home):
    tenant = Tenant.load()
    assert _control(tenant).status.value == "pass"  # to law-contoso-sec, FIRESTOP_LOG_WORKSPACE_ID's workspace
    monitor = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock,
                            sandbox=True).monitor(tenant.subscription_id)
    (setting,) = list(monitor.diagnostic_settings.list(
        f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"))
    setting.workspace_id = ELSEWHERE
    monitor.diagnostic_settings.create_or_update(setting.id.rsplit("/providers/Microsoft.Insights/", 1)[0], setting.name, setting)
    result = _control(tenant)
    assert result.status.value == "fail", (result.status, result.detail)
    assert "FIRESTOP_LOG_WORKSPACE_ID" in result.detail and "law-mallory" in result.detail, result.detail
    assert _control(tenant, workspace_guid=None).status.value == "pass"  # no workspace configured (local): as before
