"""verify11: a Sentinel incident relayed to the webhook (the automation rule's trigger body) is read back from Sentinel
(Incidents - Get, List Alerts, List Entities, REST 2024-03-01 over azure-mgmt-core's ARM pipeline and the sandbox
transport) before any automatic step. On 5376a3e (main) a forged incident naming a denial-of-wallet alert on the
protected account throttled its deployment with nobody approving (the first test)."""

from __future__ import annotations

import copy
import json

import pytest

from firestop.lifecycle.incident import CHECK_ATTEMPTS
from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import ACCOUNT, OTHER_ACCOUNT, post, served  # noqa: F401 (fixture)
from tests.verify11.test_defender_source_check import DEPLOYMENT, check_on, start, waiting_why  # noqa: F401 (fixture)
from tests.source_check_steps import through_check_retries

pytestmark = pytest.mark.usefixtures("check_on")

INCIDENT = json.loads((REPO_ROOT / "examples" / "alerts" / "sentinel-incident-jailbreak.json").read_text(encoding="utf-8"))
FORGED_NAME = "66666666-4b5a-4c6d-9e7f-0a1b2c3d4e5f"


def with_alert_type(body: dict, alert_type: str) -> dict:
    out = copy.deepcopy(body)
    for alert in out["object"]["properties"]["alerts"]:
        alert["properties"]["alertType"] = alert_type
    return out


def unconfirmed_why(env, incident_id: str) -> str:
    """Why the incident was not confirmed at its source, whether it waits for a responder (a step that acts came) or
    ended needing one (leftovers11: evidence steps never wait on the "alert genuine" decision, so an incident whose
    only applicable steps keep evidence ends ``needs_responder`` without acting)."""
    status = env.host.get_status(incident_id)
    if status.runtime_status == "Running":
        return waiting_why(env, incident_id)
    output = status.output
    assert output["status"] == "needs_responder" and output["contained_at"] is None, output["status"]
    acted = [a["step_id"] for a in output["actions"] if a["ok"] and a["runbook"] in ("deployment.throttle", "keys.rotate",
                                                                                   "network.lock")]
    assert acted == [], acted
    return next(e["detail"] for e in output["timeline"] if e.get("step") == "confirm alert at source")


def forged(body: dict) -> dict:
    """``body`` naming an incident Sentinel never made (another incident name)."""
    out = copy.deepcopy(body)
    out["object"]["id"] = out["object"]["id"].rsplit("/", 1)[0] + "/" + FORGED_NAME
    out["object"]["name"] = FORGED_NAME
    return out


def test_a_forged_sentinel_incident_throttles_nothing_and_waits(served):  # noqa: F811
    env, _, _ = served
    before = env.tenant.resource(DEPLOYMENT)
    body = forged(with_alert_type(INCIDENT, "AI.Azure_DOWVolumeAnomaly"))
    body["object"]["properties"]["alerts"][0]["properties"].setdefault("extendedProperties", {})["Deployment name"] = "gpt-4o"
    incident_id = start(served, body)
    env.host.run_until_idle()
    why = unconfirmed_why(env, incident_id)
    assert "incident not found at its source (Sentinel answered 404)" in why
    assert env.tenant.resource(DEPLOYMENT) == before
    status = env.host.get_status(incident_id)
    assert status.input["source_check"] == "sentinel" and status.input["source_ref"] == body["object"]["id"]


def test_the_genuine_incident_sentinel_holds_is_confirmed(served):  # noqa: F811
    env, _, _ = served
    incident_id = start(served, INCIDENT)  # the seeded incident 4211; examples/alerts/sentinel-incident-jailbreak.json
    env.host.run_until_idle(advance_timers=True)
    output = env.host.get_status(incident_id).output
    checks = [e for e in output["timeline"] if e.get("step") == "confirm alert at source"]
    assert [e["outcome"] for e in checks] == ["ok"], checks
    assert output["status"] in ("contained", "resolved"), output.get("reason")
    assert not any("not confirmed" in n for n in output["notes"])
    operations = [r.operation for r in env.tenant.requests]
    assert {"incidents.get", "incidents.listAlerts", "incidents.listEntities"} <= set(operations)


@pytest.mark.parametrize("change, why", [
    (lambda o: [e["properties"].update(resourceId=OTHER_ACCOUNT) for e in o["properties"]["relatedEntities"] if e["kind"] == "AzureResource"],
     "resource identifiers differ"),
    (lambda o: o["properties"]["alerts"][0]["properties"].update(alertType="AI.Azure_DOWVolumeAnomaly"), "alert type differs"),
    (lambda o: o["properties"].update(createdTimeUtc="2026-11-29T02:59:05.0000000Z"), "createdTimeUtc differs"),
    (lambda o: o["properties"].update(severity="High"), "severity differs"),
])
def test_the_real_incident_id_posted_with_other_facts_waits(served, change, why):  # noqa: F811
    env, _, _ = served
    body = copy.deepcopy(INCIDENT)
    change(body["object"])
    incident_id = start(served, body)
    env.host.run_until_idle()
    assert why in unconfirmed_why(env, incident_id)


def test_a_sentinel_that_keeps_failing_is_not_confirmed(served):  # noqa: F811
    env, _, _ = served
    # every try of the check (the first and azure-core's 3 retries), each of the CHECK_ATTEMPTS tries (variants14)
    env.tenant.inject_fault("incidents.get", 503, times=4 * CHECK_ATTEMPTS)
    incident_id = start(served, INCIDENT)
    env.host.run_until_idle()
    through_check_retries(env, incident_id)
    assert "could not be read (HTTP 503 after retries)" in waiting_why(env, incident_id)  # the first contain step
    assert sum(1 for f in env.tenant.faults if f.operation == "incidents.get") == 4 * CHECK_ATTEMPTS


def test_with_the_check_off_sentinel_is_not_read_for_the_check(served, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "off")
    env, _, _ = served
    incident_id = start(served, forged(INCIDENT))
    env.host.run_until_idle(advance_timers=True)
    status = env.host.get_status(incident_id)
    assert "source_check" not in status.input and "source_ref" not in status.input
    assert not any(e.get("step") == "confirm alert at source" for e in status.output["timeline"])
