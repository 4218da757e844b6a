"""Digital-twin seeds: a tenant loaded from `az resource show` JSON answers the real SDK clients like the exported subscription."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from azure.core.rest import HttpRequest
from azure.keyvault.secrets import SecretClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.monitor.query import LogsQueryClient

from firestop.sandbox import Tenant

TWIN = Path(__file__).with_name("data") / "twin-fabrikam.yaml"
SUB = "2f4e6a8c-0b1d-4e3f-9a5b-7c9d1e3f5a7b"
RG = "rg-fabrikam-ai"
ACCOUNT = "fabrikam-aoai"
ACCOUNT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts/{ACCOUNT}"
UTC = timezone.utc


@pytest.fixture
def twin():
    return Tenant.load(TWIN)


@pytest.fixture
def cs(twin):
    return CognitiveServicesManagementClient(twin.credential, SUB, transport=twin.transport)


def test_identity_and_clock_come_from_the_file(twin):
    assert twin.subscription_id == SUB and twin.tenant_id == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    assert twin.clock.now() == datetime(2026, 11, 20, 8, 31, tzinfo=UTC)  # latest systemData time + 60 s
    assert twin.latency["accounts.regenerateKey"] == 4.0 and twin.latency["accounts.get"] == 0.2


def test_account_is_served_as_exported(twin, cs):
    account = cs.accounts.get(RG, ACCOUNT)
    exported = yaml.safe_load(TWIN.read_text())["resources"][0]
    assert account.etag == exported["etag"]
    assert account.properties.public_network_access == "Disabled" and account.properties.disable_local_auth is True
    assert [r.value for r in account.properties.network_acls.ip_rules] == ["20.50.2.0/24"]
    assert account.tags == {"owner": "ml-platform", "costCenter": "4711"}
    raw = twin.resource(ACCOUNT_ID)
    assert "resourceGroup" not in raw and "identity" not in raw and "managedBy" not in raw  # CLI additions dropped
    assert raw["properties"] == exported["properties"]
    assert [d.name for d in cs.deployments.list(RG, ACCOUNT)] == ["chat"]


def test_keys_secrets_and_private_endpoints(twin, cs):
    assert cs.accounts.list_keys(RG, ACCOUNT).key1 == "0123456789abcdef0123456789abcdef"
    secrets = SecretClient("https://kv-fabrikam.vault.azure.net", twin.credential, transport=twin.transport)
    assert secrets.get_secret("aoai-key").value == "0123456789abcdef0123456789abcdef"
    assert secrets.get_secret("webhook-token").value == "not-a-real-token"
    [conn] = cs.private_endpoint_connections.list(RG, ACCOUNT).value
    got = cs.private_endpoint_connections.get(RG, ACCOUNT, conn.name)
    assert got.properties.private_link_service_connection_state.status == "Approved"
    assert got.properties.private_endpoint.id.endswith("/privateEndpoints/pe-aoai")


def test_writes_behave_as_on_any_tenant(twin, cs):
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

    start = twin.clock.now()
    new = cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key2")
    assert new.key2 != "fedcba9876543210fedcba9876543210" and new.key1 == "0123456789abcdef0123456789abcdef"
    assert twin.clock.now() - start == timedelta(seconds=4.0)  # the twin's latency override
    result = cs.accounts.begin_update(RG, ACCOUNT, Account(properties=AccountProperties(network_acls=NetworkRuleSet(ip_rules=[])))).result()
    assert result.properties.network_acls.ip_rules == [] and result.properties.network_acls.default_action == "Deny"


def test_nsg_role_assignments_logs_and_activity_log(twin, cs):
    net = NetworkManagementClient(twin.credential, SUB, transport=twin.transport)
    [rule] = net.security_rules.list("rg-fabrikam-net", "nsg-fabrikam-apps")
    assert (rule.name, rule.priority, rule.source_address_prefix) == ("allow-https", 300, "20.50.2.0/24")

    auth = AuthorizationManagementClient(twin.credential, SUB, transport=twin.transport)
    [assignment] = list(auth.role_assignments.list_for_scope(ACCOUNT_ID))
    assert assignment.principal_id == "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b" and assignment.description == "chat frontend"

    logs = LogsQueryClient(twin.credential, transport=twin.transport)
    table = logs.query_workspace("6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d", "AzureDiagnostics | order by TimeGenerated asc", timespan=None).tables[0]
    assert table.columns[:2] == ["TimeGenerated", "Category"] and "TableName" not in table.columns
    assert dict(zip(table.columns, table.columns_types))["DurationMs"] == "long"
    assert [r["ResultSignature"] for r in table.rows] == ["200", "429"]
    assert table.rows[0]["TimeGenerated"] == datetime(2026, 11, 20, 8, 0, 1, 500000, tzinfo=UTC)

    url = (f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"
           f"?api-version=2015-04-01&$filter={quote(f'eventTimestamp ge {chr(39)}2026-11-19T00:00:00Z{chr(39)}')}")
    [event] = cs._client.send_request(HttpRequest("GET", url)).json()["value"]
    assert event["caller"] == "carol@fabrikam.com" and event["eventTimestamp"] == "2026-11-20T08:30:00.1234567Z"


def test_a_plain_json_list_of_resources_is_a_twin(tmp_path):
    resources = yaml.safe_load(TWIN.read_text())["resources"][:1]
    path = tmp_path / "twin.json"
    path.write_text(json.dumps(resources))
    tenant = Tenant.load(path)
    cs = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport)
    assert cs.accounts.get(RG, ACCOUNT).properties.public_network_access == "Disabled"
    keys = cs.accounts.list_keys(RG, ACCOUNT)
    assert len(keys.key1) == 32 and keys.key1 != keys.key2  # generated from the seed


def test_twin_persists_and_resets_to_itself(tmp_path):
    tenant = Tenant.open(tmp_path / "state", seed=TWIN)
    cs = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport)
    cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    assert Tenant.open(tmp_path / "state").account_keys(ACCOUNT_ID)["key1"] != "0123456789abcdef0123456789abcdef"
    fresh = Tenant.reset(tmp_path / "state")
    assert fresh.account_keys(ACCOUNT_ID)["key1"] == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "resources, message",
    [
        ([], "non-empty"),
        ([{"id": "/subscriptions/a/resourceGroups/r/providers/X/y/z", "type": "X/y", "name": "z"},
          {"id": "/subscriptions/b/resourceGroups/r/providers/X/y/z", "type": "X/y", "name": "z"}], "one subscription"),
        ([{"type": "X/y", "name": "z"}], "'id'"),
        ([{"id": "/subscriptions/a/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w",
           "type": "Microsoft.OperationalInsights/workspaces", "name": "w", "properties": {}}], "customerId"),
    ],
)
def test_invalid_twins_are_rejected(tmp_path, resources, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"resources": resources}))
    with pytest.raises(ValueError, match=message):
        Tenant.load(path)
