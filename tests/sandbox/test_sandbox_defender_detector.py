"""Defender for AI in the sandbox (security/detector.py): each AI alert type is raised from the traffic that
carries its feature, with the user security context as entities, and delivered as the tenant says; traffic
without the feature raises nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firestop.alerts import parse_alert
from firestop.azure.clients import ClientFactory
from firestop.sandbox import Tenant
from firestop.sandbox.core.clock import parse_utc
from firestop.sandbox.monitor.traffic import response_body

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
APP = "3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b"  # the app gateway's identity: in the account's history
NEWCOMER = "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"  # holds a management role, never called the data plane
T0 = "2026-11-29T04:00:00Z"


def _tenant(**latency: float) -> Tenant:
    tenant = Tenant.load()
    tenant.realtime_factor = 0.0
    tenant.clock.set(parse_utc(T0))
    tenant._state.doc["latency"].update(latency)  # noqa: SLF001 — a test's own tenant
    tenant.evaluate_alerts()  # the detector starts here
    return tenant


def _calls(tenant: Tenant, n: int, *, every: float = 10.0, **call) -> list[int]:
    start = tenant.clock.now()
    base = {"account": "contoso-openai-prod", "ip": "203.0.113.66", "principal": APP, "tag": "attack"}
    return [tenant.data_plane_call(at=start + timedelta(seconds=i * every), **{**base, **call}) for i in range(n)]


def _run(tenant: Tenant, seconds: int) -> list:
    out = []
    for _ in range(seconds // 10):
        tenant.clock.advance(10)
        out.extend(tenant.evaluate_alerts())
    return out


def _alerts(tenant: Tenant) -> list:
    """The alerts raised since T0, read with azure-mgmt-security (the seed's older alerts left out)."""
    alerts = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True).security(SUB).alerts.list()
    return [a for a in alerts if a.time_generated_utc >= parse_utc(T0)]


CASES = [
    ("AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt", {"prompt_kind": "jailbreak"}, 1),
    ("AI.Azure_CredentialTheftAttempt", {"prompt_kind": "credential_theft"}, 1),
    ("AI.Azure_DataLeakInModelResponse.Sensitive", {"prompt_kind": "sensitive_data"}, 1),
    ("AI.Azure_AccessFromSuspiciousUserAgent", {"user_agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"}, 1),
    ("AI.Azure_AccessAnomaly", {"principal": NEWCOMER}, 5),
]


@pytest.mark.parametrize("alert_type,feature,calls", CASES, ids=[c[0] for c in CASES])
def test_each_alert_type_is_raised_from_its_traffic_and_relayed(alert_type, feature, calls):
    tenant = _tenant()
    statuses = _calls(tenant, calls, application="contoso-support-bot", end_user="6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d", **feature)
    fewer = _tenant()
    _calls(fewer, calls - 1, **feature)  # below the threshold (anomaly: 4 calls) or no call at all: nothing
    assert [n for n in _run(fewer, 300) if n.kind == "defender"] == []
    notes = [n for n in _run(tenant, 300) if n.kind == "defender"]
    (note,) = notes
    assert note.rule_name == alert_type and note.condition == "Fired"
    # a call at 04:00:00 is evidence 60 s later: raised at the 04:01 evaluation (the anomaly's fifth call, at
    # 04:00:40, at the 04:02 one), relayed 60 s after that
    raised = parse_utc("2026-11-29T04:01:00Z") + timedelta(minutes=1 if calls == 5 else 0)
    assert note.explain["generated_at"] == raised.strftime("%Y-%m-%dT%H:%M:%SZ") and note.at == raised + timedelta(seconds=60)
    assert note.webhooks == [{"name": "firestop-relay", "serviceUri": "https://func-firestop.azurewebsites.net/api/alerts",
                              "useCommonAlertSchema": False}]
    (stored,) = [a for a in _alerts(tenant) if a.alert_type == alert_type]
    assert stored.status == "Active" and stored.severity == "Medium" and stored.compromised_entity == "contoso-openai-prod"
    assert stored.resource_identifiers[0].azure_resource_id == PROD
    ext = stored.extended_properties
    assert ext["Deployment name"] == "gpt-4o" and ext["Source IP"] == "203.0.113.66"
    assert ext["Application name"] == "contoso-support-bot" and ext["End user id"] == "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
    # what Firestop reads from the relayed alert: routed to the family's playbook, indicators from the traffic
    alert = parse_alert(note.payload)
    assert alert.rule_name == alert_type and [t.lower() for t in alert.target_ids] == [PROD.lower()]
    assert alert.custom_properties["firestop-defender-alert"] == stored.name
    assert alert.indicators.caller_ips == ("203.0.113.66",) and alert.indicators.applications == ("contoso-support-bot",)
    assert alert.indicators.end_user_ids == ("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",)
    assert alert.routed_playbook == {"AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt": "ai-jailbreak",
                                     "AI.Azure_CredentialTheftAttempt": "ai-credential-theft",
                                     "AI.Azure_DataLeakInModelResponse.Sensitive": "ai-sensitive-data-exposure",
                                     "AI.Azure_AccessFromSuspiciousUserAgent": "ai-suspicious-user-agent",
                                     "AI.Azure_AccessAnomaly": "ai-risky-service-principal"}[alert_type]
    if alert_type == "AI.Azure_AccessAnomaly":
        assert alert.indicators.principal_ids == (NEWCOMER,)
    if alert_type == "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt":
        assert statuses == [400]


def test_volume_anomaly_from_one_source_and_not_below_the_threshold():
    tenant = _tenant()
    _calls(tenant, 501, every=0.2, ip="198.51.100.77", tokens=1500)  # 501 calls in 100 s
    quiet = _tenant()
    _calls(quiet, 500, every=0.6, ip="198.51.100.77", tokens=1500)  # 500 in five minutes: not more than the threshold
    assert [n for n in _run(quiet, 420) if n.kind == "defender"] == []
    (note,) = [n for n in _run(tenant, 300) if n.kind == "defender"]
    assert note.rule_name == "AI.Azure_DOWVolumeAnomaly"
    (stored,) = _alerts(tenant)
    assert stored.extended_properties["Requests"] == "501" and stored.extended_properties["Tokens"] == str(501 * 1500)


def test_jailbreak_is_blocked_detected_or_unseen_as_the_deployments_filter_says():
    blocked = _tenant()
    assert _calls(blocked, 1, prompt_kind="jailbreak") == [400]
    body = response_body(blocked.data_plane_log()[-1])
    assert body["error"]["code"] == "content_filter" and body["error"]["innererror"]["content_filter_results"]["jailbreak"] == {
        "filtered": True, "detected": True}
    # a policy whose Jailbreak filter only annotates: served, annotated, Defender raises DetectedAttempt
    annotate = _tenant()
    dep = annotate._state.doc["resources"][next(k for k in annotate._state.doc["resources"] if k.endswith("/deployments/gpt-4o"))]  # noqa: SLF001
    policies = annotate._state.doc["resources"]  # noqa: SLF001
    policies[f"{PROD}/raiPolicies/annotate-only".lower()] = {
        "id": f"{PROD}/raiPolicies/annotate-only", "name": "annotate-only",
        "properties": {"basePolicyName": "Microsoft.DefaultV2", "contentFilters": [
            {"name": "Jailbreak", "blocking": False, "enabled": True, "source": "Prompt"}]}}
    dep["properties"]["raiPolicyName"] = "annotate-only"
    assert _calls(annotate, 1, prompt_kind="jailbreak") == [200]
    assert response_body(annotate.data_plane_log()[-1])["prompt_filter_results"][0]["content_filter_results"]["jailbreak"] == {
        "filtered": False, "detected": True}
    assert [n.rule_name for n in _run(annotate, 300)] == ["AI.Azure_Jailbreak.ContentFiltering.DetectedAttempt"]
    # no Jailbreak filter at all: served unannotated, nothing for Defender to see
    unseen = _tenant()
    unseen._state.doc["resources"][f"{PROD}/raiPolicies/no-shields".lower()] = {  # noqa: SLF001
        "id": f"{PROD}/raiPolicies/no-shields", "name": "no-shields", "properties": {"contentFilters": []}}
    next(r for k, r in unseen._state.doc["resources"].items() if k.endswith("/deployments/gpt-4o"))["properties"]["raiPolicyName"] = "no-shields"  # noqa: SLF001
    assert _calls(unseen, 3, prompt_kind="jailbreak") == [200, 200, 200]
    assert _run(unseen, 300) == []


def test_traffic_without_a_malicious_feature_raises_nothing():
    tenant = _tenant()
    _calls(tenant, 60, every=5, application="contoso-support-bot", end_user="someone")  # known principal, benign prompts
    _calls(tenant, 30, every=10, key="0" * 32, principal=None, ip="203.0.113.140")  # 401s with the SDK's user agent
    assert _run(tenant, 600) == [] and _alerts(tenant) == []


def test_no_defender_plan_no_alert():
    tenant = _tenant()
    client = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True).security(SUB)
    client.pricings.update(f"subscriptions/{SUB}", "AI", {"pricing_tier": "Free"})
    _calls(tenant, 3, prompt_kind="jailbreak")
    assert _run(tenant, 300) == [] and _alerts(tenant) == []


def test_one_alert_while_it_is_active_then_activity_log_and_sentinel():
    tenant = _tenant()
    _calls(tenant, 18, prompt_kind="jailbreak", application="contoso-support-bot")  # three minutes of attempts
    notes = _run(tenant, 420)
    assert [n.rule_name for n in notes] == ["AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"]  # later evidence joins it
    (stored,) = _alerts(tenant)
    assert stored.extended_properties["Evidence count"] == "18" and stored.end_time_utc > stored.start_time_utc
    events = [e["event"] for e in tenant._state.doc["activity_log"] if e["event"]["category"]["value"] == "Security"]  # noqa: SLF001
    (event,) = events
    assert event["operationName"]["value"] == "Microsoft.Security/locations/alerts/activate/action"
    assert event["properties"]["alertType"] == stored.alert_type and event["properties"]["systemAlertId"] == stored.name
    section = tenant._state.doc["sentinel"]  # noqa: SLF001
    (incident,) = [i for i in section["incidents"].values() if i["properties"]["createdTimeUtc"].startswith("2026-11-29T04:01:55")]
    (held,) = section["alerts"][incident["id"].lower()]
    assert held["properties"]["providerAlertId"] == stored.name and held["properties"]["alertType"] == stored.alert_type
    kinds = {e["kind"] for e in section["entities"][incident["id"].lower()]}
    assert kinds == {"AzureResource", "Ip", "CloudApplication"}
    # once resolved, new attempts make a new alert
    client = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True).security(SUB)
    client.alerts.update_resource_group_level_state_to_resolve("rg-ai-prod", "westeurope", stored.name)
    _calls(tenant, 1, prompt_kind="jailbreak", application="contoso-support-bot")
    assert [n.rule_name for n in _run(tenant, 300)] == ["AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"]


def test_detection_delay_comes_from_the_latency_table():
    tenant = _tenant(**{"defender.detection": 0.0, "defender.automation": 5.0})
    _calls(tenant, 1, prompt_kind="credential_theft")
    (note,) = _run(tenant, 120)
    assert note.at == parse_utc("2026-11-29T04:01:05Z") and note.explain["detection_s"] == 0.0


def test_delivered_as_the_tenant_says_sentinel_relay_and_activity_log_security():
    """Without a workflow automation: Sentinel's automation rule relays the incident it made, and an activity log
    alert rule on category Security delivers the Activity Log event as the common schema."""
    tenant = _tenant(**{"defender.sentinel": 55.0})
    section = tenant._state.doc["security"]  # noqa: SLF001 — this tenant's delivery configuration
    section["workflow_automations"] = {}  # (trust17: the workflow automations are Microsoft.Security/automations resources)
    section["sentinel_relay"] = {"url": "https://relay.example/api/alerts", "delay": 5.0}
    monitor = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True).monitor(SUB)
    group = monitor.action_groups.create_or_update("rg-ai-prod", "ag-firestop", {
        "location": "Global", "group_short_name": "firestop", "enabled": True,
        "webhook_receivers": [{"name": "firestop", "service_uri": "https://func.example/api/alerts", "use_common_alert_schema": True}]})
    monitor.activity_log_alerts.create_or_update("rg-ai-prod", "defender-alerts", {
        "location": "Global", "scopes": [f"/subscriptions/{SUB}"], "enabled": True,
        "condition": {"all_of": [{"field": "category", "equals": "Security"}]},
        "actions": {"action_groups": [{"action_group_id": group.id}]}})
    tenant.evaluate_alerts()
    _calls(tenant, 1, prompt_kind="jailbreak", application="contoso-support-bot")
    notes = _run(tenant, 300)
    by_kind = {n.kind: n for n in notes}
    assert set(by_kind) == {"defender", "activityLogAlerts"}
    relayed = parse_alert(by_kind["defender"].payload)  # the Sentinel incident, 55 s after the alert, relayed 5 s later
    assert relayed.schema_id == "sentinel:incident" and relayed.routed_playbook == "ai-jailbreak"
    raised = parse_utc(by_kind["defender"].explain["generated_at"])
    assert by_kind["defender"].at == raised + timedelta(seconds=60) and by_kind["defender"].explain["delivery_s"] == 60
    assert by_kind["defender"].webhooks[0]["serviceUri"] == "https://relay.example/api/alerts"
    security_alert = parse_alert(by_kind["activityLogAlerts"].payload)  # Activity Log - Security through the action group
    assert security_alert.monitoring_service == "Activity Log - Security" and security_alert.routed_playbook == "ai-jailbreak"
    assert security_alert.indicators.applications == ("contoso-support-bot",)
    assert by_kind["activityLogAlerts"].at == raised + timedelta(seconds=20)  # the Activity Log's submission delay
