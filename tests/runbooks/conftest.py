from __future__ import annotations

import pytest

from firestop.azure.clients import ClientFactory
from firestop.settings import Settings

ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
VAULT = "https://kv-contoso-ai.vault.azure.net"
WORKSPACE = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"


DEV_ACCOUNT = ACCOUNT.replace("rg-ai-prod", "rg-ai-dev").replace("contoso-openai-prod", "contoso-openai-dev")
DEV_SECRET = "openai-api-key-dev"


def two_account_seed(path, *, dev_secret: bool = True, dev_nsg: bool = False):
    """Write the default tenant with, optionally, the dev account's own consumers' secret (Key1 in
    ``openai-api-key-dev``, named on the account by the ``firestop-key-secret`` tag) and a second NSG
    ``nsg-ai-dev`` in rg-ai-dev; returns the file's path."""
    import yaml

    from firestop.sandbox.seed import read_seed_file

    spec = read_seed_file()
    if dev_secret:
        dev = next(a for a in spec["accounts"] if a["name"] == "contoso-openai-dev")
        dev["tags"] = {**dev.get("tags", {}), "firestop-key-secret": f"{VAULT}/secrets/{DEV_SECRET}"}
        spec["vaults"][0]["secrets"].append(
            {"name": DEV_SECRET, "value_from": {"account": "contoso-openai-dev", "key": "key1"}, "created_at": "2026-09-01T08:00:00Z"})
    if dev_nsg:
        spec["network_security_groups"].append({"name": "nsg-ai-dev", "resource_group": "rg-ai-dev", "location": "swedencentral", "rules": []})
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


class Sandbox:
    """A fresh in-memory sandbox tenant with a client factory and settings around it (``seed``: a tenant file)."""

    def __init__(self, tmp_path, seed=None) -> None:
        from firestop.sandbox import Tenant

        self.tenant = Tenant.load(seed)
        self.clients = ClientFactory(
            credential=self.tenant.credential, transport=self.tenant.transport, clock=self.tenant.clock, sandbox=True
        )
        self.settings = Settings.from_env(home=tmp_path / "home", key_vault_url=VAULT, log_workspace_id=WORKSPACE).model_copy(
            update={"storage_blob_url": None, "notify_webhook_url": None, "automation_principal_id": None}
        )  # tests opt in to these; a developer's environment must not leak into them

    def run(self, runbook: str, action: str, *, target: str | None = ACCOUNT, params=None, applied=None,
            incident_id: str = "inc-test", step_id: str = "step", alert=None) -> dict:
        from runbooks.dispatch import execute

        request = {"runbook": runbook, "action": action, "target": target, "params": params or {},
                   "incident_id": incident_id, "step_id": step_id}
        if applied is not None:
            request["applied"] = applied
        if alert is not None:
            request["alert"] = alert
        return execute(request, clients=self.clients, settings=self.settings)


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


# Azurite (Blob Storage emulator) for records.file ------------------------------------------
#: Azurite's documented development account (public, not a secret of anyone's):
#: https://learn.microsoft.com/azure/storage/common/storage-use-azurite#http-connection-strings
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_connection(endpoint: str, key: str = AZURITE_KEY) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};BlobEndpoint={endpoint};"


@pytest.fixture(scope="session")
def azurite_blob_endpoint():
    """Blob endpoint of a running Azurite: the one ``scripts/test`` started (``FIRESTOP_TEST_AZURITE_BLOB``),
    else one started here from ``node_modules`` (``npm ci``) on a free loopback port and stopped afterwards."""
    import os
    import queue
    import re
    import subprocess
    import threading

    from firestop.settings import REPO_ROOT

    endpoint = os.environ.get("FIRESTOP_TEST_AZURITE_BLOB")
    if endpoint:
        yield endpoint
        return
    binary = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        message = "Azurite is not installed: run `npm ci` at the repository root (scripts/test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.Popen(
        [str(binary), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--blobHost", "127.0.0.1", "--blobPort", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    port = None
    try:
        while port is None:
            line = lines.get(timeout=60)  # Azurite prints the bound port once it listens
            match = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
            port = match.group(1) if match else None
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        proc.terminate()  # Azurite may wait for idle keep-alive connections: kill it if it lingers
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
