"""Room sentinel/: incidents, comments, alerts, entities (REST 2024-03-01) through firestop.azure.sentinel's ARM pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from firestop.azure.sentinel import SentinelClient, check_incident_id

SAMPLES = Path(__file__).parents[1] / "alerts" / "samples" / "sentinel"
WS = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
      "Microsoft.OperationalInsights/workspaces/law-contoso-sec")
INCIDENT = WS + "/providers/Microsoft.SecurityInsights/incidents/8d2f1c3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f"


@pytest.fixture
def si(tenant):
    return SentinelClient(tenant.credential, transport=tenant.transport)


def _spec(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())["responses"]["200"]["body"]


def test_seeded_incident_has_the_spec_examples_shape(si):
    incident = si.get_incident(INCIDENT)
    spec = _spec("GetIncidentById.json")
    assert set(incident) == set(spec)
    closed_only = {"classification", "classificationComment", "classificationReason"}
    assert set(incident["properties"]) == set(spec["properties"]) - closed_only
    alert = si.list_alerts(INCIDENT)[0]
    spec_alert = _spec("GetAllIncidentAlerts.json")["value"][0]
    # providerAlertId (the originating Defender alert's id) is a SecurityAlertProperties field the example leaves out
    assert set(alert) == set(spec_alert) and set(alert["properties"]) <= set(spec_alert["properties"]) | {"providerAlertId"}
    assert alert["properties"]["alertType"] == "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"
    assert [e["kind"] for e in si.list_entities(INCIDENT)] == ["Ip", "AzureResource"]
    assert [i["id"] for i in si.list_incidents(WS)] == [INCIDENT]


def test_comments_are_idempotent_by_id_and_counted(si):
    first = si.put_comment(INCIDENT, "firestop-inc-1-analyze", "Firestop took the incident")
    again = si.put_comment(INCIDENT, "firestop-inc-1-analyze", "Firestop took the incident")
    assert first["properties"]["createdTimeUtc"] == again["properties"]["createdTimeUtc"]
    si.put_comment(INCIDENT, "firestop-inc-1-learn", "contained")
    assert [c["name"] for c in si.list_comments(INCIDENT)] == ["firestop-inc-1-analyze", "firestop-inc-1-learn"]
    assert si.get_incident(INCIDENT)["properties"]["additionalData"]["commentsCount"] == 2
    with pytest.raises(HttpResponseError) as caught:
        si.put_comment(INCIDENT, "big", "x" * 30_001)
    assert caught.value.status_code == 400


def test_closing_needs_a_classification_and_a_fresh_etag(si):
    incident = si.get_incident(INCIDENT)
    props = incident["properties"]
    with pytest.raises(HttpResponseError) as caught:
        si.put_incident(INCIDENT, {"etag": incident["etag"], "properties": {**props, "status": "Closed"}})
    assert caught.value.status_code == 400 and "classification" in str(caught.value)
    closed = si.put_incident(INCIDENT, {"etag": incident["etag"], "properties": {
        **props, "status": "Closed", "classification": "TruePositive", "classificationReason": "SuspiciousActivity"}})
    assert closed["properties"]["status"] == "Closed" and closed["etag"] != incident["etag"]
    with pytest.raises(HttpResponseError) as caught:  # the etag read before the close is stale now
        si.put_incident(INCIDENT, {"etag": incident["etag"], "properties": {**props, "status": "Active"}})
    assert caught.value.status_code == 409


def test_unknown_incident_and_bad_ids(si):
    with pytest.raises(ResourceNotFoundError):
        si.get_incident(WS + "/providers/Microsoft.SecurityInsights/incidents/00000000-0000-0000-0000-000000000000")
    with pytest.raises(ValueError):
        check_incident_id(WS + "/providers/Microsoft.SecurityInsights/incidents/../../x")
