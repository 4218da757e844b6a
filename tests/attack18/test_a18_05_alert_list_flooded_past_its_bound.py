"""A18-05: the Defender proof judged a listing cut at the reader's 2,000 alerts as if it were all Defender raised.

Attackers D/E (raise Defender alerts in bulk — any plan's subscription-level alerts, or E's sample alerts
``alerts/default/simulate`` — while the relay still delivers them), then E (diverts the automation's ``uri``, A17-02).
``monitoring.alert-rules`` read ``Microsoft.Security/alerts`` at the subscription, at most ``MAX_ITEMS`` (2,000; Defender
keeps 90 days), and proved the route by what that page held. Alerts_List gives no order (REST 2022-01-01 documents
none; the sandbox answers subscription-level alerts before resource-group ones, by id): 2,000 relayed flood alerts
listed first left every alert on the AI account's resource group unread — the one raised after the diversion, never
received, among them — and the flood's receipts proved the route: pass.

Fix: the proof also lists the alerts of each protected account's resource group (``Alerts_ListByResourceGroup``: a
flood elsewhere cannot crowd them out), and a listing that reached the bound proves nothing by itself: when either
read was cut short and no alert was found missing, the route is "not proven" (not evaluable), never fed.
Fails before: pass.
"""

from __future__ import annotations

from datetime import timedelta

from firestop.audit.controls.monitoring import RELAY_GRACE_SECONDS
from firestop.audit.reader import MAX_ITEMS
from firestop.records import defender_receipts
from firestop.sandbox.security.models import alerts, new_alert
from tests.attack18.test_a18_02_receipt_lookups_spent_by_one_playbook import PROD, T0, _raise, relayed_tenant
from tests.redteam18.test_rt18_audit_decoy_rule import _control

FLOOD_TYPE = "ARM_AnomalousOperation.Sample"


def _flood(tenant, store, key, now, count: int) -> None:
    """``count`` subscription-level alerts on the production account, raised and relayed a day before ``now``."""
    with tenant._exclusive() as state:  # noqa: SLF001 — the sandbox's Defender state
        for n in range(count):
            when = (now - timedelta(days=1, seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            name = f"2516935104{n:09d}_aaaaaaaa-0000-4000-8000-{n:012d}"
            body = new_alert(subscription_id=tenant.subscription_id, resource_group=None, location="westeurope",
                             name=name, alert_type=FLOOD_TYPE, display_name="sample", description="sample",
                             severity="Low", intent="Unknown", start=when, end=when, generated=when, resource_id=PROD,
                             compromised_entity="contoso-openai-prod", entities=[], extended_properties={},
                             remediation_steps=[])
            alerts(state)[body["id"].lower()] = body
    for n in range(count):  # the relay delivered every one (the route was intact then)
        defender_receipts.keep(store, defender_receipts.alert_key(f"2516935104{n:09d}_aaaaaaaa-0000-4000-8000-{n:012d}"),
                               T0, key, alert_type=FLOOD_TYPE)


def test_an_alert_crowded_out_of_the_listing_by_a_relayed_flood_is_still_judged(firestop_home, monkeypatch):
    tenant, now, store, key = relayed_tenant(monkeypatch)
    _flood(tenant, store, key, now, MAX_ITEMS)
    diverted = "2516935104299999999_11111111-2222-4333-8444-555555555555"  # after E's diversion: no receipt
    _raise(tenant, diverted, "AI.Azure_CredentialTheftAttempt", now - timedelta(hours=2))
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _control(tenant)
    assert result.status.value == "fail", result.detail  # before: pass, proven by the flood's receipts
    assert diverted in result.detail and "broken or diverted" in result.detail, result.detail


def test_a_cut_listing_of_the_accounts_group_proves_nothing_by_itself(firestop_home, monkeypatch):
    """The flood on the account's own group: every alert read was relayed, but the list stopped at MAX_ITEMS in an
    order Defender does not document — not proven (not evaluable), never a pass."""
    tenant, now, store, key = relayed_tenant(monkeypatch)
    for n in range(MAX_ITEMS):
        name = f"2516935105{n:09d}_bbbbbbbb-0000-4000-8000-{n:012d}"
        _raise(tenant, name, "AI.Azure_CredentialTheftAttempt", now - timedelta(days=1, seconds=n))
        defender_receipts.keep(store, defender_receipts.alert_key(name), T0, key,
                               alert_type="AI.Azure_CredentialTheftAttempt")
    result = _control(tenant)
    assert result.status.value == "not_evaluable", result.detail
    assert f"cut at {MAX_ITEMS} alerts" in result.detail, result.detail
