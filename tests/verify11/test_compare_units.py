"""verify11: what the Defender / Sentinel comparisons accept and refuse, on the REST shapes (pure)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from firestop.azure.security_source import compare_defender, compare_sentinel

NOW = datetime(2026, 11, 29, 3, 15, tzinfo=timezone.utc)
T = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
ALERT = {"target_ids": [T.lower()], "rule_name": "AI.Azure_DOWVolumeAnomaly", "severity": 2,
         "fired_at": "2026-11-29T03:00:00Z", "monitor_condition": "Fired",
         "indicators": {"alert_types": ["AI.Azure_DOWVolumeAnomaly"]}}


def defender(**props) -> dict:
    base = {"alertType": "AI.Azure_DOWVolumeAnomaly", "severity": "Medium", "status": "Active",
            "timeGeneratedUtc": "2026-11-29T03:00:30.1234567Z", "resourceIdentifiers": [{"type": "AzureResource", "azureResourceId": T}]}
    return {"properties": {**base, **props}}


def test_defender_confirms_the_same_alert_within_a_minute():
    assert compare_defender(ALERT, defender(), NOW) is None
    assert compare_defender(ALERT, defender(status="InProgress"), NOW) is None
    assert "time differs" in compare_defender(ALERT, defender(timeGeneratedUtc="2026-11-29T03:01:01Z"), NOW)


@pytest.mark.parametrize("props, why", [
    ({"status": "Dismissed"}, "dismissed"),
    ({"status": "Resolved"}, "'Resolved'"),
    ({"resourceIdentifiers": []}, "resource identifiers differ"),
    ({"resourceIdentifiers": [{"type": "LogAnalytics", "workspaceId": "x"}]}, "resource identifiers differ"),
    ({"severity": "Informational"}, "severity differs"),
    ({"alertType": None}, "alertType differs"),
    ({"timeGeneratedUtc": "2026-11-27T03:00:00Z"}, "not within 24 h"),
])
def test_defender_refuses(props, why):
    assert why in compare_defender(ALERT, defender(**props), NOW)


def test_a_resolved_delivery_needs_a_resolved_alert():
    resolved = {**ALERT, "monitor_condition": "Resolved"}
    assert compare_defender(resolved, defender(status="Resolved"), NOW) is None
    assert "status differs" in compare_defender(resolved, defender(), NOW)


def incident(**props) -> dict:
    base = {"severity": "Medium", "status": "New", "createdTimeUtc": "2026-11-29T03:00:00.0000000Z",
            "lastModifiedTimeUtc": "2026-11-29T03:00:00Z", "title": "t"}
    return {"properties": {**base, **props}}


ALERTS = [{"properties": {"alertType": "AI.Azure_DOWVolumeAnomaly", "resourceIdentifiers": [{"type": "AzureResource", "resourceId": T}]}}]


def test_sentinel_confirms_the_same_incident():
    assert compare_sentinel(ALERT, incident(), ALERTS, [], NOW) is None
    entity_only = [{"properties": {"alertType": "AI.Azure_DOWVolumeAnomaly"}}]
    assert compare_sentinel(ALERT, incident(), entity_only, [{"kind": "AzureResource", "properties": {"resourceId": T}}], NOW) is None


@pytest.mark.parametrize("props, alerts, why", [
    ({"status": "Closed", "lastModifiedTimeUtc": "2026-11-29T01:00:00Z"}, ALERTS, "long before the check"),
    ({"createdTimeUtc": "2026-11-29T03:00:02Z"}, ALERTS, "createdTimeUtc differs"),
    ({"severity": "High"}, ALERTS, "severity differs"),
    ({}, [{"properties": {"alertType": "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt",
                          "resourceIdentifiers": [{"azureResourceId": T}]}}], "alert type differs"),
    ({}, [], "resource identifiers differ"),
])
def test_sentinel_refuses(props, alerts, why):
    assert why in compare_sentinel(ALERT, incident(**props), alerts, [], NOW)


def test_an_incident_closed_since_it_was_sent_still_confirms_the_fired_delivery():
    assert compare_sentinel(ALERT, incident(status="Closed", lastModifiedTimeUtc="2026-11-29T03:10:00Z"), ALERTS, [], NOW) is None
