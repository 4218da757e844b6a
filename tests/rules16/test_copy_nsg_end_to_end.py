"""R13-05 end to end (the served webhook, the local durable host, the sandbox tenant, the check on): the author of a
copy of Firestop's content-abuse detection (Monitoring Contributor in their own resource group) names another team's
NSG in ``firestop-nsg``; Azure Monitor fires it and delivers to Firestop. The source check — through the confirm
activity's own ``get_rule`` reader (the wiring this test covers) — compares the copy's NSG with Firestop's own
deployed rule's and refuses it: the alert waits for a responder (``rule_not_trusted``), nothing is blocked. Before:
the copy was trusted (its criteria are the detection's; a placeholder-valued property matched any string)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
VICTIM_NSG = f"/subscriptions/{SUB}/resourceGroups/rg-other-team/providers/Microsoft.Network/networkSecurityGroups/nsg-payments"


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def test_a_fired_copy_naming_another_nsg_waits_for_a_responder(served):  # noqa: F811
    from firestop.sandbox.core.clock import format_utc
    from firestop.tabletop.detection import deploy_detection

    env, server, app = served
    deploy_detection(env.tenant, env.settings.playbooks_dir)
    monitor = env.clients.monitor(SUB)
    ours = monitor.scheduled_query_rules.get("rg-ai-prod", "aoai-content-abuse-contoso-openai-prod")
    assert ours.actions.custom_properties["firestop-nsg"] != VICTIM_NSG
    body = copy.deepcopy(ours.serialize())
    body["properties"]["actions"]["customProperties"]["firestop-nsg"] = VICTIM_NSG
    body["properties"]["description"] = "app team's copy"
    written = monitor.scheduled_query_rules.create_or_update("rg-ai-dev", "appteam-copy", body)
    env.tenant.clock.advance(120)  # it fires after it was written (A13-09)

    alert = json.loads((Path(env.settings.playbooks_dir).parent / "examples/alerts/content-abuse.json").read_text())
    essentials = alert["data"]["essentials"]
    essentials.update(alertId=f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid4()}",
                      alertRule="appteam-copy", alertRuleID=written.id, alertTargetIDs=[PROD.lower()],
                      firedDateTime=format_utc(env.tenant.clock.now()))
    alert["data"]["customProperties"] = {"firestop-playbook": "content-abuse", "firestop-nsg": VICTIM_NSG}
    fire_genuine(env, json.dumps(alert))
    incident = post_delivery(env, server, app, alert)["id"]
    [(outcome, detail)] = confirm_checks(env, incident)
    assert outcome == "not confirmed" and "'appteam-copy''s firestop-* custom properties (firestop-nsg) differ" in detail, detail
    pending = env.host.get_status(incident).custom_status["pending_approval"]
    assert pending["step"] == "alert.genuine" and pending.get("reason_code") == "rule_not_trusted"
    assert "aoai-content-abuse-contoso-openai-prod" in pending["why"], pending["why"]  # the rule it was held to
