"""verify11: a Defender for Cloud alert posted to the webhook is read back from Defender for Cloud (Security Alerts REST
2022-01-01, ``alerts.get_resource_group_level`` of azure-mgmt-security over the sandbox transport) before any
automatic step, as a Common Alert Schema alert is read from Alerts Management (RT12/RT13).

The PoC is the first test: on 5376a3e (main) a forged denial-of-wallet alert — a systemAlertId Defender never raised,
naming the protected account — throttles its deployment with nobody approving (status ``contained``)."""

from __future__ import annotations

import copy
import json

import pytest

from firestop.lifecycle.incident import CHECK_ATTEMPTS
from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import ACCOUNT, OTHER_ACCOUNT, post, served, what_intake_did# noqa: F401 (fixture)
from tests.source_check_steps import through_check_retries

pytestmark = pytest.mark.usefixtures("check_on")

EXAMPLES = REPO_ROOT / "examples" / "alerts"
DOW = json.loads((EXAMPLES / "defender-denial-of-wallet.json").read_text(encoding="utf-8"))
THEFT = json.loads((EXAMPLES / "defender-credential-theft.json").read_text(encoding="utf-8"))
DEPLOYMENT = ACCOUNT + "/deployments/gpt-4o"


@pytest.fixture
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def forged(body: dict, system_id: str = "2516935104300000666_66666666-1111-4a2b-8c3d-000000000666") -> dict:
    """``body`` with a systemAlertId Defender for Cloud never raised (its id, name and systemAlertId)."""
    out = copy.deepcopy(body)
    out["id"] = out["id"].rsplit("/", 1)[0] + "/" + system_id
    out["name"] = out["properties"]["systemAlertId"] = system_id
    return out


def start(served, body: dict) -> str:  # noqa: F811
    env, server, app = served
    response = post(app, server, json.dumps(body).encode())
    assert response.status_code == 202, response.get_body()
    return what_intake_did(response)["id"]


def waiting_why(env, incident_id: str) -> str:
    status = env.host.get_status(incident_id)
    assert status.runtime_status == "Running", (status.runtime_status, (status.output or {}).get("status"))
    pending = (status.custom_status or {}).get("pending_approval")
    assert pending is not None, "the incident must wait for a responder"
    return pending["why"]


def deployment(env) -> dict:
    return env.tenant.resource(DEPLOYMENT)


def test_a_forged_defender_ai_alert_throttles_nothing_and_waits_for_a_responder(served):  # noqa: F811
    env, _, _ = served
    before = deployment(env)
    incident_id = start(served, forged(DOW))
    env.host.run_until_idle()
    why = waiting_why(env, incident_id)
    assert "alert not confirmed at its source" in why and "alert not found at its source (Defender for Cloud answered 404)" in why
    assert deployment(env) == before, "no deployment may be throttled before a responder approves"
    status = env.host.get_status(incident_id)
    assert status.input["source_check"] == "defender" and status.input["source_ref"] == forged(DOW)["id"]
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    output = env.host.get_status(incident_id).output
    assert output["status"] == "needs_responder" and output["contained_at"] is None
    assert deployment(env) == before


def test_a_forged_credential_theft_alert_leaves_the_keys_alone_when_nobody_approves(served):  # noqa: F811
    env, _, _ = served
    keys = dict(env.tenant.account_keys(ACCOUNT))
    incident_id = start(served, forged(THEFT))
    env.host.run_until_idle(advance_timers=True)
    output = env.host.get_status(incident_id).output
    assert output["status"] == "needs_responder", output["status"]
    assert any("alert not confirmed at its source" in n for n in output["notes"])
    assert dict(env.tenant.account_keys(ACCOUNT)) == keys


def test_the_genuine_alert_defender_raised_is_confirmed_and_contained_as_before(served):  # noqa: F811
    env, _, _ = served
    before = deployment(env)
    incident_id = start(served, DOW)  # examples/alerts/defender-denial-of-wallet.json is seeded in the sandbox's Defender
    env.host.run_until_idle(advance_timers=True)
    output = env.host.get_status(incident_id).output
    assert output["status"] == "contained", output.get("reason")
    assert deployment(env) != before
    checks = [e for e in output["timeline"] if e.get("step") == "confirm alert at source"]
    assert [e["outcome"] for e in checks] == ["ok"], checks
    assert [r.operation for r in env.tenant.requests].count("securityAlerts.get") == 1


@pytest.mark.parametrize("change, why", [
    (lambda p: p["resourceIdentifiers"][0].update(azureResourceId=OTHER_ACCOUNT), "resource identifiers differ"),
    (lambda p: p.update(alertType="AI.Azure_DOWDuplicateRequests"), "alertType differs"),
    (lambda p: p.update(timeGeneratedUtc="2026-11-29T02:40:59.0000000Z"), "time differs"),
    (lambda p: p.update(severity="High"), "severity differs"),
])
def test_the_real_alert_id_posted_with_other_facts_waits(served, change, why):  # noqa: F811
    env, _, _ = served
    body = copy.deepcopy(DOW)
    change(body["properties"])
    before = deployment(env)
    incident_id = start(served, body)
    env.host.run_until_idle()
    assert why in waiting_why(env, incident_id)
    assert deployment(env) == before


def _set_status(env, status: str) -> None:
    """Set the seeded alert's status as Defender's own state-change POST does (the SDK over the sandbox)."""
    from firestop.alerts.source_refs import check_defender_alert_id

    _, rg, location, name = check_defender_alert_id(DOW["id"])
    action = {"Dismissed": "update_resource_group_level_state_to_dismiss",
              "Active": "update_resource_group_level_state_to_activate"}[status]
    getattr(env.clients.security(env.tenant.subscription_id).alerts, action)(rg, location, name)


def test_a_dismissed_alert_is_not_a_reason_for_automatic_containment(served):  # noqa: F811
    env, _, _ = served
    _set_status(env, "Dismissed")  # a responder dismissed it in the portal
    incident_id = start(served, DOW)
    env.host.run_until_idle()
    assert "dismissed" in waiting_why(env, incident_id)


def test_one_confirmed_incident_per_defender_alert(served):  # noqa: F811
    """The genuine delivery is confirmed and contained (and the playbook resolves the Defender alert: a replay then
    meets a Resolved alert). Its instance is purged and the same delivery posted again starts the same instance id
    afresh — even with the alert made Active again, the alert is claimed: it waits for a responder."""
    env, _, _ = served
    first = start(served, DOW)
    env.host.run_until_idle(advance_timers=True)
    assert env.host.get_status(first).output["status"] == "contained"
    env.host.purge(first)
    again = start(served, DOW)
    env.host.run_until_idle()
    assert "the source says the alert is 'Resolved'" in waiting_why(env, again)
    env.host.purge(again)
    _set_status(env, "Active")
    again = start(served, DOW)
    env.host.run_until_idle()
    why = waiting_why(env, again)
    assert "already confirmed for incident" in why and first in why


def test_a_source_that_keeps_failing_is_not_confirmed(served):  # noqa: F811
    env, _, _ = served
    before = deployment(env)
    env.tenant.inject_fault("securityAlerts.get", 503, times=20)  # more than the pipeline's retries
    incident_id = start(served, DOW)
    env.host.run_until_idle()
    through_check_retries(env, incident_id)  # variants14: a passing failure is tried again (CHECK_ATTEMPTS)
    assert "could not be read (HTTP 503 after retries)" in waiting_why(env, incident_id)
    tries = sum(1 for f in env.tenant.faults if f.operation == "securityAlerts.get")
    assert tries == (1 + 3) * CHECK_ATTEMPTS  # azure-core retry_status=3, per try
    assert deployment(env) == before


def test_a_delivery_without_its_alert_id_is_not_confirmed(served):  # noqa: F811
    """The export / workflow-automation shape without ``id`` (or a SecurityAlert row) names no location to read."""
    env, _, _ = served
    flat = {**DOW["properties"]}
    incident_id = start(served, flat)
    env.host.run_until_idle()
    assert "the delivery names no Defender alert id" in waiting_why(env, incident_id)
    assert env.host.get_status(incident_id).input["source_check"] == "defender"
    assert not any(r.operation == "securityAlerts.get" for r in env.tenant.requests)


def test_with_the_check_off_nothing_is_read_and_the_input_carries_no_field(served, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "off")
    env, _, _ = served
    incident_id = start(served, forged(DOW))
    env.host.run_until_idle(advance_timers=True)
    status = env.host.get_status(incident_id)
    assert "source_check" not in status.input and "source_ref" not in status.input
    assert status.output["status"] == "contained"  # as before the check: the key holder is believed
    assert not any(r.operation == "securityAlerts.get" for r in env.tenant.requests)


def test_an_input_written_before_the_check_runs_as_it_was_written(served, monkeypatch):  # noqa: F811
    """Replay safety: the check is decided at intake and kept in the sealed input. An incident accepted with the
    check off (an orchestration started before this change) neither reads the source nor waits once the setting is on."""
    env, _, _ = served
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "off")
    incident_id = start(served, forged(DOW))
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env.host.run_until_idle(advance_timers=True)
    status = env.host.get_status(incident_id)
    assert "source_check" not in status.input
    assert status.output["status"] == "contained"
    assert not any(r.operation == "securityAlerts.get" for r in env.tenant.requests)
