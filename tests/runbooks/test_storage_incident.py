"""Issue 12's must-show: an incident handled with the storage settings pointed at Blob Storage (Azurite) leaves
nothing of itself under FIRESTOP_HOME except the local durable store; incident list/show, ledger verify and the
HTTP API read what it filed from the same containers; an evidence blob or a ledger entry cannot be overwritten;
no key value reaches a blob's name, metadata or content."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

from .conftest import AZURITE_KEY
from .test_runbooks_records_notify import Hook

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
NSG = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
       "Microsoft.Network/networkSecurityGroups/nsg-ai-apps")
PLAYBOOK = f"""
name: leaked-api-key
description: evidence, containment and a notification, for the storage test
match: {{rule_names: ["aoai-leaked-key*"]}}
contain:
  - {{id: notify, runbook: notify.webhook, with: {{message: "Firestop is containing a leaked key"}}}}
  - {{id: config, runbook: evidence.snapshot_config, with: {{also: ["{NSG}"]}}}}
  - {{id: logs, runbook: evidence.snapshot_logs}}
  - {{id: rotate, runbook: keys.rotate}}
  - {{id: lock, runbook: network.lock}}
"""
#: What an incident may leave in FIRESTOP_HOME with Blob Storage configured: the local durable host's store, the
#: simulated tenant (it stands for Azure, not for the incident) and the app's seal key.
LOCAL_ONLY = {"durable.sqlite", "durable.sqlite-wal", "durable.sqlite-shm", "sandbox", "seal-key"}


@pytest.fixture
def blob_env(firestop_home, tmp_path, monkeypatch, azurite_blob_endpoint):
    suffix = uuid.uuid4().hex[:12]
    containers = {"records": f"records-{suffix}", "evidence": f"evidence-{suffix}", "ledger": f"ledger-{suffix}"}
    monkeypatch.setenv("FIRESTOP_STORAGE_BLOB_URL", azurite_blob_endpoint)
    for kind, name in containers.items():
        monkeypatch.setenv(f"FIRESTOP_{kind.upper()}_CONTAINER", name)
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "p.yaml").write_text(PLAYBOOK)
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(playbooks))
    hook = Hook()
    monkeypatch.setenv("FIRESTOP_NOTIFY_WEBHOOK_URL", hook.url)
    try:
        yield containers, hook
    finally:
        hook.close()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_an_incident_on_blob_storage_leaves_only_the_durable_store_under_firestop_home(blob_env, firestop_home, azurite_blob_endpoint):
    from firestop.settings import Settings
    from firestop.storage import AlreadyExists, AppendConflict, blob_service, stores_for

    containers, hook = blob_env
    code, out = _cli("alert", "handle", str(EXAMPLE), "--json")
    assert code == 0, out
    record = json.loads(out)
    incident = record["incident_id"]
    assert record["status"] == "contained" and hook.requests
    outputs = [out]

    # nothing of the incident on this machine's disk but the durable store
    assert {p.name for p in firestop_home.iterdir()} <= LOCAL_ONLY
    holding = [str(p.relative_to(firestop_home)) for p in firestop_home.rglob("*")  # sandbox/: the simulated Azure itself
               if p.is_file() and p.relative_to(firestop_home).parts[0] != "sandbox" and incident.encode() in p.read_bytes()]
    assert holding and all(name.startswith("durable.sqlite") for name in holding), holding

    # what it filed is in the containers
    service = blob_service(azurite_blob_endpoint)
    blobs = {kind: {b.name: b for b in service.get_container_client(name).list_blobs(include=["metadata"])}
             for kind, name in containers.items()}
    assert {n for n in blobs["records"] if not n.startswith("notifications/")} == {f"{incident}.json", f"{incident}.md"}
    assert [n for n in blobs["records"] if n.startswith(f"notifications/{incident}/notify.")]
    assert len([n for n in blobs["evidence"] if "/manifest/" in n]) == 2 and all(n.startswith(f"{incident}/") for n in blobs["evidence"])
    (ledger_blob,) = blobs["ledger"].values()
    assert ledger_blob.name == f"{incident}.jsonl" and ledger_blob.blob_type == "AppendBlob"

    # every reader reads the same store
    code, out = _cli("incident", "list", "--json")
    outputs.append(out)
    assert code == 0 and incident in [i["incident_id"] for i in json.loads(out)]
    code, out = _cli("incident", "show", incident, "--json")
    outputs.append(out)
    filed = json.loads(service.get_container_client(containers["records"]).get_blob_client(f"{incident}.json").download_blob().readall())
    assert code == 0 and json.loads(out)["status"] == filed["status"] == "contained"
    code, out = _cli("ledger", "verify", incident, "--json")
    outputs.append(out)
    verified = json.loads(out)
    assert code == 0 and verified["ok"] and verified["entries"] >= 6 and verified["location"] == f"{containers['ledger']}/{incident}.jsonl"  # store and name (cli17)
    shown = _api_incident(incident)
    from firestop.lifecycle.view import record_of

    assert record_of(shown) == filed and shown["containment"] is None  # the API shows the filed blob (and what holds now)
    # the API names the container and blob, never the storage account's URL (cli17)
    assert shown["record_files"]["json_path"] == f"{containers['records']}/{incident}.json", shown["record_files"]
    assert azurite_blob_endpoint not in json.dumps(shown)

    # written once: an evidence blob and a ledger entry cannot be overwritten through the app's store
    stores = stores_for(Settings.from_env())
    item = next(n for n in blobs["evidence"] if n.endswith(".jsonl"))
    kept = stores.evidence.read(item)
    with pytest.raises(AlreadyExists):
        stores.evidence.create(item, b'{"forged": true}\n')
    ledger_name = f"{incident}.jsonl"
    before = stores.ledger.read(ledger_name)
    forged = json.dumps({**json.loads(before.split(b"\n")[0]), "data": {}}).encode() + b"\n"
    for at in (0, len(before.split(b"\n")[0]) + 1):
        with pytest.raises(AppendConflict):
            stores.ledger.append(ledger_name, forged, at=at)
    assert stores.evidence.read(item) == kept and stores.ledger.read(ledger_name) == before
    code, out = _cli("ledger", "verify", incident, "--json")
    assert code == 0 and json.loads(out)["ok"]

    # no key value in any blob's name, metadata or content; no storage key in any output
    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()
    try:
        secrets = env.tenant.issued_key_values()
    finally:
        env.close()
    assert secrets
    for kind, found in blobs.items():
        client = service.get_container_client(containers[kind])
        for name, blob in found.items():
            haystack = name.encode() + json.dumps(blob.metadata or {}).encode() + client.get_blob_client(name).download_blob().readall()
            assert set((blob.metadata or {})) <= {"sha256"}, name
            for secret in secrets:
                assert secret.encode() not in haystack, f"a key value leaked into {kind}/{name}"
    assert not [o for o in outputs if AZURITE_KEY in o or "AccountKey" in o]


def _api_incident(incident: str) -> dict:
    """GET /api/incidents/{id} through function_app.py as a reader."""
    import azure.functions as func

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from firestop.trust import encode_principal, stamp_peer

    env = sandbox_environment()
    try:
        with ManagementServer(env.host) as server:
            headers = stamp_peer({"x-ms-client-principal": encode_principal("oid-mallory")}, "127.0.0.1")
            request = func.HttpRequest(method="GET", url=f"http://localhost:7071/api/incidents/{incident}", headers=headers,
                                       body=b"", route_params={"incident_id": incident})
            response = invoke_http_function(function_app(), "get_incident_http", request, server=server)
    finally:
        env.close()
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())
