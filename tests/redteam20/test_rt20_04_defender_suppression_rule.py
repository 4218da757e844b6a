"""RT20-04 (attacker b: Security Admin, who "can create and delete" Defender for Cloud suppression rules — Learn,
"Suppress alerts from Microsoft Defender for Cloud"): an alerts suppression rule (``Microsoft.Security/
alertsSuppressionRules``, REST 2019-01-01-preview: ``alertType`` — ``'*'`` for every type —, ``state`` Enabled,
``reason``, optional ``expirationDateUtc`` and ``suppressionAlertsScope``) sets every matching alert to **Dismissed**
as it is raised ("it no longer triggers notifications"). Firestop maps a Dismissed Defender alert to Resolved
(``alerts/sources/security_alert._RESOLVED``) and its source check never confirms one (``security_source``): so the
Defender-fed playbooks (ai-credential-theft, ai-risky-service-principal, ai-sensitive-data-exposure,
ai-suspicious-user-agent, and the Defender routes of ai-jailbreak / ai-denial-of-wallet) never open an incident,
while the plan, the workflow automation and the relay stay as deployed and ``monitoring.alert-rules`` passes. It is
RT19-03 (alert processing rules silencing Monitor alerts) on Defender's side; nothing in Firestop reads
``alertsSuppressionRules`` and the sandbox has no route for them (the PUT is answered 501).

Expected: the control (or a new one) lists the subscription's suppression rules (``alertsSuppressionRules.list``,
``Microsoft.Security/alertsSuppressionRules/read``, which the audit role would gain) and fails naming an enabled,
unexpired rule whose ``alertType`` is ``*`` or one of a fed playbook's alert types and whose scope covers a protected
account."""

from __future__ import annotations

import pytest
from azure.mgmt.security.models import AlertsSuppressionRule

from tests.redteam18.test_rt18_audit_decoy_rule import _control
from tests.trust17.test_t17_defender_route import deployed  # noqa: F401 (fixture)


@pytest.mark.parametrize("alert_type", ["*", "AI.Azure_CredentialTheftAttempt"])
def test_a_suppression_rule_dismissing_the_ai_alerts_fails_the_alert_rules_control(deployed, alert_type):  # noqa: F811
    tenant, security = deployed
    assert _control(tenant).status.value == "pass"  # the relay feeds the Defender-only playbooks
    security.alerts_suppression_rules.update("dismiss-noise", AlertsSuppressionRule(
        alert_type=alert_type, reason="FalsePositive", state="Enabled", comment="noisy"))
    result = _control(tenant)
    assert result.status.value == "fail", result.detail
    assert "dismiss-noise" in result.detail, result.detail
