"""Each shipped playbook end to end on the sandbox, from its example alert (examples/alerts/)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from typer.testing import CliRunner

from tests.stub_servers import HTTPServer  # shutdown() at once (no 0.05 s poll per teardown)
from firestop.cli.main import app
from firestop.playbooks import load_playbooks
from firestop.settings import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "alerts"
SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DEV = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
NSG = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"


def handle(name: str):
    result = CliRunner().invoke(app, ["alert", "handle", str(EXAMPLES / f"{name}.json"), "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def tenant(home):
    from firestop.sandbox import Tenant

    return Tenant.open(home / "sandbox")


def test_every_shipped_playbook_has_an_example_alert_that_routes_to_it():
    names = {p.name for p in load_playbooks(REPO_ROOT / "playbooks")}
    ai = {"ai-jailbreak", "ai-credential-theft", "ai-denial-of-wallet", "ai-suspicious-user-agent", "ai-sensitive-data-exposure",
          "ai-risky-service-principal"}  # Defender for AI families (examples/alerts/defender-*.json)
    assert names == {"leaked-api-key", "public-network-exposure", "anomalous-usage", "suspicious-key-access", "content-abuse"} | ai
    from firestop.alerts import parse_alert
    from firestop.playbooks import select_playbook

    examples = {"leaked-key": "leaked-api-key", "public-network-exposure": "public-network-exposure", "anomalous-usage": "anomalous-usage",
                "suspicious-key-access": "suspicious-key-access", "content-abuse": "content-abuse",
                **{"defender-" + p.removeprefix("ai-"): p for p in ai}}
    for example, playbook in examples.items():
        chosen, _ = select_playbook(parse_alert((EXAMPLES / f"{example}.json").read_bytes()), load_playbooks(REPO_ROOT / "playbooks"))
        assert chosen is not None and chosen.name == playbook, example


def test_public_network_exposure_closes_the_dev_account(firestop_home):
    code, record = handle("public-network-exposure")
    assert code == 0 and record["status"] == "contained"
    props = tenant(firestop_home).resource(DEV)["properties"]
    assert props["networkAcls"]["defaultAction"] == "Deny" and props["disableLocalAuth"] is True
    assert record["evidence"][0]["collected_by"] == "evidence.snapshot_config"


def test_anomalous_usage_blocks_the_callers_and_rotates(firestop_home):
    keys = tenant(firestop_home).account_keys(PROD)
    code, record = handle("anomalous-usage")
    assert code == 0 and record["status"] == "contained"
    t = tenant(firestop_home)
    rules = t.resource(NSG)["properties"]["securityRules"]
    denied = {p for r in rules if r["properties"]["access"] == "Deny" for p in r["properties"].get("sourceAddressPrefixes") or [r["properties"].get("sourceAddressPrefix")]}
    assert {"203.0.113.140/32", "203.0.113.141/32", "192.0.2.200/32"} <= denied
    assert t.account_keys(PROD)["key1"] != keys["key1"]


def test_suspicious_key_access_rotates_then_waits_for_a_human_to_revoke(firestop_home):
    code, waiting = handle("suspicious-key-access")
    assert code == 3 and waiting["pending_approval"]["step"] == "revoke-principal"
    rotated = [a for a in tenant(firestop_home).requests if a.operation == "accounts.regenerateKey"]
    assert len(rotated) == 2  # keys rotated before the gate
    result = CliRunner().invoke(app, ["incident", "approve", waiting["incident_id"], "--step", "revoke-principal", "--as", "oid-alice", "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    revoke = next(a for a in record["actions"] if a["step_id"] == "revoke-principal")
    assert revoke["verified"] and "5e6f7a8b-9c0d-4e1f-8a2b-4c5d6e7f8a9b" in json.dumps(revoke["before"])
    deletes = [r for r in tenant(firestop_home).requests if r.method == "DELETE" and "roleAssignments" in r.path]
    assert len(deletes) == 1 and deletes[0].path.lower().endswith("5e6f7a8b-9c0d-4e1f-8a2b-4c5d6e7f8a9b")


@pytest.fixture
def webhook(monkeypatch):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("FIRESTOP_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    yield received
    server.shutdown()


def test_content_abuse_blocks_the_caller_and_tells_the_team(firestop_home, webhook):
    code, record = handle("content-abuse")
    assert code == 0 and record["status"] == "contained"
    assert len(webhook) == 1 and "Content-filter abuse" in json.dumps(webhook[0])
    rules = tenant(firestop_home).resource(NSG)["properties"]["securityRules"]
    assert any("203.0.113.200" in json.dumps(r) and r["properties"]["access"] == "Deny" for r in rules)


def test_content_abuse_without_a_webhook_skips_notify_team(firestop_home, monkeypatch):
    """README's settings table: FIRESTOP_NOTIFY_WEBHOOK_URL unset = notify.webhook is skipped — not a failed step."""
    monkeypatch.delenv("FIRESTOP_NOTIFY_WEBHOOK_URL", raising=False)
    code, record = handle("content-abuse")
    assert code == 0 and record["status"] == "contained"
    notify = [e for e in record["timeline"] if e.get("step") == "notify-team"]
    assert [e["outcome"] for e in notify] == ["skipped"]
    assert "no webhook URL configured" in notify[0]["detail"] and "FIRESTOP_NOTIFY_WEBHOOK_URL" in notify[0]["detail"]
    assert not [e for e in record["timeline"] if e.get("outcome") in ("failed", "timed out")]
    assert not [n for n in record["notes"] if "notify-team" in n]  # not reported as a failure
    result = CliRunner().invoke(app, ["incident", "show", record["incident_id"]], catch_exceptions=False)
    assert result.exit_code == 0 and "skipped" in result.stdout and "notify-team" in result.stdout
