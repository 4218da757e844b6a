"""RT12 (design finding): whoever holds the alerts function key could POST a Common Alert Schema alert naming any
protected account and Firestop rotated its keys and locked its network with no approval. With
FIRESTOP_ALERT_SOURCE_CHECK on, the alert is read from Alerts Management (GET its alertId) before any automatic
step; not found, not matching or unreadable: every step waits for a responder (fail safe).

The first test is the PoC: on e0bc95b the forged alert is contained (keys rotated) without anyone approving."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from firestop.lifecycle.incident import CHECK_ATTEMPTS
from tests.e2e.test_webhook import ACCOUNT, OTHER_ACCOUNT, alert_body, post, served, what_intake_did# noqa: F401 (fixture)
from tests.source_check_steps import through_check_retries

pytestmark = pytest.mark.usefixtures("check_on")


@pytest.fixture
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _start(served, body: bytes) -> str:  # noqa: F811
    env, server, app = served
    response = post(app, server, body)
    assert response.status_code == 202, response.get_body()
    return what_intake_did(response)["id"]


def _keys(env) -> dict:
    return dict(env.tenant.account_keys(ACCOUNT))


def _waiting_why(env, incident_id: str) -> str:
    status = env.host.get_status(incident_id)
    assert status.runtime_status == "Running", status.runtime_status
    pending = (status.custom_status or {}).get("pending_approval")
    assert pending is not None, "the incident must wait for a responder"
    return pending["why"]


def test_a_forged_alert_contains_nothing_and_waits_for_a_responder(served):  # noqa: F811
    env, _, _ = served
    before = _keys(env)
    incident_id = _start(served, alert_body())  # a fresh alertId Azure Monitor never fired
    env.host.run_until_idle()
    why = _waiting_why(env, incident_id)
    assert "alert not confirmed at its source" in why and "alert not found at its source" in why
    assert _keys(env) == before, "no key may be rotated before a responder approves"
    timeline = env.host.get_status(incident_id).custom_status["timeline"]
    assert any(e.get("step") == "confirm alert at source" and e.get("outcome") == "not confirmed" for e in timeline), timeline


def test_the_forged_alert_ends_needing_a_responder_when_nobody_approves(served):  # noqa: F811
    env, _, _ = served
    before = _keys(env)
    incident_id = _start(served, alert_body())
    env.host.run_until_idle(advance_timers=True)
    status = env.host.get_status(incident_id)
    assert status.output["status"] == "needs_responder"
    assert status.output["contained_at"] is None
    assert any("alert not confirmed at its source" in n for n in status.output["notes"])
    assert _keys(env) == before


def test_a_genuine_alert_fired_in_the_sandbox_is_contained_as_before(served):  # noqa: F811
    env, _, _ = served
    before = _keys(env)
    body = alert_body()
    assert env.tenant.fire_alert(json.loads(body))  # Azure Monitor holds it before it sends the webhook
    incident_id = _start(served, body)
    env.host.run_until_idle(advance_timers=True)
    output = env.host.get_status(incident_id).output
    assert output["status"] == "contained", output.get("reason")
    assert _keys(env) != before
    assert any(e.get("step") == "confirm alert at source" and e.get("outcome") == "ok" for e in output["timeline"])


def test_an_alert_whose_target_differs_from_its_source_waits(served):  # noqa: F811
    env, _, _ = served
    body = alert_body()
    fired = json.loads(body)
    fired["data"]["essentials"]["alertTargetIDs"] = [OTHER_ACCOUNT]  # the real alert was about another account
    env.tenant.fire_alert(fired)
    incident_id = _start(served, body)
    env.host.run_until_idle()
    why = _waiting_why(env, incident_id)
    assert "targetResource differs" in why and "contoso-openai-dr" in why


def test_a_source_that_keeps_failing_is_not_confirmed_and_intake_still_answers_202(served):  # noqa: F811
    env, _, _ = served
    body = alert_body()
    env.tenant.fire_alert(json.loads(body))
    env.tenant.inject_fault("alerts.get", 503, times=20)  # more than the pipeline's retries
    incident_id = _start(served, body)
    env.host.run_until_idle()
    through_check_retries(env, incident_id)  # variants14: a passing failure is tried again (CHECK_ATTEMPTS)
    why = _waiting_why(env, incident_id)
    assert "could not be read (HTTP 503 after retries)" in why and "could not check after" in why
    tries = sum(1 for f in env.tenant.faults if f.operation == "alerts.get")
    # each try: the first call and the pipeline's RetryPolicy status retries (azure-core retry_status=3)
    assert tries == (1 + 3) * CHECK_ATTEMPTS


def test_with_the_check_off_no_source_is_read_and_the_input_carries_no_field(served, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "off")
    env, _, _ = served
    incident_id = _start(served, alert_body())
    env.host.run_until_idle(advance_timers=True)
    status = env.host.get_status(incident_id)
    assert "source_check" not in status.input  # an input without it replays as it always did
    assert status.output["status"] == "contained"
    assert not any(r.operation == "alerts.get" for r in env.tenant.requests)
