"""Defender for Cloud and Sentinel payloads in every delivery shape → one normalised Alert (firestop.alerts.sources)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from firestop.alerts import AlertPayloadError, parse_alert
from firestop.intake.correlation import CorrelationKey, alert_keys, slot_id

DATA = Path(__file__).parent / "samples"
EXAMPLES = Path(__file__).parents[2] / "examples" / "alerts"
CORPUS_SECURITY = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "alerts" / "context-fragments" / "activitylog-security.alertContext.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"


def _spec(path: str) -> dict:
    return json.loads((DATA / path).read_text())["responses"]["200"]["body"]


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_rest_spec_example_parses_with_targets_ips_and_no_playbook_for_an_unknown_type():
    alert = parse_alert(_spec("defender/GetAlertSubscriptionLocation_example.json"))
    assert alert.schema_id == "defender:rest" and alert.rule_name == "VM_EICAR" and alert.severity == 1
    assert alert.alert_id == "Microsoft.Security/alerts/2518298467986649999_4d25bfef-2d77-4a08-adc0-3e35715cc92a"
    assert alert.target_ids[0].endswith("/virtualMachines/vm1") and alert.resource_type == "microsoft.compute/virtualmachines"
    assert alert.indicators.caller_ips == ("192.0.2.1",) and alert.indicators.alert_types == ("VM_EICAR",)
    assert alert.routed_playbook is None  # unknown type: accepted and recorded, never routed, never an error
    assert alert.monitor_condition == "Fired" and alert.fired_at.isoformat() == "2020-02-23T13:47:58+00:00"


def test_ai_jailbreak_alert_routes_and_carries_the_user_security_context():
    alert = parse_alert(_example("defender-jailbreak.json"))
    assert alert.routed_playbook == "ai-jailbreak" and alert.targets(ACCOUNT.lower())
    ind = alert.indicators
    assert (ind.caller_ips, ind.deployments, ind.applications, ind.user_agents) == (
        ("203.0.113.66",), ("gpt-4o",), ("contoso-support-bot",), ("python-requests/2.31.0",))
    assert ind.end_user_ids == ("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",)


def _export_shape(rest: dict) -> dict:
    """The same alert as continuous export / workflow automation send it: flat, PascalCase."""
    p = rest["properties"]
    return {
        "VendorName": "Microsoft", "AlertType": p["alertType"], "SystemAlertId": p["systemAlertId"],
        "AlertDisplayName": p["alertDisplayName"], "Description": p["description"], "Severity": p["severity"],
        "Status": p["status"], "StartTimeUtc": p["startTimeUtc"], "EndTimeUtc": p["endTimeUtc"],
        "TimeGenerated": p["timeGeneratedUtc"], "ProductName": "Azure Security Center",
        "ResourceIdentifiers": [{"AzureResourceId": p["resourceIdentifiers"][0]["azureResourceId"], "Type": "AzureResource"}],
        "Entities": p["entities"], "ExtendedProperties": p["extendedProperties"], "CompromisedEntity": p["compromisedEntity"],
    }


def _row_shape(rest: dict) -> dict:
    """The same alert as a Log Analytics SecurityAlert row (JSON columns as strings)."""
    p = rest["properties"]
    return {
        "TenantId": "f1e2d3c4-b5a6-4978-8a6b-5c4d3e2f1a0b", "TimeGenerated": "2026-11-29T02:28:10.512Z",
        "DisplayName": p["alertDisplayName"], "AlertName": p["alertDisplayName"], "AlertSeverity": p["severity"],
        "Description": p["description"], "ProviderName": "AI", "VendorName": "Microsoft",
        "VendorOriginalId": p["systemAlertId"], "SystemAlertId": p["systemAlertId"],
        "ResourceId": p["resourceIdentifiers"][0]["azureResourceId"], "AlertType": p["alertType"],
        "StartTime": p["startTimeUtc"], "EndTime": p["endTimeUtc"], "Status": "New",
        "Entities": json.dumps(p["entities"]), "ExtendedProperties": json.dumps(p["extendedProperties"]),
        "ProductName": "Azure Security Center", "Type": "SecurityAlert",
    }


def test_every_delivery_shape_of_one_alert_is_the_same_alert():
    rest = _example("defender-jailbreak.json")
    alerts = [parse_alert(rest), parse_alert(_export_shape(rest)), parse_alert(_row_shape(rest))]
    assert [a.schema_id for a in alerts] == ["defender:rest", "defender:export", "defender:securityalert"]
    assert len({a.alert_id for a in alerts}) == 1  # a redelivery in another shape is a duplicate
    assert len({a.indicators for a in alerts}) == 1
    assert {a.routed_playbook for a in alerts} == {"ai-jailbreak"}
    assert len({tuple(t.lower() for t in a.target_ids) for a in alerts}) == 1


def test_activity_log_security_event_through_an_action_group_is_recognised_as_defender():
    fragment = json.loads(CORPUS_SECURITY.read_text())["alertContext"] if CORPUS_SECURITY.exists() else None
    context = copy.deepcopy(fragment) if fragment else {"operationName": "Microsoft.Security/locations/alerts/activate/action", "properties": {}}
    context["properties"].update({"alertType": "AI.Azure_Jailbreak.ContentFiltering.DetectedAttempt", "Source IP": "203.0.113.66"})
    body = {"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {
        "alertId": "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/0c8b4d2e-1111-4a2b-8c3d-4e5f6a7b8c9d",
        "alertRule": "defender-alerts-to-firestop", "severity": "Sev2", "signalType": "Activity Log",
        "monitorCondition": "Fired", "monitoringService": "Activity Log - Security", "alertTargetIDs": [ACCOUNT],
        "firedDateTime": "2026-11-29T02:28:30.000Z"}, "alertContext": context}}
    alert = parse_alert(body)
    assert alert.routed_playbook == "ai-jailbreak"
    assert alert.indicators.alert_types == ("AI.Azure_Jailbreak.ContentFiltering.DetectedAttempt",)
    assert "203.0.113.66" in alert.indicators.caller_ips


def test_sentinel_spec_examples_and_the_relay_body_parse():
    closed = parse_alert(_spec("sentinel/GetIncidentById.json"))
    assert closed.schema_id == "sentinel:incident" and closed.monitor_condition == "Resolved"
    assert closed.context["incidentNumber"] == 3177 and closed.rule_name == "My incident"
    alerts = json.loads((DATA / "sentinel/GetAllIncidentAlerts.json").read_text())["responses"]["200"]["body"]["value"]
    incident = _spec("sentinel/GetIncidentById.json")
    incident["properties"] = {**incident["properties"], "status": "Active", "alerts": alerts}
    active = parse_alert(incident)
    assert active.monitor_condition == "Fired" and active.indicators.alert_types == ("myAlert",)
    relay = parse_alert(_example("sentinel-incident-jailbreak.json"))
    assert relay.routed_playbook == "ai-jailbreak" and relay.targets(ACCOUNT)
    assert relay.indicators.caller_ips == ("203.0.113.66",) and relay.context["incidentNumber"] == 4211


def test_defender_alert_monitor_log_alert_and_sentinel_incident_share_one_incident_slot():
    monitor = json.loads((EXAMPLES / "content-abuse.json").read_text())
    monitor["data"]["essentials"]["alertRule"] = "aoai-jailbreak-attempts"
    monitor["data"]["customProperties"] = {"firestop-playbook": "ai-jailbreak"}
    monitor["data"]["essentials"]["alertTargetIDs"] = [ACCOUNT.lower()]
    sources = [parse_alert(_example("defender-jailbreak.json")), parse_alert(monitor),
               parse_alert(_example("sentinel-incident-jailbreak.json"))]
    keys = [alert_keys(a, CorrelationKey.RESOURCE) for a in sources]
    assert keys[0] == keys[1] == keys[2] and len(keys[0]) == 1
    assert len({a.alert_id for a in sources}) == 3  # three alerts, recorded apart, on one incident:
    assert slot_id(keys[0][0]).startswith("inc-")


@pytest.mark.parametrize("body, field, recognised", [
    ({"type": "Microsoft.Security/Locations/alerts", "properties": {"alertType": "AI.Azure_CredentialTheftAttempt"}},
     "properties.systemAlertId", "Defender for Cloud alert (Security Alerts REST"),
    ({"AlertType": "AI.Azure_DOWVolumeAnomaly", "AlertDisplayName": "Suspected wallet attack", "Severity": "Medium"},
     "systemAlertId", "continuous-export"),
    ({"Type": "SecurityAlert", "AlertType": "x", "AlertSeverity": "Low"}, "SystemAlertId", "SecurityAlert row"),
    ({"objectSchemaType": "Incident", "object": {"properties": {}}}, "object.id", "Sentinel incident"),
])
def test_recognised_but_incomplete_bodies_name_the_format_and_what_is_missing(body, field, recognised):
    with pytest.raises(AlertPayloadError) as caught:
        parse_alert(body)
    assert caught.value.field == field and caught.value.http_status == 422
    assert recognised in caught.value.reason and "missing" in caught.value.reason


def test_an_unrecognised_body_lists_the_supported_formats():
    with pytest.raises(AlertPayloadError) as caught:
        parse_alert({"hello": "world"})
    assert "Sentinel incident" in caught.value.reason and "Defender for Cloud alert" in caught.value.reason


def test_bad_time_in_a_defender_alert_is_a_422_naming_the_field():
    rest = _example("defender-jailbreak.json")
    rest["properties"]["startTimeUtc"] = "yesterday"
    with pytest.raises(AlertPayloadError) as caught:
        parse_alert(rest)
    assert caught.value.field == "properties.startTimeUtc" and caught.value.http_status == 422


@pytest.mark.parametrize("example, playbook", [
    ("defender-jailbreak.json", "ai-jailbreak"),
    ("defender-credential-theft.json", "ai-credential-theft"),
    ("defender-denial-of-wallet.json", "ai-denial-of-wallet"),
    ("defender-suspicious-user-agent.json", "ai-suspicious-user-agent"),
    ("defender-sensitive-data-exposure.json", "ai-sensitive-data-exposure"),
    ("defender-risky-service-principal.json", "ai-risky-service-principal"),
    ("sentinel-incident-jailbreak.json", "ai-jailbreak"),
])
def test_each_ai_family_example_selects_its_playbook(example, playbook):
    from firestop.playbooks import load_playbooks
    from firestop.playbooks.match import select_playbook
    from firestop.settings import REPO_ROOT

    alert = parse_alert(_example(example))
    chosen, _ = select_playbook(alert, load_playbooks(REPO_ROOT / "playbooks"))
    assert chosen is not None and chosen.name == playbook
    # the same alert type without the route property still matches by rule name (the playbook's match section)
    unrouted = alert.model_copy(update={"custom_properties": {}})
    chosen, _ = select_playbook(unrouted, load_playbooks(REPO_ROOT / "playbooks"))
    assert chosen is not None and chosen.name == playbook


def test_unknown_defender_alert_type_is_recorded_without_a_playbook():
    from firestop.playbooks import load_playbooks
    from firestop.playbooks.match import select_playbook
    from firestop.settings import REPO_ROOT

    rest = _example("defender-jailbreak.json")
    rest["properties"]["alertType"] = "AI.Azure_SomethingNewNextYear"
    alert = parse_alert(rest)
    assert alert.routed_playbook is None and alert.rule_name == "AI.Azure_SomethingNewNextYear"
    chosen, reason = select_playbook(alert, load_playbooks(REPO_ROOT / "playbooks"))
    assert chosen is None and "no playbook" in reason
