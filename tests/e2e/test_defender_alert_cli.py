"""`alert handle` on Defender / Sentinel payloads: the AI playbook runs, the Defender alert is resolved; bad input exits 2.

The first test runs ``python -m firestop`` as a user does; the others run the same entry point
(:func:`firestop.cli.main.main`) in this process with the same argv and environment (the ``firestop_main`` fixture),
which spares a child's ~1 s of imports per command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
INCIDENT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/"
            "workspaces/law-contoso-sec/providers/Microsoft.SecurityInsights/incidents/8d2f1c3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f")


def _cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FIRESTOP_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "firestop", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_defender_jailbreak_alert_is_contained_and_resolved_then_sentinel_incident_routes_alike(tmp_path):
    first = _cli(tmp_path, "alert", "handle", "examples/alerts/defender-jailbreak.json", "--json")
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)
    assert record["playbook"]["name"] == "ai-jailbreak" and record["status"] == "resolved"  # blocked at source
    assert record["contained_at"] is None and "nothing to contain" in record["reason"]
    resolve = next(a for a in record["actions"] if a["step_id"] == "resolve-defender-alert")
    assert resolve["ok"] and resolve["changed"] and resolve["before"]["status"] == "Active"
    assert resolve["after"]["status"] == "Resolved" and resolve["runbook"] == "defender.resolve_alert"
    # the Sentinel incident holding the alert got a comment per phase and was closed, owner Firestop
    from firestop.azure.sentinel import SentinelClient
    from firestop.sandbox import Tenant

    tenant = Tenant.open(tmp_path / "sandbox")
    si = SentinelClient(tenant.credential, transport=tenant.transport)
    props = si.get_incident(INCIDENT)["properties"]
    assert (props["status"], props["classification"], props["owner"]["assignedTo"]) == ("Closed", "TruePositive", "Firestop")
    incident = record["incident_id"]
    assert [c["name"] for c in si.list_comments(INCIDENT)] == [f"firestop-{incident}-{p}" for p in ("analyze", "contain", "close")]
    assert f"records/{incident}.json" in si.list_comments(INCIDENT)[-1]["properties"]["message"]
    sentinel = _cli(tmp_path, "alert", "handle", "examples/alerts/sentinel-incident-jailbreak.json", "--json")
    assert sentinel.returncode == 0, sentinel.stderr
    joined = json.loads(sentinel.stdout)
    assert joined["playbook"]["name"] == "ai-jailbreak"
    # the Sentinel incident holds that Defender alert (providerAlertId): recorded onto its incident, not a second one
    assert joined["incident_id"] == incident and "recorded onto incident" in joined["note"]
    assert joined["correlated_after_close"][0]["alert_id"].startswith("Microsoft.SecurityInsights/incidents/")
    assert len(si.list_comments(INCIDENT)) == 3  # nothing written twice


def test_incomplete_defender_body_exits_2_naming_what_was_recognised_and_missing(tmp_path, firestop_main):
    body = json.dumps({"type": "Microsoft.Security/Locations/alerts", "properties": {"alertType": "AI.Azure_CredentialTheftAttempt"}})
    out = firestop_main("alert", "handle", "-", stdin=body, env={**os.environ, "FIRESTOP_HOME": str(tmp_path)})
    assert out.returncode == 2
    assert "Defender for Cloud alert" in out.stderr + out.stdout and "properties.systemAlertId" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_rejected_principal_removal_leaves_the_defender_alert_active_for_the_responder(tmp_path, firestop_main):
    """ai-risky-service-principal: a responder rejects revoke-principal, so containment did not hold (needs_responder).
    The learn phase must then leave the Defender alert Active and say so (sentinel-needs-responder), not resolve it nor
    close a Sentinel incident as "Contained by Firestop" — before, both keyed on the evidence step alone."""
    env = {**os.environ, "FIRESTOP_HOME": str(tmp_path)}
    first = firestop_main("alert", "handle", "examples/alerts/defender-risky-service-principal.json", "--json", env=env)
    assert first.returncode == 3, first.stderr
    incident = json.loads(first.stdout)["incident_id"]
    rejected = firestop_main("incident", "reject", incident, "--step", "revoke-principal", "--as", "oid-alice", "--json", env=env)
    assert rejected.returncode == 3, rejected.stderr
    record = json.loads(rejected.stdout)
    assert record["status"] == "needs_responder"
    outcome = {e["step"]: e["outcome"] for e in record["timeline"] if e.get("phase") == "learn"}
    assert outcome["resolve-defender-alert"] == "skipped" and outcome["sentinel-close"] == "skipped"
    assert outcome["sentinel-needs-responder"] != "skipped"
    assert not any(a["step_id"] == "resolve-defender-alert" for a in record["actions"])
