"""``monitoring.alert-rules`` judges a playbook fed by Defender for Cloud alerts (no ``detect:`` rule) by the Defender
plan raising them, not by alert rules it never had.

Before: ai-credential-theft, ai-risky-service-principal, ai-sensitive-data-exposure and ai-suspicious-user-agent were
listed "no enabled alert rule … routes to" in every correct deployment, so the high-severity control was red
everywhere. A correct sandbox deployment (the playbooks' detections deployed as ``firestop infra`` does, Defender for
AI services on) now passes; with the plan off the four are still missing, and a blinded detection still fails
(tests/redteam18/test_rt18_audit_decoy_rule.py)."""

from __future__ import annotations

import copy

import pytest
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.security import SecurityCenter

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.defender18.relay import relay_raised_alerts
from tests.playbooks.test_detect_rules import PROFILE
from tests.redteam18.test_rt18_audit_decoy_rule import _control

DEFENDER_ONLY = ("ai-credential-theft", "ai-risky-service-principal", "ai-sensitive-data-exposure", "ai-suspicious-user-agent")


#: The sandbox seed's relay (firestop/sandbox/default_tenant.yaml security.automations: firestop-relay in rg-ai-prod).
RELAY = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.Logic/"
         "workflows/firestop-relay")


@pytest.fixture(autouse=True)
def _relay(monkeypatch):
    """trust17: a Defender-only playbook counts fed when the plan is on *and* a workflow automation exports its alerts
    to the Logic App relaying them to Firestop (FIRESTOP_DEFENDER_RELAY)."""
    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)


def _deployed() -> Tenant:
    tenant = Tenant.load()  # the default sandbox tenant: Defender for AI services (pricings/AI) Standard
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    return tenant


def test_a_correct_deployment_passes_the_alert_rules_control(firestop_home):
    tenant = _deployed()
    relay_raised_alerts(tenant)  # defender18: the relay delivered Defender's alerts (the route proven end to end)
    result = _control(tenant)
    assert result.status.value == "pass", result.detail
    for name in DEFENDER_ONLY:
        assert name in result.detail, result.detail


def test_defender_only_playbooks_are_missing_when_the_defender_plan_is_off(firestop_home):
    tenant = _deployed()
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    security.pricings.update(f"subscriptions/{tenant.subscription_id}", "AI", {"properties": {"pricingTier": "Free"}})
    result = _control(tenant)
    assert result.status.value == "fail", result.detail
    for name in DEFENDER_ONLY:
        assert f"{name} (Defender plan AI: Free)" in result.detail, result.detail
    assert "leaked-api-key" not in result.detail.split("routed but")[0], result.detail


def test_a_blinded_detection_still_fails_with_defender_on(firestop_home):
    tenant = _deployed()
    relay_raised_alerts(tenant)  # (defender18: the Defender route proven, so only the detection is at fault)
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    for rule in monitor.scheduled_query_rules.list_by_subscription():
        if rule.name.startswith("aoai-leaked-key-usage"):
            body = copy.deepcopy(rule)
            body.criteria.all_of[0].threshold = 1e12
            monitor.scheduled_query_rules.create_or_update(rule.id.split("/")[4], rule.name, body)
    result = _control(tenant)
    assert result.status.value == "fail" and "leaked-api-key" in result.detail, result.detail
    assert not any(name in result.detail.split(";")[0] for name in DEFENDER_ONLY), result.detail
