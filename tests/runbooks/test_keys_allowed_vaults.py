"""RT3-04: keys.rotate / keys.revoke write a key only to an allowed vault (FIRESTOP_KEY_VAULT_URL's or
FIRESTOP_KEY_VAULT_ALLOWED_URLS), check a tag-named secret's ownership like the settings default, and never
create a secret named by the account's firestop-key-secret tag — each refusal before any regeneration."""

from __future__ import annotations

import pytest
import yaml

from .conftest import DEV_ACCOUNT, VAULT, Sandbox

INCIDENT, STEP = "inc-vaults", "rotate-keys"
OTHER = "https://kv-other.vault.azure.net"


def seed(tmp_path, tag: str, *, other_secret: bool = True, stray: bool = False):
    """Default tenant plus a vault kv-other (holding dev's Key1 as ``dev-key`` when ``other_secret``), the dev account
    tagged firestop-key-secret=``tag``; ``stray``: kv-contoso-ai also holds ``stray``, a value of no account."""
    from firestop.sandbox.seed import read_seed_file

    spec = read_seed_file()
    dev = next(a for a in spec["accounts"] if a["name"] == "contoso-openai-dev")
    dev["tags"] = {**dev.get("tags", {}), "firestop-key-secret": tag}
    secrets = [{"name": "dev-key", "value_from": {"account": "contoso-openai-dev", "key": "key1"}}] if other_secret else []
    spec["vaults"].append({"name": "kv-other", "resource_group": "rg-ai-dev", "location": "swedencentral",
                           "properties": {"enableRbacAuthorization": True}, "secrets": secrets})
    if stray:
        spec["vaults"][0]["secrets"].append({"name": "stray", "value": "not-a-key-of-any-account"})
    path = tmp_path / "tenant.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return Sandbox(tmp_path, seed=path)


def run(sb: Sandbox, runbook: str, action: str, **kw) -> dict:
    return sb.run(runbook, action, target=DEV_ACCOUNT, incident_id=INCIDENT, step_id=STEP, **kw)


def versions(sb: Sandbox, vault: str, name: str) -> list[str]:
    try:
        return [v["value"] for v in sb.tenant.secret_versions(vault, name)]
    except KeyError:
        return []


@pytest.mark.parametrize("runbook", ["keys.rotate", "keys.revoke"])
@pytest.mark.parametrize("action", ["plan", "apply"])
def test_a_tag_naming_a_vault_not_allowed_is_refused_before_any_regeneration(tmp_path, runbook, action):
    sb = seed(tmp_path, f"{OTHER}/secrets/loot", other_secret=False)
    keys = sb.tenant.account_keys(DEV_ACCOUNT)
    answer = run(sb, runbook, action)
    assert answer["ok"] is False and answer["error"]["kind"] == "invalid", answer
    message = answer["error"]["message"]
    assert "account tag firestop-key-secret of contoso-openai-dev" in message and OTHER in message
    assert "FIRESTOP_KEY_VAULT_ALLOWED_URLS" in message
    assert sb.tenant.account_keys(DEV_ACCOUNT) == keys and versions(sb, "kv-other", "loot") == []


def test_a_vault_on_the_allow_list_receives_the_key(tmp_path):
    sb = seed(tmp_path, f"{OTHER}/secrets/dev-key")
    sb.settings = sb.settings.model_copy(update={"key_vault_allowed_urls": (OTHER,)})
    old = sb.tenant.account_keys(DEV_ACCOUNT)
    answer = run(sb, "keys.rotate", "apply")
    assert answer["ok"] and answer["result"]["changed"], answer
    new = sb.tenant.account_keys(DEV_ACCOUNT)
    assert new["key1"] != old["key1"] and new["key2"] != old["key2"]
    assert versions(sb, "kv-other", "dev-key")[-1] == new["key2"]  # its consumers cut over to the new Key2


@pytest.mark.parametrize("runbook", ["keys.rotate", "keys.revoke"])
def test_a_tag_naming_an_absent_secret_is_refused_never_created(tmp_path, runbook):
    sb = seed(tmp_path, f"{VAULT}/secrets/made-up")
    keys = sb.tenant.account_keys(DEV_ACCOUNT)
    answer = run(sb, runbook, "apply")
    assert answer["error"]["kind"] == "invalid", answer
    assert "never creates a secret named by the firestop-key-secret tag" in answer["error"]["message"]
    assert sb.tenant.account_keys(DEV_ACCOUNT) == keys and versions(sb, "kv-contoso-ai", "made-up") == []


def test_a_tag_named_secret_holding_neither_key_is_refused_and_a_refusal_never_vouches_for_a_retry(tmp_path):
    sb = seed(tmp_path, f"{VAULT}/secrets/stray", stray=True)
    keys = sb.tenant.account_keys(DEV_ACCOUNT)
    for _ in range(2):  # the first refusal is on the ledger; the retry is refused all the same
        answer = run(sb, "keys.rotate", "apply")
        assert answer["error"]["kind"] == "invalid", answer
        assert "holds neither of contoso-openai-dev's keys" in answer["error"]["message"]
    assert sb.tenant.account_keys(DEV_ACCOUNT) == keys
    assert versions(sb, "kv-contoso-ai", "stray") == ["not-a-key-of-any-account"]


def test_step_parameters_naming_a_vault_not_allowed_are_refused(tmp_path):
    sb = seed(tmp_path, f"{OTHER}/secrets/dev-key")
    keys = sb.tenant.account_keys(DEV_ACCOUNT)
    answer = run(sb, "keys.rotate", "apply", params={"key_vault_url": OTHER, "secret_name": "dev-key"})
    assert answer["error"]["kind"] == "invalid" and "key_vault_url (step parameters)" in answer["error"]["message"]
    assert sb.tenant.account_keys(DEV_ACCOUNT) == keys
