"""firestop infra --detect-out: the playbooks' rules and the accounts' diagnostic settings as an ARM template,
deployed into the sandbox through azure-mgmt-resource and then live for the monitor room."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.playbooks import load_playbooks
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT

from .conftest import factory

SUB = "11111111-2222-3333-4444-555555555555"
DEV = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec"
APIM = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.ApiManagement/service/apim-contoso-ai"


def test_detect_template_deploys_rules_and_diagnostic_settings_the_monitor_api_then_serves(firestop_home, tmp_path):
    out = tmp_path / "detect.json"
    result = CliRunner().invoke(app, ["infra", "--account", "rg-ai-prod/contoso-openai-prod", "--account", "rg-ai-dev/contoso-openai-dev",
                                      "--nsg", "rg-ai-prod/nsg-ai-apps", "--apim", "rg-ai-prod/apim-contoso-ai", "--detect-out", str(out), "--json"])
    assert result.exit_code == 3, result.output  # written; entraClientId & co. still needed
    tpl = json.loads(out.read_text())
    tenant = Tenant.load()
    clients = factory(tenant)
    ag = clients.monitor(SUB).action_groups.create_or_update("rg-ai-prod", "ag-firestop", {
        "location": "Global", "group_short_name": "firestop", "enabled": True, "webhook_receivers": []})
    params = {"actionGroupId": {"value": ag.id}, "workspaceId": {"value": WS}, "nsgId": {"value": "/nsg-id"},
              "automationPrincipalId": {"value": tenant.credential.principal_id}}
    deployment = clients.resources(SUB).deployments.begin_create_or_update(
        "rg-ai-prod", "firestop-detect", {"properties": {"mode": "Incremental", "template": tpl, "parameters": params}}).result()
    assert deployment.properties.provisioning_state == "Succeeded"
    monitor = clients.monitor(SUB)
    shipped = {r.name for p in load_playbooks(REPO_ROOT / "playbooks") for r in p.detect.scheduled_query_rules}
    names = {r.name for r in monitor.scheduled_query_rules.list_by_subscription()}
    assert {f"{n}-contoso-openai-prod" for n in shipped} <= names and {f"{n}-contoso-openai-dev" for n in shipped} <= names
    rule = monitor.scheduled_query_rules.get("rg-ai-prod", "aoai-suspicious-key-access-contoso-openai-prod")
    assert tenant.credential.principal_id in rule.criteria.all_of[0].query and "{automation_principal_id}" not in rule.criteria.all_of[0].query
    assert rule.actions.action_groups == [ag.id]
    usage = monitor.scheduled_query_rules.get("rg-ai-prod", "aoai-anomalous-usage-contoso-openai-prod")
    assert usage.actions.custom_properties == {"firestop-nsg": "/nsg-id", "firestop-signal": "failed-requests", "firestop-playbook": "anomalous-usage"}
    assert [a.name for a in monitor.activity_log_alerts.list_by_subscription_id()] == ["aoai-public-network-change"]
    (setting,) = [s for s in monitor.diagnostic_settings.list(DEV) if s.name == "firestop-to-workspace"]
    assert setting.workspace_id == WS and {l.category for l in setting.logs} == {"Audit", "RequestResponse", "Trace"}
    assert any(s.name == "firestop-to-workspace" for s in monitor.diagnostic_settings.list(PROD))
    # the API Management gateway's logs go to the resource-specific table the workspace-scoped rule reads
    (gateway,) = [s for s in monitor.diagnostic_settings.list(APIM) if s.name == "firestop-to-workspace"]
    assert gateway.workspace_id == WS and [l.category for l in gateway.logs] == ["GatewayLogs"]
    assert gateway.log_analytics_destination_type == "Dedicated"
    apim_rule = monitor.scheduled_query_rules.get("rg-ai-dev", "aoai-anomalous-usage-apim-contoso-openai-dev")
    (cond,) = apim_rule.criteria.all_of
    assert apim_rule.scopes == [WS] and cond.resource_id_column == "AccountId" and not apim_rule.target_resource_types
    dev_endpoint = tenant._state.doc["resources"][DEV.lower()]["properties"]["endpoint"]  # noqa: SLF001 — the test's own tenant
    # the account's endpoint came from reference() at deployment, its id as a literal
    assert f'startswith "{dev_endpoint}"' in cond.query and f'AccountId = "{DEV}"' in cond.query
    assert apim_rule.actions.custom_properties["firestop-apim"] == APIM  # apimId defaults to the --apim service


def test_detect_out_needs_an_account(firestop_home, tmp_path):
    result = CliRunner().invoke(app, ["infra", "--nsg", "rg-ai-prod/nsg-ai-apps", "--detect-out", str(tmp_path / "d.json"), "--json"])
    assert result.exit_code == 2 and "--detect-out" in result.output
