"""The six Defender for AI scenarios run from attack activity alone: the sandbox's Defender for AI detector
raises the alert from the traffic, the workflow automation relays it, the playbook runs — and the detection
section says how long that took and what the attacker got before and after containment."""

from __future__ import annotations

from pathlib import Path

import pytest

from firestop.tabletop import load_scenario

from .conftest import SCENARIOS
from .test_tabletop_scenarios import check_shipped_scenario

#: scenario -> (the Defender alert type that must start its incident, what the attacker got after containment)
AI = {
    "ai-jailbreak": ("AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt", "blocked by the content filter"),
    "ai-credential-theft": ("AI.Azure_CredentialTheftAttempt", None),
    "ai-denial-of-wallet": ("AI.Azure_DOWVolumeAnomaly", "served"),
    "ai-risky-service-principal": ("AI.Azure_AccessAnomaly", "served"),
    "ai-sensitive-data-exposure": ("AI.Azure_DataLeakInModelResponse.Sensitive", None),
    "ai-suspicious-user-agent": ("AI.Azure_AccessFromSuspiciousUserAgent", None),
}


#: The scenarios whose playbook keeps the evidence and writes back, cutting nothing off.
RESOLVED = {"ai-jailbreak", "ai-sensitive-data-exposure", "ai-suspicious-user-agent"}


def test_every_ai_scenario_is_here():
    assert {p.stem for p in SCENARIOS.glob("ai-*.yaml")} == set(AI)


@pytest.mark.parametrize("name", sorted(AI))
def test_ai_scenario_runs_from_attack_activity_alone(name, firestop_home):
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    assert scenario.alerts == [] and scenario.attack and scenario.detection is not None  # no alert file: the attack only
    card = check_shipped_scenario(SCENARIOS / f"{name}.yaml", firestop_home)
    alert_type, after = AI[name]
    d = card["detection"]
    first = next(r for r in d["rules"] if r["condition"] == "Fired" and r["rule"] == alert_type)
    # MTTD per signal, explained: detector delay + evaluation + the relay's delivery, from the first malicious request
    assert first["kind"] == "defender" and "Defender for AI sees a call's evidence 60.0 s after it" in first["why"]
    assert "workflow automation firestop-relay posted it 60.0 s later" in first["why"]
    assert first["mttd_s"] == d["mttd_s"] and 120 < d["mttd_s"] <= 240
    incident = next(i for i in card["incidents"] if i["incident_id"] == first["incident_id"])
    # evidence and write-back only (blocked at source) is "resolved", never "contained" (issue 14's honest outcome)
    assert incident["status"] == ("resolved" if name in RESOLVED else "contained")
    r = d["requests"]
    assert r["malicious"] > 0 and r["served_before_detection"] + r["served_after_detection"] == r["served"]
    assert r["made_after_containment"] >= r["served_after_containment"]
    text = d["attacker_after_containment"]
    if name in RESOLVED:  # nothing was contained: the text says so, and what the attacker did after the incident ended
        assert text.startswith("not contained — resolved (evidence and write-back only, nothing cut off)")
        assert d["cut_off"] is False and r["made_after_containment"] == 0
    elif after is None:  # nothing served after containment; never "cut off" by a containment that refused nothing new
        assert text.startswith(("the attack made no request after containment", "refused before and after containment"))
        assert d["cut_off"] is False
    else:
        assert text.startswith("not cut off") and after in text and d["cut_off"] is False
    (row,) = [e for e in card["expectations"] if e["check"] == "attacker cut off"]  # each scenario says it does not stop the attacker
    assert row["expected"] is False and row["actual"] is False and row["evidence"] == text
    markdown = Path(card["files"]["markdown"]).read_text()
    assert f"| {alert_type.replace('_', chr(92) + '_')} | Fired |" in markdown and "After containment: " in markdown

    if name == "ai-jailbreak":  # Prompt Shields blocked every attempt, before and after the incident: Firestop refused nothing
        assert r["served"] == 0 and r["refused_after_containment"] == 0
        assert text.startswith("not contained — resolved") and "blocked by the content filter (400)" in text and "0 served" in text
