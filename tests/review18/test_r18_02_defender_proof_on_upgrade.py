"""R18-02 (medium): defender18 × an upgrade. ``monitoring.alert-rules`` (high) now sets Defender's alerts of the last
7 days against the receipts ``POST /api/alerts`` keeps — but versions before defender18 kept none. On the first audit
after the upgrade every Defender alert the relay delivered in the week before has no receipt, so every deployment with
a working relay and a recent Defender alert failed the control "broken or diverted" for up to a week (the weekly audit
timer opens a drift incident on it) — a false alarm that teaches people to ignore the one finding that shows a
diverted route. Likewise after ``seal-key retire`` dropped the key that sealed the week's receipts.

Fixed: receipts are judged only from when this app (a key of its ring) began keeping them — a sealed per-key marker
``received-defender/since-<32 hex>.json`` (``defender_receipts.keeping_since``), filed by the first receipt the key
seals (R18-06: never by an audit); an alert generated before it (or with none) and no receipt is not judged (neither
shown nor refuted), one with a receipt still proves the route.

The first test fails on rough18 (897fb61): ``fail``, "broken or diverted", naming the alert delivered before the upgrade.
"""

from __future__ import annotations

from tests.defender18.test_d18_relay_proof import (  # noqa: F401 - the fixtures
    ELSEWHERE,
    RELAY_GRACE_SECONDS,
    _alert_rules,
    _raise_and_relay,
    endpoint,
    sandbox,
)


def _raised_before_the_upgrade(env) -> str:
    """A Defender alert the relay delivered to the version before defender18 (which kept no receipt): as the records
    store holds it, not posted here."""
    from azure.mgmt.security import SecurityCenter

    tenant = env.tenant
    start = tenant.clock.now()
    tenant.data_plane_call(at=start, account="contoso-openai-prod", ip="203.0.113.77",
                           principal="3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b", tag="attack", prompt_kind="credential_theft")
    for _ in range(30):
        tenant.clock.advance(10)
        tenant.evaluate_alerts()  # delivered then; nothing of it kept
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    (name,) = [a.name for a in security.alerts.list() if a.time_generated_utc >= start]
    return name


def test_the_first_audit_after_the_upgrade_does_not_fail_on_alerts_delivered_before_it(sandbox):
    env, call = sandbox
    before = _raised_before_the_upgrade(env)
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)  # the first audit of the new version
    assert result.status.value != "fail", result.detail
    assert before not in result.detail and "broken or diverted" not in result.detail, result.detail


def test_after_the_upgrade_a_delivered_alert_proves_and_a_diverted_one_fails(sandbox):
    """Guard (also on rough18): what the upgrade's first audit leaves unjudged does not blind the control after it."""
    from azure.mgmt.security import SecurityCenter

    env, call = sandbox
    _raised_before_the_upgrade(env)
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    _alert_rules(env)
    env.tenant.clock.advance(60)
    _raise_and_relay(env, call, prompt_kind="credential_theft")
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    proven = _alert_rules(env)
    assert proven.status.value == "pass", proven.detail
    tenant = env.tenant
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    [automation] = list(security.automations.list())
    automation.actions[0].uri = ELSEWHERE
    security.automations.create_or_update("rg-ai-prod", automation.name, automation)
    diverted, posted = _raise_and_relay(env, call, user_agent="sqlmap/1.7.2#stable (https://sqlmap.org)")
    assert posted == 0
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    failed = _alert_rules(env)
    assert failed.status.value == "fail" and diverted in failed.detail and "broken or diverted" in failed.detail, failed.detail
