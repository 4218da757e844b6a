"""attack19 A19-04: the sandbox's ``PUT …/Microsoft.Security/automations/{name}`` (trust17/defender18) walked
``properties.scopes`` / ``sources`` / ``actions`` before checking each is a list: a number or ``true`` there raised
``TypeError`` out of the route (no answer), a string or an object was walked by character / key into a misleading
``scopes[0].scopePath`` error. Each is now a 400 ``InvalidInputJson`` naming the member as a list. The crash cases
fail before the fix (TypeError out of the transport); the string/object cases before named ``[0]`` not the list."""

from __future__ import annotations

import json

import pytest
from azure.core import PipelineClient
from azure.core.rest import HttpRequest

from firestop.sandbox import Tenant

ARM = "https://management.azure.com"


@pytest.mark.parametrize("member", ["scopes", "sources", "actions"])
@pytest.mark.parametrize("value", [5, True, "abc", {"scopePath": "/subscriptions/x"}])
def test_a_member_that_is_not_a_list_is_a_400_naming_it(firestop_home, member, value):
    tenant = Tenant.load()
    client = PipelineClient(ARM, transport=tenant.transport)
    token = tenant.credential.get_token(f"{ARM}/.default").token
    answer = client.send_request(HttpRequest(
        "PUT", f"{ARM}/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod/providers/Microsoft.Security/"
               "automations/a19?api-version=2019-01-01-preview",
        content=json.dumps({"location": "westeurope", "properties": {"isEnabled": True, member: value}}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}))
    assert answer.status_code == 400, answer.text()
    assert answer.json()["error"]["message"] == f"properties.{member} must be a list"
