"""verify11: with the source check on, a genuine Defender for Cloud alert is confirmed and contained as before, from
``alert handle`` (the payload file is fired in the sandbox's Defender first, as Defender holds an alert before a
workflow automation relays it: ``Tenant.fire_alert``) and in a tabletop exercise (Defender for AI's detector raises
the alert from the attack's traffic and the workflow automation relays it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT
from firestop.tabletop import run_scenario

EXAMPLES = REPO_ROOT / "examples" / "alerts"


def _handle(path: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["alert", "handle", str(path), "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def _checks(record: dict) -> list[str]:
    return [e["outcome"] for e in record["timeline"] if e.get("step") == "confirm alert at source"]


def test_alert_handle_of_a_defender_alert_is_confirmed_and_contained(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    code, record = _handle(EXAMPLES / "defender-denial-of-wallet.json")
    assert code == 0, record
    assert record["status"] == "contained"
    assert _checks(record) == ["ok"]


def test_alert_handle_registers_a_defender_alert_the_sandbox_did_not_hold(firestop_home, monkeypatch, tmp_path):
    """A payload file of an alert the seed does not hold (another systemAlertId) is fired in the sandbox's Defender
    before the incident starts, so a local run is confirmed as the relayed alert would be on Azure."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    body = copy.deepcopy(json.loads((EXAMPLES / "defender-denial-of-wallet.json").read_text(encoding="utf-8")))
    name = "2516935104300000777_77777777-1111-4a2b-8c3d-000000000777"
    body["id"] = body["id"].rsplit("/", 1)[0] + "/" + name
    body["name"] = body["properties"]["systemAlertId"] = name
    path = tmp_path / "dow.json"
    path.write_text(json.dumps(body))
    code, record = _handle(path)
    assert code == 0, record
    assert record["status"] == "contained" and _checks(record) == ["ok"]


def test_alert_handle_of_a_sentinel_incident_is_confirmed(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    code, record = _handle(EXAMPLES / "sentinel-incident-jailbreak.json")
    assert _checks(record) == ["ok"], record.get("notes")


def test_a_defender_tabletop_exercise_is_confirmed_and_contained(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    card = run_scenario(REPO_ROOT / "tabletop" / "scenarios" / "ai-denial-of-wallet.yaml", home=firestop_home, run_id="r")
    assert card["incidents"], card
    for incident in card["incidents"]:
        assert incident["status"] == "contained", incident
        record = json.loads(Path(incident["record_files"]["json_path"]).read_text(encoding="utf-8"))
        assert _checks(record) == ["ok"], record["timeline"]
    assert card["result"] == "met", [e for e in card["expectations"] if not e["met"]]


def test_alert_handle_registers_a_sentinel_incident_the_sandbox_did_not_hold(firestop_home, monkeypatch, tmp_path):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    body = json.loads((EXAMPLES / "sentinel-incident-jailbreak.json").read_text(encoding="utf-8"))
    name = "77777777-4b5a-4c6d-9e7f-0a1b2c3d4e5f"
    body["object"]["id"] = body["object"]["id"].rsplit("/", 1)[0] + "/" + name
    body["object"]["name"] = name
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(body))
    _, record = _handle(path)
    assert _checks(record) == ["ok"], record.get("notes")
