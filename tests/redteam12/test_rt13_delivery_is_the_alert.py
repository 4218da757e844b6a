"""RT13 (medium): the source check confirmed that an alert with that id fired on that target from that rule, not that
this delivery is that alert. A webhook-key holder who knows a real alert id posted it routed to a playbook of their
choice (the route is part of the correlation key: a new incident) or with other times, and it was contained without
approval. Now the delivery's firedDateTime / severity / signalType / monitorCondition must be the source's, and its
``firestop-playbook`` one the alert rule routes to (the rule read through the same ARM pipeline; unreadable: not
confirmed). The PoCs below are contained on d7fbd72; the control (the genuine delivery) still is."""

from __future__ import annotations

import json

import pytest

from firestop.azure.alerts_management import check_rule_id, compare_route, rule_routes
from tests.e2e.test_webhook import ACCOUNT, alert_body, post, served  # noqa: F401 (fixture)
from tests.redteam12.test_rt12_alert_source_check import _start, check_on  # noqa: F401 (fixture)
from tests.source_check_steps import through_check_retries

SUB = "11111111-2222-3333-4444-555555555555"
RULE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/microsoft.insights/scheduledqueryrules/aoai-leaked-key-usage"




def _waiting_why(env, incident_id: str) -> str:
    status = env.host.get_status(incident_id)
    assert status.runtime_status == "Running", (status.runtime_status, (status.output or {}).get("status"))
    pending = (status.custom_status or {}).get("pending_approval")
    assert pending is not None, "the incident must wait for a responder"
    return pending["why"]


def _fired_then(served, change) -> tuple[str, dict]:  # noqa: F811
    """Azure Monitor fires the genuine alert (its rule routes to leaked-api-key); the forger posts it changed."""
    env, _, _ = served
    genuine = json.loads(alert_body())
    assert env.tenant.fire_alert(genuine)
    forged = json.loads(json.dumps(genuine))
    change(forged["data"])
    keys = dict(env.tenant.account_keys(ACCOUNT))
    incident_id = _start(served, json.dumps(forged).encode())
    env.host.run_until_idle()
    return incident_id, keys


@pytest.mark.usefixtures("check_on")
def test_a_real_alert_id_posted_with_another_route_waits_for_a_responder(served):  # noqa: F811
    env, _, _ = served
    incident_id, keys = _fired_then(served, lambda d: d["customProperties"].update({"firestop-playbook": "public-network-exposure"}))
    why = _waiting_why(env, incident_id)
    assert "firestop-playbook differs" in why and "leaked-api-key" in why and "public-network-exposure" in why
    assert dict(env.tenant.account_keys(ACCOUNT)) == keys


@pytest.mark.usefixtures("check_on")
def test_a_real_alert_id_posted_with_the_route_removed_waits(served):  # noqa: F811
    env, _, _ = served
    incident_id, _ = _fired_then(served, lambda d: d.pop("customProperties"))
    assert "firestop-playbook differs" in _waiting_why(env, incident_id)


@pytest.mark.usefixtures("check_on")
@pytest.mark.parametrize("field, value, why", [
    ("firedDateTime", "2026-11-29T02:50:00.000Z", "firedDateTime differs"),  # a later firing's delivery, replayed
    ("severity", "Sev0", "severity differs"),
    ("signalType", "Metric", "signalType differs"),
])
def test_a_real_alert_id_posted_with_other_essentials_waits(served, field, value, why):  # noqa: F811
    env, _, _ = served
    incident_id, keys = _fired_then(served, lambda d: d["essentials"].update({field: value}))
    assert why in _waiting_why(env, incident_id)
    assert dict(env.tenant.account_keys(ACCOUNT)) == keys


@pytest.mark.usefixtures("check_on")
def test_an_unreadable_rule_is_not_confirmed(served):  # noqa: F811
    env, _, _ = served
    env.tenant.inject_fault("scheduledQueryRules.get", 503, times=20)  # more than the pipeline's retries
    incident_id, keys = _fired_then(served, lambda d: None)
    through_check_retries(env, incident_id)  # variants14: a passing failure is tried again (CHECK_ATTEMPTS)
    assert "alert rule cannot be read (HTTP 503 after retries)" in _waiting_why(env, incident_id)
    assert dict(env.tenant.account_keys(ACCOUNT)) == keys


@pytest.mark.usefixtures("check_on")
def test_control_the_genuine_delivery_is_confirmed_and_contained(served):  # noqa: F811
    env, _, _ = served
    body = alert_body()
    env.tenant.fire_alert(json.loads(body))
    keys = dict(env.tenant.account_keys(ACCOUNT))
    incident_id = _start(served, body)
    env.host.run_until_idle(advance_timers=True)
    output = env.host.get_status(incident_id).output
    assert output["status"] == "contained", output.get("reason")
    assert dict(env.tenant.account_keys(ACCOUNT)) != keys
    checks = [e for e in output["timeline"] if e.get("step") == "confirm alert at source"]
    assert [e["outcome"] for e in checks] == ["ok"] and "route match" in checks[0]["detail"]
    assert any(r.operation == "scheduledQueryRules.get" for r in env.tenant.requests)


def test_a_rule_held_by_the_tenant_is_never_changed_by_firing(served):  # noqa: F811
    env, _, _ = served
    first = json.loads(alert_body())
    env.tenant.fire_alert(first)
    second = json.loads(alert_body())
    second["data"]["customProperties"] = {"firestop-playbook": "public-network-exposure"}
    env.tenant.fire_alert(second)  # the first firing registered the rule; this one finds it
    from firestop.sandbox.monitor import models

    with env.tenant._exclusive() as state:
        rule = models.get(state, RULE_ID)
    assert rule_routes(rule) == {"leaked-api-key"}


@pytest.mark.parametrize("rule, routes", [
    ({"type": "Microsoft.Insights/scheduledQueryRules", "properties": {"actions": {"customProperties": {"Firestop-Playbook": " Leaked-API-Key "}}}},
     {"leaked-api-key"}),
    ({"type": "Microsoft.Insights/metricAlerts", "properties": {"actions": [
        {"webHookProperties": {"firestop-playbook": "a"}}, {"webHookProperties": {}}]}}, {"a", None}),
    ({"type": "Microsoft.Insights/activityLogAlerts", "properties": {"actions": {"actionGroups": [
        {"webhookProperties": {"firestop-playbook": "b"}}]}}}, {"b"}),
    ({"type": "Microsoft.Insights/metricAlerts", "properties": {}}, {None}),
    ({"type": "Microsoft.Web/sites", "properties": {}}, set()),
])
def test_the_routes_a_rule_gives_per_spec_shape(rule, routes):
    assert rule_routes(rule) == routes


def test_the_route_compared_as_playbook_selection_reads_it():
    rule = {"type": "Microsoft.Insights/scheduledQueryRules", "properties": {"actions": {"customProperties": {"firestop-playbook": "leaked-api-key"}}}}
    assert compare_route({"custom_properties": {"FIRESTOP-PLAYBOOK": "Leaked-API-Key"}}, rule) is None
    assert "differs" in compare_route({"custom_properties": {}}, rule)
    assert "differs" in compare_route({"custom_properties": {"firestop-playbook": "leaked-api-key"}}, {"type": "x"})


@pytest.mark.parametrize("value", [RULE_ID.replace("aoai-leaked-key-usage", "../../x"), "aoai-leaked-key-usage", None,
                                   f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/app",
                                   RULE_ID + "?api-version=1"])
def test_only_an_alert_rule_id_reaches_a_url(value):
    with pytest.raises(ValueError):
        check_rule_id(value)
    assert check_rule_id(RULE_ID) == RULE_ID


@pytest.mark.usefixtures("check_on")
def test_one_confirmed_incident_per_source_alert(served):  # noqa: F811
    """Step 3: the genuine delivery is confirmed and contained; its instance is purged (history retention) and the
    same delivery posted again starts the same instance id afresh: the alert is claimed, it waits for a responder."""
    env, _, _ = served
    body = alert_body()
    env.tenant.fire_alert(json.loads(body))
    first = _start(served, body)
    env.host.run_until_idle(advance_timers=True)
    assert env.host.get_status(first).output["status"] == "contained"
    env.host.purge(first)
    keys = dict(env.tenant.account_keys(ACCOUNT))
    again = _start(served, body)
    env.host.run_until_idle()
    why = _waiting_why(env, again)
    assert "already confirmed for incident" in why and first in why
    assert dict(env.tenant.account_keys(ACCOUNT)) == keys


def test_the_claim_is_idempotent_for_its_incident_and_refuses_another(tmp_path):
    from firestop.azure.alerts_management import claim, claim_name
    from firestop.storage.local import LocalStore
    from firestop.trust.seal import SealKey

    key = SealKey("rt13-claim-test-seal-key-0123456789abcdef", "test")  # bounds14: markers are sealed
    store = LocalStore(tmp_path)
    alert = {"alert_id": f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/{'a' * 8}-aaaa-aaaa-aaaa-{'a' * 12}",
             "monitor_condition": "Fired"}
    assert claim(store, alert, "inc-1", "2026-11-29T03:15:00Z", key=key) is None
    assert claim(store, alert, "inc-1", "2026-11-29T03:15:00Z", key=key) is None  # the activity retried or replayed
    assert "already confirmed" in claim(store, alert, "inc-1", "2026-11-30T03:15:00Z", key=key)  # the id started afresh
    assert "already confirmed for incident 'inc-1'" in claim(store, {**alert, "alert_id": alert["alert_id"].upper()}, "inc-2",
                                                          key=key)
    assert claim(store, {**alert, "monitor_condition": "Resolved"}, "inc-2", key=key) is None  # the other delivery Azure sends
    assert claim_name(alert).startswith("source-confirmed/") and alert["alert_id"].lower() not in claim_name(alert)
