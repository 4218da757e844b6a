"""RT17-01 on the shipped scenarios: with FIRESTOP_ALERT_SOURCE_CHECK on, every shipped tabletop scenario is still met
— every alert Azure Monitor fires from the detections the exercise deploys (as ``firestop infra`` does) is confirmed
(``ok``), so the shipped detections act without a responder as before — and the check reads no more from Azure than
before the trust check: per Azure Monitor alert one Alerts Management GET, one alert rule GET and at most one
workspace GET (a workspace-scoped rule's, shared by the trust check and the dimension re-run)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from firestop.tabletop import run_scenario
from tests.tabletop.conftest import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def test_there_are_twenty_shipped_scenarios():
    assert len(SHIPPED) == 20


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_is_met_with_the_check_on(path, firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    card = run_scenario(path, home=firestop_home, run_id="checked")
    missed = [f"{e['check']}: {e['evidence']}" for e in card["expectations"] if not e["met"]]
    assert card["result"] == "met" and not missed, missed
    outcomes = []
    for record in (Path(firestop_home) / "tabletop" / "checked" / "records").glob("inc-*.json"):
        if ".rev" in record.name:
            continue
        outcomes += [(e["outcome"], e.get("detail", "")) for e in json.loads(record.read_text()).get("timeline") or []
                     if e.get("step") == "confirm alert at source" and str(e.get("detail", "")).startswith("azure-monitor")]
    assert all(outcome == "ok" for outcome, _ in outcomes), outcomes
    reads = Counter(r["operation"] for r in json.loads((Path(card["run_dir"]) / "requests.json").read_text())
                    if r["method"] == "GET")
    alerts = reads.get("alerts.get", 0)
    rules = sum(n for op, n in reads.items() if op.split(".")[0] in ("scheduledQueryRules", "metricAlerts", "activityLogAlerts")
                and op.endswith(".get"))
    assert alerts == len(outcomes) and rules == alerts, reads
    if path.stem in ("narrow-apim-consumer", "narrow-escalation"):  # the workspace-scoped rule's alert: read once
        assert len(outcomes) == 1 and reads["workspaces.get"] == 1, reads
    if path.stem in ("leaked-api-key", "anomalous-usage", "content-abuse", "public-network-exposure"):
        assert alerts >= 1, reads  # (the counts above are of something)
