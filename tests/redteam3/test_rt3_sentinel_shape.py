"""RT3-07 (regression): a Sentinel incident body whose alert's ``resourceIdentifiers`` is not a list (a number)
used to raise TypeError out of the parser (POST /api/alerts answered 503 and the sender retried a malformed
payload); it is a 422 naming the field. An ``AzureResource`` entity whose ``resourceId`` is not an ARM id is
not a target (as in the Defender parser)."""

from __future__ import annotations

import json

import pytest

from firestop.alerts import AlertPayloadError, parse_alert
from firestop.settings import REPO_ROOT


def test_a_non_list_resource_identifiers_is_a_422():
    body = json.loads((REPO_ROOT / "examples/alerts/sentinel-incident-jailbreak.json").read_text())
    body["object"]["properties"]["alerts"][0]["properties"]["resourceIdentifiers"] = 5
    with pytest.raises(AlertPayloadError) as err:
        parse_alert(json.dumps(body).encode())
    assert err.value.http_status == 422
    assert err.value.field == "object.properties.alerts[0].properties.resourceIdentifiers"


def test_an_azure_resource_entity_that_is_not_an_arm_id_is_not_a_target():
    body = json.loads((REPO_ROOT / "examples/alerts/sentinel-incident-jailbreak.json").read_text())
    props = body["object"]["properties"]
    for a in props["alerts"]:
        a["properties"]["resourceIdentifiers"] = []
    props["relatedEntities"] = [{"kind": "AzureResource", "properties": {"resourceId": "contoso-openai-prod"}}]
    alert = parse_alert(json.dumps(body).encode())
    assert list(alert.target_ids) == []
