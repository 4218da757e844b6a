"""``firestop runbook list|plan`` on the sandbox, and least privilege: ``firestop permissions`` prints a role
with exactly the actions the playbooks' runbooks need, and the sandbox running as that role refuses (403)
every action outside it while the playbooks' runbooks still work."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

from .conftest import ACCOUNT, VAULT, WORKSPACE

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
NSG = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"
CHATBOT = "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


# runbook list / plan ----------------------------------------------------------------

def test_runbook_list_names_every_runbook_with_its_permissions(firestop_home):
    from runbooks import runbook_names

    result = cli("runbook", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert sorted(rows) == runbook_names()
    assert "Microsoft.Network/networkSecurityGroups/securityRules/write" in rows["network.block_ips"]["permissions"]
    assert rows["keys.revoke"]["reversible"] is False and rows["evidence.snapshot_config"]["mutating"] is False
    table = cli("runbook", "list")
    assert table.exit_code == 0 and "notify.webhook" in table.output


def test_runbook_plan_on_the_sandbox_changes_nothing(firestop_home):
    from firestop.sandbox import Tenant

    before = Tenant.open(firestop_home / "sandbox").resource(ACCOUNT)
    result = cli("runbook", "plan", "network.lock", "--target", ACCOUNT, "--param", "mode=disable_public_access", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["ok"] and answer["result"]["changes"] == [
        {"field": "properties.publicNetworkAccess", "before": "Enabled", "after": "Disabled"}]
    tenant = Tenant.open(firestop_home / "sandbox")
    assert tenant.resource(ACCOUNT) == before
    assert [r.method for r in tenant.requests] == ["GET"]
    text = cli("runbook", "plan", "network.block_ips", "--target", NSG, "--param", "ips=203.0.113.77", "--param", "ips=198.18.0.0/15")
    assert text.exit_code == 0, text.output
    assert "firestop-manual-2026-11-29-203.0.113.77_32" in text.output and "Would change:" in text.output  # the run's name


def test_runbook_plan_keys_never_prints_a_key(firestop_home):
    from firestop.sandbox import Tenant

    outputs = [cli("runbook", "plan", name, "--target", ACCOUNT).output for name in ("keys.rotate", "keys.revoke")]
    outputs.append(cli("runbook", "plan", "keys.rotate", "--target", ACCOUNT, "--json").output)
    assert all("sha256:" in o for o in outputs)
    for value in Tenant.open(firestop_home / "sandbox").issued_key_values():
        assert not any(value in o for o in outputs)


@pytest.mark.parametrize(
    "args,expected",
    [
        (["runbook", "plan", "no.such"], "NAME: no runbook named 'no.such'"),
        (["runbook", "plan", "network.lock"], "--target: network.lock acts on a microsoft.cognitiveservices/accounts resource"),
        (["runbook", "plan", "network.lock", "--target", ACCOUNT, "--param", "mode"], "--param: 'mode' is not key=value"),
        (["runbook", "plan", "network.lock", "--target", ACCOUNT, "--param", "mode=open"], "--param mode"),
        (["runbook", "plan", "network.lock", "--target", SUB + "/resourceGroups/x"], "--target: "),
        (["runbook", "plan", "network.lock", "--target", ACCOUNT.replace("contoso-openai-prod", "nope")], "not_found"),
        (["runbook", "plan", "network.block_ips", "--target", NSG, "--param", "ips=10.0.0.0/4"], "--param ips"),
        (["permissions", "--sandbox", "--playbooks", "/nonexistent-dir"], "--playbooks: /nonexistent-dir is not a directory"),
        (["permissions"], "--scope: required"),
        (["permissions", "--playbooks", "playbooks"], "--scope: required"),
        (["permissions", "--sandbox", "--scope", SUB], "--sandbox: "),
        (["permissions", "--scope", "subscriptions/x"], "--scope: 'subscriptions/x'"),
        # new user 13: these were printed as the role's AssignableScopes, exit 0 (az role definition create refuses them)
        (["permissions", "--scope", "/subscriptions/abc"], "--scope: 'abc' is not a subscription ID (a GUID"),
        (["permissions", "--scope", SUB + "/resourceGroups/rg;drop"], "--scope: 'rg;drop' is not a resource group name"),
        (["permissions", "--scope", SUB + "/resourceGroups/"], "--scope: "),
        (["permissions", "--scope", SUB + "//resourceGroups/rg"], "--scope: "),
        (["permissions", "--scope", "/providers/Microsoft.Management/managementGroups/mg;1"],
         "--scope: 'mg;1' is not a management group ID"),
    ],
)
def test_bad_input_is_one_line_exit_2(firestop_home, args, expected):
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("error:")
    assert "Traceback" not in result.output


def test_runbook_plan_azure_refusal_is_exit_1(firestop_home):
    from firestop.sandbox import Tenant

    Tenant.open(firestop_home / "sandbox").inject_fault("accounts.get", status=403)
    result = cli("runbook", "plan", "auth.disable_local_auth", "--target", ACCOUNT, "--json")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["error"]["kind"] == "forbidden" and answer["exit_code"] == 1


def test_commands_as_a_user_runs_them(tmp_path):
    env = {**os.environ, "FIRESTOP_HOME": str(tmp_path / "home")}
    listed = subprocess.run([sys.executable, "-m", "firestop", "runbook", "list", "--json"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "notify.webhook" in {r["name"] for r in json.loads(listed.stdout)}
    role = subprocess.run([sys.executable, "-m", "firestop", "permissions", "--sandbox"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert role.returncode == 0, role.stderr
    assert json.loads(role.stdout)["AssignableScopes"] == [SUB]


# least privilege ----------------------------------------------------------------------

EVERYTHING = f"""
name: everything
description: every Azure runbook, for the least-privilege test
match: {{rule_names: ["never-matches-anything"]}}
contain:
  - {{id: config, runbook: evidence.snapshot_config, with: {{also: ["{NSG}"]}}}}
  - {{id: logs, runbook: evidence.snapshot_logs}}
  - {{id: revoke, runbook: keys.revoke}}
  - {{id: rotate, runbook: keys.rotate}}
  - {{id: lock, runbook: network.lock}}
  - {{id: local-auth, runbook: auth.disable_local_auth}}
  - {{id: block, runbook: network.block_ips, target: "{NSG}", with: {{ips: ["203.0.113.77"]}}}}
  - {{id: roles, runbook: identity.revoke_role_assignment, with: {{principal_id: "{CHATBOT}"}}}}
"""

# Probes: one request per sandbox route, its template filled with the default tenant's names.
FILL = {
    "sub": SUB.split("/")[-1], "rg": "rg-ai-prod", "name": "contoso-openai-prod", "nsg": "nsg-ai-apps",
    "rule": "allow-https-from-gateway", "deployment": "gpt-4o", "location": "swedencentral", "op": "probe",
    "vault": "kv-contoso-ai", "workspace": WORKSPACE, "assignment": "6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c",
    "ns": "Microsoft.CognitiveServices", "rtype": "accounts", "rname": "contoso-openai-prod",
}
AUDIENCE = {"management.azure.com": "https://management.azure.com", "vault": "https://vault.azure.net",
            "loganalytics": "https://api.loganalytics.io"}


def fill(template: str) -> str:
    import re

    return re.sub(r"\{(\w+)(\?)?\}", lambda m: "" if m.group(2) else FILL.get(m.group(1), "probe"), template)


def probe(tenant, route) -> tuple[str, int]:
    """(path, status) of one authenticated request to ``route`` (body: an empty JSON object)."""
    from azure.core.rest import HttpRequest

    host, path = fill(route.host), fill(route.path)
    audience = next(v for k, v in AUDIENCE.items() if k in host)
    token = tenant.credential.get_token(audience + "/.default").token
    request = HttpRequest(route.method, f"https://{host}{path}", params={"api-version": "2024-01-01"},
                          json={} if route.method in ("PUT", "PATCH", "POST") else None,
                          headers={"Authorization": f"Bearer {token}"})
    return path, tenant.transport.send(request).status_code


def role_for(playbook_dir, scope=SUB) -> dict:
    result = cli("permissions", "--playbooks", str(playbook_dir), "--scope", scope)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def run_steps(sandbox, playbook_dir) -> list[dict]:
    """plan, apply, verify (and undo when reversible) of every step, as the orchestrator would call them."""
    from firestop.playbooks import load_playbooks
    from runbooks import get_runbook

    answers = []
    for playbook in load_playbooks(playbook_dir):
        for step in playbook.steps():
            if not getattr(step, "runbook", None) or "${{" in json.dumps([step.target, step.with_]):
                continue  # undo steps, and steps whose inputs come from the alert at run time
            rb = type(get_runbook(step.runbook))
            target = step.target or (ACCOUNT if rb.target_type else None)
            params = dict(step.with_)
            for action in ("plan", "apply"):
                answers.append(sandbox.run(step.runbook, action, target=target, params=params, step_id=step.id))
            applied = answers[-1].get("result")
            if applied:
                answers.append(sandbox.run(step.runbook, "verify", target=target, params=params, applied=applied, step_id=step.id))
                if rb.mutating and rb.reversible:
                    answers.append(sandbox.run(step.runbook, "undo", target=target, params=params, applied=applied, step_id=step.id))
    return answers


def test_every_route_maps_to_an_azure_action(sandbox):
    from firestop.sandbox.authorization.rbac import action_for

    for route in sandbox.tenant._router.routes:
        if route.service == "graph":
            continue  # Microsoft Graph: application permissions of the app registration, not Azure RBAC
        assert action_for(route.operation, fill(route.path)) is not None, route.operation


def test_role_has_exactly_the_playbook_actions_and_the_sandbox_refuses_the_rest(sandbox, tmp_path):
    from firestop.sandbox.authorization.rbac import action_for, allows
    from runbooks import get_runbook

    (tmp_path / "everything.yaml").write_text(EVERYTHING)
    role = role_for(tmp_path)
    used = ["evidence.snapshot_config", "evidence.snapshot_logs", "keys.revoke", "keys.rotate", "network.lock",
            "auth.disable_local_auth", "network.block_ips", "identity.revoke_role_assignment", "records.file"]
    from runbooks.permissions import ORCHESTRATOR_ACTIONS

    wanted = {p for name in used for p in type(get_runbook(name)).permissions} | set(ORCHESTRATOR_ACTIONS)
    assert set(role["Actions"]) | set(role["DataActions"]) == wanted
    assert set(role["DataActions"]) == {"Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/setSecret/action"}
    assert role["NotActions"] == [] and role["NotDataActions"] == [] and role["AssignableScopes"] == [SUB]
    assert set(role) == {"Name", "Description", "Actions", "NotActions", "DataActions", "NotDataActions", "AssignableScopes"}

    sandbox.tenant.enforce_role(role)
    answers = run_steps(sandbox, tmp_path)
    failed = [(a["runbook"], a["action"], a["error"]) for a in answers if not a["ok"]]
    # the one refusal: restoring role assignments needs roleAssignments/write, which the role never holds
    assert [(rb, action, e["kind"], e["permission"]) for rb, action, e in failed] == [
        ("identity.revoke_role_assignment", "undo", "forbidden", "Microsoft.Authorization/roleAssignments/write")]
    assert [r.operation for r in sandbox.tenant.requests if r.status == 403] == ["roleAssignments.create"]

    refused, allowed = set(), set()
    for route in sandbox.tenant._router.routes:
        if route.service == "graph":
            continue  # not Azure RBAC (Graph application permissions: runbooks.permissions.graph_permissions)
        path, status = probe(sandbox.tenant, route)
        action, data = action_for(route.operation, path)
        (refused if status == 403 else allowed).add(route.operation)
        assert (status == 403) == (not allows(role, action, data)), (route.operation, action, status)
    assert "secrets.versions" in refused  # readMetadata: no runbook needs it
    assert {"accounts.regenerateKey", "securityRules.delete", "roleAssignments.delete"} <= allowed
    assert "roleAssignments.create" in refused  # roleAssignments/write: the role could grant itself anything


def test_default_playbooks_role_refuses_what_they_do_not_need(sandbox, tmp_path):
    from firestop.settings import Settings

    folder = Settings.from_env().playbooks_dir
    role = role_for(folder)
    sandbox.tenant.enforce_role(role)
    answers = run_steps(sandbox, folder)
    assert answers
    refused = [(a["runbook"], a["action"], a["error"]) for a in answers if (a.get("error") or {}).get("kind") == "forbidden"]
    # the role lets every step of the shipped playbooks do its work; only re-creating role assignments (an undo a
    # person with User Access Administrator does) is refused
    assert all((rb, action) == ("identity.revoke_role_assignment", "undo") for rb, action, _ in refused), refused
    assert {r.operation for r in sandbox.tenant.requests if r.status == 403} <= {"roleAssignments.create"}
    from firestop.sandbox.authorization.rbac import action_for, allows

    refused = []
    for route in sandbox.tenant._router.routes:
        if route.service == "graph":
            continue  # not Azure RBAC
        path, status = probe(sandbox.tenant, route)
        action, data = action_for(route.operation, path)
        if not allows(role, action, data):
            assert status == 403, (route.operation, action, status)
            refused.append(route.operation)
    assert "secrets.versions" in refused and "privateEndpointConnections.list" in refused  # nothing here needs them


# ledger verify -------------------------------------------------------------------------

def test_ledger_verify_command(firestop_home, sandbox):
    assert sandbox.settings.ledger_dir == firestop_home / "ledger"
    sandbox.run("evidence.snapshot_config", "apply")
    sandbox.run("network.lock", "apply")
    intact = cli("ledger", "verify", "inc-test", "--json")
    assert intact.exit_code == 0 and json.loads(intact.stdout)["entries"] == 3  # evidence, network.lock's marker, its action
    path = firestop_home / "ledger" / "inc-test.jsonl"
    path.write_text(path.read_text().replace('"changed":true', '"changed":false'))
    edited = cli("ledger", "verify", "inc-test")  # the edited last entry: out of the sealed chain (redteam14), named
    said = " ".join(edited.output.split())
    assert edited.exit_code == 3 and "seq 3" in said and "out of the chain" in said and "intact" not in said, said
    missing = cli("ledger", "verify", "inc-nope")
    assert missing.exit_code == 2 and "INCIDENT: no ledger" in missing.output


FORBIDDEN = ("Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleDefinitions/write",
             "Microsoft.Authorization/elevateAccess/action")


def test_no_generated_role_can_escalate_itself(tmp_path):
    """Every shipped playbook (and every registered runbook together): no role-granting action, no wildcard."""
    from firestop.settings import Settings
    from runbooks import all_runbooks

    folder = Settings.from_env().playbooks_dir
    roles = [role_for(folder)]
    for path in sorted(folder.glob("*.yaml")):
        (tmp_path / path.stem).mkdir()
        (tmp_path / path.stem / path.name).write_text(path.read_text())
        roles.append(role_for(tmp_path / path.stem))
    (tmp_path / "all").mkdir()
    (tmp_path / "all" / "everything.yaml").write_text(EVERYTHING)
    roles.append(role_for(tmp_path / "all"))
    every_runbook = {p for cls in all_runbooks() for p in cls.permissions}
    for granted in [set(r["Actions"]) | set(r["DataActions"]) for r in roles] + [every_runbook]:
        assert granted and not any("*" in a for a in granted), granted
        assert not {a.lower() for a in granted} & {f.lower() for f in FORBIDDEN}, granted
    assert "Microsoft.Authorization/roleAssignments/delete" in roles[-1]["Actions"]  # revoking needs delete only


def test_a_runbook_asking_for_an_escalating_action_is_refused(monkeypatch, tmp_path):
    from runbooks import get_runbook

    cls = type(get_runbook("identity.revoke_role_assignment"))
    shipped = cls.permissions
    for action in (*FORBIDDEN, "Microsoft.Authorization/*"):
        monkeypatch.setattr(cls, "permissions", (*shipped, action))
        (tmp_path / "everything.yaml").write_text(EVERYTHING)
        result = cli("permissions", "--playbooks", str(tmp_path), "--scope", SUB)
        assert result.exit_code == 2 and action in result.output and "escalate" in result.output
