"""The ARM PUTs that parse a body and check its ``properties`` (Defender automations and suppression rules, Sentinel
incidents) answer a bad body with a 400 naming the field, each with its API's error code — through an azure-core
pipeline (the SDK's request building and error handling run), without retries."""

from __future__ import annotations

import json

import pytest
from azure.core.rest import HttpRequest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from .conftest import RG, SUB

ARM = "https://management.azure.com"
AUTOMATION = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Security/automations/fs-relay"
RULE = f"/subscriptions/{SUB}/providers/Microsoft.Security/alertsSuppressionRules/fs-rule"
INCIDENT = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/"
            "law-contoso-sec/providers/Microsoft.SecurityInsights/incidents/8d2f1c3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f")


def _put(tenant, path: str, body: bytes) -> tuple[int, dict]:
    client = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport, retry_total=0)
    answer = client._client.send_request(HttpRequest("PUT", f"{ARM}{path}?api-version=2019-01-01-preview",
                                                     content=body, headers={"Content-Type": "application/json"}))
    return answer.status_code, answer.json()["error"] if answer.status_code >= 400 else answer.json()


@pytest.mark.parametrize("path", [AUTOMATION, RULE, INCIDENT])
def test_a_body_that_is_not_json_is_refused_as_undeserializable(tenant, path):
    status, error = _put(tenant, path, b"{not json")
    assert status == 400 and error["code"] == "InvalidRequestContent"


@pytest.mark.parametrize("path, code, says", [
    (AUTOMATION, "InvalidInputJson", "properties must be an object"),
    (RULE, "InvalidInputJson", "properties must be an object"),
    (INCIDENT, "BadRequest", "properties is required"),
])
def test_a_body_without_properties_names_them(tenant, path, code, says):
    for body in ({"location": "westeurope"}, [1, 2], {"properties": "on"}):
        status, error = _put(tenant, path, json.dumps(body).encode())
        assert status == 400 and error["code"] == code and error["message"].startswith(says)


@pytest.mark.parametrize("path, properties, code, field", [
    (AUTOMATION, {"isEnabled": "yes"}, "InvalidInputJson", "properties.isEnabled"),
    (RULE, {"alertType": "*", "reason": "Other", "state": "Sometimes"}, "InvalidInputJson", "properties.state"),
    (INCIDENT, {"title": "t", "severity": "Huge", "status": "New"}, "BadRequest", "properties.severity"),
])
def test_a_wrong_member_is_named_and_nothing_is_stored(tenant, path, properties, code, field):
    status, error = _put(tenant, path, json.dumps({"properties": properties}).encode())
    assert status == 400 and error["code"] == code and field in error["message"]
    if path != INCIDENT:  # (the seeded incident stays as seeded: its severity is checked below)
        client = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport, retry_total=0)
        got = client._client.send_request(HttpRequest("GET", f"{ARM}{path}?api-version=2019-01-01-preview"))
        assert got.status_code == 404
    else:
        client = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport, retry_total=0)
        got = client._client.send_request(HttpRequest("GET", f"{ARM}{path}?api-version=2024-03-01"))
        assert got.json()["properties"]["severity"] != "Huge"
