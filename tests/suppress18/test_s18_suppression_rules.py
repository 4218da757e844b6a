"""suppress18 (red team 20's RT20-04): Defender for Cloud alerts suppression rules (``Microsoft.Security/
alertsSuppressionRules``, REST 2019-01-01-preview) against the Defender-fed playbooks.

A Security Admin's rule sets every alert it matches Dismissed as it is raised ("it no longer triggers notifications",
Learn "Suppress alerts from Microsoft Defender for Cloud"): no workflow automation exports it, Firestop never opens an
incident, and ``monitoring.alert-rules`` passed. Every test here fails before suppress18: the sandbox had no route for
the resource (the SDK's PUT was answered 501) and the control never read one.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.security import SecurityCenter
from azure.mgmt.security.models import AlertsSuppressionRule, ScopeElement, SuppressionAlertsScope

from firestop.audit.controls.monitoring import RELAY_GRACE_SECONDS
from tests.defender18.relay import relay_raised_alerts
from tests.defender18.test_d18_relay_proof import _alert_rules, _raise_and_relay, sandbox  # noqa: F401 - the fixture
from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401 - the fixture (sandbox's)
from tests.redteam18.test_rt18_audit_decoy_rule import _control
from tests.trust17.test_t17_defender_route import deployed  # noqa: F401 - the fixture

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
ELSEWHERE = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Compute/virtualMachines/vm-build-01"


def _security(tenant) -> SecurityCenter:
    return SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)


def _rule(alert_type="*", state="Enabled", expires=None, *conditions: dict) -> AlertsSuppressionRule:
    scope = SuppressionAlertsScope(all_of=[ScopeElement(field=c["field"], additional_properties={k: v for k, v in c.items()
                                                                                                 if k != "field"})
                                           for c in conditions]) if conditions else None
    return AlertsSuppressionRule(alert_type=alert_type, reason="FalsePositive", state=state, comment="noisy",
                                 expiration_date_utc=datetime.fromisoformat(expires) if expires else None,
                                 suppression_alerts_scope=scope)


# ---------------------------------------------------------------------------------------------- the sandbox's route

def test_the_sandbox_keeps_suppression_rules_as_the_spec_shows(deployed):  # noqa: F811
    tenant, security = deployed
    made = security.alerts_suppression_rules.update("dismiss-ua", _rule(
        "AI.Azure_AccessFromSuspiciousUserAgent", "Enabled", None,
        {"field": "entities.azureresource.resourceid", "in": [PROD]}))
    assert made.id == f"/subscriptions/{SUB}/providers/Microsoft.Security/alertsSuppressionRules/dismiss-ua"
    assert made.type == "Microsoft.Security/alertsSuppressionRules" and made.last_modified_utc is not None
    assert made.suppression_alerts_scope.all_of[0].additional_properties == {"in": [PROD]}
    security.alerts_suppression_rules.update("dismiss-all", _rule())
    assert sorted(r.name for r in security.alerts_suppression_rules.list()) == ["dismiss-all", "dismiss-ua"]
    assert [r.name for r in security.alerts_suppression_rules.list(alert_type="AI.Azure_AccessFromSuspiciousUserAgent")] \
        == ["dismiss-ua"]
    assert security.alerts_suppression_rules.get("dismiss-all").alert_type == "*"
    security.alerts_suppression_rules.delete("dismiss-all")
    security.alerts_suppression_rules.delete("dismiss-all")  # 204 there or not
    with pytest.raises(ResourceNotFoundError):
        security.alerts_suppression_rules.get("dismiss-all")


@pytest.mark.parametrize(("body", "member"), [
    ({"properties": {"alertType": "*", "reason": "FalsePositive", "state": "On"}}, "properties.state"),
    ({"properties": {"reason": "FalsePositive", "state": "Enabled"}}, "properties.alertType"),
    ({"properties": {"alertType": "*", "reason": "FalsePositive", "state": "Enabled",
                     "suppressionAlertsScope": {"allOf": [{"field": "entities.ip.address", "equals": "1.2.3.4"}]}}},
     "properties.suppressionAlertsScope.allOf[0]"),
])
def test_a_rule_the_sandbox_cannot_apply_is_a_400_naming_the_member(deployed, body, member):  # noqa: F811
    tenant, security = deployed
    with pytest.raises(HttpResponseError) as caught:
        security.alerts_suppression_rules.update("bad", body)
    assert caught.value.status_code == 400 and member in str(caught.value), str(caught.value)
    assert list(security.alerts_suppression_rules.list()) == []


# ---------------------------------------------------------------------------------------------- the control's judgment

@pytest.mark.parametrize(("rule", "fails", "starved"), [
    (_rule("*"), True, "ai-credential-theft (AI.Azure_CredentialTheftAttempt)"),
    (_rule("AI.Azure_CredentialTheftAttempt"), True, "ai-credential-theft (AI.Azure_CredentialTheftAttempt)"),
    # a playbook with detections of its own loses its Defender route too
    (_rule("AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"), True, "ai-jailbreak (AI.Azure_Jailbreak.*)"),
    (_rule("ai.azure_accessanomaly"), True, "ai-risky-service-principal (AI.Azure_AccessAnomaly)"),  # any case
    (_rule("AI.Azure_*"), True, "ai-credential-theft (AI.Azure_CredentialTheftAttempt)"),  # read as a wildcard
    (_rule("*", "Enabled", "2027-01-01T00:00:00+00:00"), True, "ai-suspicious-user-agent"),
    (_rule("*", "Enabled", None, {"field": "entities.azureresource.resourceid", "contains": "CONTOSO-OPENAI-PROD"}),
     True, "ai-sensitive-data-exposure"),
    (_rule("*", "Enabled", None, {"field": "entities.azureresource.resourceid", "in": [PROD.upper()]}), True, "ai-jailbreak"),
    # a field the audit cannot judge for a future alert counts as covering (as RT19-03's conditions do)
    (_rule("*", "Enabled", None, {"field": "entities.ip.address", "in": ["203.0.113.66"]}), True, "ai-credential-theft"),
    (_rule("VM_SuspiciousProcess"), False, None),
    (_rule("*", "Disabled"), False, None),
    (_rule("*", "Expired"), False, None),
    (_rule("*", "Enabled", "2026-11-01T00:00:00+00:00"), False, None),  # expired (the tenant's clock: 2026-11-29)
    (_rule("*", "Enabled", None, {"field": "entities.azureresource.resourceid", "in": [ELSEWHERE]}), False, None),
    (_rule("*", "Enabled", None, {"field": "entities.azureresource.resourceid", "contains": "vm-build"},
           {"field": "entities.ip.address", "in": ["203.0.113.66"]}), False, None),  # allOf: the resource never holds
], ids=["every-type", "credential-theft", "jailbreak-route", "any-case", "wildcard", "unexpired", "contains-account",
        "in-account", "unjudged-field", "another-type", "disabled", "expired-state", "expired-date", "another-resource",
        "all-of"])
def test_an_active_rule_dismissing_a_fed_type_on_a_protected_account_fails_the_control(deployed, rule, fails, starved):  # noqa: F811
    tenant, security = deployed
    assert relay_raised_alerts(tenant)  # (defender18: the seed's alerts reached Firestop — the route is proven)
    assert _control(tenant).status.value == "pass"
    security.alerts_suppression_rules.update("dismiss-noise", rule)
    result = _control(tenant)
    if fails:
        assert result.status.value == "fail", result.detail
        assert "Defender alerts suppression rules dismiss the alerts feeding Firestop" in result.detail, result.detail
        assert "dismiss-noise (alertType " in result.detail and starved in result.detail, result.detail
    else:
        assert result.status.value == "pass", result.detail
        found = [e.value for e in result.evidence if str(e.read).startswith("alertsSuppressionRules.list")]
        assert found == [{}], found


def test_suppression_rules_that_cannot_be_read_fail_the_control(deployed):  # noqa: F811
    tenant, _security = deployed
    assert relay_raised_alerts(tenant)
    tenant.inject_fault("alertsSuppressionRules.list", 403, times=20)
    result = _control(tenant)
    assert result.status.value == "fail", result.detail
    assert "Defender alerts suppression rules not read" in result.detail and "cannot be ruled out" in result.detail


def test_the_audit_role_reads_suppression_rules():
    from runbooks.permissions import AUDIT_ACTIONS

    from firestop.sandbox.authorization.rbac import action_for

    assert action_for("alertsSuppressionRules.list", "") == ("Microsoft.Security/alertsSuppressionRules/read", False)
    assert "Microsoft.Security/alertsSuppressionRules/read" in AUDIT_ACTIONS


# ---------------------------------------------------------------------------------------------- end to end

def test_a_matching_alert_is_dismissed_as_raised_delivered_nowhere_and_fails_the_proof(sandbox):  # noqa: F811
    """The detector dismisses what an active rule matches and no automation relays it; once the rule is deleted (the
    rule check then passes) the proof still names the alert Defender raised and dismissed: raised, not delivered."""
    env, call = sandbox
    tenant = env.tenant
    first, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 1
    security = _security(tenant)
    security.alerts_suppression_rules.update("dismiss-ua", _rule(
        "AI.Azure_AccessFromSuspiciousUserAgent", "Enabled", None,
        {"field": "entities.azureresource.resourceid", "in": [PROD]}))
    name, posted = _raise_and_relay(env, call, user_agent="sqlmap/1.7.2#stable (https://sqlmap.org)")
    assert posted == 0  # dismissed as raised: the relay never called
    [alert] = [a for a in security.alerts.list() if a.name == name]
    assert alert.status == "Dismissed" and alert.alert_type == "AI.Azure_AccessFromSuspiciousUserAgent"
    assert name not in relay_raised_alerts(tenant)  # (the tests' stand-in for the relay: it never posted it either)
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "fail", result.detail
    assert "dismiss-ua (alertType 'AI.Azure_AccessFromSuspiciousUserAgent'" in result.detail, result.detail
    security.alerts_suppression_rules.delete("dismiss-ua")  # the rule gone, its dismissed alert still not delivered
    result = _alert_rules(env)
    assert result.status.value == "fail", result.detail
    assert "Defender alerts suppression rules dismiss" not in result.detail, result.detail
    assert "1 of them Dismissed as raised (an alerts suppression rule" in result.detail, result.detail
    assert f"{name} (AI.Azure_AccessFromSuspiciousUserAgent, generated " in result.detail, result.detail
    assert "status Dismissed, exported by 'firestop-relay'" in result.detail, result.detail
    assert "broken or diverted" not in result.detail and first not in result.detail, result.detail


def test_a_rule_on_another_resource_dismisses_nothing_here_and_the_route_stays_proven(sandbox):  # noqa: F811
    env, call = sandbox
    tenant = env.tenant
    security = _security(tenant)
    security.alerts_suppression_rules.update("dismiss-build-vm", _rule(
        "*", "Enabled", None, {"field": "entities.azureresource.resourceid", "in": [ELSEWHERE]}))
    name, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 1
    [alert] = [a for a in security.alerts.list() if a.name == name]
    assert alert.status == "Active"
    tenant.clock.advance(RELAY_GRACE_SECONDS)
    result = _alert_rules(env)
    assert result.status.value == "pass", result.detail
    assert json.dumps([e.model_dump(mode="json") for e in result.evidence]).count("dismiss-build-vm") == 0
