"""ARM Activity Log API (Microsoft.Insights/eventtypes/management/values) through a real azure-mgmt-core pipeline.

azure-mgmt-monitor is not a dependency, so the requests go through the
``ARMPipelineClient`` of CognitiveServicesManagementClient (bearer policy,
retries, ARM error mapping) with ``send_request``, following ``nextLink``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from azure.core.rest import HttpRequest

from firestop.sandbox.core.clock import format_utc

from .conftest import ACCOUNT, ACCOUNT_ID, RG, SUB

UTC = timezone.utc
DATA = Path(__file__).with_name("data") / "corpus" / "logs-schemas" / "activity-log"
URL = f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"


def _list(cs, filter_: str, select: str | None = None) -> tuple[list[dict], int]:
    """All events for ``filter_`` (following nextLink) and the number of pages."""
    url = f"{URL}?api-version=2015-04-01&$filter={quote(filter_)}" + (f"&$select={quote(select)}" if select else "")
    events, pages = [], 0
    while url:
        response = cs._client.send_request(HttpRequest("GET", url))
        assert response.status_code == 200, response.text()
        body = response.json()
        events += body["value"]
        pages += 1
        url = body.get("nextLink")
    return events, pages


def _since(start: datetime, end: datetime | None = None, extra: str = "") -> str:
    text = f"eventTimestamp ge '{format_utc(start)}'"
    if end is not None:
        text += f" and eventTimestamp le '{format_utc(end)}'"
    return text + (f" and {extra}" if extra else "")


def test_events_for_the_account_in_a_time_range_newest_first(tenant, cs):
    events, _ = _list(cs, _since(datetime(2026, 11, 29, 1, 0, tzinfo=UTC), datetime(2026, 11, 29, 3, 0, tzinfo=UTC), f"resourceUri eq '{ACCOUNT_ID}'"))
    summary = [(e["operationName"]["value"].split("/")[-2], e["status"]["value"], e["caller"]) for e in events]
    assert summary == [
        ("listKeys", "Succeeded", "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"),
        ("listKeys", "Started", "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"),
        ("regenerateKey", "Succeeded", "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"),
        ("regenerateKey", "Started", "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"),
        ("listKeys", "Succeeded", "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"),
        ("listKeys", "Started", "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"),
    ]
    assert {e["resourceId"] for e in events} == {ACCOUNT_ID}
    assert events[0]["httpRequest"] == {**events[0]["httpRequest"], "clientIpAddress": "203.0.113.77", "method": "POST"}
    # the deployment write of 02:35 is on the deployment, not the account
    deployment, _ = _list(cs, _since(datetime(2026, 11, 29, 2, 30, tzinfo=UTC), extra=f"resourceUri eq '{ACCOUNT_ID}/deployments/gpt-4o'"))
    assert [e["status"]["value"] for e in deployment] == ["Succeeded", "Started"]
    assert deployment[0]["caller"] == "alice@contoso.com" and deployment[0]["resourceType"]["value"] == "Microsoft.CognitiveServices/accounts/deployments"


def test_events_have_the_documented_rest_shape(tenant, cs):
    sample = json.loads((DATA / "rest-api-administrative-event.json").read_text())
    [event] = _list(cs, _since(datetime(2026, 11, 29, 0, 12, tzinfo=UTC), datetime(2026, 11, 29, 0, 12, 59, tzinfo=UTC)))[0]
    missing = set(sample) - set(event)
    assert not missing
    for key, value in sample.items():
        assert type(event[key]) is type(value), key
        if isinstance(value, dict) and {"value", "localizedValue"} <= set(value):
            assert set(event[key]) == {"value", "localizedValue"}, key
    assert set(event["authorization"]) >= {"action", "scope"}
    assert event["operationName"]["value"] == "Microsoft.CognitiveServices/accounts/write"
    assert event["eventName"]["value"] == "BeginRequest" and event["status"]["value"] == "Started"
    assert json.loads(event["properties"]["requestbody"])["properties"]["publicNetworkAccess"] == "Enabled"
    assert event["claims"]["name"] == "bob@contoso.com" and event["claims"]["ipaddr"] == "198.51.100.45"
    assert event["eventTimestamp"] == "2026-11-29T00:12:31.2040000Z"  # 7 fractional digits as the API writes
    assert event["id"].startswith(event["resourceId"] + "/events/" + event["eventDataId"] + "/ticks/")


def test_a_write_through_the_sandbox_is_listed_after_its_submission_delay(tenant, cs):
    start = tenant.clock.now()
    cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    query = _since(start, extra=f"resourceUri eq '{ACCOUNT_ID}'")
    assert _list(cs, query)[0] == []  # eventTimestamp + 20 s not reached yet
    tenant.clock.advance(tenant.latency["activity.submission"])
    events, _ = _list(cs, query)
    assert [e["status"]["value"] for e in events] == ["Succeeded", "Started"]
    begin = events[1]
    assert begin["caller"] == tenant.credential.principal_id
    assert begin["httpRequest"]["clientIpAddress"] == "192.0.2.10" and begin["httpRequest"]["method"] == "POST"
    assert json.loads(begin["properties"]["requestbody"]) == {"keyName": "Key1"}
    assert events[0]["correlationId"] == begin["correlationId"]
    assert not any(v in json.dumps(events) for v in tenant.issued_key_values())  # no key value in the log


def test_both_views_agree_on_the_seeded_events(tenant, cs, logs):
    from .conftest import WORKSPACE_ID

    rows = logs.query_workspace(WORKSPACE_ID, "AzureActivity | project CorrelationId, ActivityStatusValue", timespan=None).tables[0].rows
    events, _ = _list(cs, _since(datetime(2026, 11, 28, tzinfo=UTC)))
    assert len(events) == len(rows) == 10
    assert sorted(r[0] for r in rows) == sorted(e["correlationId"] for e in events)


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("resourceGroupName eq 'RG-AI-DEV'", 2),
        ("resourceProvider eq 'Microsoft.CognitiveServices'", 10),
        ("resourceProvider eq 'Microsoft.Network'", 0),
    ],
)
def test_selectors(cs, extra, expected):
    assert len(_list(cs, _since(datetime(2026, 11, 28, tzinfo=UTC), extra=extra))[0]) == expected


def test_correlation_id_selector_and_select(cs):
    events, _ = _list(cs, _since(datetime(2026, 11, 28, tzinfo=UTC)))
    corr = events[-1]["correlationId"]
    picked, _ = _list(cs, _since(datetime(2026, 11, 28, tzinfo=UTC), extra=f"correlationId eq '{corr}'"), select="eventTimestamp,status,caller")
    assert len(picked) == 2 and all(set(e) == {"eventTimestamp", "status", "caller"} for e in picked)


def test_pages_follow_next_link(cs, monkeypatch):
    from firestop.sandbox.activitylog import routes as activitylog

    monkeypatch.setattr(activitylog, "PAGE_SIZE", 3)
    events, pages = _list(cs, _since(datetime(2026, 11, 28, tzinfo=UTC)), select="eventDataId")
    assert pages == 4 and len(events) == len({e["eventDataId"] for e in events}) == 10


@pytest.mark.parametrize(
    "filter_",
    [
        None,
        "resourceUri eq '/subscriptions/x'",  # no start time
        "eventTimestamp ge '2026-11-29T00:00:00Z' and caller eq 'bob@contoso.com'",  # not an allowed pattern
        "eventTimestamp ge '2026-11-29T00:00:00Z' and resourceGroupName eq 'a' and resourceUri eq 'b'",
        "eventTimestamp ge '2026-11-29T03:00:00Z' and eventTimestamp le '2026-11-29T02:00:00Z'",
        "eventTimestamp ge '2026-08-01T00:00:00Z'",  # beyond the 90-day retention
        "eventTimestamp ge 'yesterday'",
    ],
)
def test_unsupported_filters_are_400(cs, filter_):
    url = URL + "?api-version=2015-04-01" + (f"&$filter={quote(filter_)}" if filter_ else "")
    response = cs._client.send_request(HttpRequest("GET", url))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"


def test_role_assignment_delete_is_in_the_activity_log(tenant, cs):
    from azure.mgmt.authorization import AuthorizationManagementClient

    auth = AuthorizationManagementClient(tenant.credential, SUB, transport=tenant.transport)
    [victim] = [a for a in auth.role_assignments.list_for_scope(ACCOUNT_ID) if a.principal_id == "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"
                and a.role_definition_id.endswith("5e0bd9bd-7b93-4f28-af87-19fc36ad61bd")]
    start = tenant.clock.now()
    auth.role_assignments.delete(ACCOUNT_ID, victim.name)
    tenant.clock.advance(timedelta(minutes=1).total_seconds())
    events, _ = _list(cs, _since(start, extra="resourceProvider eq 'Microsoft.Authorization'"))
    assert {e["operationName"]["value"] for e in events} == {"Microsoft.Authorization/roleAssignments/delete"}
    assert events[0]["resourceId"].lower() == victim.id.lower() and events[0]["httpRequest"]["method"] == "DELETE"
