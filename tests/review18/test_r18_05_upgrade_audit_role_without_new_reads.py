"""R18-05 (low): suppress18 × an upgrade. ``monitoring.alert-rules`` (high) now lists Defender's alerts suppression
rules and fails when it cannot (a dismissing rule cannot be ruled out) — but the audit role of a deployment made before
this version lacks ``Microsoft.Security/alertsSuppressionRules/read`` (and defender18's
``Microsoft.Security/locations/alerts/read``) until the template is deployed again with regenerated ``auditRoleActions``
(an operator's kept parameters file, or a code-only upgrade, keeps the old role). The first audit after such an
upgrade failed the control with "…answered 403 AuthorizationFailed: a rule dismissing … cannot be ruled out", naming
neither the permission nor the fix. The status stays a failure (fail closed, as RT19-03's unreadable processing rules);
the detail now names the action and how the role gets it.

Fails on rough18 + suppress18 (5d0e9bb): the detail does not name the action.
"""

from __future__ import annotations

from firestop.infra.grants import enforced_roles, held
from firestop.playbooks import load_playbooks  # noqa: F401 - (as the audit16 helper imports)
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.audit16.test_audit_as_the_deployed_role import _audit
from tests.defender18.relay import relay_raised_alerts
from tests.infra.conftest import factory
from tests.infra.test_infra_deploy import deploy

NEW_READS = ("Microsoft.Security/alertsSuppressionRules/read", "Microsoft.Security/locations/alerts/read")


def test_an_audit_role_from_before_the_upgrade_is_named_with_the_fix(firestop_home, monkeypatch):
    from tests.audit16.test_alert_rules_defender_fed import RELAY

    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    tenant = Tenant.load()
    outputs = deploy(tenant).properties.outputs
    roles = enforced_roles(held(factory(tenant), tenant.subscription_id, outputs["identityPrincipalId"]["value"]))
    old = [{**r, "Actions": [a for a in r["Actions"] if a not in NEW_READS]} for r in roles]  # the role as deployed before
    assert old != roles
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    relay_raised_alerts(tenant)
    tenant.enforce_role(old)
    try:
        results = {r.control: r for r in _audit(tenant).results}
    finally:
        tenant.enforce_role(None)
    rules = results["monitoring.alert-rules"]
    assert "Microsoft.Security/alertsSuppressionRules/read" in rules.detail, rules.detail
    assert "auditRoleActions" in rules.detail or "python -m firestop infra" in rules.detail, rules.detail
