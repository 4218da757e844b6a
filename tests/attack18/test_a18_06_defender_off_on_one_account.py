"""A18-06: Defender for AI turned off on the production account alone, while another account's alerts prove the route.

Attacker E (Security Admin: ``Microsoft.Security/pricings/write`` at any scope). Defender for Cloud pricings (REST
2024-01-01, ``Pricings_Update`` with ``scopeId`` a resource: a resource-level plan overrides the subscription's, as
``GetResourcePricingByNameVirtualMachines_example.json`` shows; the sandbox's detector honours it) let a plan be
``Free`` on one resource. ``monitoring.alert-rules`` read the AI plan at the subscription only (``Standard``), and
defender18's proof took any exported alert that arrived — the dev account's — as the proof: the control passed,
"proven end to end", while Defender raised nothing for the production account and the four Defender-fed playbooks
could never run for it.

Fix: the plan is read at each protected account too (``pricings.get`` at the account's scope, which answers the
subscription's plan marked inherited when the account has none of its own); an account whose effective tier is not
``Standard`` leaves the Defender-fed playbooks unfed, named. Fails before: pass.
"""

from __future__ import annotations

from azure.mgmt.security import SecurityCenter
from azure.mgmt.security.v2024_01_01.models import Pricing

from firestop.audit.controls.monitoring import RELAY_GRACE_SECONDS
from tests.defender18.test_d18_relay_proof import _alert_rules, sandbox  # noqa: F401
from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401 - the fixture

PROD = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
        "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def _attack(env, call, account: str, deployment: str) -> int:
    """A credential theft prompt on ``account``; the relay's deliveries posted to the webhook. Returns the alerts raised."""
    tenant = env.tenant
    key = tenant.account_keys(next(i for i in _ids(tenant) if i.endswith("/" + account)))["key1"]
    assert tenant.data_plane_call(at=tenant.clock.now(), account=account, ip="203.0.113.66", key=key, tag="attack",
                                  deployment=deployment, prompt_kind="credential_theft") == 200
    raised = 0
    for _ in range(30):
        tenant.clock.advance(10)
        for note in tenant.evaluate_alerts():
            if note.kind != "defender":
                continue
            raised += 1
            for _hook in note.webhooks:
                assert call("post_alert", "alerts", note.payload).status_code == 202
    return raised


def _ids(tenant) -> list[str]:
    with tenant._exclusive() as state:  # noqa: SLF001 — the accounts' ids
        return [str(i).lower() for i in state.doc["resources"]]


def test_defender_for_ai_off_on_the_production_account_fails_the_control(sandbox):  # noqa: F811
    env, call = sandbox
    tenant = env.tenant
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    security.pricings.update(PROD, "AI", Pricing(pricing_tier="Free"))  # E: this account only
    assert security.pricings.get(f"subscriptions/{tenant.subscription_id}", "AI").pricing_tier == "Standard"
    assert _attack(env, call, "contoso-openai-prod", "gpt-4o") == 0  # Defender is blind on production now
    assert _attack(env, call, "contoso-openai-dev", "gpt-4o-mini") == 1  # and the dev account's alert is relayed
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "fail", result.detail  # before: pass, proven by the dev account's alert
    assert "contoso-openai-prod" in result.detail and "Free" in result.detail, result.detail


def test_a_plan_inherited_from_the_subscription_still_counts(sandbox):  # noqa: F811
    env, call = sandbox
    assert _attack(env, call, "contoso-openai-prod", "gpt-4o") == 1
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "pass", result.detail


def test_a_plan_not_priced_per_resource_inherits_the_subscriptions(sandbox):  # noqa: F811
    """Where Defender refuses a resource-level price for the plan (400: the spec lists VMs, VMSS and Arc machines as the
    resources priced), the subscription's plan holds: the control still passes (a guard: it passed before too)."""
    env, call = sandbox
    assert _attack(env, call, "contoso-openai-prod", "gpt-4o") == 1
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    env.tenant.inject_fault("pricings.get", 400, nth=2, times=2)  # the two accounts' reads (the first: the subscription's)
    result = _alert_rules(env)
    assert result.status.value == "pass", result.detail


def test_an_account_plan_that_cannot_be_read_fails_the_control(sandbox):  # noqa: F811
    env, call = sandbox
    assert _attack(env, call, "contoso-openai-prod", "gpt-4o") == 1
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    env.tenant.inject_fault("pricings.get", 403, nth=2, times=2)
    result = _alert_rules(env)
    assert result.status.value == "fail", result.detail
    assert "Defender plan AI: Standard, but not Standard on" in result.detail and "(not read)" in result.detail
