"""ARM writes made through the sandbox show up in the workspace after an ingestion delay."""

from __future__ import annotations

from datetime import timedelta

from .conftest import ACCOUNT, RG, WORKSPACE_ID

REGEN = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/REGENERATEKEY/ACTION"


def _count(logs, query):
    return [list(r) for r in logs.query_workspace(WORKSPACE_ID, query, timespan=None).tables[0].rows][0][0]


def test_regenerate_key_reaches_azure_activity_after_ingestion_delay(tenant, cs, logs):
    cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    query = f'AzureActivity | where OperationNameValue == "{REGEN}" and Caller == "{tenant.credential.principal_id}" | count'
    assert _count(logs, query) == 0  # not ingested yet
    tenant.clock.advance(tenant.latency["activity.ingestion"])
    assert _count(logs, query) == 2  # Start + Success
    rows = logs.query_workspace(
        WORKSPACE_ID,
        f'AzureActivity | where OperationNameValue == "{REGEN}" | project Caller, CallerIpAddress, _ResourceId, ActivityStatusValue',
        timespan=timedelta(hours=1),
    ).tables[0].rows
    caller, ip, resource_id, _ = rows[0]
    assert caller == tenant.credential.principal_id and ip == "192.0.2.10"
    assert resource_id.endswith("/accounts/contoso-openai-prod") and resource_id == resource_id.lower()


def test_list_keys_also_writes_an_audit_row(tenant, cs, logs):
    before = _count(logs, 'AzureDiagnostics | where Category == "Audit" and OperationName == "ListKey" | count')
    cs.accounts.list_keys(RG, ACCOUNT)
    tenant.clock.advance(600)
    after = _count(logs, 'AzureDiagnostics | where Category == "Audit" and OperationName == "ListKey" | count')
    assert after == before + 1


def test_failed_calls_and_reads_write_nothing(tenant, cs, logs):
    tenant.inject_fault("accounts.regenerateKey", 409)
    try:
        cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    except Exception:
        pass
    cs.accounts.get(RG, ACCOUNT)
    tenant.clock.advance(600)
    assert _count(logs, "AzureActivity | count") == 10  # only the seeded rows (leaked key 4, scenarios 6)
