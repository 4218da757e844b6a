"""`alert handle` on Defender / Sentinel payloads: the AI playbook runs, the Defender alert is resolved; bad input exits 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FIRESTOP_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "firestop", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_defender_jailbreak_alert_is_contained_and_resolved_then_sentinel_incident_routes_alike(tmp_path):
    first = _cli(tmp_path, "alert", "handle", "examples/alerts/defender-jailbreak.json", "--json")
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)
    assert record["playbook"]["name"] == "ai-jailbreak" and record["status"] == "contained"
    resolve = next(a for a in record["actions"] if a["step_id"] == "resolve-defender-alert")
    assert resolve["ok"] and resolve["changed"] and resolve["before"]["status"] == "Active"
    assert resolve["after"]["status"] == "Resolved" and resolve["runbook"] == "defender.resolve_alert"
    sentinel = _cli(tmp_path, "alert", "handle", "examples/alerts/sentinel-incident-jailbreak.json", "--json")
    assert sentinel.returncode == 0, sentinel.stderr
    assert json.loads(sentinel.stdout)["playbook"]["name"] == "ai-jailbreak"


def test_incomplete_defender_body_exits_2_naming_what_was_recognised_and_missing(tmp_path):
    body = json.dumps({"type": "Microsoft.Security/Locations/alerts", "properties": {"alertType": "AI.Azure_CredentialTheftAttempt"}})
    out = _cli(tmp_path, "alert", "handle", "-", stdin=body)
    assert out.returncode == 2
    assert "Defender for Cloud alert" in out.stderr + out.stdout and "properties.systemAlertId" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr
