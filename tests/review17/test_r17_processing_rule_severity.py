"""R17-03: RT19-03's check of alert processing rules judged a ``Severity`` condition against a rule's
``properties.severity`` — which an activity log alert does not have (activityLogAlerts 2020-10-01 has no severity:
Azure Monitor gives its alerts one itself). The audit read it as ``""``, so no Severity condition ever held for it: a
rule removing all action groups for ``Severity Equals Sev0..Sev4`` (every alert there is) was reported silencing the
log and metric detections but not ``aoai-public-network-change``, the activity log detection, which it silences too.
The module's own rule is "a field not judged here counts as holding (fail safe)"; a field whose value the audit does
not know must count the same way."""

from __future__ import annotations

from firestop.azure.alert_processing import covers
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.redteam19.test_rt19_03_alert_processing_rule import _with_rule

EVERY_SEVERITY = {"field": "Severity", "operator": "Equals", "values": ["Sev0", "Sev1", "Sev2", "Sev3", "Sev4"]}
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
ACTIVITY_RULE = {"id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
                       "Microsoft.Insights/activityLogAlerts/aoai-public-network-change",
                 "name": "aoai-public-network-change", "type": "Microsoft.Insights/activityLogAlerts",
                 "properties": {"scopes": ["/subscriptions/11111111-2222-3333-4444-555555555555"], "enabled": True}}


def _processing(conditions):
    return {"properties": {"scopes": ["/subscriptions/11111111-2222-3333-4444-555555555555"], "conditions": conditions,
                           "actions": [{"actionType": "RemoveAllActionGroups"}]}}


def test_a_severity_condition_covers_an_activity_log_detection_it_cannot_judge():
    assert covers(_processing([EVERY_SEVERITY]), ACTIVITY_RULE, [ACCOUNT])


def test_a_condition_on_a_known_field_still_excludes():  # guard: known values are still judged
    other = {"field": "AlertRuleName", "operator": "Equals", "values": ["someone-elses-rule"]}
    assert not covers(_processing([EVERY_SEVERITY, other]), ACTIVITY_RULE, [ACCOUNT])
    metric = {"id": "/x/metricAlerts/m", "name": "m", "properties": {"scopes": [ACCOUNT], "severity": 1}}
    assert not covers(_processing([{"field": "Severity", "operator": "Equals", "values": ["Sev4"]}]), metric, [ACCOUNT])


def test_the_control_names_the_activity_log_detection_silenced(firestop_home):
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    result = _with_rule(tenant, {"scopes": [f"/subscriptions/{tenant.subscription_id}"], "conditions": [EVERY_SEVERITY],
                                 "actions": [{"actionType": "RemoveAllActionGroups"}]})
    assert result.status.value == "fail", (result.status, result.detail)
    found = [e.value for e in result.evidence if str(e.read).startswith("alertProcessingRules.list")]
    assert found and any("aoai-public-network-change" in names for names in found[0].values()), found
