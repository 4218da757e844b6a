"""trust17 item 2: a Defender-only playbook counted as fed by the plan's tier, not by a route delivering its alerts.

``monitoring.alert-rules`` (RT18-03's control, severity high) passed the four playbooks that ship no ``detect:`` rule
(ai-credential-theft, ai-risky-service-principal, ai-sensitive-data-exposure, ai-suspicious-user-agent) whenever
Defender for AI services was on (pricings/AI Standard). How their alerts reach Firestop in this product: a Defender
for Cloud workflow automation (continuous export, ``Microsoft.Security/automations``, REST 2019-01-01-preview: source
``Alerts``) runs a Logic App that posts the alert to ``/api/alerts`` (README "Alert sources"; the sandbox's
``security.automations``). Deleting, disabling or narrowing that automation starved the four playbooks — the plan still
raised the alerts, nobody delivered them — while the control passed. Now the control also reads the automations
(``automations.list``) and counts a playbook fed only when an enabled one exports its alert types over the
subscription to a Logic App named in ``FIRESTOP_DEFENDER_RELAY``.

Every test here fails on main 8830437, where the sandbox had no ``Microsoft.Security/automations`` route (the SDK's
list answered 404) and the control never read one: there, the same tenant with its only relay disabled or gone still
passed the control (``tests/audit16``'s passing case holds nothing but the plan). The sandbox's detector now delivers
by the automation resources (a disabled automation delivers nothing).
"""

from __future__ import annotations

import pytest
from azure.mgmt.security import SecurityCenter

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.audit16.test_alert_rules_defender_fed import DEFENDER_ONLY, RELAY
from tests.defender18.relay import relay_raised_alerts
from tests.redteam18.test_rt18_audit_decoy_rule import _control

RG = "rg-ai-prod"


@pytest.fixture
def deployed(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    return tenant, security


def _starved(result) -> None:
    assert result.status.value == "fail", result.detail
    for name in DEFENDER_ONLY:  # each listed with the plan on and why no route delivers its alerts
        assert f"{name} (Defender plan AI: Standard; " in result.detail, result.detail


def test_the_seeded_relay_feeds_the_defender_only_playbooks(deployed):
    tenant, security = deployed
    [automation] = list(security.automations.list())
    assert automation.is_enabled and automation.sources[0].event_source == "Alerts"
    assert automation.actions[0].logic_app_resource_id.lower() == RELAY.lower()
    assert automation.actions[0].uri is None  # the trigger URI is never answered (spec)
    assert relay_raised_alerts(tenant)  # defender18: and the relay delivered Defender's alerts (proven end to end)
    result = _control(tenant)
    assert result.status.value == "pass", result.detail


def test_a_disabled_automation_feeds_nothing(deployed):
    tenant, security = deployed
    [automation] = list(security.automations.list())
    automation.is_enabled = False
    security.automations.create_or_update(RG, automation.name, automation)
    _starved(_control(tenant))  # before: pass (the plan is on)


def test_a_deleted_automation_feeds_nothing(deployed):
    tenant, security = deployed
    security.automations.delete(RG, "firestop-relay")
    result = _control(tenant)
    _starved(result)
    assert "no enabled workflow automation exports alerts" in result.detail, result.detail


def test_an_automation_narrowed_to_high_severity_is_not_shown_to_deliver(deployed):
    tenant, security = deployed
    [automation] = list(security.automations.list())
    automation.sources[0].rule_sets = [{"rules": [{"propertyJPath": "Severity", "propertyType": "String",
                                                   "expectedValue": "High", "operator": "Equals"}]}]
    security.automations.create_or_update(RG, automation.name, automation)
    result = _control(tenant)
    _starved(result)
    assert "rule sets are not shown to export" in result.detail, result.detail


def test_rule_sets_on_the_alert_type_that_admit_the_types_feed(deployed):
    tenant, security = deployed
    relay_raised_alerts(tenant)  # (defender18: delivered before the change: the route proven)
    [automation] = list(security.automations.list())
    automation.sources[0].rule_sets = [{"rules": [{"propertyJPath": "AlertType", "propertyType": "String",
                                                   "expectedValue": "AI.Azure_", "operator": "StartsWith"}]}]
    security.automations.create_or_update(RG, automation.name, automation)
    assert _control(tenant).status.value == "pass"


def test_an_automation_to_another_logic_app_or_without_the_setting_feeds_nothing(deployed, monkeypatch):
    tenant, security = deployed
    [automation] = list(security.automations.list())
    automation.actions[0].logic_app_resource_id = RELAY.replace("firestop-relay", "someone-elses-app")
    security.automations.create_or_update(RG, automation.name, automation)
    result = _control(tenant)
    _starved(result)
    assert "to no Logic App in FIRESTOP_DEFENDER_RELAY" in result.detail, result.detail
    monkeypatch.delenv("FIRESTOP_DEFENDER_RELAY")
    result = _control(tenant)
    _starved(result)
    assert "FIRESTOP_DEFENDER_RELAY (the Logic App relaying them to Firestop) is not set" in result.detail, result.detail


def test_the_sandbox_routes_answer_as_the_spec_says(deployed):
    """PUT 201, GET, list by resource group, the trigger URI kept but never answered, 404 for none, 400
    naming a bad member, DELETE 204 — through azure-mgmt-security 7.0.0 (2019-01-01-preview)."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    tenant, security = deployed
    body = {"location": "westeurope", "properties": {
        "isEnabled": True, "scopes": [{"scopePath": f"/subscriptions/{tenant.subscription_id}"}],
        "sources": [{"eventSource": "Alerts"}],
        "actions": [{"actionType": "LogicApp", "logicAppResourceId": RELAY, "uri": "https://prod-00.example/trigger?sig=secret"}]}}
    made = security.automations.create_or_update(RG, "second", body)
    assert made.name == "second" and made.actions[0].uri is None
    assert "sig=secret" not in str(security.automations.get(RG, "second").as_dict())
    assert sorted(a.name for a in security.automations.list_by_resource_group(RG)) == ["firestop-relay", "second"]
    with pytest.raises(HttpResponseError) as bad:
        security.automations.create_or_update(RG, "third", {"location": "westeurope", "properties": {
            "sources": [{"eventSource": "Nope"}]}})
    assert bad.value.status_code == 400 and "eventSource" in str(bad.value)
    security.automations.delete(RG, "second")
    with pytest.raises(ResourceNotFoundError):
        security.automations.get(RG, "second")


def test_the_detector_delivers_by_the_enabled_automations_only(deployed):
    from firestop.sandbox.security.automations import delivering

    tenant, security = deployed
    with tenant._exclusive() as state:  # noqa: SLF001 — what the detector reads
        assert [d["automation"] for d in delivering(state, "AI.Azure_Jailbreak")] == ["firestop-relay"]
    [automation] = list(security.automations.list())
    automation.is_enabled = False
    security.automations.create_or_update(RG, automation.name, automation)
    with tenant._exclusive() as state:  # noqa: SLF001
        assert delivering(state, "AI.Azure_Jailbreak") == []
