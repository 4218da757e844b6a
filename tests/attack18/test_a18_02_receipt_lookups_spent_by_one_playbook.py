"""A18-02: the audit's 50 receipt look-ups were one budget for every Defender-fed playbook.

Attackers D (whoever writes what raises a Defender alert: prompts trying to steal credentials raise
``AI.Azure_CredentialTheftAttempt``; or E's sample alerts) then E (Security Admin: diverts the workflow automation's
write-only ``uri``, attack 17's A17-02). ``monitoring.alert-rules`` looked up at most ``MAX_CHECKED`` (50) alerts per
audit in a memo shared by the four playbooks, each playbook's own types first. With 50 credential-theft alerts
relayed in the week before the diversion, the first playbook (ai-credential-theft) spent the whole budget on them;
the suspicious user agent alert raised after the diversion — never received — was "not looked up" for the three
other playbooks, and each took the first playbook's receipts as its proof: the control passed, "proven end to end".

Fix: the budget is per playbook (reads shared through the memo as before: an alert is still read once per audit),
and each playbook looks first at the newest alert of every type it is fed, then the rest newest first — so the alert
that shows a diversion is read for the playbook it starves. Fails before: pass.
"""

from __future__ import annotations

from datetime import timedelta

from firestop.audit.controls.monitoring import MAX_CHECKED, RELAY_GRACE_SECONDS
from firestop.records import defender_receipts
from firestop.records.store import records_store
from firestop.sandbox import Tenant
from firestop.sandbox.core.clock import parse_utc
from firestop.sandbox.security.models import alerts, new_alert
from firestop.settings import REPO_ROOT, Settings
from firestop.tabletop.detection import deploy_detection
from firestop.trust.seal import load_seal_key
from tests.audit16.test_alert_rules_defender_fed import RELAY
from tests.defender18.relay import receipts_kept_since
from tests.redteam18.test_rt18_audit_decoy_rule import _control

T0 = "2026-12-07T04:00:00Z"  # the seed's alerts (2026-11-29) are out of the proof's 7-day window
PROD = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
        "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def _raise(tenant, name: str, alert_type: str, at) -> None:
    """Defender raised ``alert_type`` on the production account at ``at`` (what the detector stores)."""
    when = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = new_alert(subscription_id=tenant.subscription_id, resource_group="rg-ai-prod", location="westeurope",
                     name=name, alert_type=alert_type, display_name=alert_type, description=alert_type, severity="Medium",
                     intent="CredentialAccess", start=when, end=when, generated=when, resource_id=PROD,
                     compromised_entity="contoso-openai-prod", entities=[], extended_properties={}, remediation_steps=[])
    with tenant._exclusive() as state:  # noqa: SLF001 — the sandbox's Defender state
        alerts(state)[body["id"].lower()] = body



def relayed_tenant(monkeypatch):
    """The deployed sandbox tenant at T0 with the relay named and receipts kept since before its alerts (R18-02):
    ``(tenant, now, records store, seal key)``."""
    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    now = parse_utc(T0)
    tenant.clock.set(now)
    receipts_kept_since()
    return tenant, now, records_store(Settings.from_env()), load_seal_key()

def test_a_diverted_alert_of_another_playbook_is_looked_up_whatever_the_first_spent(firestop_home, monkeypatch):
    tenant, now, store, key = relayed_tenant(monkeypatch)
    for n in range(MAX_CHECKED):  # D: a day of credential theft attempts, every one relayed (before the diversion)
        name = f"25169351043{n:08d}_00000000-0000-4000-8000-{n:012d}"
        _raise(tenant, name, "AI.Azure_CredentialTheftAttempt", now - timedelta(hours=30, minutes=n))
        defender_receipts.keep(store, defender_receipts.alert_key(name), T0, key,
                               alert_type="AI.Azure_CredentialTheftAttempt")
    # E diverted the automation's uri: the next alert Defender raises reaches no Firestop intake (no receipt)
    diverted = "2516935104299999999_11111111-2222-4333-8444-555555555555"
    _raise(tenant, diverted, "AI.Azure_AccessFromSuspiciousUserAgent", now - timedelta(hours=2))
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _control(tenant)
    assert result.status.value == "fail", result.detail  # before: pass, "proven end to end"
    assert diverted in result.detail and "ai-suspicious-user-agent (Defender plan AI: Standard; Defender raised 1" in \
        result.detail, result.detail


def test_every_alert_is_still_read_once_per_audit(firestop_home, monkeypatch):
    tenant, now, store, key = relayed_tenant(monkeypatch)
    for n in range(8):
        name = f"25169351043{n:08d}_00000000-0000-4000-8000-{n:012d}"
        kind = ("AI.Azure_CredentialTheftAttempt", "AI.Azure_AccessFromSuspiciousUserAgent")[n % 2]
        _raise(tenant, name, kind, now - timedelta(hours=3, minutes=n))
        defender_receipts.keep(store, defender_receipts.alert_key(name), T0, key, alert_type=kind)
    reads, real = [], defender_receipts.received_at
    monkeypatch.setattr(defender_receipts, "received_at",
                        lambda store, k, seal, **kw: reads.append(k) or real(store, k, seal, **kw))
    result = _control(tenant)
    assert result.status.value == "pass", result.detail
    assert len(reads) == len(set(reads)) == 8, reads
