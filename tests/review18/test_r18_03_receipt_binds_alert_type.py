"""R18-03 (medium): defender18's receipt says only "a Defender-shaped alert with this ``systemAlertId`` was posted to
``/api/alerts``" — not that Defender's alert reached Firestop. The receipt is kept for any Fired Defender delivery
intake accepts, whatever its content, before (and whatever) the source check decides. Attacker: Security Admin (A17-02's
E: diverts the workflow automation's trigger URI) holding the alerts webhook key (readable in the action group's
webhook URI): each alert Defender raises is posted by them with its own ``systemAlertId`` but another alert type (one
no playbook is routed by): a receipt is kept, no playbook runs, and ``monitoring.alert-rules`` passes "proven end to
end" while the four Defender-only playbooks are starved — A17-02's outcome again.

Fixed: the receipt binds the alert type the delivery carried (sealed with the time), and the audit counts a receipt
only for Defender's own ``alertType`` of that alert; one received as another type is "not received".

Fails on rough18 (897fb61): ``pass``, "proven end to end".
"""

from __future__ import annotations

from azure.mgmt.security import SecurityCenter

from tests.defender18.relay import receipts_kept_since
from tests.defender18.test_d18_relay_proof import (  # noqa: F401 - the fixtures
    ELSEWHERE,
    RELAY_GRACE_SECONDS,
    T0,
    _alert_rules,
    _raise_and_relay,
    endpoint,
    sandbox,
)


def test_a_receipt_of_the_alert_id_under_another_type_does_not_prove_the_route(sandbox):
    env, call = sandbox
    tenant = env.tenant
    receipts_kept_since(T0)  # (R18-02: Firestop kept receipts before the alert was raised)
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    [automation] = list(security.automations.list())
    automation.actions[0].uri = ELSEWHERE  # the route diverted (A17-02)
    security.automations.create_or_update("rg-ai-prod", automation.name, automation)
    name, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 0
    (alert,) = [a for a in security.alerts.list() if a.name == name]
    body = alert.serialize(keep_readonly=True)
    body["properties"]["alertType"] = "AI.Azure_NothingRoutedHere"  # its id, not its type: no playbook runs
    assert call("post_alert", "alerts", body).status_code == 202  # with the webhook key
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "fail" and name in result.detail, result.detail


def test_the_alert_relayed_as_defender_raised_it_still_proves_the_route(sandbox):
    """Guard (passes on rough18 too): the genuine delivery's receipt carries Defender's own type."""
    env, call = sandbox
    _raise_and_relay(env, call, prompt_kind="credential_theft")
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "pass", result.detail
