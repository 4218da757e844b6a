"""defender18 (attack 17's A17-02): the Defender route proven end to end — detector → workflow automation (by the
trigger URI it calls) → the real ``POST /api/alerts`` (its receipt) → ``monitoring.alert-rules``.

Each test here fails before defender18: there the control passed on configuration alone (an enabled automation naming
the relay), whatever Defender raised and whatever reached Firestop, and ``POST /api/alerts`` kept no receipt.
The sandbox's clock is moved 8 days past the seed's alerts (outside the proof's 7-day window), so only the alerts
raised here count.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from azure.mgmt.security import SecurityCenter

from firestop.audit import AuditContext, run_audit
from firestop.audit.controls.monitoring import PROOF_WINDOW_DAYS, RELAY_GRACE_SECONDS
from firestop.audit.registry import all_controls
from firestop.playbooks import load_playbooks
from firestop.records import defender_receipts
from firestop.records.store import records_store
from firestop.sandbox.core.clock import parse_utc
from firestop.sandbox.probe import unserved
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.audit16.test_alert_rules_defender_fed import DEFENDER_ONLY, RELAY
from tests.defender18.relay import receipts_kept_since
from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401 - the fixture

T0 = "2026-12-07T04:00:00Z"  # the seed's alerts were raised on 2026-11-29: out of the window
APP = "3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b"  # the app gateway's identity (tests/sandbox/test_sandbox_defender_detector)
ELSEWHERE = ("https://prod-07.westeurope.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/"
             "paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=someone-elses")


@pytest.fixture
def sandbox(endpoint, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    env, call = endpoint
    tenant = env.tenant
    tenant.realtime_factor = 0.0
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    tenant.clock.set(parse_utc(T0))
    tenant.evaluate_alerts()  # the detector starts here
    return env, call


def _raise_and_relay(env, call, **feature) -> tuple[str, int]:
    """Traffic carrying ``feature`` on the production account; the detector's alert, relayed as the tenant delivers it
    (to the webhook only when an automation calls the relay's trigger). Returns (the alert's name, deliveries posted)."""
    tenant = env.tenant
    start = tenant.clock.now()
    tenant.data_plane_call(at=start, account="contoso-openai-prod", ip="203.0.113.66", principal=APP, tag="attack", **feature)
    posted, raised = 0, []
    for _ in range(30):  # 5 minutes of detector evaluations: raised at the next minute, relayed 60 s later
        tenant.clock.advance(10)
        for note in tenant.evaluate_alerts():
            if note.kind != "defender":
                continue
            raised.append(note.payload["name"])
            for hook in note.webhooks:  # the relay posts where its Logic App posts: Firestop's /api/alerts
                assert hook["serviceUri"].endswith("/api/alerts")
                response = call("post_alert", "alerts", note.payload)
                assert response.status_code == 202, response.get_body()
                posted += 1
    if not raised:  # a diverted automation delivers nothing: the alert is still Defender's
        security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
        raised = [a.name for a in security.alerts.list() if a.time_generated_utc >= start]
    (name,) = raised
    return name, posted


def _alert_rules(env):
    settings = env.settings.model_copy(update={"automation_principal_id": env.tenant.credential.principal_id})
    chosen = [c for c in all_controls() if c.id == "monitoring.alert-rules"]
    audit = run_audit(AuditContext(clients=env.clients, settings=settings, subscription=env.tenant.subscription_id,
                                   unserved=unserved, playbooks=tuple(load_playbooks(REPO_ROOT / "playbooks"))),
                      controls=chosen)
    (result,) = audit.results
    return result


def test_an_alert_the_relay_delivered_to_the_webhook_proves_the_route(sandbox):
    env, call = sandbox
    name, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 1
    from firestop.trust.seal import load_seal_key

    kept = defender_receipts.received_at(records_store(env.settings), defender_receipts.alert_key(name), load_seal_key())
    assert kept is not None  # the webhook kept it
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "pass", result.detail
    assert "proven end to end by an alert it received" in result.detail, result.detail
    proof = json.dumps([e.model_dump(mode="json") for e in result.evidence])
    assert f"proven end to end by Defender alert {name} (AI.Azure_CredentialTheftAttempt)" in proof, proof


def test_an_alert_raised_after_the_trigger_uri_was_diverted_fails_naming_it_and_the_automation(sandbox):
    env, call = sandbox
    first, _ = _raise_and_relay(env, call, prompt_kind="credential_theft")
    tenant = env.tenant
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    assert _alert_rules(env).status.value == "pass"  # proven by the first
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    [automation] = list(security.automations.list())
    automation.actions[0].uri = ELSEWHERE  # the relay's id kept as the label (attack 17's A17-02)
    security.automations.create_or_update("rg-ai-prod", automation.name, automation)
    second, posted = _raise_and_relay(env, call, user_agent="sqlmap/1.7.2#stable (https://sqlmap.org)")
    assert posted == 0 and second != first  # Defender raised it; nothing reached Firestop
    assert _alert_rules(env).status.value == "pass"  # within the relay's grace: not judged yet
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "fail", result.detail
    for playbook in DEFENDER_ONLY:
        assert f"{playbook} (Defender plan AI: Standard; Defender raised 1 alert(s)" in result.detail, result.detail
    assert (f"{second} (AI.Azure_AccessFromSuspiciousUserAgent, generated " in result.detail
            and "exported by 'firestop-relay'" in result.detail and "broken or diverted" in result.detail), result.detail
    assert first not in result.detail  # the one delivered before the change is not a finding


def test_no_alert_in_the_window_is_not_proven_and_says_how_to_prove_it(sandbox):
    env, _ = sandbox
    result = _alert_rules(env)
    assert result.status.value == "not_evaluable", result.detail
    assert "not proven to reach Firestop" in result.detail and "alerts/default/simulate" in result.detail, result.detail
    assert f"in the last {PROOF_WINDOW_DAYS} days" in result.detail, result.detail


def test_a_receipt_the_app_did_not_seal_is_not_believed(sandbox):
    """A Storage Blob Data writer planting a receipt for the alert Defender raised does not make the route pass."""
    env, call = sandbox
    tenant = env.tenant
    receipts_kept_since(T0)  # (R18-02: Firestop kept receipts when the alert was raised)
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    [automation] = list(security.automations.list())
    automation.actions[0].uri = ELSEWHERE
    security.automations.create_or_update("rg-ai-prod", automation.name, automation)
    name, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 0
    store = records_store(env.settings)
    store.create(defender_receipts.receipt_name(defender_receipts.alert_key(name)),
                 json.dumps({"received_at": "2026-12-07T04:01:00Z", "seal": "v1.planted.AAAA"}).encode(), "application/json")
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "fail" and name in result.detail, result.detail


def test_the_webhook_keeps_receipts_of_defender_alerts_only(sandbox):
    """A Common Alert Schema alert leaves none; a Defender alert's redelivery keeps the first receipt's time."""
    from firestop.trust.seal import load_seal_key

    env, call = sandbox
    store, key = records_store(env.settings), load_seal_key()
    monitor = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
    assert call("post_alert", "alerts", monitor).status_code == 202
    assert store.names(defender_receipts.PREFIX) == []
    defender = json.loads((REPO_ROOT / "examples" / "alerts" / "defender-jailbreak.json").read_text())
    assert call("post_alert", "alerts", defender).status_code == 202
    alert_key = defender_receipts.alert_key(defender["properties"]["systemAlertId"])
    first = defender_receipts.received_at(store, alert_key, key)
    assert first is not None
    env.tenant.clock.advance(timedelta(minutes=5).total_seconds())
    assert call("post_alert", "alerts", defender).status_code == 202
    assert defender_receipts.received_at(store, alert_key, key) == first


def test_a_receipt_that_cannot_be_kept_is_a_503_and_the_redelivery_keeps_it(sandbox, monkeypatch):
    """Never a 202 for a Defender alert whose receipt is not kept (the relay's Logic App retries a 503)."""
    from firestop.storage.base import StoreError
    from firestop.trust.seal import load_seal_key

    env, call = sandbox
    defender = json.loads((REPO_ROOT / "examples" / "alerts" / "defender-jailbreak.json").read_text())
    kept = defender_receipts.keep

    def refused(*args, **kwargs):
        raise StoreError("unavailable", "the records store refused the write")

    monkeypatch.setattr(defender_receipts, "keep", refused)
    assert call("post_alert", "alerts", defender).status_code == 503
    monkeypatch.setattr(defender_receipts, "keep", kept)
    assert call("post_alert", "alerts", defender).status_code == 202
    alert_key = defender_receipts.alert_key(defender["properties"]["systemAlertId"])
    assert defender_receipts.received_at(records_store(env.settings), alert_key, load_seal_key()) is not None


def test_each_alert_is_looked_up_once_per_audit_whatever_the_playbooks(firestop_home, monkeypatch):
    """Four Defender-only playbooks share one automation: the seed's six alerts cost six receipt reads, not 24."""
    from firestop.sandbox import Tenant
    from tests.redteam18.test_rt18_audit_decoy_rule import _control

    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    receipts_kept_since()  # (R18-02: Firestop kept receipts when the seed's alerts were raised)
    reads, real = [], defender_receipts.received_at
    monkeypatch.setattr(defender_receipts, "received_at",
                        lambda store, key, seal, **kw: reads.append(key) or real(store, key, seal, **kw))
    result = _control(tenant)
    assert result.status.value == "fail"  # (none was received)
    assert len(reads) == len(set(reads)) == 6, reads


def test_the_webhook_keeps_receipts_for_the_relayed_shapes_the_records_module_names():
    import importlib

    http_alerts = importlib.import_module("firestop.functions.http_alerts")
    assert http_alerts._RELAYED == defender_receipts.RELAYED_SCHEMAS  # noqa: SLF001 — one list, kept in two places
