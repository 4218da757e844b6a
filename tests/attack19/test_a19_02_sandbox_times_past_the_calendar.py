"""attack19 A19-02: a time the sandbox's new routes take from a request (an alerts suppression rule's
``expirationDateUtc``, suppress18; Policy Insights' ``$from``/``$to``, RT19-04) that parses as ISO 8601 but whose
offset carries it past the calendar (``0001-01-01T00:00:00+01:00`` is 31 Dec of year 0 in UTC) raised
``OverflowError`` out of the sandbox's ``parse_utc`` — not the ValueError its callers answer 400 for — so the route
crashed instead of answering. Both tests fail before the fix (OverflowError out of the transport)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from azure.core import PipelineClient
from azure.core.rest import HttpRequest

from firestop.sandbox import Tenant

ARM = "https://management.azure.com"
BEFORE_THE_CALENDAR = "0001-01-01T00:00:00+01:00"
AFTER_THE_CALENDAR = "9999-12-31T23:59:59-01:00"


def _send(tenant, method: str, path: str, body: dict | None = None):
    client = PipelineClient(ARM, transport=tenant.transport)
    token = tenant.credential.get_token(f"{ARM}/.default").token
    return client.send_request(HttpRequest(method, ARM + path, content=json.dumps(body) if body is not None else None,
                                           headers={"Authorization": f"Bearer {token}",
                                                    "Content-Type": "application/json"}))


@pytest.mark.parametrize("when", [BEFORE_THE_CALENDAR, AFTER_THE_CALENDAR])
def test_a_suppression_rule_expiring_past_the_calendar_is_a_400_naming_the_member(firestop_home, when):
    tenant = Tenant.load()
    answer = _send(tenant, "PUT", f"/subscriptions/{tenant.subscription_id}/providers/Microsoft.Security/"
                                  "alertsSuppressionRules/r1?api-version=2019-01-01-preview",
                   {"properties": {"alertType": "*", "reason": "Other", "state": "Enabled", "expirationDateUtc": when}})
    assert answer.status_code == 400, answer.text()
    assert "expirationDateUtc" in answer.json()["error"]["message"]


@pytest.mark.parametrize("name", ["$from", "$to"])
def test_a_policy_history_range_past_the_calendar_is_a_400_naming_the_parameter(firestop_home, name):
    tenant = Tenant.load()
    answer = _send(tenant, "POST", f"/subscriptions/{tenant.subscription_id}/providers/Microsoft.PolicyInsights/"
                                   f"policyStates/default/queryResults?api-version=2019-10-01&{name}={quote(BEFORE_THE_CALENDAR)}")
    assert answer.status_code == 400, answer.text()
    assert name in answer.json()["error"]["message"]
