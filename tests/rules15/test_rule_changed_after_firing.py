"""A13-09 (rules15): a rule's trust is judged on the rule as read, so the rule read must be the one that fired — one
modified at or after its alert's ``startDateTime`` is not trusted (``RULE_CHANGED``, "changed after it fired"),
for a playbook's detection (tests/attack13) and for an admin's trusted-rule entry alike (here: edit, fire, restore);
the sandbox answers when its alert rules last changed, as Azure does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from azure.mgmt.monitor import MonitorManagementClient

from firestop.infra.rule_trust import changed_after_firing, last_modified
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.playbooks.test_detect_rules import PROFILE
from tests.redteam17.test_rt17_foreign_alert_rule import SUB, _foreign_rule_alert, _network
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery, trust_rule_of

FIRED = datetime(2026, 12, 5, 3, 0, 0, tzinfo=timezone.utc)
SQR = "Microsoft.Insights/scheduledQueryRules"


def _rule(kind: str = SQR, *, system: str | None = None, updated: str | None = None) -> dict:
    rule = {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/{kind}/r", "name": "r", "type": kind, "properties": {}}
    if system is not None:
        rule["systemData"] = {"createdAt": "2026-01-01T00:00:00Z", "lastModifiedAt": system}
    if updated is not None:
        rule["properties"]["lastUpdatedTime"] = updated
    return rule


@pytest.mark.parametrize("modified, trusted", [
    ("2026-12-05T02:59:59.9999999Z", True),   # before the fire (.NET's 7 digits)
    ("2026-12-05T03:00:00Z", False),          # at the fire: no margin either way
    ("2026-12-05T03:00:00.000001Z", False),   # any change after it
    ("2026-12-05T04:00:00+01:00", False),     # the same instant in another offset
])
def test_a_scheduled_query_rule_is_judged_by_its_system_data(modified, trusted):
    why = changed_after_firing(_rule(system=modified), FIRED)
    assert (why is None) is trusted, why
    if not trusted:
        assert "changed after it fired" in why and "'r'" in why


def test_a_metric_rule_by_its_last_updated_time_and_the_later_of_both_wins():
    metric = "Microsoft.Insights/metricAlerts"
    assert changed_after_firing(_rule(metric, updated="2026-12-05T02:00:00Z"), FIRED) is None
    assert "changed after it fired" in changed_after_firing(_rule(metric, updated="2026-12-05T03:00:01Z"), FIRED)
    both = _rule(metric, system="2026-12-05T02:00:00Z", updated="2026-12-05T03:30:00Z")
    assert last_modified(both) == FIRED + timedelta(minutes=30)
    assert "changed after it fired" in changed_after_firing(both, FIRED)


def test_absent_or_unreadable_times_are_not_trusted_except_where_the_spec_defines_none():
    assert "systemData.lastModifiedAt absent" in changed_after_firing(_rule(), FIRED)
    assert "properties.lastUpdatedTime absent" in changed_after_firing(_rule("Microsoft.Insights/metricAlerts"), FIRED)
    assert "not an ISO 8601 time" in changed_after_firing(_rule(system="yesterday"), FIRED)
    assert "not an ISO 8601 time" in changed_after_firing(_rule(system="2026-12-05T01:00:00Z", updated=7), FIRED)
    activity = "Microsoft.Insights/activityLogAlerts"
    assert changed_after_firing(_rule(activity), FIRED) is None  # 2020-10-01 defines no such time: judged as read
    assert "changed after it fired" in changed_after_firing(_rule(activity, system="2026-12-05T03:00:05Z"), FIRED)
    assert "none given" in changed_after_firing(_rule(system="2026-12-05T01:00:00Z"), None)


def test_the_sandbox_answers_when_its_alert_rules_changed_with_its_clock(served):  # noqa: F811
    env, _, _ = served
    monitor = MonitorManagementClient(env.tenant.credential, SUB, transport=env.tenant.transport, profile=PROFILE)
    from firestop.azure.alerts_management import AlertsManagementClient

    reader = AlertsManagementClient(env.tenant.credential, transport=env.tenant.transport)
    rule_id = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.Insights/scheduledQueryRules/q1"
    body = {"location": "eastus", "properties": {
        "enabled": True, "scopes": [f"/subscriptions/{SUB}"], "evaluationFrequency": "PT5M", "windowSize": "PT5M",
        "criteria": {"allOf": [{"query": "AzureDiagnostics | count", "timeAggregation": "Count", "operator": "GreaterThan",
                                "threshold": 0}]}}}
    monitor.scheduled_query_rules.create_or_update("rg-ai-dev", "q1", body)
    created = reader.get_rule(rule_id)["systemData"]
    env.tenant.clock.advance(60)
    monitor.scheduled_query_rules.create_or_update("rg-ai-dev", "q1", body)
    updated = reader.get_rule(rule_id)["systemData"]
    assert created["createdAt"] == created["lastModifiedAt"] == updated["createdAt"]
    assert last_modified({"systemData": updated}) >= last_modified({"systemData": created}) + timedelta(seconds=60)
    assert last_modified({"systemData": updated}) <= env.tenant.clock.now()
    # the SDK's own model keeps it too (2022-08-01-preview, the profile's scheduled query rules version)
    model = monitor.scheduled_query_rules.get("rg-ai-dev", "q1")
    assert model.system_data.last_modified_at == last_modified({"systemData": updated})

    metric_id = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.Insights/metricAlerts/m1"
    monitor.metric_alerts.create_or_update("rg-ai-dev", "m1", {
        "location": "global", "severity": 2, "enabled": True, "scopes": [f"/subscriptions/{SUB}"],
        "evaluation_frequency": "PT1M", "window_size": "PT5M",
        "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [
            {"criterionType": "StaticThresholdCriterion", "name": "c", "metricName": "Requests",
             "operator": "GreaterThan", "threshold": 1, "timeAggregation": "Total"}]}})
    assert monitor.metric_alerts.get("rg-ai-dev", "m1").last_updated_time == last_modified(reader.get_rule(metric_id))


def _sdk_edit(monitor, name: str, **changes) -> None:
    """The rule's author changes it through azure-mgmt-monitor (GET, change, PUT), as in the portal."""
    rule = monitor.scheduled_query_rules.get("rg-ai-dev", name)
    for field, value in changes.items():
        setattr(rule.criteria.all_of[0] if field == "threshold" else rule, field, value)
    monitor.scheduled_query_rules.create_or_update("rg-ai-dev", name, rule)


def test_an_admin_trusted_rule_edited_fired_and_restored_is_not_trusted(served, monkeypatch):  # noqa: F811
    """The entry's digest voids on the edit, but the restore makes it match again: without the time check the
    always-true version's alert was confirmed (fails with alerts_management.py as on rough15: 'ok', network Deny)."""
    from firestop.infra.trusted_rules import is_trusted
    from firestop.records.store import records_store
    from firestop.sandbox.core.clock import format_utc
    from firestop.settings import get_settings

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env, server, app = served
    earlier = _foreign_rule_alert(route_property=True)
    fire_genuine(env, json.dumps(earlier))  # the customer's rule exists (an older alert of it, never delivered)
    monitor = MonitorManagementClient(env.tenant.credential, SUB, transport=env.tenant.transport, profile=PROFILE)
    name = earlier["data"]["essentials"]["alertRule"]
    _sdk_edit(monitor, name, evaluation_frequency="PT5M", threshold=1000)  # version V: what the admin reviewed
    trust_rule_of(env.tenant, earlier)
    keys_before, network_before = env.tenant.issued_key_values(), _network(env)

    env.tenant.clock.advance(30)
    _sdk_edit(monitor, name, threshold=-1)  # the author makes it always true (the entry no longer matches) ...
    env.tenant.clock.advance(30)
    body = _foreign_rule_alert(route_property=True)
    body["data"]["essentials"]["firedDateTime"] = format_utc(env.tenant.clock.now())
    fire_genuine(env, json.dumps(body))  # ... it fires ...
    env.tenant.clock.advance(5)
    _sdk_edit(monitor, name, threshold=1000)  # ... and is put back as the admin trusted it
    with env.tenant._exclusive() as state:  # noqa: SLF001 - as Azure holds it
        from firestop.sandbox.monitor.models import get

        restored = get(state, earlier["data"]["essentials"]["alertRuleID"])
    assert is_trusted(records_store(get_settings()), restored), "the restore should match the entry again"

    incident = post_delivery(env, server, app, body)["id"]
    [(outcome, detail)] = confirm_checks(env, incident)
    assert outcome == "not confirmed" and "changed after it fired" in detail, detail
    status = env.host.get_status(incident).custom_status
    assert status["pending_approval"]["reason_code"] == "rule_changed"
    from firestop.lifecycle.cli_hints import unconfirmed_hint

    hint = unconfirmed_hint({**status, "timeline_so_far": status.get("timeline") or []})
    assert "was changed after it fired" in hint and "change history" in hint and "rules trust" not in hint, hint
    assert env.tenant.issued_key_values() == keys_before and _network(env) == network_before


def test_an_admin_trusted_rule_unchanged_since_before_it_fired_still_contains(served, monkeypatch):  # noqa: F811
    """The control: the same rule, trusted and left alone, fires later: confirmed, contained (the admin's choice)."""
    from firestop.sandbox.core.clock import format_utc

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env, server, app = served
    earlier = _foreign_rule_alert(route_property=True)
    fire_genuine(env, json.dumps(earlier))
    monitor = MonitorManagementClient(env.tenant.credential, SUB, transport=env.tenant.transport, profile=PROFILE)
    _sdk_edit(monitor, earlier["data"]["essentials"]["alertRule"], evaluation_frequency="PT5M")
    trust_rule_of(env.tenant, earlier)
    network_before = _network(env)
    env.tenant.clock.advance(60)
    body = _foreign_rule_alert(route_property=True)
    now = env.tenant.clock.now()
    body["data"]["essentials"]["firedDateTime"] = format_utc(now)
    condition = body["data"]["alertContext"]["condition"]  # (A17-05) its window ends when it fired, as Azure's does
    condition["windowStartTime"], condition["windowEndTime"] = format_utc(now - timedelta(minutes=15)), format_utc(now)
    fire_genuine(env, json.dumps(body))
    incident = post_delivery(env, server, app, body)["id"]
    assert [o for o, _ in confirm_checks(env, incident)] == ["ok"], confirm_checks(env, incident)
    assert _network(env) == "Deny" != network_before
