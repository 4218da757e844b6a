"""ARM Microsoft.CognitiveServices/accounts through the real CognitiveServicesManagementClient."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, IpRule, NetworkRuleSet

from .conftest import ACCOUNT, ACCOUNT_ID, RG, SUB


def _deny_patch(*ips: str) -> Account:
    return Account(
        properties=AccountProperties(
            network_acls=NetworkRuleSet(default_action="Deny", ip_rules=[IpRule(value=ip) for ip in ips])
        )
    )


def test_get_returns_the_seeded_prod_account(tenant, cs):
    account = cs.accounts.get(RG, ACCOUNT)

    assert account.id == ACCOUNT_ID
    assert (account.kind, account.sku.name, account.location) == ("OpenAI", "S0", "swedencentral")
    assert account.properties.endpoint == "https://contoso-openai-prod.openai.azure.com/"
    assert account.properties.public_network_access == "Enabled"
    assert account.properties.disable_local_auth is False
    assert account.properties.network_acls.default_action == "Allow"
    assert [r.value for r in account.properties.network_acls.ip_rules] == ["198.51.100.0/24"]
    assert account.properties.provisioning_state == "Succeeded"
    assert account.tags == {"environment": "production"}
    assert account.etag and account.etag.startswith('"')
    [entry] = tenant.requests
    assert (entry.method, entry.operation, entry.status, entry.host) == ("GET", "accounts.get", 200, "management.azure.com")
    assert entry.api_version == "2025-09-01"  # what azure-mgmt-cognitiveservices 14.1.0 sends


def test_get_is_case_insensitive_on_the_path(cs):
    assert cs.accounts.get("RG-AI-PROD", "Contoso-OpenAI-Prod").name == ACCOUNT


def test_get_advances_the_clock_by_the_latency_model(tenant, cs):
    start = tenant.clock.now()
    cs.accounts.get(RG, ACCOUNT)
    assert tenant.clock.now() - start == timedelta(seconds=0.2)


def test_unknown_account_is_arm_404(tenant, cs):
    with pytest.raises(ResourceNotFoundError) as err:
        cs.accounts.get(RG, "nope")
    assert err.value.error.code == "ResourceNotFound"
    assert tenant.requests[-1].status == 404


def test_unknown_resource_group_is_resource_group_not_found(cs):
    with pytest.raises(ResourceNotFoundError) as err:
        cs.accounts.get("rg-missing", ACCOUNT)
    assert err.value.error.code == "ResourceGroupNotFound"


def test_second_account_lives_in_rg_ai_dev(cs):
    dev = cs.accounts.get("rg-ai-dev", "contoso-openai-dev")
    assert dev.tags == {"environment": "development"}
    names = sorted(a.name for a in cs.accounts.list())
    assert names == ["contoso-openai-dev", "contoso-openai-prod"]
    assert [a.name for a in cs.accounts.list_by_resource_group(RG)] == [ACCOUNT]


def test_deployments_list(cs):
    deployments = {d.name: d for d in cs.deployments.list(RG, ACCOUNT)}
    assert set(deployments) == {"gpt-4o", "text-embedding-3-large"}
    assert deployments["gpt-4o"].properties.model.name == "gpt-4o"
    assert cs.deployments.get(RG, ACCOUNT, "gpt-4o").sku.capacity == 150


def test_update_is_an_lro_that_costs_virtual_not_wall_time(tenant, cs, wall):
    start = tenant.clock.now()
    with wall() as w:
        result = cs.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.10")).result()

    elapsed = (tenant.clock.now() - start).total_seconds()
    # done after 20 s; no Retry-After (as recorded), so the SDK polls at azure-mgmt's default 30 s
    assert 30.0 <= elapsed <= 31.5, elapsed
    assert w.elapsed < 2.0
    assert result.properties.provisioning_state == "Succeeded"
    assert result.properties.network_acls.default_action == "Deny"
    assert [r.value for r in result.properties.network_acls.ip_rules] == ["198.51.100.10"]
    ops = [(e.operation, e.status) for e in tenant.requests]
    assert ops[0] == ("accounts.update", 202)
    polls = [e for e in tenant.requests if e.operation == "operations.get"]
    assert len(polls) >= 2 and all(p.api_version == "2017-04-18" for p in polls)
    assert ops[-1] == ("accounts.get", 200)  # ARMPolling's final GET of the PATCHed resource


def test_update_202_carries_the_arm_async_headers(tenant, cs):
    seen = []
    poller = cs.accounts.begin_update(
        RG, ACCOUNT, _deny_patch("198.51.100.10"), polling=False,
        raw_response_hook=lambda resp: seen.append(resp.http_response),
    )
    poller.result()
    initial = seen[0]
    assert initial.status_code == 202
    status_url = initial.headers["Azure-AsyncOperation"]
    assert status_url.startswith(
        f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/locations/swedencentral/operationResults/"
    )
    assert status_url.endswith("?api-version=2017-04-18")
    assert initial.headers["Location"] == status_url + "&operationResultResponseType=Location"
    assert "Retry-After" not in initial.headers  # recorded azure-cli PATCH: no Retry-After (corpus arm/NOTES.md)
    assert initial.json()["properties"]["provisioningState"] == "Accepted"


def test_client_polling_interval_paces_the_lro(tenant):
    fast = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport, polling_interval=2)
    start = tenant.clock.now()
    fast.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.10")).result()
    elapsed = (tenant.clock.now() - start).total_seconds()
    assert 20.0 <= elapsed <= 23.0, elapsed  # Firestop's factory polls every 2 s: done soon after the 20 s operation
    assert len([e for e in tenant.requests if e.operation == "operations.get"]) >= 9


def test_change_becomes_visible_only_when_the_operation_completes(tenant, cs):
    before = tenant.resource(ACCOUNT_ID)
    cs.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.10"), polling=False).result()

    during = tenant.resource(ACCOUNT_ID)
    assert during["properties"]["provisioningState"] == "Accepted"
    assert during["properties"]["networkAcls"] == before["properties"]["networkAcls"]
    assert cs.accounts.get(RG, ACCOUNT).properties.network_acls.default_action == "Allow"

    tenant.clock.advance(20)
    after = tenant.resource(ACCOUNT_ID)
    assert after["properties"]["provisioningState"] == "Succeeded"
    assert after["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert after["etag"] not in (before["etag"], during["etag"])


def test_patch_replaces_arrays_whole_and_merges_objects(tenant, cs):
    patch = Account(properties=AccountProperties(network_acls=NetworkRuleSet(ip_rules=[IpRule(value="192.0.2.0/24")])))
    cs.accounts.begin_update(RG, ACCOUNT, patch).result()

    acls = tenant.resource(ACCOUNT_ID)["properties"]["networkAcls"]
    assert acls["ipRules"] == [{"value": "192.0.2.0/24"}]  # 198.51.100.0/24 is gone: arrays replace
    assert acls["defaultAction"] == "Allow"  # untouched members of the object survive
    assert acls["virtualNetworkRules"] == []
    props = tenant.resource(ACCOUNT_ID)["properties"]
    assert props["publicNetworkAccess"] == "Enabled" and props["disableLocalAuth"] is False


def test_tags_only_patch_is_synchronous_and_replaces_tags(tenant, cs):
    start = tenant.clock.now()
    seen = []
    result = cs.accounts.begin_update(
        RG, ACCOUNT, Account(tags={"incident": "INC-1"}), raw_response_hook=lambda r: seen.append(r.http_response.status_code)
    ).result()
    assert seen == [200]
    assert result.tags == {"incident": "INC-1"}
    assert tenant.resource(ACCOUNT_ID)["tags"] == {"incident": "INC-1"}
    assert (tenant.clock.now() - start).total_seconds() < 1


def test_second_patch_while_the_first_is_in_flight_is_409(tenant, cs):
    cs.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.10"), polling=False).result()
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.11")).result()
    assert err.value.status_code == 409
    assert err.value.error.code == "AnotherOperationInProgress"

    tenant.clock.advance(20)
    cs.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.11")).result()
    assert tenant.resource(ACCOUNT_ID)["properties"]["networkAcls"]["ipRules"] == [{"value": "198.51.100.11"}]


def test_unknown_property_is_rejected_like_arm(tenant, cs):
    raw = io.BytesIO(json.dumps({"properties": {"networkAcls": {"defaultAction": "Deny"}, "turboMode": True}}).encode())
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.begin_update(RG, ACCOUNT, raw, content_type="application/json").result()
    assert err.value.status_code == 400
    assert err.value.error.code == "InvalidRequestContent"
    assert "turboMode" in err.value.error.message
    assert tenant.resource(ACCOUNT_ID)["properties"]["networkAcls"]["defaultAction"] == "Allow"


def test_bad_enum_and_bad_ip_are_rejected(cs):
    for body in (
        {"properties": {"publicNetworkAccess": "Sometimes"}},
        {"properties": {"networkAcls": {"ipRules": [{"value": "not-an-ip"}]}}},
    ):
        with pytest.raises(HttpResponseError) as err:
            cs.accounts.begin_update(RG, ACCOUNT, io.BytesIO(json.dumps(body).encode()), content_type="application/json").result()
        assert err.value.status_code == 400


def test_read_only_members_echoed_from_a_get_are_ignored(tenant, cs):
    body = tenant.resource(ACCOUNT_ID)
    body["properties"]["publicNetworkAccess"] = "Disabled"
    body["properties"]["endpoint"] = "https://evil.example/"
    cs.accounts.begin_update(RG, ACCOUNT, io.BytesIO(json.dumps(body).encode()), content_type="application/json").result()
    props = tenant.resource(ACCOUNT_ID)["properties"]
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["endpoint"] == "https://contoso-openai-prod.openai.azure.com/"


def test_if_match_with_a_stale_etag_is_412(tenant, cs):
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.10"), headers={"If-Match": '"stale"'}).result()
    assert err.value.status_code == 412
    current = tenant.resource(ACCOUNT_ID)["etag"]
    cs.accounts.begin_update(RG, ACCOUNT, _deny_patch("198.51.100.10"), headers={"If-Match": current}).result()
    assert tenant.resource(ACCOUNT_ID)["properties"]["networkAcls"]["defaultAction"] == "Deny"


def test_list_keys_returns_the_current_keys(tenant, cs):
    keys = cs.accounts.list_keys(RG, ACCOUNT)
    assert {"key1": keys.key1, "key2": keys.key2} == tenant.account_keys(ACCOUNT_ID)
    for value in (keys.key1, keys.key2):
        assert len(value) == 32 and all(c in "0123456789abcdef" for c in value)
    assert keys.key1 != keys.key2


def test_regenerate_key1_replaces_only_key1(tenant, cs):
    old = tenant.account_keys(ACCOUNT_ID)
    start = tenant.clock.now()
    new = cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")

    assert new.key1 != old["key1"] and new.key2 == old["key2"]
    assert tenant.account_keys(ACCOUNT_ID) == {"key1": new.key1, "key2": old["key2"]}
    assert old["key1"] not in tenant.account_keys(ACCOUNT_ID).values()
    assert {old["key1"], old["key2"], new.key1} <= tenant.issued_key_values()
    assert tenant.clock.now() - start == timedelta(seconds=1.5)


def test_regenerate_with_an_invalid_key_name_is_400(cs):
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key3")
    assert err.value.status_code == 400


def test_default_keys_are_deterministic_per_seed():
    from firestop.sandbox import Tenant

    assert Tenant.load().account_keys(ACCOUNT_ID) == Tenant.load().account_keys(ACCOUNT_ID)
