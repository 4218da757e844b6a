"""RT17-01 end to end (the served webhook, the local durable host, the sandbox tenant, the check on): a customer's own
rule routed with ``firestop-playbook`` that is not the playbook's detection waits for one decision (``alert.genuine``)
with advice naming the rule; once an admin trusted this version of it, its alert is confirmed and contained."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam17.test_rt17_foreign_alert_rule import _foreign_rule_alert, _network
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery, trust_rule_of


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def test_a_customers_own_rule_waits_for_a_responder_with_advice_naming_it(served):  # noqa: F811
    from firestop.lifecycle.cli_hints import unconfirmed_hint

    env, server, app = served
    body = _foreign_rule_alert(route_property=True)
    keys_before = env.tenant.issued_key_values()
    fire_genuine(env, json.dumps(body))
    incident = post_delivery(env, server, app, body)["id"]
    [(outcome, detail)] = confirm_checks(env, incident)
    assert outcome == "not confirmed"
    assert "the alert rule 'appteam-leaked-keys-dashboard' is not playbook 'leaked-api-key''s detection" in detail
    status = env.host.get_status(incident).custom_status
    pending = status["pending_approval"]
    assert pending["step"] == "alert.genuine" and pending.get("reason_code") == "rule_not_trusted"
    hint = unconfirmed_hint({**status, "pending_approval": pending, "timeline_so_far": status.get("timeline") or []})
    assert "from an alert rule that is not the playbook's own detection" in hint and "python -m firestop rules trust" in hint
    assert env.tenant.issued_key_values() == keys_before


def test_once_an_admin_trusted_the_rule_its_alert_is_confirmed_and_contained(served):  # noqa: F811
    env, server, app = served
    body = _foreign_rule_alert(route_property=True)
    network_before = _network(env)
    fire_genuine(env, json.dumps(body))
    trust_rule_of(env.tenant, body)  # an admin: python -m firestop rules trust <rule id>
    incident = post_delivery(env, server, app, body)["id"]
    assert [o for o, _ in confirm_checks(env, incident)] == ["ok"]
    assert _network(env) == "Deny" != network_before  # the playbook acted without a responder: the admin's choice
