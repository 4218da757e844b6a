"""A manual run's params reach the write-once ledger (for runbook undo) only redacted, and only when it can be undone."""

from __future__ import annotations

from firestop.settings import Settings
from runbooks.dispatch import RunbookRequest, _ledger_action
from runbooks.ledger import Ledger


def _entry(home, runbook: str, params: dict, secrets=frozenset()):
    settings = Settings.from_env().model_copy(update={"home": home})
    req = RunbookRequest(runbook=runbook, action="apply", target="/subscriptions/s/resourceGroups/r/providers/x/y/z",
                         params=params, incident_id="manual-2026-11-29", step_id="cli-run-031440-ab12")
    answer = {"ok": True, "result": {"changed": True, "summary": "done", "before": {}, "after": {}}}
    _ledger_action(answer, req, settings, secrets)
    return Ledger.of(settings).entries("manual-2026-11-29")[-1]["data"]


def test_manual_params_are_redacted_before_the_ledger(firestop_home):
    data = _entry(firestop_home, "network.lock", {"allow_ips": ["192.0.2.1"], "note": "api-key=abc123 and the s3cr3t-value"},
                  secrets=frozenset({"s3cr3t-value"}))
    assert data["params"]["allow_ips"] == ["192.0.2.1"]
    assert "abc123" not in data["params"]["note"] and "s3cr3t-value" not in data["params"]["note"]


def test_an_irreversible_manual_run_keeps_no_params(firestop_home):
    assert "params" not in _entry(firestop_home, "keys.rotate", {"secret_name": "openai-api-key"})
