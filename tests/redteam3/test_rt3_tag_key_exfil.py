"""RT3-04: the account's ARM tag ``firestop-key-secret`` decides where keys.rotate / keys.revoke write the NEW
account key, with no check that the vault is Firestop's (any https://*.vault.azure.net) and an absent secret is
created. Whoever can write tags on the account (Tag Contributor: no listKeys right) and owns any vault Firestop's
identity may write to gets the production key on the next rotation — and the real consumers keep a dead key.

Fixed: only FIRESTOP_KEY_VAULT_URL's vault and FIRESTOP_KEY_VAULT_ALLOWED_URLS may receive a key; a tag naming another
vault fails the step (invalid, naming the tag and the fix) before any regeneration, and responders are asked to act."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.redteam3.inprocess import firestop

ROOT = Path(__file__).parents[2]
PROD = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
        "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def test_rotation_never_writes_a_live_key_to_a_vault_named_only_by_a_tag(tmp_path):
    from firestop.sandbox import Tenant
    from firestop.sandbox.seed import read_seed_file

    spec = read_seed_file()
    prod = next(a for a in spec["accounts"] if a["name"] == "contoso-openai-prod")
    prod["tags"] = {**prod.get("tags", {}), "firestop-key-secret": "https://kv-attacker.vault.azure.net/secrets/loot"}
    spec["vaults"].append({"name": "kv-attacker", "resource_group": "rg-ai-dev", "location": "swedencentral",
                           "properties": {"enableRbacAuthorization": True}, "secrets": []})
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    home = tmp_path / "home"
    Tenant.open(home / "sandbox", seed=tmp_path / "seed.yaml").save()
    keys_before = Tenant.open(home / "sandbox").account_keys(PROD)
    consumers_before = Tenant.open(home / "sandbox").secret_versions("kv-contoso-ai", "openai-api-key")
    out = firestop(home, "alert", "handle", str(ROOT / "examples/alerts/leaked-key.json"), "--json")  # in this process
    assert out.returncode == 3, out.stderr  # containment incomplete: a responder must act
    tenant = Tenant.open(home / "sandbox")
    live = set(tenant.account_keys(PROD).values())
    try:
        looted = {v.get("value") for v in tenant.secret_versions("kv-attacker", "loot")}
    except KeyError:
        looted = set()
    leaked = bool(live & looted)
    assert not leaked, "a live production key was written to kv-attacker/loot"
    assert not looted, "Firestop created a secret named only by a tag"
    # refused before any regeneration: nothing rotated into a secret nobody reads, the consumers keep a live key
    assert tenant.account_keys(PROD) == keys_before
    assert tenant.secret_versions("kv-contoso-ai", "openai-api-key") == consumers_before
    record = json.loads(out.stdout)
    rotate = next(a for a in record["actions"] if a["runbook"] == "keys.rotate")
    assert rotate["ok"] is False and rotate["error"]["kind"] == "invalid"
    message = rotate["error"]["message"]
    assert "firestop-key-secret" in message and "kv-attacker" in message and "FIRESTOP_KEY_VAULT_ALLOWED_URLS" in message
    assert not any(k in out.stdout for k in keys_before.values()), "a key value reached the record"
