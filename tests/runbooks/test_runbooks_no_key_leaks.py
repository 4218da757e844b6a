"""The leak test: after every runbook has run — through the incident orchestrator, the CLI and the
dispatcher, including failures — no key value the tenant ever issued appears in any output, log line,
exception message, record, ledger, evidence file or manifest, webhook message or orchestration history."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

from .test_runbooks_records_notify import Hook

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
ACCOUNT = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
NSG = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"
CHATBOT = "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"

PLAYBOOK = """
name: leaked-api-key
description: every runbook, for the leak test
match: {{rule_names: ["aoai-leaked-key*"]}}
contain:
  - {{id: notify, runbook: notify.webhook, with: {{message: "Firestop is containing a leaked key"}}}}
  - {{id: config, runbook: evidence.snapshot_config, with: {{also: ["{nsg}"]}}}}
  - {{id: logs, runbook: evidence.snapshot_logs}}
  - {{id: revoke, runbook: keys.revoke}}
  - {{id: rotate, runbook: keys.rotate}}
  - {{id: lock, runbook: network.lock}}
  - {{id: local-auth, runbook: auth.disable_local_auth}}
  - {{id: block, runbook: network.block_ips, target: "{nsg}", with: {{ips: ["203.0.113.77"]}}}}
  - {{id: roles, runbook: identity.revoke_role_assignment, with: {{principal_id: "{chatbot}"}}}}
"""


def test_no_key_value_leaks_anywhere(firestop_home, tmp_path, monkeypatch, caplog):
    from firestop.cli.wiring import sandbox_environment
    from runbooks import all_runbooks
    from runbooks.dispatch import execute
    from runbooks.ledger import Ledger

    caplog.set_level("DEBUG")
    hook = Hook()
    try:
        playbooks = tmp_path / "playbooks"
        playbooks.mkdir()
        (playbooks / "everything.yaml").write_text(PLAYBOOK.format(hook=hook.url, nsg=NSG, chatbot=CHATBOT))
        monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(playbooks))
        monkeypatch.setenv("FIRESTOP_NOTIFY_WEBHOOK_URL", hook.url)  # the webhook comes from settings only
        runner = CliRunner()
        outputs = [runner.invoke(app, ["alert", "handle", str(EXAMPLE), "--json"], catch_exceptions=False).output]
        record = json.loads(outputs[0])
        assert record["status"] == "contained", record.get("does_not_hold")
        incident = record["incident_id"]
        steps = {a["step_id"] for a in record["actions"]}
        assert steps == {"notify", "config", "logs", "revoke", "rotate", "lock", "local-auth", "block", "roles"}

        # every runbook's plan on the CLI, and undo / failures through the dispatcher
        for cls in all_runbooks():
            target = NSG if cls.name == "network.block_ips" else (ACCOUNT if cls.target_type else None)
            args = ["runbook", "plan", cls.name, "--json"] + (["--target", target] if target else [])
            args += {"identity.revoke_role_assignment": ["--param", f"principal_id={CHATBOT}"],
                     "records.file": ["--param", json.dumps({"incident_id": incident}).join(["record=", ""])]}.get(cls.name, [])
            outputs.append(runner.invoke(app, args, catch_exceptions=False).output)
        env = sandbox_environment()
        try:
            answers = []
            for action in record["actions"]:
                if action.get("runbook") in ("network.lock", "auth.disable_local_auth", "network.block_ips",
                                             "identity.revoke_role_assignment", "keys.revoke", "keys.rotate"):
                    params = {"principal_id": CHATBOT} if action["runbook"] == "identity.revoke_role_assignment" else (
                        {"ips": ["203.0.113.77"]} if action["runbook"] == "network.block_ips" else {})
                    answers.append(execute({"runbook": action["runbook"], "action": "undo", "target": action["target"],
                                            "params": params, "incident_id": incident, "step_id": action["step_id"],
                                            "applied": {k: action[k] for k in ("runbook", "target", "changed", "before",
                                                                               "after", "summary", "artifacts")}},
                                           clients=env.clients, settings=env.settings))
            for operation in ("accounts.listKeys", "accounts.regenerateKey", "secrets.set"):
                env.tenant.inject_fault(operation, status=403)
                answers.append(execute({"runbook": "keys.revoke", "action": "apply", "target": ACCOUNT,
                                        "incident_id": incident, "step_id": f"fail-{operation}"},
                                       clients=env.clients, settings=env.settings))
            assert any(not a["ok"] for a in answers) and any(a["ok"] for a in answers)
            history = env.host.get_status(incident, show_history=True)
            assert history.runtime_status == "Completed"
            history_text = json.dumps(history.history, default=str) + json.dumps(history.output, default=str)
            secrets = env.tenant.issued_key_values()
        finally:
            env.close()
    finally:
        hook.close()

    assert len(secrets) >= 2 + 2 * 2 + 2 * 2  # seed keys, keys.revoke and keys.rotate in the incident, more in the failure runs
    haystacks: dict[str, bytes] = {
        "cli output": "\n".join(outputs).encode(),
        "dispatcher answers (incl. error messages)": json.dumps(answers).encode(),
        "log lines": caplog.text.encode(),
        "orchestration history": history_text.encode(),
        "webhook messages": b"\n".join(r["body"] for r in hook.requests),
    }
    for path in firestop_home.rglob("*"):
        if path.is_file() and "sandbox" not in path.relative_to(firestop_home).parts:
            haystacks[str(path.relative_to(firestop_home))] = path.read_bytes()
    names = set(haystacks)
    assert any(n.startswith("ledger/") and n.endswith(".jsonl") for n in names)
    assert any(n.startswith("evidence/") and "/manifest/" in n for n in names)
    assert any(n.startswith("evidence/") and "arm-config" in n for n in names)
    assert any(n.startswith("records/") and n.endswith(".json") for n in names)
    assert any(n.startswith("records/") and n.endswith(".md") for n in names)
    assert any(n.startswith("notifications/") for n in names) and hook.requests
    assert any(n.endswith("durable.sqlite") for n in names)
    assert "sha256:" in haystacks["orchestration history"].decode()  # fingerprints are there instead of keys
    for name, data in haystacks.items():
        for secret in secrets:
            assert secret.encode() not in data, f"a key value leaked into {name}"
    ledger = Ledger(firestop_home / "ledger")
    check = ledger.verify(incident, evidence_folder=firestop_home / "evidence" / incident)
    assert check.ok and check.entries >= 9, check.problems
