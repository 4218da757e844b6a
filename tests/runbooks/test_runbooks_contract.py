"""Each runbook on the sandbox through the real SDK clients: plan, apply, verify, idempotency, undo, faults."""

from __future__ import annotations

import json

from runbooks import get_runbook, runbook_names

from .conftest import ACCOUNT

WINDOW = {"window_start": "2026-11-29T02:59:00+00:00", "window_end": "2026-11-29T03:14:00+00:00"}


def mutating_requests(tenant) -> list:
    return [r for r in tenant.requests if r.method in ("PUT", "PATCH", "POST", "DELETE") and r.operation not in ("accounts.listKeys", "logs.query")]


def test_registry_lists_runbooks_with_summary_and_permissions():
    for name in runbook_names():
        cls = type(get_runbook(name))
        assert cls.summary and cls.name == name
    assert "Microsoft.CognitiveServices/accounts/regenerateKey/action" in type(get_runbook("keys.rotate")).permissions


# network.lock ----------------------------------------------------------------

def test_network_lock_plan_changes_nothing(sandbox):
    before = sandbox.tenant.resource(ACCOUNT)
    answer = sandbox.run("network.lock", "plan")
    assert answer["ok"], answer
    change = answer["result"]["changes"][0]
    assert change["field"] == "properties.networkAcls"
    assert change["after"]["defaultAction"] == "Deny" and change["after"]["ipRules"] == [{"value": "198.51.100.0/24"}]
    assert sandbox.tenant.resource(ACCOUNT) == before
    assert not mutating_requests(sandbox.tenant)


def test_network_lock_apply_verify_twice_and_undo_byte_for_byte(sandbox):
    original = sandbox.tenant.resource(ACCOUNT)["properties"]
    first = sandbox.run("network.lock", "apply")
    assert first["ok"] and first["result"]["changed"]
    verify = sandbox.run("network.lock", "verify", applied=first["result"])
    assert verify["ok"], verify
    second = sandbox.run("network.lock", "apply")
    assert second["ok"] and not second["result"]["changed"]
    undo = sandbox.run("network.lock", "undo", applied=first["result"])
    assert undo["ok"] and undo["result"]["changed"], undo
    restored = sandbox.tenant.resource(ACCOUNT)["properties"]
    assert json.dumps(restored["networkAcls"], sort_keys=True) == json.dumps(original["networkAcls"], sort_keys=True)
    assert restored["publicNetworkAccess"] == original["publicNetworkAccess"]


def test_network_lock_disable_public_access_mode(sandbox):
    answer = sandbox.run("network.lock", "apply", params={"mode": "disable_public_access"})
    assert answer["ok"]
    assert sandbox.tenant.resource(ACCOUNT)["properties"]["publicNetworkAccess"] == "Disabled"
    assert sandbox.run("network.lock", "verify", params={"mode": "disable_public_access"}, applied=answer["result"])["ok"]


def test_network_lock_undo_refuses_when_target_changed_since(sandbox):
    first = sandbox.run("network.lock", "apply")
    sandbox.run("network.lock", "apply", params={"mode": "deny_by_default", "allow_ips": ["192.0.2.1"]})
    undo = sandbox.run("network.lock", "undo", applied=first["result"])
    assert not undo["ok"] and undo["error"]["kind"] == "conflict"
    assert "changed after the lock" in undo["error"]["message"]


def test_network_lock_bad_params_name_the_field(sandbox):
    answer = sandbox.run("network.lock", "plan", params={"allow_ips": ["not-an-ip"]})
    assert not answer["ok"] and answer["error"]["kind"] == "invalid"
    assert "params.allow_ips" in answer["error"]["message"] and "not-an-ip" in answer["error"]["message"]
    wrong_target = sandbox.run("network.lock", "plan", target="/subscriptions/x/resourceGroups/y")
    assert wrong_target["error"]["kind"] == "invalid" and "Microsoft.CognitiveServices/accounts" in wrong_target["error"]["message"]


def test_network_lock_forbidden_names_the_permission(sandbox):
    sandbox.tenant.inject_fault("accounts.update", status=403)
    answer = sandbox.run("network.lock", "apply")
    assert answer["error"]["kind"] == "forbidden"
    assert answer["error"]["permission"] == "Microsoft.CognitiveServices/accounts/write"


def test_network_lock_missing_account_is_not_found(sandbox):
    answer = sandbox.run("network.lock", "plan", target=ACCOUNT.replace("contoso-openai-prod", "nope"))
    assert answer["error"]["kind"] == "not_found"


# keys.rotate -----------------------------------------------------------------

def test_keys_rotate_plan_changes_nothing(sandbox):
    keys = sandbox.tenant.account_keys(ACCOUNT)
    answer = sandbox.run("keys.rotate", "plan")
    assert answer["ok"], answer
    fields = [c["field"] for c in answer["result"]["changes"]]
    assert fields[0] == "keys.Key2" and fields[-1] == "keys.Key1"  # Key1 is in use: the spare goes first
    assert sandbox.tenant.account_keys(ACCOUNT) == keys
    assert not [r for r in sandbox.tenant.requests if r.operation in ("accounts.regenerateKey", "secrets.set")]


def test_keys_rotate_apply_verify_and_apply_twice_is_a_no_op(sandbox):
    old = sandbox.tenant.account_keys(ACCOUNT)
    first = sandbox.run("keys.rotate", "apply")
    assert first["ok"] and first["result"]["changed"], first
    new = sandbox.tenant.account_keys(ACCOUNT)
    assert new["key1"] != old["key1"] and new["key2"] != old["key2"]
    versions = sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key")
    assert versions[-1]["value"] == new["key2"]
    assert sandbox.run("keys.rotate", "verify", applied=first["result"])["ok"]
    second = sandbox.run("keys.rotate", "apply")
    assert second["ok"] and not second["result"]["changed"]
    assert sandbox.tenant.account_keys(ACCOUNT) == new
    assert len(sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key")) == len(versions)


def test_keys_rotate_finishes_after_a_crash_half_way(sandbox):
    # The second regenerateKey (the key in use) fails for good: consumers are already cut over.
    sandbox.tenant.inject_fault("accounts.regenerateKey", status=403, nth=2)
    first = sandbox.run("keys.rotate", "apply")
    assert not first["ok"] and first["error"]["kind"] == "forbidden"
    middle = sandbox.tenant.account_keys(ACCOUNT)
    versions = len(sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key"))
    retry = sandbox.run("keys.rotate", "apply")
    assert retry["ok"], retry
    final = sandbox.tenant.account_keys(ACCOUNT)
    assert final["key2"] == middle["key2"]  # the spare is not rotated a second time
    assert final["key1"] != middle["key1"]
    assert len(sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key")) == versions
    assert sandbox.run("keys.rotate", "verify", applied=retry["result"])["ok"]


def test_keys_rotate_absorbs_a_retried_post(sandbox):
    sandbox.tenant.inject_fault("accounts.regenerateKey", status=500)
    answer = sandbox.run("keys.rotate", "apply")
    assert answer["ok"], answer
    keys = sandbox.tenant.account_keys(ACCOUNT)
    assert sandbox.tenant.secret_versions("kv-contoso-ai", "openai-api-key")[-1]["value"] == keys["key2"]


def test_keys_rotate_cannot_be_undone(sandbox):
    first = sandbox.run("keys.rotate", "apply")
    undo = sandbox.run("keys.rotate", "undo", applied=first["result"])
    assert not undo["ok"] and "cannot be undone" in undo["error"]["message"]


def test_keys_rotate_never_returns_a_key_value(sandbox):
    answers = [sandbox.run("keys.rotate", a) for a in ("plan", "apply")]
    answers.append(sandbox.run("keys.rotate", "verify", applied=answers[1]["result"]))
    text = json.dumps(answers)
    for value in sandbox.tenant.issued_key_values():
        assert value not in text
    assert all(not a["redacted"] for a in answers)  # nothing had to be scrubbed


def test_dispatcher_scrubs_a_leaking_runbook(sandbox):
    from runbooks.base import Applied, RunContext, Runbook
    from runbooks.registry import _REGISTRY

    class Leaky(Runbook):
        name = "test.leaky"
        summary = "returns a key (a bug)"

        def apply(self, ctx: RunContext, target, params):
            key = sandbox.tenant.account_keys(ACCOUNT)["key1"]
            ctx.register_secret(key)
            return Applied(runbook=self.name, target=target, changed=False, before={"k": key}, after={}, summary=key)

    _REGISTRY["test.leaky"] = Leaky
    try:
        answer = sandbox.run("test.leaky", "apply")
    finally:
        del _REGISTRY["test.leaky"]
    assert answer["redacted"]
    assert sandbox.tenant.account_keys(ACCOUNT)["key1"] not in json.dumps(answer)


# evidence.snapshot_logs --------------------------------------------------------

def test_snapshot_logs_writes_hashed_evidence_of_the_window(sandbox):
    plan = sandbox.run("evidence.snapshot_logs", "plan", alert=WINDOW)
    assert plan["ok"] and "AzureDiagnostics" in plan["result"]["before"]["query"]
    answer = sandbox.run("evidence.snapshot_logs", "apply", alert=WINDOW)
    assert answer["ok"], answer
    item = answer["result"]["artifacts"]["evidence"]
    assert item["rows"] > 0 and item["source"]["window"] == ["2026-11-29T02:59:00+00:00", "2026-11-29T03:14:00+00:00"]
    path = sandbox.settings.evidence_dir / "inc-test" / item["path"]
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert all("2026-11-29T02:59" <= r["TimeGenerated"] <= "2026-11-29T03:14:00" for r in rows)
    assert {r["ResourceId"].lower() for r in rows} == {ACCOUNT.lower()}
    assert sandbox.run("evidence.snapshot_logs", "verify", alert=WINDOW, applied=answer["result"])["ok"]
    path.write_text("tampered\n")
    assert not sandbox.run("evidence.snapshot_logs", "verify", alert=WINDOW, applied=answer["result"])["ok"]


def test_snapshot_logs_needs_a_workspace(sandbox):
    sandbox.settings = sandbox.settings.model_copy(update={"log_workspace_id": None})
    answer = sandbox.run("evidence.snapshot_logs", "apply", alert=WINDOW)
    assert answer["error"]["kind"] == "invalid" and "FIRESTOP_LOG_WORKSPACE_ID" in answer["error"]["message"]
    bad = sandbox.run("evidence.snapshot_logs", "apply", alert=WINDOW, params={"workspace_id": "x'; drop"})
    assert bad["error"]["kind"] == "invalid" and "params.workspace_id" in bad["error"]["message"]
