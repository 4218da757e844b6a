"""The audit on the sandbox tenant through the real SDK clients: the default tenant's checklist, drift → one incident."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app

PROD = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path))
    for name in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _audit(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["audit", "run", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_default_tenant_reads_well(home):
    code, audit = _audit()
    assert code == 3  # findings
    by = {(r["control"], r["resource_name"]): r for r in audit["results"]}
    statuses = {r["status"] for r in audit["results"]}
    assert statuses == {"pass", "fail"}  # every control is evaluable: the rooms model what it reads
    for r in audit["results"]:
        if r["status"] == "fail":  # every finding names what was read, its value, and the fix
            assert r["evidence"] and all(e["read"] for e in r["evidence"]) and r["fix"]
        if r["status"] == "not_evaluable":
            assert r["detail"].startswith("not evaluable: ") and "does not model" in r["detail"]
    public = by[("network.public-access", "contoso-openai-prod")]
    assert public["status"] == "fail" and public["runbook"]["runbook"] == "network.lock"
    assert {"read": "accounts.get properties.networkAcls.defaultAction", "value": "Allow"} in public["evidence"]
    assert public["policy"] == {"definition": "037eea7a-bd0a-46c5-9a66-03aea78705d3", "compliance": "NonCompliant",
                                "evaluated_at": "2026-11-28T22:00:00.000Z", "assignment": "aoai-security-baseline"}
    assert by[("identity.managed-identity", "contoso-openai-prod")]["status"] == "pass"
    assert by[("identity.managed-identity", "contoso-openai-dev")]["status"] == "fail"
    roles = by[("identity.broad-roles", "contoso-openai-prod")]
    assert roles["status"] == "fail" and "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d" in roles["detail"]
    assert "5b0c7d0e" not in roles["detail"]  # Firestop's own identity is allowed
    assert by[("secrets.vault-purge-protection", "kv-contoso-ai")]["status"] == "fail"
    assert by[("secrets.vault-rbac", "kv-contoso-ai")]["status"] == "pass"
    key_age = by[("secrets.key-age", "contoso-openai-prod")]
    assert key_age["status"] == "fail" and "Key1" in key_age["detail"] and "Key2" not in key_age["detail"]  # Key2 regenerated at 01:48
    diag = by[("monitoring.diagnostic-settings", "contoso-openai-dev")]
    assert diag["status"] == "fail" and "no diagnostic setting" in diag["detail"]  # read from the monitor room
    assert by[("monitoring.diagnostic-settings", "contoso-openai-prod")]["status"] == "pass"
    assert by[("monitoring.defender-for-ai", "11111111-2222-3333-4444-555555555555")]["status"] == "pass"
    assert by[("environments.separated", "11111111-2222-3333-4444-555555555555")]["status"] == "pass"
    files = audit["files"]
    md = open(files["markdown"], encoding="utf-8").read()
    html = open(files["html"], encoding="utf-8").read()
    assert "## Network isolation" in md and "| ❌ | Public network access" in md
    assert "<script" not in html and "Content-Security-Policy" in html and "http://" not in html.replace("http-equiv", "")


def test_public_access_reenabled_between_audits_opens_one_incident(home):
    runner = CliRunner()
    assert runner.invoke(app, ["runbook", "run", "network.lock", "--target", PROD, "--param", "mode=deny_by_default", "--yes"]).exit_code == 0
    _, first = _audit()
    public = [r for r in first["results"] if r["control"] == "network.public-access" and r["resource_name"] == "contoso-openai-prod"]
    assert public[0]["status"] == "pass" and first["drift"]["previous"] is None and first["incidents"] == []

    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()  # someone opens the account again
    try:
        env.clients.cognitive_services(env.tenant.subscription_id).accounts.begin_update(
            "rg-ai-prod", "contoso-openai-prod", {"properties": {"networkAcls": {"defaultAction": "Allow"}}}).result()
    finally:
        env.close()

    _, second = _audit()
    key = f"network.public-access|{PROD.lower()}"
    assert second["drift"] == {"previous": first["audit_id"], "new": [key], "fixed": [], "unverified": 0}
    assert len(second["incidents"]) == 1
    incident = second["incidents"][0]
    assert incident["playbook"] == "public-network-exposure" and incident["status"] in ("awaiting_approval", "contained")

    _, third = _audit()
    assert third["drift"]["new"] == [] and third["incidents"] == []  # once

    from firestop.audit.drift import drift_alerts
    from firestop.audit.store import load, records_store
    from firestop.settings import Settings

    again = drift_alerts(load(records_store(Settings.from_env()), second["audit_id"]))
    assert [a.incident_key for a in again] == [incident["incident_id"]]  # the same drift raised again: the same incident


def test_fix_plans_without_changing(home):
    code, audit = _audit("--fix", "--no-incidents")
    fixes = {(f["control"], f["resource_name"]): f for f in audit["fixes"]}
    lock = fixes[("network.public-access", "contoso-openai-prod")]
    assert lock["plan"]["changes"] and "runbook run network.lock" in lock["apply"]
    _, again = _audit("--no-incidents")
    assert [r["status"] for r in again["results"] if r["control"] == "network.public-access"] == ["fail", "fail"]


def test_bad_input_exit_2(home):
    result = CliRunner().invoke(app, ["audit", "run", "--json", "--account", "not-an-id"])
    assert result.exit_code == 2 and "--account" in result.stdout
    result = CliRunner().invoke(app, ["audit", "show", "../etc/passwd", "--json"])
    assert result.exit_code == 2


def test_a_scope_that_does_not_exist_is_bad_input_and_keeps_no_audit(home):
    """A typo in --resource-group/--account is exit 2 naming the flag; no empty audit displaces the latest one."""
    code, baseline = _audit("--no-incidents")
    assert code == 3
    for flag, value, says in (("--resource-group", "rg-ai-prdo", "no resource group 'rg-ai-prdo'"),
                              ("--account", PROD.replace("contoso-openai-prod", "contoso-openai-prdo"),
                               "no Azure OpenAI account 'contoso-openai-prdo'")):
        result = CliRunner().invoke(app, ["audit", "run", "--no-incidents", flag, value])
        assert result.exit_code == 2 and flag in result.stderr and says in result.stderr, result.output
    latest = CliRunner().invoke(app, ["audit", "show", "--format", "json"])
    assert json.loads(latest.stdout)["audit_id"] == baseline["audit_id"]
    code, narrowed = _audit("--no-incidents", "--resource-group", "rg-ai-prod")  # one that exists still audits
    assert code == 3 and narrowed["results"] and narrowed["audit_id"] != baseline["audit_id"]


def test_a_malformed_audit_id_suggests_a_command_that_works(home, monkeypatch):
    monkeypatch.delenv("FIRESTOP_APP_URL", raising=False)
    result = CliRunner().invoke(app, ["audit", "show", "nope"])
    assert result.exit_code == 2 and "'nope' is not an audit id" in result.stderr
    assert "run one: python -m firestop audit run" in result.stderr, result.stderr  # nothing stored: `audit show` fails too
    code, audit = _audit("--no-incidents")
    result = CliRunner().invoke(app, ["audit", "show", "nope"])
    suggested = f"python -m firestop audit show {audit['audit_id']}"
    assert result.exit_code == 2 and suggested in result.stderr, result.stderr
    assert CliRunner().invoke(app, suggested.split()[3:]).exit_code in (0, 3)  # the suggestion works


def test_alert_rules_found_where_each_rule_type_carries_the_route():
    """The three ARM shapes firestop's detect rules deploy (firestop.playbooks.detect.arm_body) all route."""
    from firestop.audit.controls.monitoring import _rule_playbook
    from firestop.playbooks import load_playbooks
    from firestop.playbooks.detect import arm_body, rule_kind
    from firestop.settings import REPO_ROOT

    seen = {}
    for playbook in load_playbooks(REPO_ROOT / "playbooks"):
        for rule in (playbook.detect.rules() if getattr(playbook, "detect", None) else []):
            body = arm_body(rule, playbook=playbook.name, scopes=[PROD], action_group_id="/ag", placeholders={
                "nsg_id": "/nsg", "automation_principal_id": "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e",
                "account_id": PROD, "account_endpoint": "https://contoso-openai-prod.openai.azure.com/"})  # per account, for workspace-scoped rules
            seen[rule_kind(rule)] = _rule_playbook(body)
            assert _rule_playbook(body) == (playbook.name, rule.enabled)
    assert set(seen) == {"scheduledQueryRules", "activityLogAlerts", "metricAlerts"}


def test_a_read_azure_refuses_is_not_evaluable_never_a_guess():
    from firestop.audit import AuditContext, run_audit
    from firestop.azure.clients import ClientFactory
    from firestop.sandbox import Tenant
    from firestop.sandbox.probe import unserved
    from firestop.settings import Settings

    tenant = Tenant.load()
    tenant.inject_fault("policyStates.queryResults", 403, times=5)
    tenant.inject_fault("diagnosticSettings.list", 403, times=5)
    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    settings = Settings.from_env(home=".", key_vault_url="https://kv-contoso-ai.vault.azure.net")
    audit = run_audit(AuditContext(clients=clients, settings=settings, subscription=tenant.subscription_id, unserved=unserved))
    by = {(r.control, r.resource_name): r for r in audit.results}
    policy = by[("monitoring.policy-assigned", tenant.subscription_id)]
    assert policy.status.value == "not_evaluable" and "answered 403" in policy.detail and not policy.evidence
    diag = by[("monitoring.diagnostic-settings", "contoso-openai-prod")]
    assert diag.status.value == "not_evaluable" and "diagnosticSettings.list" in diag.detail
    assert by[("network.public-access", "contoso-openai-prod")].policy == {"definition": "037eea7a-bd0a-46c5-9a66-03aea78705d3"}


def test_fix_applies_through_the_runbook_path_and_the_next_audit_says_fixed(home):
    _audit("--no-incidents")
    result = CliRunner().invoke(app, ["audit", "fix", "--control", "network.public-access", "--resource", "contoso-openai-prod",
                                      "--yes", "--json"])
    assert result.exit_code == 0, result.stdout
    done = json.loads(result.stdout)
    run = done["runs"][0]
    assert run["runbook"] == "network.lock" and run["incident_id"].startswith("manual-") and run["verify"]["ok"]
    _, after = _audit("--no-incidents")
    assert after["drift"]["fixed"] == [f"network.public-access|{PROD.lower()}"]
    assert CliRunner().invoke(app, ["audit", "fix", "--json"]).exit_code == 2  # --json needs --yes


DEV = PROD.replace("rg-ai-prod", "rg-ai-dev").replace("contoso-openai-prod", "contoso-openai-dev")


def test_fix_offered_only_where_its_runbook_applies(home):
    """A key rotation is not offered once local auth is off, nor where keys.rotate's own precondition
    (the consumers' secret is this account's) fails; each is named with the reason, nothing runs."""
    _, audit = _audit("--fix", "--no-incidents")
    fixes = {(f["control"], f["resource_name"]): f for f in audit["fixes"]}
    dev = fixes[("secrets.key-age", "contoso-openai-dev")]
    assert dev["offered"] is False and "apply" not in dev and "holds neither" in dev["reason"]
    assert fixes[("secrets.key-age", "contoso-openai-prod")]["offered"] is True
    # local auth off on prod first: the stored audit's key-age finding no longer has anything to fix
    off = CliRunner().invoke(app, ["audit", "fix", "--control", "identity.local-auth", "--resource", "contoso-openai-prod", "--yes", "--json"])
    assert off.exit_code == 0, off.stdout
    result = CliRunner().invoke(app, ["audit", "fix", "--control", "secrets.key-age", "--yes", "--json"])
    assert result.exit_code == 2, result.stdout
    done = json.loads(result.stdout)
    assert not [r for r in done["runs"] if r.get("offered", True)]  # nothing ran: no keys regenerated
    why = {r["resource"]: r["reason"] for r in done["not_offered"]}
    assert "local auth is disabled" in why[PROD] and "holds neither" in why[DEV]
    text = CliRunner().invoke(app, ["audit", "fix", "--control", "secrets.key-age", "--yes"])
    assert text.exit_code == 2 and "not offered" in text.output and "local auth is disabled" in text.output


def test_fix_with_no_fixable_finding_and_no_filter_says_so_without_naming_flags_not_given(home, monkeypatch):
    """New user 13: ``audit fix`` (no --control, no --resource) on an audit whose findings each need a by-hand fix said
    "--control/--resource: no fixable finding in audit-… matches" — naming two flags the responder never gave."""
    from firestop.audit import store

    _audit("--no-incidents")
    latest = store.latest

    def no_runbook_fixes(records):
        audit = latest(records)
        return audit.model_copy(update={"results": [r.model_copy(update={"runbook": None}) for r in audit.results]})

    monkeypatch.setattr(store, "latest", no_runbook_fixes)
    result = CliRunner().invoke(app, ["audit", "fix", "--yes", "--json"])
    assert result.exit_code == 2, result.stdout
    error = json.loads(result.stdout)["error"]
    assert error.startswith("AUDIT_ID: ") and "no finding a runbook can fix" in error and "--control" not in error, error
    assert "audit show audit-" in error  # where each finding's by-hand fix is
    narrowed = CliRunner().invoke(app, ["audit", "fix", "--control", "network.public-access", "--yes", "--json"])
    assert narrowed.exit_code == 2 and "--control/--resource" in json.loads(narrowed.stdout)["error"]  # given: named
