"""seal17: infra/azuredeploy.json carries the retired seal keys (parameter ``sealKeyRetired``): a secret
``firestop-seal-key-retired`` in Firestop's vault, readable by the app's identity alone (Key Vault Secrets User on that
secret), and the app setting ``FIRESTOP_SEAL_KEY_RETIRED`` as its Key Vault reference; without the parameter the vault
keeps what it holds (deploy18: a redeployment never drops a retired key), ``none`` being a ring without one. Never the
value in a setting, an output or the deployment's echo.
Deployed into the sandbox tenant through azure-mgmt-resource, as tests/infra does."""

from __future__ import annotations

import json

from firestop.sandbox import Tenant
from tests.infra.conftest import factory, generated_parameters, template

RG = "rg-ai-prod"
SEAL, RETIRED = "seal-" + "k" * 40, "old1-" + "r" * 40 + " old2-" + "s" * 40
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def _deploy(tenant, retired: str | None):
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k"}, "sealKey": {"value": SEAL}}
    if retired is not None:
        params["sealKeyRetired"] = {"value": retired}
    client = factory(tenant).resources(tenant.subscription_id)
    return client.deployments.begin_create_or_update(
        RG, "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()


def _state(tenant):
    doc = tenant._state.doc  # noqa: SLF001 — inspection of what the sandbox recorded
    found = list(doc.get("deployed_resources", {}).values())
    (site,) = [r for r in found if r["type"].lower() == "microsoft.web/sites"]
    settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    secrets = [r["name"].rsplit("/", 1)[-1] for r in found if r["type"].lower() == "microsoft.keyvault/vaults/secrets"]
    return settings, secrets, doc


def test_retired_keys_are_a_vault_secret_and_a_key_vault_reference(firestop_home):
    tenant = Tenant.load()
    result = _deploy(tenant, RETIRED)
    assert result.properties.provisioning_state == "Succeeded"
    assert result.properties.parameters["sealKeyRetired"] == {"type": "securestring"}
    settings, secrets, doc = _state(tenant)
    vault = [r for r in doc["deployed_resources"].values() if r["type"].lower() == "microsoft.keyvault/vaults"][0]["name"]
    assert settings["FIRESTOP_SEAL_KEY_RETIRED"] == (
        f"@Microsoft.KeyVault(SecretUri=https://{vault}.vault.azure.net/secrets/firestop-seal-key-retired)")
    assert "firestop-seal-key-retired" in secrets
    grants = [a for a in doc["role_assignments"].values() if str(a.get("properties", a).get("roleDefinitionId", "")).endswith(SECRETS_USER)]
    scopes = {str(a.get("properties", a).get("scope", a.get("scope"))) for a in grants}
    assert any(s.endswith("/secrets/firestop-seal-key-retired") for s in scopes), scopes
    for word in RETIRED.split():
        assert word not in json.dumps(settings) and word not in json.dumps(result.properties.as_dict())


def _secret_values(doc) -> dict[str, str]:
    """{secret name: value the deployment wrote} of the vault secrets the sandbox recorded."""
    return {r["name"].rsplit("/", 1)[-1]: r["properties"]["value"] for r in doc.get("deployed_resources", {}).values()
            if r["type"].lower() == "microsoft.keyvault/vaults/secrets"}


def test_a_redeployment_without_the_parameter_keeps_the_retired_keys(firestop_home):
    """deploy18: before, a later deployment without sealKeyRetired set FIRESTOP_SEAL_KEY_RETIRED to '' — every ledger
    and token sealed under the retired keys stopped verifying, silently. Now the setting stays the reference, the grant
    stays, and the secret keeps what it held (fails before: the setting was '')."""
    tenant = Tenant.load()
    _deploy(tenant, RETIRED)
    _deploy(tenant, None)  # a routine redeployment: the parameter left out
    settings, secrets, doc = _state(tenant)
    assert settings["FIRESTOP_SEAL_KEY_RETIRED"].startswith("@Microsoft.KeyVault(SecretUri=https://kv-fire-")
    assert settings["FIRESTOP_SEAL_KEY_RETIRED"].endswith("/secrets/firestop-seal-key-retired)")
    assert _secret_values(doc)["firestop-seal-key-retired"] == RETIRED
    assert "firestop-seal-key-retired" in json.dumps(doc["role_assignments"])


def test_none_is_a_ring_without_a_retired_key_and_an_absent_secret_fails_the_deployment(firestop_home):
    """The first deployment gives 'none' (the app reads it as no retired key); without it and without the secret the
    deployment fails on the grant to the missing secret — loudly, nothing dropped (on Azure as in the sandbox: a role
    assignment's scope must exist)."""
    from azure.core.exceptions import HttpResponseError

    from firestop.settings import check_environment
    from firestop.trust.seal import load_seal_key

    tenant = Tenant.load()
    try:
        _deploy(tenant, None)
    except HttpResponseError as exc:
        assert "firestop-seal-key-retired" in str(exc)
    else:
        raise AssertionError("a first deployment without sealKeyRetired and no secret must fail")
    _deploy(tenant, "none")
    _, _, doc = _state(tenant)
    assert _secret_values(doc)["firestop-seal-key-retired"] == "none"
    assert "FIRESTOP_SEAL_KEY_RETIRED" not in dict(check_environment({"FIRESTOP_SEAL_KEY_RETIRED": "none"}, on_azure=True))
    ring = load_seal_key(firestop_home, {"FIRESTOP_SEAL_KEY": SEAL, "FIRESTOP_SEAL_KEY_RETIRED": "none"})
    assert ring.retired == ()
    # README's rotation: sealKeyRetired="$OLD $RETIRED" with RETIRED read from the secret, 'none' the first time
    old = "old-" + "o" * 40
    assert "FIRESTOP_SEAL_KEY_RETIRED" not in dict(check_environment({"FIRESTOP_SEAL_KEY_RETIRED": f"{old} none"}, on_azure=True))
    ring = load_seal_key(firestop_home, {"FIRESTOP_SEAL_KEY": SEAL, "FIRESTOP_SEAL_KEY_RETIRED": f"{old} none"})
    assert [k.kid for k in ring.retired] == [load_seal_key(firestop_home, {"FIRESTOP_SEAL_KEY": old}).kid]
