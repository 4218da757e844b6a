"""Bearer checks and the 501 catch-all, through real azure-core pipelines."""

from __future__ import annotations

import pytest
from azure.core import PipelineClient
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from firestop.sandbox import SandboxCredential

from .conftest import ACCOUNT, ACCOUNT_ID, RG, SUB


def test_arm_without_a_bearer_token_is_401(tenant):
    client = PipelineClient(base_url="https://management.azure.com", transport=tenant.transport)
    response = client.send_request(HttpRequest("GET", f"https://management.azure.com{ACCOUNT_ID}?api-version=2024-10-01"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"
    assert tenant.requests[-1].operation == "accounts.get"


def test_arm_token_for_the_wrong_audience_is_refused(tenant):
    client = CognitiveServicesManagementClient(
        tenant.credential, SUB, transport=tenant.transport, credential_scopes=["https://vault.azure.net/.default"]
    )
    with pytest.raises(ClientAuthenticationError) as err:
        client.accounts.get(RG, ACCOUNT)
    assert err.value.error.code == "InvalidAuthenticationTokenAudience"


def test_arm_token_from_another_tenant_is_refused(tenant):
    foreign = SandboxCredential("00000000-0000-0000-0000-000000000001")
    client = CognitiveServicesManagementClient(foreign, SUB, transport=tenant.transport)
    with pytest.raises(ClientAuthenticationError):
        client.accounts.get(RG, ACCOUNT)


def test_credential_implements_both_token_protocols(tenant):
    from azure.core.credentials import SupportsTokenInfo, TokenCredential

    assert isinstance(tenant.credential, TokenCredential)
    assert isinstance(tenant.credential, SupportsTokenInfo)
    token = tenant.credential.get_token("https://management.azure.com/.default")
    info = tenant.credential.get_token_info("https://management.azure.com/.default")
    assert token.token == info.token and info.token_type == "Bearer"
    with pytest.raises(ValueError):
        tenant.credential.get_token()


@pytest.mark.sandbox_unrouted
def test_unknown_route_is_501_and_recorded(tenant, cs):
    url = f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/st1?api-version=2023-01-01"
    response = cs._client.send_request(HttpRequest("GET", url))
    assert response.status_code == 501
    assert "Microsoft.Storage/storageAccounts/st1" in response.json()["error"]["message"]
    [entry] = tenant.unrouted
    assert (entry.method, entry.host, entry.operation, entry.status) == ("GET", "management.azure.com", None, 501)
    assert entry.path.endswith("/storageAccounts/st1")
    assert entry.api_version == "2023-01-01"
    assert tenant.requests[-1] == entry


@pytest.mark.sandbox_unrouted
def test_unknown_method_on_a_known_path_is_501(tenant, cs):
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.begin_delete(RG, ACCOUNT).result()
    assert err.value.status_code == 501
    assert tenant.unrouted[0].method == "DELETE"
    assert tenant.resource(ACCOUNT_ID)["name"] == ACCOUNT


@pytest.mark.sandbox_unrouted
def test_unknown_host_is_501(tenant):
    client = PipelineClient(base_url="https://example.invalid", transport=tenant.transport)
    assert client.send_request(HttpRequest("GET", "https://storage.example.invalid/x")).status_code == 501
    assert tenant.unrouted[0].host == "storage.example.invalid"


@pytest.mark.sandbox_unrouted
def test_unknown_vault_is_501(tenant):
    from azure.keyvault.secrets import SecretClient

    client = SecretClient("https://kv-other.vault.azure.net", tenant.credential, transport=tenant.transport)
    with pytest.raises(HttpResponseError) as err:
        client.get_secret("x")
    assert err.value.status_code == 501
    assert tenant.unrouted[-1].host == "kv-other.vault.azure.net"
