"""The platform-metric 4xx rule split in two (metric16): ``aoai-anomalous-usage-requests`` counts StatusCode 401 only and
carries ``firestop-metric-signal: refused-calls`` — its alerts make lock-network and rotate-keys wait for a responder;
``aoai-anomalous-usage-metric-throttled`` counts 429 only (a valid key, throttled) and acts at once, as before.

Before: one rule counted 401 and 429 together with no signal, so 51 wrong keys from anyone who knows the endpoint, on an
account without diagnostic logs (the metric rule alone fires), locked the network deny-by-default and rotated the keys
with nobody asked. Runs the tabletop (the sandbox's Azure Monitor evaluates the rules ``firestop infra`` deploys and
posts their Common Alert Schema payloads; the runbooks go through the Azure SDK clients)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from firestop.playbooks.detect import MetricAlert
from firestop.settings import REPO_ROOT
from firestop.tabletop import run_scenario

NO_DIAGNOSTICS = REPO_ROOT / "tabletop" / "scenarios" / "anomalous-usage-no-diagnostics.yaml"
ACCOUNT_WRITES = ("accounts.update", "accounts.regenerateKey")


def _run(tmp_path: Path, scenario: dict, rule: str) -> tuple[dict, dict, list[dict]]:
    """``(card, record, request log)`` of the one incident ``scenario`` opens, expected from ``rule``."""
    scenario = copy.deepcopy(scenario)
    scenario.pop("responder", None)
    scenario.pop("detection", None)
    scenario["playbooks"] = str(REPO_ROOT / "playbooks")
    scenario["expect"] = {"rule": rule}
    path = tmp_path / "storm.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    card = run_scenario(path, home=tmp_path / "home", run_id="run")
    (incident,) = card["incidents"]
    run_dir = Path(card["run_dir"])
    record = json.loads((run_dir / "records" / f"{incident['incident_id']}.json").read_text())
    return card, record, json.loads((run_dir / "requests.json").read_text())


def _fired(card: dict) -> list[str]:
    return sorted({r["rule"].rsplit("-contoso", 1)[0] for r in card["detection"]["rules"] if r["condition"] == "Fired"})


def test_refused_storm_seen_by_the_metric_rule_alone_changes_nothing_account_wide_unapproved(tmp_path):
    """Two never-seen IPs send wrong keys (401 storms) to an account without diagnostic logs, nobody answers: the
    metric 401 rule fires alone; lock-network and rotate-keys asked a responder and did nothing (fails before metric16:
    both ran unapproved)."""
    card, record, requests = _run(tmp_path, yaml.safe_load(NO_DIAGNOSTICS.read_text()), "aoai-anomalous-usage-requests")
    assert _fired(card) == ["aoai-anomalous-usage-requests"]
    assert record["status"] == "needs_responder", record["status"]
    actions = {a["step_id"]: a for a in record["actions"]}
    asked = {a["step"]: a for a in card["approvals"]}
    for step in ("lock-network", "rotate-keys"):
        assert step in asked, f"{step} ran without asking a responder"
        assert "refused-calls" in asked[step]["why"]
        assert actions[step]["ok"] is False and "approval" in actions[step]["summary"]
    writes = [(r["operation"], r["status"]) for r in requests if r["operation"] in ACCOUNT_WRITES and r["status"] < 300]
    assert writes == []


def test_throttled_storm_seen_by_the_metric_rule_alone_acts_at_once(tmp_path):
    """A never-seen IP burns gpt-4o's quota with a valid key (a deployment of 1 capacity unit serves 6 calls a minute;
    the 20 more each minute answer 429 — 100 in five minutes, under aoai-ratelimit-spike's > 100) on an account without
    diagnostic logs: aoai-anomalous-usage-metric-throttled fires alone and, as the 401+429 rule did, the account is
    closed and its keys rotated with nobody asked."""
    scenario = yaml.safe_load(NO_DIAGNOSTICS.read_text())
    scenario["tenant"]["overrides"]["accounts"] = [
        {"name": "contoso-openai-prod", "deployments": [{"name": "gpt-4o", "capacity": 1}]}]
    scenario["attack"] = [{"at": 0, "kind": "requests", "account": "contoso-openai-prod", "from_ip": "203.0.113.140",
                           "key": "key1", "per_minute": 26, "duration": 900, "label": "quota burnt from 203.0.113.140"}]
    card, record, requests = _run(tmp_path, scenario, "aoai-anomalous-usage-metric-throttled")
    assert _fired(card) == ["aoai-anomalous-usage-metric-throttled"]
    assert card["approvals"] == []
    assert record["status"] == "contained", record["status"]
    actions = {a["step_id"]: a for a in record["actions"]}
    for step in ("lock-network", "rotate-keys"):
        assert actions[step]["ok"] and actions[step]["verified"], actions[step]
    ops = {r["operation"] for r in requests if r["operation"] in ACCOUNT_WRITES and r["status"] < 300}
    assert ops == set(ACCOUNT_WRITES)


@pytest.mark.parametrize("rule, fix", [
    ({"dimensions": [{"name": "StatusCode", "values": ["401", "429"]}]}, "values among"),
    ({"dimensions": [{"name": "StatusCode", "values": ["*"]}]}, "values among"),
    ({"dimensions": [{"name": "StatusCode", "operator": "Exclude", "values": ["429"]}]}, "operator Include"),
    ({"dimensions": ["StatusCode"]}, "one StatusCode dimension"),
    ({"dimensions": []}, "one StatusCode dimension"),
], ids=["401-and-429", "every-status", "exclude", "bare-name", "no-dimension"])
def test_the_loader_refuses_the_metric_signal_on_a_rule_that_may_count_other_statuses(rule, fix):
    base = {"name": "r", "metric": "AzureOpenAIRequests", "threshold": 50,
            "custom_properties": {"firestop-metric-signal": "refused-calls"}}
    with pytest.raises(ValueError, match="firestop-metric-signal") as caught:
        MetricAlert(**{**base, **rule})
    assert fix in str(caught.value)
    assert MetricAlert(**{**base, "dimensions": [{"name": "StatusCode", "values": ["401", "403"]}]})


def test_the_metric_signal_is_refused_on_a_log_rule_and_with_another_value():
    from firestop.playbooks.detect import ScheduledQueryRule

    with pytest.raises(ValueError, match="belongs on a metric alert"):
        ScheduledQueryRule(name="r", query='AzureDiagnostics | where ResultSignature == "401"',
                           custom_properties={"firestop-metric-signal": "refused-calls"})
    with pytest.raises(ValueError, match="only value is 'refused-calls'"):
        MetricAlert(name="r", metric="AzureOpenAIRequests", threshold=50,
                    dimensions=[{"name": "StatusCode", "values": ["401"]}],
                    custom_properties={"firestop-metric-signal": "throttled"})
