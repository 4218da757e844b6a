"""An alert naming two accounts (prod and dev): the orchestrator runs each step once per target with the
same incident and step id. Each account must end up rotated and locked with its own evidence, and every
verification must be about its own account (the tester's bug: dev saw prod's marker and "verified")."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
PROD = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DEV = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
VAULT = "https://kv-contoso-ai.vault.azure.net"
SECRETS = {PROD: "openai-api-key", DEV: "openai-api-key-dev"}


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def name_of(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


@pytest.fixture
def alert_file(tmp_path):
    """examples/alerts/leaked-key.json with the dev account added as a second target."""
    alert = json.loads(EXAMPLE.read_text())
    essentials = alert["data"]["essentials"]
    essentials["alertTargetIDs"].append(DEV.lower())
    essentials["configurationItems"].append("contoso-openai-dev")
    path = tmp_path / "leaked-key-two-accounts.json"
    path.write_text(json.dumps(alert))
    return path


def tenant_file(tmp_path, *, dev_secret: bool):
    """The default tenant; with dev_secret, dev names its own consumers' secret (Key1 in openai-api-key-dev)
    with the account tag firestop-key-secret."""
    from firestop.sandbox.seed import read_seed_file

    spec = read_seed_file()
    if dev_secret:
        dev = next(a for a in spec["accounts"] if a["name"] == "contoso-openai-dev")
        dev["tags"] = {**dev["tags"], "firestop-key-secret": f"{VAULT}/secrets/{SECRETS[DEV]}"}
        spec["vaults"][0]["secrets"].append({"name": SECRETS[DEV], "value_from": {"account": "contoso-openai-dev", "key": "key1"}})
    path = tmp_path / "tenant.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def tenant(home):
    from firestop.sandbox import Tenant

    return Tenant.open(home / "sandbox")


def test_leaked_key_on_two_accounts_rotates_locks_and_keeps_evidence_of_each(firestop_home, tmp_path, alert_file):
    from firestop.evidence import EvidenceStore
    from firestop.evidence.store import sha256_file
    from runbooks.base import fingerprint

    assert cli("sandbox", "reset", "--tenant", str(tenant_file(tmp_path, dev_secret=True))).exit_code == 0
    old = {t: tenant(firestop_home).account_keys(t) for t in (PROD, DEV)}

    result = cli("alert", "handle", str(alert_file), "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "contained" and not record["does_not_hold"], record["does_not_hold"]

    now = tenant(firestop_home)
    for target in (PROD, DEV):
        keys = now.account_keys(target)
        assert keys["key1"] != old[target]["key1"] and keys["key2"] != old[target]["key2"], f"{target}: keys not rotated"
        assert now.secret_versions("kv-contoso-ai", SECRETS[target])[-1]["value"] == keys["key2"]  # its own consumers cut over
        assert now.resource(target)["properties"]["networkAcls"]["defaultAction"] == "Deny"

    actions = {(a["step_id"], a["target"].lower()): a for a in record["actions"]}
    assert len(actions) == 6  # three steps × two accounts
    for (step, target), action in actions.items():
        assert action["ok"] and action["verified"], (step, target, action.get("checks"))
        assert all(c["ok"] for c in action["checks"])
        if step == "rotate-keys":  # verified against this account's own before-state
            account = PROD if target == PROD.lower() else DEV
            assert action["before"]["account"] == account
            assert action["before"]["key1"] == fingerprint(old[account]["key1"])
            assert action["before"]["key2"] == fingerprint(old[account]["key2"])
            assert action["after"]["key1"] == fingerprint(now.account_keys(account)["key1"])
    assert sum(line.startswith("rotate-keys (keys.rotate) on contoso-openai-") for line in record["holds"]) == 2

    store = EvidenceStore(firestop_home / "evidence")
    incident = record["incident_id"]
    manifest = [i for i in store.manifest(incident) if i.collected_by == "evidence.snapshot_logs"]
    assert sorted(i.source["target"] for i in manifest) == sorted([PROD, DEV])
    assert len({i.path for i in manifest}) == 2
    in_record = {e["path"]: e["sha256"] for e in record["evidence"]}
    for item in manifest:
        path = store.folder(incident) / item.path
        assert name_of(item.source["target"]) in item.path
        assert sha256_file(path) == item.sha256 == in_record[item.path]
    assert cli("ledger", "verify", incident).exit_code == 0


def test_an_account_without_its_own_secret_is_not_rotated_into_anothers_and_needs_a_responder(firestop_home, alert_file):
    """The default tenant: dev names no secret and the settings' secret holds prod's key. Dev's rotation is refused
    (never 'verified'), prod's consumers keep prod's key, and the record says what does not hold and the fix."""
    seeded = tenant(firestop_home)
    dev_keys = seeded.account_keys(DEV)
    result = cli("alert", "handle", str(alert_file), "--json")
    assert result.exit_code == 3, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "needs_responder"
    now = tenant(firestop_home)
    assert now.account_keys(DEV) == dev_keys
    assert now.secret_versions("kv-contoso-ai", SECRETS[PROD])[-1]["value"] == now.account_keys(PROD)["key2"]
    dev_rotation = next(a for a in record["actions"] if a["step_id"] == "rotate-keys" and a["target"].lower() == DEV.lower())
    assert not dev_rotation["ok"] and not dev_rotation.get("verified")
    refused = [line for line in record["does_not_hold"] if line.startswith("rotate-keys (keys.rotate) on contoso-openai-dev")]
    assert refused and "firestop-key-secret" in refused[0]
    assert any(line.startswith("rotate-keys (keys.rotate) on contoso-openai-prod") for line in record["holds"])
    assert now.resource(DEV)["properties"]["networkAcls"]["defaultAction"] == "Deny"  # the rest of containment still ran


def test_an_undo_step_undoes_the_step_on_every_target(firestop_home, tmp_path, alert_file, monkeypatch):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    text = (REPO_ROOT / "playbooks" / "leaked-api-key.yaml").read_text()
    (folder / "leaked-api-key.yaml").write_text(text + "resolve:\n  - id: unlock\n    undo: lock-network\n")
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))
    assert cli("sandbox", "reset", "--tenant", str(tenant_file(tmp_path, dev_secret=True))).exit_code == 0
    original = {t: tenant(firestop_home).resource(t)["properties"]["networkAcls"] for t in (PROD, DEV)}

    result = cli("alert", "handle", str(alert_file), "--json")
    record = json.loads(result.stdout)
    assert sorted(line for line in record["does_not_hold"] if line.startswith("lock-network")) == [
        "lock-network (network.lock) on contoso-openai-dev: rolled back",
        "lock-network (network.lock) on contoso-openai-prod: rolled back",
    ], record["does_not_hold"]  # the lock was lifted on both (the record says so, per account)
    undone = [e for e in record["timeline"] if e["step"] == "unlock" and e["outcome"] == "undone"]
    assert sorted(e["target"].lower() for e in undone) == sorted([PROD.lower(), DEV.lower()])
    for target in (PROD, DEV):
        assert tenant(firestop_home).resource(target)["properties"]["networkAcls"] == original[target]
