"""Key Vault secrets through the real SecretClient (challenge auth, versions)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from .conftest import ACCOUNT_ID, VAULT_URL


def test_seeded_secret_holds_the_accounts_key1(tenant, secrets):
    secret = secrets.get_secret("openai-api-key")
    assert secret.value == tenant.account_keys(ACCOUNT_ID)["key1"]
    assert secret.id == f"{VAULT_URL}/secrets/openai-api-key/{secret.properties.version}"
    assert secret.properties.created_on == datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)
    assert secret.properties.recovery_level == "Recoverable+Purgeable"


def test_first_request_goes_through_the_401_challenge(tenant, secrets):
    secrets.get_secret("openai-api-key")
    first, second = tenant.requests
    assert (first.operation, first.status) == ("secrets.get", 401)
    assert (second.operation, second.status) == ("secrets.get", 200)
    secrets.get_secret("openai-api-key")  # challenge cached by the SDK: no second 401
    assert [e.status for e in tenant.requests] == [401, 200, 200]


def test_challenge_header_names_the_tenant_and_vault_resource(tenant):
    from azure.core import PipelineClient
    from azure.core.rest import HttpRequest

    client = PipelineClient(base_url=VAULT_URL, transport=tenant.transport)
    response = client.send_request(HttpRequest("GET", f"{VAULT_URL}/secrets/openai-api-key/?api-version=7.5"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{tenant.tenant_id}", resource="https://vault.azure.net"'
    )


def test_set_creates_a_new_version_stamped_with_the_virtual_clock(tenant, secrets):
    before = secrets.get_secret("openai-api-key")
    tenant.clock.advance(60)
    new = secrets.set_secret("openai-api-key", "rotated-value-1", content_type="text/plain", tags={"rotatedBy": "firestop"})

    assert new.value == "rotated-value-1"
    assert new.properties.version != before.properties.version
    # set arrived at 03:14:40 + 0.05 (challenge) + 0.1 (get) + 60 s; epoch seconds drop the fraction
    assert new.properties.created_on == datetime(2026, 11, 29, 3, 15, 40, tzinfo=timezone.utc)
    assert new.properties.content_type == "text/plain"
    assert new.properties.tags == {"rotatedBy": "firestop"}
    assert secrets.get_secret("openai-api-key").value == "rotated-value-1"
    assert secrets.get_secret("openai-api-key", before.properties.version).value == before.value

    versions = tenant.secret_versions("kv-contoso-ai", "openai-api-key")
    assert [v["value"] for v in versions] == [before.value, "rotated-value-1"]
    assert set(versions[0]) == {"version", "value", "created", "enabled"}


def test_list_versions_pages_and_never_returns_values(tenant, secrets):
    for i in range(30):
        secrets.set_secret("openai-api-key", f"v{i}")
    props = list(secrets.list_properties_of_secret_versions("openai-api-key"))
    assert len(props) == 31
    assert len({p.version for p in props}) == 31
    assert sum(1 for e in tenant.requests if e.operation == "secrets.versions") == 2  # 25 + 6: nextLink followed


def test_versions_of_an_unknown_secret_is_empty(secrets):
    assert list(secrets.list_properties_of_secret_versions("never-set")) == []


def test_get_unknown_secret_or_version_is_404(secrets):
    with pytest.raises(ResourceNotFoundError) as err:
        secrets.get_secret("never-set")
    assert err.value.error.code == "SecretNotFound"
    with pytest.raises(ResourceNotFoundError):
        secrets.get_secret("openai-api-key", "0" * 32)


def test_invalid_secret_name_is_400(secrets):
    with pytest.raises(HttpResponseError) as err:
        secrets.set_secret("bad_name", "x")
    assert err.value.status_code == 400


def test_disabled_latest_version_is_403(secrets):
    secrets.set_secret("openai-api-key", "disabled-one", enabled=False)
    with pytest.raises(HttpResponseError) as err:
        secrets.get_secret("openai-api-key")
    assert err.value.status_code == 403


def test_injected_503_on_set_is_retried_and_stores_one_version(tenant, secrets):
    secrets.get_secret("openai-api-key")  # get the challenge out of the way
    tenant.inject_fault("secrets.set", 503, retry_after=2)
    secrets.set_secret("openai-api-key", "after-fault")
    assert [e.status for e in tenant.requests if e.operation == "secrets.set"] == [503, 200]
    assert [v["value"] for v in tenant.secret_versions("kv-contoso-ai", "openai-api-key")][-1] == "after-fault"
    assert len(tenant.secret_versions("kv-contoso-ai", "openai-api-key")) == 2


def test_vault_token_for_the_wrong_audience_keeps_getting_challenged(tenant):
    class ArmOnly:
        def get_token(self, *scopes, **kw):
            return tenant.credential.get_token("https://management.azure.com/.default")

    client = SecretClient(VAULT_URL, ArmOnly(), transport=tenant.transport)
    with pytest.raises(HttpResponseError) as err:
        client.get_secret("openai-api-key")
    assert err.value.status_code == 401
