"""The contract on the sandbox for the containment runbooks of issue 6: plan changes nothing, apply
then verify passes, apply twice is a no-op, undo restores byte for byte (or refuses with the
reason), and each injected fault ends in the right mapped error."""

from __future__ import annotations

import copy
import json

import pytest

from .conftest import ACCOUNT

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
NSG = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"
CHATBOT = "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"
AUTOMATION = "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"  # the sandbox credential's object id
ALICE = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
WRITES = ("PUT", "PATCH", "POST", "DELETE")
READ_ONLY_POSTS = ("accounts.listKeys", "logs.query", "logs.batch")


def world(tenant) -> dict:
    """Everything a runbook could change: ARM resources (settled), role assignments, keys, vault secrets."""
    tenant.resource(ACCOUNT)  # settles finished LROs
    with tenant._exclusive() as state:
        doc = state.doc
        return copy.deepcopy(
            {k: doc.get(k) for k in ("resources", "role_assignments", "account_keys", "vaults")}
        )


def writes(tenant) -> list:
    return [r for r in tenant.requests if r.method in WRITES and r.operation not in READ_ONLY_POSTS]


def strip_etags(value):
    if isinstance(value, dict):
        return {k: strip_etags(v) for k, v in value.items() if k != "etag"}
    if isinstance(value, list):
        return [strip_etags(v) for v in value]
    return value


def assignments_of(tenant, principal: str) -> list[dict]:
    return sorted(
        (a for a in world(tenant)["role_assignments"].values() if a["properties"]["principalId"] == principal),
        key=lambda a: a["id"],
    )


# Cases: runbook, target, params, and how to compare "restored byte for byte".
CASES = {
    "network.lock": dict(target=ACCOUNT, params={}, restored=lambda t: t.resource(ACCOUNT)["properties"]),
    "auth.disable_local_auth": dict(target=ACCOUNT, params={}, restored=lambda t: t.resource(ACCOUNT)["properties"]),
    "network.block_ips": dict(
        target=NSG, params={"ips": ["203.0.113.77", "198.18.0.0/15"]}, restored=lambda t: strip_etags(t.resource(NSG))
    ),
    "identity.revoke_role_assignment": dict(
        target=ACCOUNT,
        params={"principal_id": CHATBOT},
        restored=lambda t: [
            {**a, "properties": {k: v for k, v in a["properties"].items() if k not in ("createdOn", "updatedOn", "createdBy", "updatedBy")}}
            for a in assignments_of(t, CHATBOT)
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_changes_nothing(sandbox, name):
    case = CASES[name]
    before = world(sandbox.tenant)
    answer = sandbox.run(name, "plan", target=case["target"], params=case["params"])
    assert answer["ok"], answer
    assert answer["result"]["changes"], "the plan names the change it would make"
    assert world(sandbox.tenant) == before
    assert not writes(sandbox.tenant)


@pytest.mark.parametrize("name", sorted(CASES))
def test_apply_verify_apply_again_and_undo_byte_for_byte(sandbox, name):
    case = CASES[name]
    original = case["restored"](sandbox.tenant)
    original_text = json.dumps(original, sort_keys=True)
    first = sandbox.run(name, "apply", target=case["target"], params=case["params"])
    assert first["ok"] and first["result"]["changed"], first
    assert json.dumps(case["restored"](sandbox.tenant), sort_keys=True) != original_text
    verify = sandbox.run(name, "verify", target=case["target"], params=case["params"], applied=first["result"])
    assert verify["ok"], verify
    after_first = world(sandbox.tenant)
    count = len(writes(sandbox.tenant))
    second = sandbox.run(name, "apply", target=case["target"], params=case["params"])
    assert second["ok"] and not second["result"]["changed"], second
    assert world(sandbox.tenant) == after_first and len(writes(sandbox.tenant)) == count
    undo = sandbox.run(name, "undo", target=case["target"], params=case["params"], applied=first["result"])
    assert undo["ok"] and undo["result"]["changed"], undo
    assert json.dumps(case["restored"](sandbox.tenant), sort_keys=True) == original_text
    again = sandbox.run(name, "undo", target=case["target"], params=case["params"], applied=first["result"])
    assert again["ok"] and not again["result"]["changed"]  # undo twice is a no-op too


# operation faulted, status, times, expected kind, permission named (forbidden only)
FAULTS = {
    "network.lock": [
        ("accounts.update", 429, 10, "throttled", None),
        ("accounts.update", 409, 1, "conflict", None),
        ("accounts.update", 500, 10, "transient", None),
        ("accounts.update", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/write"),
        ("accounts.get", 404, 1, "not_found", None),
    ],
    "auth.disable_local_auth": [
        ("accounts.update", 429, 10, "throttled", None),
        ("accounts.update", 412, 1, "conflict", None),
        ("accounts.update", 503, 10, "transient", None),
        ("accounts.update", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/write"),
        ("accounts.get", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/read"),
        ("accounts.update", 400, 1, "invalid", None),
    ],
    "network.block_ips": [
        ("securityRules.createOrUpdate", 429, 10, "throttled", None),
        ("securityRules.createOrUpdate", 409, 1, "conflict", None),
        ("securityRules.createOrUpdate", 500, 10, "transient", None),
        ("securityRules.createOrUpdate", 403, 1, "forbidden", "Microsoft.Network/networkSecurityGroups/securityRules/write"),
        ("nsg.get", 404, 1, "not_found", None),
        ("nsg.get", 403, 1, "forbidden", "Microsoft.Network/networkSecurityGroups/read"),
    ],
    "identity.revoke_role_assignment": [
        ("roleAssignments.delete", 429, 10, "throttled", None),
        ("roleAssignments.delete", 409, 1, "conflict", None),
        ("roleAssignments.delete", 500, 10, "transient", None),
        ("roleAssignments.delete", 403, 1, "forbidden", "Microsoft.Authorization/roleAssignments/delete"),
        ("roleAssignments.list", 403, 1, "forbidden", "Microsoft.Authorization/roleAssignments/read"),
        ("roleAssignments.list", 404, 1, "not_found", None),
    ],
    "keys.revoke": [
        ("accounts.regenerateKey", 429, 10, "throttled", None),
        ("accounts.regenerateKey", 409, 1, "conflict", None),
        ("accounts.regenerateKey", 500, 10, "transient", None),
        ("accounts.regenerateKey", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/regenerateKey/action"),
        ("accounts.listKeys", 404, 1, "not_found", None),
        ("secrets.set", 403, 1, "forbidden", "Microsoft.KeyVault/vaults/secrets/setSecret/action"),
    ],
    "evidence.snapshot_logs": [
        ("logs.query", 429, 10, "throttled", None),
        ("logs.query", 500, 10, "transient", None),
        ("logs.query", 403, 1, "forbidden", "Microsoft.OperationalInsights/workspaces/query/read"),
        ("logs.query", 400, 1, "invalid", None),
    ],
    "keys.rotate": [
        ("accounts.listKeys", 429, 10, "throttled", None),
        ("accounts.regenerateKey", 409, 1, "conflict", None),
        ("accounts.listKeys", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/listKeys/action"),
        ("secrets.get", 403, 1, "forbidden", "Microsoft.KeyVault/vaults/secrets/getSecret/action"),
        ("secrets.set", 503, 10, "transient", None),
    ],
    "evidence.snapshot_config": [
        ("accounts.get", 429, 10, "throttled", None),
        ("deployments.list", 500, 10, "transient", None),
        ("roleAssignments.list", 403, 1, "forbidden", "Microsoft.Authorization/roleAssignments/read"),
        ("accounts.get", 404, 1, "not_found", None),
    ],
}
FAULT_CASES = [(name, *fault) for name, faults in sorted(FAULTS.items()) for fault in faults]


@pytest.mark.parametrize("name,operation,status,times,kind,permission", FAULT_CASES)
def test_injected_fault_ends_in_the_mapped_error(sandbox, name, operation, status, times, kind, permission):
    case = CASES.get(name) or {"target": ACCOUNT, "params": {}}
    sandbox.tenant.inject_fault(operation, status=status, times=times, retry_after=3 if status == 429 else None)
    answer = sandbox.run(name, "apply", target=case["target"], params=case["params"])
    assert not answer["ok"], answer
    error = answer["error"]
    assert error["kind"] == kind, error
    assert error["permission"] == permission
    if permission:
        assert permission in error["message"]
    assert error["retryable"] == (kind in ("throttled", "conflict", "transient"))
    if kind == "throttled":
        assert error["retry_after"] == 3.0
    assert any(f.operation == operation and f.status == status for f in sandbox.tenant.faults)


# network.block_ips specifics ---------------------------------------------------------

def test_block_ips_takes_free_priorities_before_the_allow_rules_and_names_rules_after_the_incident(sandbox):
    answer = sandbox.run("network.block_ips", "apply", target=NSG, params={"ips": ["203.0.113.77", "2001:db8:1::/48"]},
                         incident_id="inc-0123456789abcdef")
    assert answer["ok"], answer
    rules = {r["name"]: r["properties"] for r in sandbox.tenant.resource(NSG)["properties"]["securityRules"]}
    assert rules["firestop-inc-0123456789abcdef-203.0.113.77_32"]["priority"] == 100
    assert rules["firestop-inc-0123456789abcdef-2001-db8-1--_48"]["priority"] == 101
    for name in ("firestop-inc-0123456789abcdef-203.0.113.77_32", "firestop-inc-0123456789abcdef-2001-db8-1--_48"):
        assert rules[name]["access"] == "Deny" and rules[name]["direction"] == "Inbound"
        assert "inc-0123456789abcdef" in rules[name]["description"]
    assert rules["allow-https-from-gateway"]["priority"] == 200  # untouched


def test_block_ips_skips_taken_priorities_and_undo_removes_exactly_its_rules(sandbox):
    from firestop.azure.clients import ClientFactory  # noqa: F401  (the sandbox's clients are the real SDK ones)

    network = sandbox.clients.network(sandbox.tenant.subscription_id)
    network.security_rules.begin_create_or_update("rg-ai-prod", "nsg-ai-apps", "responder-deny", {"properties": {
        "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": "192.0.2.0/24",
        "destinationAddressPrefix": "*", "access": "Deny", "priority": 100, "direction": "Inbound"}}).result()
    first = sandbox.run("network.block_ips", "apply", target=NSG, params={"ips": ["203.0.113.77"]})
    assert [r["priority"] for r in first["result"]["artifacts"]["rules"]] == [101]
    undo = sandbox.run("network.block_ips", "undo", target=NSG, params={"ips": ["203.0.113.77"]}, applied=first["result"])
    assert undo["ok"]
    names = {r["name"] for r in sandbox.tenant.resource(NSG)["properties"]["securityRules"]}
    assert names == {"allow-https-from-gateway", "responder-deny"}


def test_block_ips_adds_no_second_rule_for_a_network_an_earlier_incident_already_denies(sandbox):
    """The same alert handled again (a new incident) stacked duplicate deny rules; now the earlier rule counts."""
    first = sandbox.run("network.block_ips", "apply", target=NSG, params={"ips": ["203.0.113.77"]}, incident_id="inc-0123456789abcdef")
    again = sandbox.run("network.block_ips", "apply", target=NSG, params={"ips": ["203.0.113.77", "198.51.100.9"]},
                        incident_id="inc-fedcba9876543210")
    assert first["ok"] and again["ok"], again
    rules = sandbox.tenant.resource(NSG)["properties"]["securityRules"]
    denying = [r["name"] for r in rules if r["properties"].get("sourceAddressPrefix") == "203.0.113.77/32"]
    assert denying == ["firestop-inc-0123456789abcdef-203.0.113.77_32"]
    assert [r["network"] for r in again["result"]["artifacts"]["rules"]] == ["198.51.100.9/32"]
    assert [r["name"] for r in again["result"]["artifacts"]["denied_by"]] == denying
    assert sandbox.run("network.block_ips", "verify", target=NSG, params={"ips": ["203.0.113.77", "198.51.100.9"]},
                       incident_id="inc-fedcba9876543210", applied=again["result"])["ok"]
    undo = sandbox.run("network.block_ips", "undo", target=NSG, params={}, incident_id="inc-fedcba9876543210", applied=again["result"])
    assert undo["ok"]  # removes its own rule only; the earlier incident's stays
    names = {r["name"] for r in sandbox.tenant.resource(NSG)["properties"]["securityRules"]}
    assert "firestop-inc-0123456789abcdef-203.0.113.77_32" in names and not any("198.51.100.9" in n for n in names)


def test_block_ips_defaults_to_the_alert_caller_ips(sandbox):
    answer = sandbox.run("network.block_ips", "plan", target=NSG, alert={"caller_ips": ["203.0.113.77", "203.0.113.77"]})
    assert answer["ok"], answer
    assert [c["after"]["network"] for c in answer["result"]["changes"]] == ["203.0.113.77/32"]
    none = sandbox.run("network.block_ips", "plan", target=NSG)
    assert none["error"]["kind"] == "invalid" and "params.ips" in none["error"]["message"]


def test_an_alert_never_makes_block_ips_deny_private_or_platform_addresses(sandbox):
    """Red team: an alert sender (function key only) chose caller IPs in its dimensions — the app gateway's
    private addresses, Azure's 168.63.129.16 — and content-abuse would deny them ahead of the allow rules.
    IPs from the alert are denied only when public; a playbook's or responder's explicit ``ips`` is trusted."""
    hostile = ["10.0.1.4", "168.63.129.16", "169.254.169.254", "127.0.0.1", "fd00::1", "192.168.0.10"]
    mixed = sandbox.run("network.block_ips", "plan", target=NSG, alert={"caller_ips": [*hostile, "203.0.113.77"]})
    assert mixed["ok"], mixed
    assert [c["after"]["network"] for c in mixed["result"]["changes"]] == ["203.0.113.77/32"]
    only = sandbox.run("network.block_ips", "apply", target=NSG, alert={"caller_ips": hostile})
    assert only["error"]["kind"] == "invalid" and "private or platform addresses" in only["error"]["message"]
    rules = sandbox.tenant.resource(NSG)["properties"]["securityRules"]
    assert not [r for r in rules if r.get("properties", {}).get("access") == "Deny"]  # nothing denied
    explicit = sandbox.run("network.block_ips", "plan", target=NSG, params={"ips": ["10.0.1.4"]})
    assert explicit["ok"] and [c["after"]["network"] for c in explicit["result"]["changes"]] == ["10.0.1.4/32"]


@pytest.mark.parametrize(
    "bad,fix",
    [
        ("not-an-ip", "not an IP address"),
        ("203.0.113.77/24", "did you mean 203.0.113.0/24"),
        ("0.0.0.0/0", "too wide"),
        ("10.0.0.0/7", "too wide"),
        ("127.0.0.1", "loopback"),
        ("::/0", "too wide"),
    ],
)
def test_block_ips_validates_addresses(sandbox, bad, fix):
    answer = sandbox.run("network.block_ips", "plan", target=NSG, params={"ips": [bad]})
    assert answer["error"]["kind"] == "invalid"
    assert "params.ips" in answer["error"]["message"] and fix in answer["error"]["message"]
    assert not sandbox.tenant.requests  # refused before any call


def test_block_ips_verify_fails_when_an_allow_rule_shadows_the_deny(sandbox):
    answer = sandbox.run("network.block_ips", "apply", target=NSG, params={"ips": ["198.51.100.7"], "priority_from": 300})
    verify = sandbox.run("network.block_ips", "verify", target=NSG, params={"ips": ["198.51.100.7"]}, applied=answer["result"])
    assert not verify["ok"]
    shadow = [c for c in verify["result"]["checks"] if not c["ok"]]
    assert shadow and "allow-https-from-gateway" in shadow[0]["detail"]


def test_block_ips_undo_refuses_when_its_rule_changed(sandbox):
    first = sandbox.run("network.block_ips", "apply", target=NSG, params={"ips": ["203.0.113.77"]})
    rule = first["result"]["artifacts"]["rules"][0]
    network = sandbox.clients.network(sandbox.tenant.subscription_id)
    current = next(r for r in sandbox.tenant.resource(NSG)["properties"]["securityRules"] if r["name"] == rule["name"])
    props = {k: v for k, v in current["properties"].items() if k != "provisioningState"}
    network.security_rules.begin_create_or_update("rg-ai-prod", "nsg-ai-apps", rule["name"], {"properties": {**props, "priority": 150}}).result()
    undo = sandbox.run("network.block_ips", "undo", target=NSG, params={"ips": ["203.0.113.77"]}, applied=first["result"])
    assert undo["error"]["kind"] == "conflict" and rule["name"] in undo["error"]["message"]
    assert any(r["name"] == rule["name"] for r in sandbox.tenant.resource(NSG)["properties"]["securityRules"])


def test_block_ips_wrong_target_names_the_fix(sandbox):
    answer = sandbox.run("network.block_ips", "plan", target=ACCOUNT, params={"ips": ["203.0.113.77"]})
    assert answer["error"]["kind"] == "invalid" and "networkSecurityGroups" in answer["error"]["message"]


def test_block_ips_finishes_after_a_crash_half_way(sandbox):
    params = {"ips": ["203.0.113.77", "203.0.113.78"]}
    sandbox.tenant.inject_fault("securityRules.createOrUpdate", status=403, nth=2)
    first = sandbox.run("network.block_ips", "apply", target=NSG, params=params)
    assert first["error"]["kind"] == "forbidden"
    retry = sandbox.run("network.block_ips", "apply", target=NSG, params=params)
    assert retry["ok"] and retry["result"]["changed"]
    assert sorted(r["priority"] for r in retry["result"]["artifacts"]["rules"]) == [100, 101]  # both owned, for undo
    assert sandbox.run("network.block_ips", "verify", target=NSG, params=params, applied=retry["result"])["ok"]


# identity.revoke_role_assignment specifics ---------------------------------------------

def test_revoke_role_assignment_removes_only_the_principals_roles_on_the_account(sandbox):
    answer = sandbox.run("identity.revoke_role_assignment", "apply", params={"principal_id": CHATBOT})
    assert answer["ok"], answer
    left = assignments_of(sandbox.tenant, CHATBOT)
    assert [a["properties"]["scope"] for a in left] == [SUB + "/resourceGroups/rg-ai-prod"]  # inherited Reader stays
    assert "inherited" in answer["result"]["summary"]
    assert assignments_of(sandbox.tenant, ALICE) and assignments_of(sandbox.tenant, AUTOMATION)


def test_revoke_role_assignment_only_the_roles_asked(sandbox):
    answer = sandbox.run("identity.revoke_role_assignment", "apply",
                         params={"principal_id": CHATBOT, "roles": ["5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"]})
    assert len(answer["result"]["artifacts"]["removed"]) == 1
    roles = {a["properties"]["roleDefinitionId"][-36:] for a in assignments_of(sandbox.tenant, CHATBOT)}
    assert "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd" not in roles and "a97b65f3-24c7-4388-baec-2e87135dc908" in roles


@pytest.mark.parametrize("configured", [None, ALICE])
def test_revoke_role_assignment_never_removes_the_automations_own_access(sandbox, configured):
    if configured:
        sandbox.settings = sandbox.settings.model_copy(update={"automation_principal_id": configured})
    principal = configured or AUTOMATION  # the configured id, or the token's own object id
    before = world(sandbox.tenant)
    answer = sandbox.run("identity.revoke_role_assignment", "apply", params={"principal_id": principal.upper()})
    assert answer["error"]["kind"] == "invalid" and "own" in answer["error"]["message"]
    assert world(sandbox.tenant) == before and not writes(sandbox.tenant)


def test_revoke_role_assignment_undo_refuses_when_roles_changed_since(sandbox):
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    first = sandbox.run("identity.revoke_role_assignment", "apply", params={"principal_id": CHATBOT})
    sandbox.clients.authorization(sandbox.tenant.subscription_id).role_assignments.create(
        ACCOUNT, "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", RoleAssignmentCreateParameters(
            role_definition_id=SUB + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            principal_id=CHATBOT))
    undo = sandbox.run("identity.revoke_role_assignment", "undo", params={"principal_id": CHATBOT}, applied=first["result"])
    assert undo["error"]["kind"] == "conflict" and "changed after the step" in undo["error"]["message"]


def test_revoke_role_assignment_bad_principal_names_the_field(sandbox):
    answer = sandbox.run("identity.revoke_role_assignment", "plan", params={"principal_id": "svc-chatbot"})
    assert answer["error"]["kind"] == "invalid" and "params.principal_id" in answer["error"]["message"]


# auth.disable_local_auth / keys.revoke specifics -----------------------------------------

def test_disable_local_auth_undo_refuses_when_changed_since(sandbox):
    first = sandbox.run("auth.disable_local_auth", "apply")
    from runbooks.arm import patch_account
    from runbooks.base import RunContext
    from runbooks.targets import account_ref

    patch_account(RunContext(clients=sandbox.clients, settings=sandbox.settings), account_ref(ACCOUNT), {"disableLocalAuth": False})
    undo = sandbox.run("auth.disable_local_auth", "undo", applied=first["result"])
    assert undo["ok"] and not undo["result"]["changed"]  # already as before: nothing to do
    sandbox.run("auth.disable_local_auth", "apply")
    refused = sandbox.run("auth.disable_local_auth", "undo", applied={**first["result"], "before": {"disableLocalAuth": "(absent)"}})
    assert refused["ok"] and refused["result"]["changed"]  # restores "absent" by removing the property
    assert "disableLocalAuth" not in sandbox.tenant.resource(ACCOUNT)["properties"]


def test_keys_revoke_regenerates_both_and_cuts_consumers_over(sandbox):
    old = sandbox.tenant.account_keys(ACCOUNT)
    versions = len(sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key"))
    plan = sandbox.run("keys.revoke", "plan")
    assert plan["ok"] and [c["field"] for c in plan["result"]["changes"]][:2] == ["keys.Key1", "keys.Key2"]
    assert sandbox.tenant.account_keys(ACCOUNT) == old and not writes(sandbox.tenant)
    first = sandbox.run("keys.revoke", "apply")
    assert first["ok"] and first["result"]["changed"], first
    new = sandbox.tenant.account_keys(ACCOUNT)
    assert new["key1"] != old["key1"] and new["key2"] != old["key2"]
    stored = sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key")
    assert len(stored) == versions + 1 and stored[-1]["value"] == new["key1"]  # consumers used Key1
    assert sandbox.run("keys.revoke", "verify", applied=first["result"])["ok"]
    second = sandbox.run("keys.revoke", "apply")
    assert second["ok"] and not second["result"]["changed"]
    assert sandbox.tenant.account_keys(ACCOUNT) == new and len(sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key")) == versions + 1
    assert sandbox.run("keys.revoke", "verify", applied=second["result"])["ok"]
    undo = sandbox.run("keys.revoke", "undo", applied=first["result"])
    assert undo["error"]["kind"] == "invalid" and "cannot be undone" in undo["error"]["message"]
    text = json.dumps([plan, first, second, undo])
    assert not any(v in text for v in sandbox.tenant.issued_key_values())


def test_keys_revoke_stores_only_values_from_the_regenerate_response(sandbox):
    sandbox.run("keys.revoke", "apply")
    ops = [r.operation for r in sandbox.tenant.requests]
    regen = [i for i, op in enumerate(ops) if op == "accounts.regenerateKey"]
    stored = ops.index("secrets.set")
    assert len(regen) == 2 and regen[-1] < stored
    assert "accounts.listKeys" not in ops[regen[-1]:stored]  # nothing read between the last regenerate and the store


def test_keys_revoke_retry_after_a_crash_still_ends_revoked(sandbox):
    old = sandbox.tenant.account_keys(ACCOUNT)
    sandbox.tenant.inject_fault("accounts.regenerateKey", status=403, nth=2)
    first = sandbox.run("keys.revoke", "apply")
    assert first["error"]["kind"] == "forbidden"
    retry = sandbox.run("keys.revoke", "apply")
    assert retry["ok"]
    new = sandbox.tenant.account_keys(ACCOUNT)
    assert new["key1"] != old["key1"] and new["key2"] != old["key2"]
    assert sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key")[-1]["value"] == new["key1"]


# evidence.snapshot_config ------------------------------------------------------------------

def test_snapshot_config_keeps_the_arm_json_before_any_change(sandbox):
    original = sandbox.tenant.resource(ACCOUNT)
    plan = sandbox.run("evidence.snapshot_config", "plan", params={"also": [NSG]})
    assert plan["ok"] and plan["result"]["before"]["resources"] == [ACCOUNT, NSG] and not sandbox.tenant.requests
    first = sandbox.run("evidence.snapshot_config", "apply", params={"also": [NSG]})
    assert first["ok"], first
    item = first["result"]["artifacts"]["evidence"]
    rows = [json.loads(line) for line in (sandbox.settings.evidence_dir / "inc-test" / item["path"]).read_text().splitlines()]
    assert [(r["resource_id"], r["part"]) for r in rows] == [
        (ACCOUNT, "resource"), (ACCOUNT, "deployments"), (ACCOUNT, "roleAssignments"), (NSG, "resource")]
    assert rows[0]["json"] == original
    assert {a["name"] for a in rows[2]["json"]} >= {"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}
    assert sandbox.run("evidence.snapshot_config", "verify", applied=first["result"])["ok"]
    sandbox.run("network.lock", "apply")  # containment changes the account ...
    second = sandbox.run("evidence.snapshot_config", "apply", params={"also": [NSG]})
    assert second["ok"] and second["result"]["artifacts"]["evidence"] == item  # ... the "before" evidence is kept
    undo = sandbox.run("evidence.snapshot_config", "undo", applied=first["result"])
    assert undo["ok"] and not undo["result"]["changed"]


def test_snapshot_config_rejects_unsupported_resources(sandbox):
    answer = sandbox.run("evidence.snapshot_config", "plan", params={"also": [SUB + "/resourceGroups/rg-ai-prod"]})
    assert answer["error"]["kind"] == "invalid" and "params.also" in answer["error"]["message"]


# evidence.snapshot_logs paging -------------------------------------------------------------

WINDOW = {"window_start": "2026-11-29T02:59:00+00:00", "window_end": "2026-11-29T03:14:00+00:00"}


def test_snapshot_logs_in_pages_keeps_the_same_rows_once_each(sandbox):
    from runbooks.evidence import pages

    one = sandbox.run("evidence.snapshot_logs", "apply", alert=WINDOW, step_id="one-page")
    paged = sandbox.run("evidence.snapshot_logs", "apply", alert=WINDOW, step_id="paged", params={"page_minutes": 4})
    assert one["ok"] and paged["ok"], paged
    assert paged["result"]["artifacts"]["evidence"]["source"]["pages"] == 4  # 15 minutes in pages of 4
    assert [r.operation for r in sandbox.tenant.requests].count("logs.query") == 1 + 4
    read = lambda a: (sandbox.settings.evidence_dir / "inc-test" / a["result"]["artifacts"]["evidence"]["path"]).read_text()  # noqa: E731
    assert read(one) == read(paged) and read(one).count("\n") > 100
    capped = sandbox.run("evidence.snapshot_logs", "apply", alert=WINDOW, step_id="capped", params={"page_minutes": 4, "max_rows": 7})
    assert capped["result"]["artifacts"]["evidence"]["rows"] == 7
    from datetime import datetime, timezone

    t0, t1 = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 1, 0, 10, tzinfo=timezone.utc)
    assert [(a.minute, b.minute) for a, b in pages(t0, t1, 4)] == [(0, 4), (4, 8), (8, 10)]
    assert pages(t0, t1, 10) == [(t0, t1)]


def test_keys_rotate_still_verifies_after_a_later_rotation_moved_consumers_to_the_other_key(sandbox):
    """New-user trial 8: an incident's rotate-keys, verified after another incident rotated the same account again
    (consumers cut over to Key1), said "✘ consumers' secret holds a live key" — the secret held a live key, just not
    the one this rotation chose. Live means either current key of the account (as keys.revoke checks); a secret
    holding a revoked key still fails."""
    first = sandbox.run("keys.rotate", "apply", incident_id="inc-first", step_id="rotate-keys")
    assert first["ok"] and first["result"]["changed"], first
    later = sandbox.run("keys.rotate", "apply", incident_id="inc-later", step_id="rotate-keys")
    assert later["ok"] and later["result"]["changed"], later
    assert later["result"]["artifacts"]["key_in_use"] != first["result"]["artifacts"]["key_in_use"]
    verified = sandbox.run("keys.rotate", "verify", applied=first["result"], incident_id="inc-first", step_id="rotate-keys")
    checks = {c["name"]: c["ok"] for c in verified["result"]["checks"]}
    assert checks["consumers' secret holds a live key"] is True and verified["ok"], verified
    # a secret that holds no current key of the account (set by hand, through the Key Vault SDK) is still caught
    from azure.keyvault.secrets import SecretClient

    from .conftest import VAULT

    SecretClient(VAULT, sandbox.tenant.credential, transport=sandbox.tenant.transport).set_secret(
        "openai-api-key", "not-a-key-of-this-account")
    stale = sandbox.run("keys.rotate", "verify", applied=first["result"], incident_id="inc-first", step_id="rotate-keys")
    assert {c["name"]: c["ok"] for c in stale["result"]["checks"]}["consumers' secret holds a live key"] is False
