"""A tabletop scenario with the source check on: its alert is fired in the sandbox's Alerts Management before the
incident starts (as Azure Monitor holds an alert before it sends it), so the exercise contains as it did."""

from __future__ import annotations

import json
from pathlib import Path

from firestop.tabletop import run_scenario
from tests.tabletop.conftest import leaked_key, write_scenario  # noqa: F401 (fixture)


def test_a_scenario_alert_is_confirmed_at_its_source_and_contained(write_scenario, firestop_home, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    card = run_scenario(write_scenario(leaked_key()), home=firestop_home, run_id="r")
    incident = card["incidents"][0]
    assert incident["status"] == "contained", incident
    record = json.loads(Path(incident["record_files"]["json_path"]).read_text(encoding="utf-8"))
    checks = [e for e in record["timeline"] if e.get("step") == "confirm alert at source"]
    assert [e["outcome"] for e in checks] == ["ok"], checks
