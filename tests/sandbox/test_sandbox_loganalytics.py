"""Log Analytics query API through the real LogsQueryClient (azure-monitor-query 2.0.0)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.monitor.query import LogsQueryStatus

from .conftest import WORKSPACE_ID

UTC = timezone.utc
INCIDENT_WINDOW = (datetime(2026, 11, 29, 2, 30, tzinfo=UTC), datetime(2026, 11, 29, 3, 15, tzinfo=UTC))


def _rows(result):
    assert result.status == LogsQueryStatus.SUCCESS
    return [list(r) for r in result.tables[0].rows]


def test_burst_from_the_unfamiliar_ip_by_status(tenant, logs, wall):
    query = (
        'AzureDiagnostics | where ResourceProvider == "MICROSOFT.COGNITIVESERVICES" and Category == "RequestResponse"'
        ' | where CallerIPAddress == "203.0.113.77" | summarize count() by ResultSignature | order by count_ desc'
    )
    start = tenant.clock.now()
    with wall() as w:
        result = logs.query_workspace(WORKSPACE_ID, query, timespan=timedelta(hours=1))
    rows = _rows(result)
    table = result.tables[0]
    assert table.columns == ["ResultSignature", "count_"]
    assert table.columns_types == ["string", "long"]
    counts = dict(rows)
    assert set(counts) == {"200", "401", "429"}
    assert counts["200"] > counts["401"] > 0 and counts["429"] > 0
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)
    assert (tenant.clock.now() - start) == timedelta(seconds=3)  # logs.query latency
    assert w.elapsed < 2.0
    [entry] = tenant.requests
    assert (entry.host, entry.path, entry.operation, entry.status) == (
        "api.loganalytics.io", f"/v1/workspaces/{WORKSPACE_ID}/query", "logs.query", 200)


def test_burst_starts_at_three_and_is_key_authenticated(logs):
    result = logs.query_workspace(
        WORKSPACE_ID,
        'AzureDiagnostics | where CallerIPAddress == "203.0.113.77" and Category == "RequestResponse" '
        '| where properties_s has "objectId" | project TimeGenerated, properties_s | order by TimeGenerated asc | take 1',
        timespan=INCIDENT_WINDOW,
    )
    [[first_at, props]] = _rows(result)
    assert first_at >= datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert first_at < datetime(2026, 11, 29, 3, 0, 10, tzinfo=UTC)
    assert '"objectId":""' in props


def test_known_ip_traffic_is_steady_across_the_window(logs):
    result = logs.query_workspace(
        WORKSPACE_ID,
        'AzureDiagnostics | where CallerIPAddress == "198.51.100.10" | summarize count(), min(TimeGenerated), max(TimeGenerated)',
        timespan=INCIDENT_WINDOW,
    )
    [[count, first, last]] = _rows(result)
    assert 80 <= count <= 100
    assert first < datetime(2026, 11, 29, 2, 31, tzinfo=UTC) and last > datetime(2026, 11, 29, 3, 13, tzinfo=UTC)


def test_audit_listkey_row_and_activity_log(logs):
    audit = _rows(
        logs.query_workspace(
            WORKSPACE_ID,
            'AzureDiagnostics | where Category == "Audit" and OperationName == "ListKey" | project TimeGenerated, CallerIPAddress, ResourceId',
            timespan=INCIDENT_WINDOW,
        )
    )
    [[at, ip, resource_id]] = audit
    assert (at.hour, at.minute) == (2, 58) and ip == "203.0.113.77"
    assert resource_id == resource_id.upper() and resource_id.endswith("/ACCOUNTS/CONTOSO-OPENAI-PROD")

    activity = _rows(
        logs.query_workspace(
            WORKSPACE_ID,
            'AzureActivity | where OperationNameValue in~ ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION") '
            '| project TimeGenerated, Caller, CallerIpAddress, ActivityStatusValue | order by TimeGenerated asc',
            timespan=INCIDENT_WINDOW,
        )
    )
    assert [r[3] for r in activity] == ["Start", "Success"]
    assert {r[2] for r in activity} == {"203.0.113.77"}


def test_timespan_filters_time_generated(tenant, logs):
    everything = _rows(logs.query_workspace(WORKSPACE_ID, "AzureDiagnostics | count", timespan=None))[0][0]
    # relative duration ends at the virtual "now" (03:14:40): the last 5 minutes only
    recent = _rows(logs.query_workspace(WORKSPACE_ID, "AzureDiagnostics | count", timespan=timedelta(minutes=5)))[0][0]
    nothing = _rows(
        logs.query_workspace(
            WORKSPACE_ID, "AzureDiagnostics | count",
            timespan=(datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)),
        )
    )[0][0]
    assert 700 <= everything <= 900  # leaked key (231) + the other scenarios' rows earlier that night
    assert 0 < recent < everything
    assert nothing == 0


def test_between_and_datetime_literals(logs):
    rows = _rows(
        logs.query_workspace(
            WORKSPACE_ID,
            "AzureDiagnostics | where TimeGenerated between (datetime(2026-11-29T02:58:00Z) .. datetime(2026-11-29 02:59:00)) "
            "| project OperationName, CallerIPAddress",
            timespan=None,
        )
    )
    assert ["ListKey", "203.0.113.77"] in rows
    assert all(ip == "198.51.100.10" for op, ip in rows if op != "ListKey")


def test_rejected_query_raises_http_response_error_with_bad_argument(tenant, logs):
    with pytest.raises(HttpResponseError) as err:
        logs.query_workspace(WORKSPACE_ID, "AzureDiagnostics | mv-expand properties_s", timespan=timedelta(hours=1))
    assert err.value.status_code == 400
    assert err.value.error.code == "BadArgumentError"
    assert err.value.error.innererror["code"] == "SyntaxError"
    assert tenant.requests[-1].status == 400


def test_unknown_column_is_a_semantic_error(logs):
    with pytest.raises(HttpResponseError) as err:
        logs.query_workspace(WORKSPACE_ID, 'AzureDiagnostics | where CallerIp == "1.2.3.4"', timespan=None)
    assert err.value.error.innererror["code"] == "SemanticError"
    assert "CallerIp" in err.value.error.innererror["message"]


def test_string_number_comparison_is_rejected_like_kql(logs):
    with pytest.raises(HttpResponseError) as err:
        logs.query_workspace(WORKSPACE_ID, "AzureDiagnostics | where ResultSignature == 401", timespan=None)
    assert "Cannot compare values of types string and long" in err.value.error.innererror["message"]
    ok = logs.query_workspace(WORKSPACE_ID, "AzureDiagnostics | where toint(ResultSignature) == 401 | count", timespan=None)
    assert _rows(ok)[0][0] > 0


def test_unknown_workspace_is_404(logs):
    # query_workspace re-raises every failure as a plain HttpResponseError (azure/monitor/query/_helpers.process_error)
    with pytest.raises(HttpResponseError) as err:
        logs.query_workspace("00000000-0000-0000-0000-000000000000", "AzureDiagnostics | take 1", timespan=None)
    assert not isinstance(err.value, ResourceNotFoundError)
    assert err.value.status_code == 404
    assert err.value.error.code == "WorkspaceNotFoundError"


def test_logs_token_audience_is_checked(tenant):
    from azure.monitor.query import LogsQueryClient

    client = LogsQueryClient(tenant.credential, transport=tenant.transport, audience="https://management.azure.com")
    with pytest.raises(HttpResponseError) as err:
        client.query_workspace(WORKSPACE_ID, "AzureDiagnostics | take 1", timespan=None)
    assert err.value.status_code == 403


def test_injected_429_on_query_is_retried(tenant, logs):
    tenant.inject_fault("logs.query", 429, retry_after=30)
    start = tenant.clock.now()
    rows = _rows(logs.query_workspace(WORKSPACE_ID, "AzureActivity | count", timespan=INCIDENT_WINDOW))
    assert rows == [[4]]
    assert [e.status for e in tenant.requests] == [429, 200]
    assert (tenant.clock.now() - start) == timedelta(seconds=3 + 30 + 3)


def test_query_batch_answers_each_request(tenant, logs):
    from azure.monitor.query import LogsBatchQuery, LogsQueryError

    results = logs.query_batch(
        [
            LogsBatchQuery(WORKSPACE_ID, "AzureActivity | count", timespan=INCIDENT_WINDOW),
            LogsBatchQuery(WORKSPACE_ID, "AzureActivity | mv-expand Caller", timespan=None),
        ]
    )
    assert [list(r) for r in results[0].tables[0].rows] == [[4]]
    assert isinstance(results[1], LogsQueryError) and results[1].code == "BadArgumentError"
    assert [(e.operation, e.status) for e in tenant.requests] == [("logs.batch", 200)]


def test_oversized_result_is_truncated_with_a_partial_error(tenant, logs, monkeypatch):
    from azure.monitor.query import LogsQueryPartialResult

    from firestop.sandbox.logs import routes as loganalytics

    monkeypatch.setattr(loganalytics, "RESULT_ROW_LIMIT", 5)
    result = logs.query_workspace(WORKSPACE_ID, "AzureDiagnostics | project TimeGenerated", timespan=None)
    assert isinstance(result, LogsQueryPartialResult) and result.status == LogsQueryStatus.PARTIAL
    assert len(result.partial_data[0].rows) == 5
    assert result.partial_error.code == "PartialError"
    assert len(_rows(logs.query_workspace(WORKSPACE_ID, "AzureDiagnostics | count", timespan=None))) == 1  # small results are complete


def test_workspace_on_arm_by_its_resource_id(tenant):
    """Workspaces_Get through azure-mgmt-resource's resources.get_by_id (as `infra --workspace` reads customerId):
    the seeded workspace answers with its customerId; an unknown name, and a Key Vault's name under the workspaces
    path, are ARM's 404 ResourceNotFound."""
    from azure.mgmt.resource import ResourceManagementClient

    arm = ResourceManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    base = f"/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces"
    body = arm.resources.get_by_id(f"{base}/law-contoso-sec", "2022-10-01")
    assert body.properties["customerId"] == WORKSPACE_ID
    for name in ("law-nope", "kv-contoso-ai"):
        with pytest.raises(ResourceNotFoundError) as err:
            arm.resources.get_by_id(f"{base}/{name}", "2022-10-01")
        assert err.value.error.code == "ResourceNotFound" and name in err.value.message
