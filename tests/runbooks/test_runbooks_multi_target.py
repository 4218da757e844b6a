"""One step, several targets: the orchestrator runs a step once per target with the same incident and
step id. Markers, evidence names and verifications must be per target, and two accounts never share
(or overwrite) one consumers' secret."""

from __future__ import annotations

import json

import pytest

from .conftest import ACCOUNT, DEV_ACCOUNT, DEV_SECRET, VAULT, Sandbox, two_account_seed

INCIDENT, STEP = "inc-multi", "rotate-keys"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
NSG = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"
DEV_NSG = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-dev"


@pytest.fixture
def two(tmp_path) -> Sandbox:
    """Prod with the settings' secret, dev tagged with its own secret."""
    return Sandbox(tmp_path, seed=two_account_seed(tmp_path / "tenant.yaml"))


def run(sb: Sandbox, runbook: str, action: str, target: str, **kw) -> dict:
    return sb.run(runbook, action, target=target, incident_id=INCIDENT, step_id=kw.pop("step_id", STEP), **kw)


def secret_values(sb: Sandbox, name: str) -> list[str]:
    return [v["value"] for v in sb.tenant.secret_versions("kv-contoso-ai", name)]


@pytest.mark.parametrize("runbook", ["keys.rotate", "keys.revoke"])
def test_same_step_on_two_accounts_changes_both_and_each_verify_reads_its_own_account(two, runbook):
    old = {t: two.tenant.account_keys(t) for t in (ACCOUNT, DEV_ACCOUNT)}
    answers = {t: run(two, runbook, "apply", t) for t in (ACCOUNT, DEV_ACCOUNT)}
    for target, answer in answers.items():
        assert answer["ok"] and answer["result"]["changed"], answer
        new = two.tenant.account_keys(target)
        assert new["key1"] != old[target]["key1"] and new["key2"] != old[target]["key2"], target
        assert answer["result"]["before"]["account"] == target
    in_use = {"keys.rotate": "key2", "keys.revoke": "key1"}[runbook]
    assert secret_values(two, "openai-api-key")[-1] == two.tenant.account_keys(ACCOUNT)[in_use]
    assert secret_values(two, DEV_SECRET)[-1] == two.tenant.account_keys(DEV_ACCOUNT)[in_use]
    assert answers[DEV_ACCOUNT]["result"]["artifacts"]["secret_source"] == "account tag firestop-key-secret"
    for target in (ACCOUNT, DEV_ACCOUNT):
        verify = run(two, runbook, "verify", target, applied=answers[target]["result"])
        assert verify["ok"], verify
        assert run(two, runbook, "apply", target)["result"]["changed"] is False  # each account's marker is its own


@pytest.mark.parametrize("runbook", ["keys.rotate", "keys.revoke"])
def test_verify_handed_another_accounts_result_fails(two, runbook):
    prod = run(two, runbook, "apply", ACCOUNT)
    verify = run(two, runbook, "verify", DEV_ACCOUNT, applied=prod["result"])
    assert not verify["ok"]
    failed = {c["name"] for c in verify["result"]["checks"] if not c["ok"]}
    # dev's keys differ from prod's old fingerprints, which proves nothing: no revocation is claimed
    assert {"before-state is this account's", "old Key1 revoked", "old Key2 revoked"} <= failed


@pytest.mark.parametrize("runbook", ["keys.rotate", "keys.revoke"])
def test_an_account_without_its_own_secret_is_refused_and_never_overwrites_another_accounts(sandbox, runbook):
    """The tester's case on the default tenant: dev has no tag, so it falls back to the settings' secret,
    which holds prod's key. Before: dev saw prod's marker, did nothing and verified. Now: refused, named fix."""
    dev_keys = sandbox.tenant.account_keys(DEV_ACCOUNT)
    for first in (DEV_ACCOUNT, ACCOUNT, DEV_ACCOUNT):  # dev before and after prod's rotation
        stored = secret_values(sandbox, "openai-api-key")
        answer = run(sandbox, runbook, "apply", first)
        if first == ACCOUNT:
            assert answer["ok"] and answer["result"]["changed"], answer
            continue
        assert not answer["ok"] and answer["error"]["kind"] == "invalid", answer
        message = answer["error"]["message"]
        assert "firestop-key-secret" in message and "contoso-openai-dev" in message
        assert ("another account" in message) or ("neither of contoso-openai-dev's keys" in message)
        assert sandbox.tenant.account_keys(DEV_ACCOUNT) == dev_keys
        assert secret_values(sandbox, "openai-api-key") == stored  # prod's consumers keep their key
    plan = run(sandbox, runbook, "plan", DEV_ACCOUNT)
    assert plan["error"]["kind"] == "invalid" and "holds the key of another account" in plan["error"]["message"]
    assert not any(v in json.dumps(plan) for v in sandbox.tenant.issued_key_values())


def test_two_accounts_tagged_with_the_same_secret_the_second_is_refused(tmp_path):
    seed = two_account_seed(tmp_path / "tenant.yaml", dev_secret=False)
    text = seed.read_text().replace("tags:\n    environment: development",
                                    f"tags:\n    environment: development\n    firestop-key-secret: {VAULT}/secrets/openai-api-key")
    seed.write_text(text)
    sb = Sandbox(tmp_path, seed=seed)
    dev_keys = sb.tenant.account_keys(DEV_ACCOUNT)
    assert run(sb, "keys.rotate", "apply", ACCOUNT)["ok"]
    stored = secret_values(sb, "openai-api-key")
    answer = run(sb, "keys.rotate", "apply", DEV_ACCOUNT)
    assert answer["error"]["kind"] == "invalid" and ACCOUNT.lower() in answer["error"]["message"]
    assert "account tag firestop-key-secret" in answer["error"]["message"]
    assert sb.tenant.account_keys(DEV_ACCOUNT) == dev_keys and secret_values(sb, "openai-api-key") == stored


def test_secret_from_params_overrides_the_tag_and_a_bad_tag_names_the_fix(two, tmp_path):
    answer = run(two, "keys.rotate", "plan", DEV_ACCOUNT, params={"secret_name": "dev-consumers"})
    assert answer["ok"], answer
    assert answer["result"]["before"]["secret_name"] == "dev-consumers" and answer["result"]["before"]["secret_version"] is None
    seed = two_account_seed(tmp_path / "bad.yaml").read_text().replace(f"{VAULT}/secrets/{DEV_SECRET}", "kv-contoso-ai/openai-api-key-dev")
    (tmp_path / "bad.yaml").write_text(seed)
    bad = Sandbox(tmp_path, seed=tmp_path / "bad.yaml")
    refused = run(bad, "keys.rotate", "plan", DEV_ACCOUNT)
    assert refused["error"]["kind"] == "invalid"
    assert "account tag firestop-key-secret of contoso-openai-dev" in refused["error"]["message"]
    assert "https://<vault-name>.vault.azure.net/secrets/<secret-name>" in refused["error"]["message"]


def test_a_versioned_secret_id_in_the_tag_names_the_secret(tmp_path):
    seed = two_account_seed(tmp_path / "tenant.yaml")
    seed.write_text(seed.read_text().replace(f"{VAULT}/secrets/{DEV_SECRET}", f"{VAULT}/secrets/{DEV_SECRET}/{'0' * 32}"))
    sb = Sandbox(tmp_path, seed=seed)
    answer = run(sb, "keys.rotate", "apply", DEV_ACCOUNT)
    assert answer["ok"], answer
    assert secret_values(sb, DEV_SECRET)[-1] == sb.tenant.account_keys(DEV_ACCOUNT)["key2"]


def test_the_marker_names_the_account(two):
    from runbooks.keys import TAG_ACCOUNT, account_marker
    from runbooks.targets import account_ref

    run(two, "keys.rotate", "apply", DEV_ACCOUNT)
    tags = two.clients.secrets(VAULT).get_secret(DEV_SECRET).properties.tags
    assert tags[TAG_ACCOUNT] == DEV_ACCOUNT.lower() and tags["firestop-step"] == STEP
    long_ref = account_ref(DEV_ACCOUNT.replace("rg-ai-dev", "rg-" + "x" * 88).replace("contoso-openai-dev", "a" * 64))
    marker = account_marker(long_ref)
    assert marker.startswith("sha256:") and len(marker) <= 256


def test_revoke_retry_after_a_crash_on_the_settings_secret_still_finishes(sandbox):
    """The crash leaves the settings' secret with a dead key of this account and no marker: the ledger shows
    this step already tried this account, so the retry is not mistaken for another account's secret."""
    sandbox.tenant.inject_fault("accounts.regenerateKey", status=403, nth=2)
    assert run(sandbox, "keys.revoke", "apply", ACCOUNT)["error"]["kind"] == "forbidden"
    other_step = run(sandbox, "keys.revoke", "apply", ACCOUNT, step_id="another-step")
    assert other_step["error"]["kind"] == "invalid" and "neither of contoso-openai-prod's keys" in other_step["error"]["message"]
    retry = run(sandbox, "keys.revoke", "apply", ACCOUNT)
    assert retry["ok"] and retry["result"]["changed"], retry
    assert secret_values(sandbox, "openai-api-key")[-1] == sandbox.tenant.account_keys(ACCOUNT)["key1"]


# evidence --------------------------------------------------------------------------------

WINDOW = {"window_start": "2026-11-29T02:30:00+00:00", "window_end": "2026-11-29T03:14:00+00:00"}


@pytest.mark.parametrize("runbook", ["evidence.snapshot_logs", "evidence.snapshot_config"])
def test_evidence_of_two_targets_in_one_step_keeps_both(sandbox, runbook):
    from firestop.evidence import EvidenceStore

    answers = {t: run(sandbox, runbook, "apply", t, alert=WINDOW, step_id="snapshot") for t in (ACCOUNT, DEV_ACCOUNT)}
    items = {t: a["result"]["artifacts"]["evidence"] for t, a in answers.items()}
    assert all(a["ok"] for a in answers.values()), answers
    assert items[ACCOUNT]["path"] != items[DEV_ACCOUNT]["path"]
    assert "contoso-openai-prod" in items[ACCOUNT]["path"] and "contoso-openai-dev" in items[DEV_ACCOUNT]["path"]
    store = EvidenceStore(sandbox.settings.evidence_dir)
    manifest = {i.path: i for i in store.manifest(INCIDENT)}
    assert set(manifest) == {items[ACCOUNT]["path"], items[DEV_ACCOUNT]["path"]}
    for target, item in items.items():
        assert manifest[item["path"]].sha256 == item["sha256"] and store.check(INCIDENT, manifest[item["path"]])
        assert item["source"]["target"] == target
        rows = [json.loads(line) for line in (store.folder(INCIDENT) / item["path"]).read_text().splitlines()]
        assert {(r.get("ResourceId") or r.get("resource_id")).lower() for r in rows} <= {target.lower()}
        assert run(sandbox, runbook, "verify", target, applied=answers[target]["result"], step_id="snapshot")["ok"]
        again = run(sandbox, runbook, "apply", target, alert=WINDOW, step_id="snapshot")
        assert again["result"]["artifacts"]["evidence"] == item  # each target reuses its own item


def test_evidence_names_are_per_resource_id():
    from runbooks.evidence import evidence_name

    other_rg = ACCOUNT.replace("rg-ai-prod", "rg-other")
    assert evidence_name("arm-config", ACCOUNT) == evidence_name("arm-config", ACCOUNT.lower() + "/")
    assert evidence_name("arm-config", ACCOUNT) != evidence_name("arm-config", other_rg)
    assert evidence_name("arm-config", ACCOUNT).startswith("arm-config-contoso-openai-prod-")


# network.block_ips -----------------------------------------------------------------------

def test_block_ips_on_two_nsgs_in_one_step_each_keeps_and_undoes_its_own_rules(tmp_path):
    sb = Sandbox(tmp_path, seed=two_account_seed(tmp_path / "tenant.yaml", dev_nsg=True))
    params = {"ips": ["203.0.113.77"]}
    first = {t: run(sb, "network.block_ips", "apply", t, params=params, step_id="block") for t in (NSG, DEV_NSG)}
    assert all(a["ok"] and a["result"]["changed"] for a in first.values()), first
    names = lambda t: {r["name"] for r in sb.tenant.resource(t)["properties"]["securityRules"]}  # noqa: E731
    assert "firestop-inc-multi-203.0.113.77_32" in names(NSG) & names(DEV_NSG)
    for target in (NSG, DEV_NSG):
        assert run(sb, "network.block_ips", "verify", target, params=params, applied=first[target]["result"], step_id="block")["ok"]
    undo = run(sb, "network.block_ips", "undo", DEV_NSG, params=params, applied=first[DEV_NSG]["result"], step_id="block")
    assert undo["ok"] and undo["result"]["changed"]
    assert names(DEV_NSG) == set() and "firestop-inc-multi-203.0.113.77_32" in names(NSG)


def test_block_ips_a_second_step_is_verified_on_the_rule_that_already_denies(sandbox):
    for ips, priority, verified in ((["203.0.113.77"], 100, True), (["198.51.100.7"], 300, False)):  # 300: shadowed by the allow at 200
        params = {"ips": ips, "priority_from": priority}
        first = run(sandbox, "network.block_ips", "apply", NSG, params=params, step_id="block-a")
        second = run(sandbox, "network.block_ips", "apply", NSG, params=params, step_id="block-b")
        assert second["ok"] and not second["result"]["changed"] and second["result"]["artifacts"]["rules"] == []
        assert second["result"]["artifacts"]["denied_by"] == first["result"]["artifacts"]["rules"]
        verify = run(sandbox, "network.block_ips", "verify", NSG, params=params, applied=second["result"], step_id="block-b")
        assert verify["ok"] is verified, verify  # never vacuously true
        assert any(first["result"]["artifacts"]["rules"][0]["name"] in c["name"] for c in verify["result"]["checks"])
        undo = run(sandbox, "network.block_ips", "undo", NSG, params=params, applied=second["result"], step_id="block-b")
        assert undo["ok"] and not undo["result"]["changed"]  # block-a's rule stays
