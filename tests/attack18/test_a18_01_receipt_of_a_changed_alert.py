"""A18-01: a receipt says only *that an id arrived*, not that Defender's alert did.

Attackers E (Security Admin: points the workflow automation's write-only ``uri`` elsewhere, attack 17's A17-02, and
reads Defender's alert list) with A (the alerts webhook key). After the diversion, for each alert Defender raises,
A posts to ``POST /api/alerts`` a copy carrying the alert's own ``systemAlertId`` but another ``alertType`` (one no
playbook takes: intake records it and starts nothing, and nothing confirms an unrouted alert at its source). The
webhook keeps a sealed receipt for the id, and ``monitoring.alert-rules`` set the listed alert against that receipt
by id alone: "proven end to end" while the four Defender-fed playbooks never saw an alert.

The same with the alert's own type but another resource (the dev account): the playbook starts on dev, its source
check refuses the copy and the incident waits for a responder — production is not contained, and the receipt made
the proof pass all the same.

Fix: the receipt seals the alert type and the resources intake received (``defender_receipts.keep(...,
alert_type=, resources=)``: digests of the ARM ids) and the audit counts a receipt only for the type Defender lists
for that alert and on one of the resources it names; another is "not received". Fails before: the control passed
(both cases).
"""

from __future__ import annotations

import copy

from azure.mgmt.security import SecurityCenter

from firestop.audit.controls.monitoring import RELAY_GRACE_SECONDS
from firestop.sandbox.security.models import alerts
from tests.defender18.relay import receipts_kept_since
from tests.defender18.test_d18_relay_proof import ELSEWHERE, _alert_rules, _raise_and_relay, sandbox  # noqa: F401
from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401 - the fixture


def test_a_copy_of_the_alert_under_another_type_is_not_a_receipt_of_it(sandbox):  # noqa: F811
    env, call = sandbox
    tenant = env.tenant
    receipts_kept_since()  # (R18-02: the app has kept receipts for weeks; the relay delivered until now)
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    [automation] = list(security.automations.list())
    automation.actions[0].uri = ELSEWHERE  # E: the relay's id kept as the label
    security.automations.create_or_update("rg-ai-prod", automation.name, automation)
    name, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 0  # Defender raised it; the relay never saw it
    with tenant._exclusive() as state:  # noqa: SLF001 — what E reads with Microsoft.Security/locations/alerts/read
        [genuine] = [a for a in alerts(state).values() if a["name"] == name]
        genuine = copy.deepcopy(genuine)
    forged = copy.deepcopy(genuine)
    forged["properties"]["alertType"] = "AI.Azure_Informational.UsageReport"  # routed to no playbook
    forged["properties"]["alertDisplayName"] = "Usage report"
    assert call("post_alert", "alerts", forged).status_code == 202  # A: the webhook key
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "fail", result.detail  # before: pass, "proven end to end by Defender alert <name>"
    assert name in result.detail and "broken or diverted" in result.detail, result.detail


DEV = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-dev/providers/"
       "Microsoft.CognitiveServices/accounts/contoso-openai-dev")


def test_a_copy_of_the_alert_on_another_resource_is_not_a_receipt_of_it(sandbox):  # noqa: F811
    env, call = sandbox
    tenant = env.tenant
    receipts_kept_since()  # (R18-02: the app has kept receipts for weeks; the relay delivered until now)
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    [automation] = list(security.automations.list())
    automation.actions[0].uri = ELSEWHERE
    security.automations.create_or_update("rg-ai-prod", automation.name, automation)
    name, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 0
    with tenant._exclusive() as state:  # noqa: SLF001
        [genuine] = [a for a in alerts(state).values() if a["name"] == name]
        forged = copy.deepcopy(genuine)
    forged["properties"]["resourceIdentifiers"] = [{"azureResourceId": DEV, "type": "AzureResource"}]
    forged["properties"]["compromisedEntity"] = "contoso-openai-dev"
    assert call("post_alert", "alerts", forged).status_code == 202
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "fail", result.detail  # before: pass
    assert name in result.detail and "broken or diverted" in result.detail, result.detail


def test_the_genuine_alert_relayed_still_proves_the_route(sandbox):  # noqa: F811
    env, call = sandbox
    name, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 1
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "pass", result.detail
    assert f"proven end to end by Defender alert {name}" in " ".join(e.model_dump_json() for e in result.evidence)
