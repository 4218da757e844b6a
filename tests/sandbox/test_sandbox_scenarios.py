"""The default tenant's workspace holds rows for every shipped scenario, as the README documents them.

Queries go through the real LogsQueryClient; the expected values are the ones
firestop/sandbox/README.md ("Scenario logs") gives playbook authors.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from firestop.sandbox.logs import scenarios as S

from .conftest import ACCOUNT_ID, SUB, WORKSPACE_ID

UTC = timezone.utc
DEV_ID = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
REQUESTS = 'AzureDiagnostics | where ResourceProvider == "MICROSOFT.COGNITIVESERVICES" and Category == "RequestResponse"'


def _rows(logs, query, timespan=None):
    return [list(r) for r in logs.query_workspace(WORKSPACE_ID, query, timespan=timespan).tables[0].rows]


def _window(start, end):
    return (datetime(2026, 11, 29, *start, tzinfo=UTC), datetime(2026, 11, 29, *end, tzinfo=UTC))


def test_public_network_exposure_is_a_write_enabling_public_access(logs):
    rows = _rows(
        logs,
        'AzureActivity | where OperationNameValue == "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/WRITE" and Properties has "publicNetworkAccess"'
        " | project TimeGenerated, Caller, CallerIpAddress, _ResourceId, ActivityStatusValue, Properties",
        _window((0, 0), (1, 0)),
    )
    [[at, caller, ip, resource_id, status, props]] = rows
    assert (caller, ip, status) == ("bob@contoso.com", "198.51.100.45", "Start")
    assert at == datetime(2026, 11, 29, 0, 12, 31, 204000, tzinfo=UTC)
    assert resource_id == DEV_ID.lower()
    body = json.loads(json.loads(props)["requestbody"])
    assert body["properties"]["publicNetworkAccess"] == "Enabled"
    assert body["properties"]["networkAcls"]["defaultAction"] == "Allow"
    success = _rows(logs, 'AzureActivity | where Caller == "bob@contoso.com" and ActivityStatusValue == "Success" | project TimeGenerated')
    assert success == [[datetime(2026, 11, 29, 0, 13, 2, 511000, tzinfo=UTC)]]


def test_anomalous_usage_is_401_and_429_spikes_from_three_unfamiliar_ips(logs):
    rows = _rows(
        logs,
        REQUESTS + " | where toint(ResultSignature) in (401, 403, 429) and _ResourceId == tolower(\"" + ACCOUNT_ID + "\")"
        " | summarize count() by CallerIPAddress, ResultSignature",
        _window((1, 20), (1, 35)),
    )
    assert sorted(map(tuple, rows)) == [
        ("192.0.2.200", "401", 40), ("192.0.2.200", "429", 50), ("203.0.113.140", "401", 150), ("203.0.113.141", "429", 173)
    ]
    ok = _rows(logs, REQUESTS + ' | where CallerIPAddress == "203.0.113.141" and ResultSignature == "200" | count', _window((1, 20), (1, 35)))
    assert ok == [[52]]
    keyauth = _rows(logs, REQUESTS + ' | where CallerIPAddress in ("203.0.113.140", "203.0.113.141", "192.0.2.200") and properties_s has "\\"objectId\\":\\"\\"" | count')
    assert keyauth == [[465]]  # all key-authenticated
    # nothing of it inside the leaked-key incident's hour
    assert _rows(logs, REQUESTS + ' | where CallerIPAddress in ("203.0.113.140", "203.0.113.141", "192.0.2.200") | count', _window((2, 30), (3, 15))) == [[0]]


def test_suspicious_key_access_by_an_unexpected_principal(logs):
    activity = _rows(
        logs,
        'AzureActivity | where Caller == "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d" | project TimeGenerated, OperationNameValue, ActivityStatusValue, CallerIpAddress, Properties | order by TimeGenerated asc',
    )
    assert [(r[1].rsplit("/", 2)[-2], r[2], r[3]) for r in activity] == [
        ("LISTKEYS", "Start", "192.0.2.201"), ("LISTKEYS", "Success", "192.0.2.201"),
        ("REGENERATEKEY", "Start", "192.0.2.201"), ("REGENERATEKEY", "Success", "192.0.2.201"),
    ]
    assert activity[0][0] == datetime(2026, 11, 29, 1, 47, 12, 330000, tzinfo=UTC)
    assert json.loads(json.loads(activity[2][4])["requestbody"]) == {"keyName": "Key2"}
    audit = _rows(
        logs,
        'AzureDiagnostics | where Category == "Audit" and OperationName == "ListKey" | project TimeGenerated, CallerIPAddress, properties_s | order by TimeGenerated asc',
    )
    assert [(r[0].strftime("%H:%M:%S"), r[1], json.loads(r[2])["objectId"]) for r in audit] == [
        ("01:47:12", "192.0.2.201", "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"),
        ("02:58:07", "203.0.113.77", "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"),  # the leaked-key incident's own
    ]


def test_content_abuse_is_400s_from_one_ip(logs):
    rows = _rows(
        logs,
        REQUESTS + ' | where ResultSignature == "400" and OperationName contains "Completions" | summarize count(), min(TimeGenerated), max(TimeGenerated) by CallerIPAddress',
    )
    [[ip, count, first, last]] = rows
    assert (ip, count) == ("203.0.113.200", 94)
    assert datetime(2026, 11, 29, 2, 5, tzinfo=UTC) <= first < last < datetime(2026, 11, 29, 2, 20, tzinfo=UTC)
    assert _rows(logs, REQUESTS + ' | where CallerIPAddress == "203.0.113.200" and ResultSignature == "200" | count') == [[19]]
    # KQL `has` matches whole terms: "Completions" is not a term of "ChatCompletions_Create"
    assert _rows(logs, REQUESTS + ' | where OperationName has "Completions" | count') == [[0]]


def test_scenario_constants_match_the_rows():
    assert S.EXPOSURE_IP == "198.51.100.45" and S.KEY_ACCESS_IP == "192.0.2.201" and S.ABUSE_IP == "203.0.113.200"
    assert set(S.ANOMALY_SOURCES) == {"203.0.113.140", "203.0.113.141", "192.0.2.200"}


def test_scenarios_are_opt_in_per_seed_and_unknown_names_are_rejected(tmp_path):
    import yaml

    from firestop.sandbox import Tenant
    from firestop.sandbox.seed import DEFAULT_SEED_FILE

    spec = yaml.safe_load(DEFAULT_SEED_FILE.read_text())
    spec["workspaces"][0]["tables"].pop("scenarios")
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(spec))
    doc = Tenant.load(plain).save(tmp_path / "state") or json.loads((tmp_path / "state" / "tenant.json").read_text())
    tables = next(iter(doc["workspaces"].values()))["tables"]
    assert len(tables["AzureDiagnostics"]["rows"]) == 231 and len(tables["AzureActivity"]["rows"]) == 4

    spec["workspaces"][0]["tables"]["scenarios"] = [{"name": "ddos", "account": "contoso-openai-prod"}]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="unknown scenario 'ddos'"):
        Tenant.load(bad)
