"""RT12-01 (medium): Firestop's own trust stores — the Key Vault holding the seal key and the blob service holding
records, ledger and evidence — sent no logs anywhere: whoever read the seal key or wrote, overwrote or deleted a
record blob left no trace Firestop's deployment kept.

Attack: every high of the last two red teams (RT10-03, RT11-01/03/04/05) is a blob writer with no Firestop role
planting or swapping a record revision or an index blob; the seal (:mod:`firestop.trust.seal`, HMAC under
``FIRESTOP_SEAL_KEY``) is what now tells Firestop's writes from theirs. ``infra/azuredeploy.json`` deployed a Log
Analytics workspace but no diagnostic setting on either store (nothing of type ``Microsoft.Insights/diagnosticSettings``
at all): Azure keeps neither Key Vault ``AuditEvent`` logs (each secret get: who read the seal key, from where) nor
Blob Storage resource logs (``StorageWrite``/``StorageDelete``: each PutBlob/DeleteBlob, its caller's identity and IP)
unless a diagnostic setting sends them somewhere ("Azure Key Vault logging",
https://learn.microsoft.com/azure/key-vault/general/logging; "Monitoring Azure Blob Storage",
https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage: resource logs "aren't collected and stored until
you create a diagnostic setting"). So after a planted revision, a refused undo or a forged seal a responder cannot
learn who did it, and an attacker who read the seal key (a Key Vault reader the team forgot about) forges sealed
records unseen. The Activity Log does not help: it records control-plane calls only, not secret reads or blob writes.

Fixed: the template sends the vault's ``AuditEvent`` and the blob service's ``StorageWrite`` and ``StorageDelete``
(``StorageRead`` left out: the Functions host's own lease traffic would dominate the bill, and reads change nothing) to
the deployment's own workspace, and the sandbox deployment records both settings on those scopes.
"""

from __future__ import annotations

import json

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from tests.infra.conftest import factory, firestop_home, generated_parameters  # noqa: F401 — the infra suite's wiring and fixture

TEMPLATE = REPO_ROOT / "infra" / "azuredeploy.json"
SEAL = "seal-" + "k" * 40


def _settings(template: dict) -> list[dict]:
    return [r for r in template["resources"] if r["type"].lower() == "microsoft.insights/diagnosticsettings"]


def _categories(resource: dict) -> set[str]:
    return {entry["category"] for entry in resource["properties"].get("logs") or [] if entry.get("enabled")}


def test_the_seal_key_vault_and_the_records_blobs_send_their_logs_to_the_workspace():
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    settings = _settings(template)
    by_scope = {str(r.get("scope", "")): r for r in settings}
    vault = [r for scope, r in by_scope.items() if "Microsoft.KeyVault/vaults" in scope and "vaultName" in scope]
    blobs = [r for scope, r in by_scope.items() if "/blobServices/default" in scope and "storageAccountName" in scope]
    assert vault, f"no diagnostic setting on Firestop's Key Vault (the seal key): {sorted(by_scope)}"
    assert blobs, f"no diagnostic setting on Firestop's blob service (records, ledger, evidence): {sorted(by_scope)}"
    assert "AuditEvent" in _categories(vault[0])
    assert {"StorageWrite", "StorageDelete"} <= _categories(blobs[0])
    for setting in (vault[0], blobs[0]):  # to the deployment's own workspace, never a parameter an attacker could point away
        assert "variables('workspaceName')" in setting["properties"]["workspaceId"]


def test_the_sandbox_deployment_records_both_settings_on_those_scopes(firestop_home):
    tenant = Tenant.load()
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k-action-group"}, "sealKey": {"value": SEAL}, "sealKeyRetired": {"value": "none"}}
    client = factory(tenant).resources(tenant.subscription_id)
    result = client.deployments.begin_create_or_update("rg-ai-prod", "firestop", {"properties": {
        "mode": "Incremental", "template": json.loads(TEMPLATE.read_text(encoding="utf-8")), "parameters": params}}).result()
    assert result.properties.provisioning_state == "Succeeded"
    deployed = [r for r in tenant._state.doc.get("deployed_resources", {}).values()  # noqa: SLF001 — what the sandbox recorded
                if r["type"].lower() == "microsoft.insights/diagnosticsettings"]
    (workspace,) = [r for r in tenant._state.doc["deployed_resources"].values()  # noqa: SLF001
                    if r["type"].lower() == "microsoft.operationalinsights/workspaces"]
    scopes = {r["id"].lower().split("/providers/microsoft.insights/")[0]: r for r in deployed}
    vault = [r for s, r in scopes.items() if "/providers/microsoft.keyvault/vaults/" in s]
    blobs = [r for s, r in scopes.items() if s.endswith("/blobservices/default")]
    assert vault and blobs, sorted(scopes)
    for setting in (vault[0], blobs[0]):
        assert setting["properties"]["workspaceId"].lower() == workspace["id"].lower()
