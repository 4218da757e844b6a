"""RT15-04: an alert not confirmed at its source — even one a responder rejected as not genuine — closed the real
Sentinel incident and resolved the real Defender alert it named.

Attacker: anyone holding the alerts webhook key. leftovers11 let evidence steps run without waiting for the
``alert.genuine`` decision; the learn phase's write-backs were gated only on the evidence having been kept
(``ai-jailbreak`` and the other Defender AI playbooks: ``sentinel-close`` / ``resolve-defender-alert`` when
``steps.snapshot-logs.ok == true``), and the learn phase never waited on the decision. So the real Sentinel incident
4211 re-posted with one fact changed (not confirmed: severity differs), rejected by a responder as forged, was
closed as TruePositive "Resolved by Firestop" (``incidents.createOrUpdate``), and the real Defender alert re-posted
likewise was resolved (``securityAlerts.resolve``): the SOC's open case of a real attack shut by a forger. Before
leftovers11 the evidence step waited for an approval too, so these conditions did not hold. Fixed: with
``responder_flow`` 2, while the alert is not confirmed and not decided genuine, no learn step that changes anything
outside Firestop (a mutating runbook that is not evidence: closing, resolving, commenting at the source) runs.
"""

from __future__ import annotations

import copy
import json

import pytest

from firestop.cli.incidents import decide
from firestop.lifecycle.incident import GENUINE_STEP
from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.verify11.test_defender_source_check import check_on, start  # noqa: F401 (fixture)
from tests.verify11.test_sentinel_source_check import INCIDENT

pytestmark = pytest.mark.usefixtures("check_on")
JAILBREAK = json.loads((REPO_ROOT / "examples" / "alerts" / "defender-jailbreak.json").read_text(encoding="utf-8"))
WRITES = {"incidents.createOrUpdate", "securityAlerts.resolve", "incidentComments.createOrUpdate"}


def _written_back(env, since: int) -> list[str]:
    return [r.operation for r in env.tenant.requests[since:] if r.operation in WRITES]


def _run(served, body: dict, decision: str | None) -> tuple[dict, int]:  # noqa: F811
    env, _, _ = served
    incident_id = start(served, body)
    env.host.run_until_idle()
    status = env.host.get_status(incident_id)
    assert status.runtime_status == "Running" and status.custom_status["pending_approval"]["step"] == GENUINE_STEP
    since = len(env.tenant.requests)
    if decision:
        decide(env, incident_id, GENUINE_STEP, decision, "oid-alice", comment="checked at the source")
    env.host.run_until_idle(advance_timers=True)  # no decision: the approval times out
    return env.host.get_status(incident_id).output, since


@pytest.mark.parametrize("decision", ["reject", None])
def test_a_rejected_or_undecided_sentinel_incident_is_not_closed(served, decision):  # noqa: F811
    env, _, _ = served
    body = copy.deepcopy(INCIDENT)
    body["object"]["properties"]["severity"] = "High"  # the real incident 4211, one fact changed: not confirmed
    output, since = _run(served, body, decision)
    assert output["status"] == "needs_responder"
    assert "incidents.createOrUpdate" not in _written_back(env, since), [
        (e["step"], e["outcome"]) for e in output["timeline"]]
    assert [e["outcome"] for e in output["timeline"] if e.get("step") == "sentinel-close"] == ["not run"]


def test_a_rejected_defender_alert_is_not_resolved(served):  # noqa: F811
    env, _, _ = served
    body = copy.deepcopy(JAILBREAK)
    body["properties"]["severity"] = "High"  # the real Defender alert, one fact changed: not confirmed
    output, since = _run(served, body, "reject")
    assert "securityAlerts.resolve" not in _written_back(env, since), [
        (e["step"], e["outcome"]) for e in output["timeline"]]


def test_an_alert_decided_genuine_is_written_back_as_before(served):  # noqa: F811
    env, _, _ = served
    body = copy.deepcopy(INCIDENT)
    body["object"]["properties"]["severity"] = "High"
    output, since = _run(served, body, "approve")
    assert "incidents.createOrUpdate" in _written_back(env, since)
