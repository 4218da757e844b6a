"""``alert handle`` with the source check on: the payload file is fired in the sandbox's Alerts Management first
(as Azure Monitor holds an alert before it sends it), so a local run is confirmed and contains as before."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT


def test_alert_handle_fires_the_alert_in_the_sandbox_then_contains(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    result = CliRunner().invoke(app, ["alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "contained"
    checks = [e for e in record["timeline"] if e.get("step") == "confirm alert at source"]
    assert [e["outcome"] for e in checks] == ["ok"], checks


def test_alert_handle_of_an_alert_fired_days_ago_waits_for_a_responder_exit_3(firestop_home, monkeypatch, tmp_path):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    body = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
    body["data"]["essentials"]["firedDateTime"] = "2026-11-26T03:14:02.184Z"  # the sandbox clock is 2026-11-29
    path = tmp_path / "old.json"
    path.write_text(json.dumps(body))
    result = CliRunner().invoke(app, ["alert", "handle", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 3, result.output
    view = json.loads(result.stdout)
    assert "not within 24 h" in json.dumps(view), view
