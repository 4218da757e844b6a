"""A13-09 (attacker D — whoever may write an alert rule, e.g. Monitoring Contributor; high): rules14's trust anchor is
checked against the rule as it is when Firestop reads it, not as it was when it fired.

rules14 (RT17-01's fix) trusts a fired rule when its criteria equal the routed playbook's ``detect:`` rule as
deployed: "an identical rule fires only on the real condition". But the source check reads the rule with a GET after
the delivery arrives (``alerts_management.confirm``: the alert, then ``get_rule``), and nothing compares when the rule
last changed with when its alert fired. The author writes RT17-01's always-true rule (their resource group, routed to
Firestop's action group with ``firestop-playbook: leaked-api-key``, scoped to the production account), lets Azure
Monitor fire it, and at once PUTs the same rule id with the detection's exact criteria (copied from Firestop's own
deployed rule, which they can read). Firestop's GET then sees the detection: trusted, confirmed ``ok``; the production
keys are rotated and its network locked, no responder asked — RT17-01's confused deputy again, for the price of one
PUT within the seconds between the webhook and the check (longer when the check is retried: variants14). No dimension
is delivered, so no re-run of the (now innocent) query contradicts it.

Fixed (rules15): the check refuses trust to a rule modified at or after its alert's ``startDateTime``
(:func:`firestop.infra.rule_trust.changed_after_firing`: ``systemData.lastModifiedAt`` on ``scheduledQueryRules``
2023-12-01, ``properties.lastUpdatedTime`` on ``metricAlerts`` 2018-03-01; absent → not trusted; an activity log
alert rule, whose 2020-10-01 API defines neither, is judged as read), and the sandbox's alert rules keep those times. A rule that delivers
dimensions is guarded today by the re-run of its (current) query for them; this one delivers none.
"""

from __future__ import annotations

import json

import pytest
from azure.mgmt.monitor import MonitorManagementClient

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.playbooks.test_detect_rules import PROFILE
from tests.redteam17.test_rt17_foreign_alert_rule import SUB, _foreign_rule_alert, _network
from tests.source_check_steps import confirm_outcomes, fire_genuine, post_delivery


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def test_a13_09_a_rule_rewritten_after_its_alert_fired_is_not_trusted(served):  # noqa: F811
    from firestop.azure.alerts_management import AlertsManagementClient
    from firestop.tabletop.detection import deploy_detection

    env, server, app = served
    deploy_detection(env.tenant, REPO_ROOT / "playbooks")  # Firestop's own detections, as firestop infra deploys them
    body = _foreign_rule_alert(route_property=True)
    keys_before, network_before = env.tenant.issued_key_values(), _network(env)
    fire_genuine(env, json.dumps(body))  # the always-true rule fires for real

    # ... and its author at once rewrites it (same id) with the criteria of Firestop's deployed detection
    reader = AlertsManagementClient(env.tenant.credential, transport=env.tenant.transport)
    ours = reader.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Insights/"
                           "scheduledQueryRules/aoai-leaked-key-usage-contoso-openai-prod")
    monitor = MonitorManagementClient(env.tenant.credential, SUB, transport=env.tenant.transport, profile=PROFILE)
    rewritten = {"location": ours["location"], "kind": "LogAlert", "properties": json.loads(json.dumps(ours["properties"]))}
    rewritten["properties"]["displayName"] = "appteam-leaked-keys-dashboard"
    monitor.scheduled_query_rules.create_or_update("rg-ai-dev", "appteam-leaked-keys-dashboard", rewritten)

    incident = post_delivery(env, server, app, body)["id"]
    assert confirm_outcomes(env, incident) == ["not confirmed"], (confirm_outcomes(env, incident), _network(env), env.tenant.issued_key_values() == keys_before)
    assert env.tenant.issued_key_values() == keys_before, "the production account's keys were rotated"
    assert _network(env) == network_before, "the production account's network was locked"
