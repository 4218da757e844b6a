"""Sandbox rooms read by the audit: Policy Insights policy states and the Key Vault management plane,
through the real SDKs (azure-mgmt-policyinsights 1.0.1, azure-mgmt-keyvault 14.1.0)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.policyinsights.models import QueryOptions

from firestop.sandbox import Tenant


@pytest.fixture(scope="module")
def tenant():
    return Tenant.load()


def test_vault_properties_as_seeded(tenant):
    kv = KeyVaultManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    vaults = list(kv.vaults.list_by_subscription())
    assert [v.name for v in vaults] == ["kv-contoso-ai"]
    props = kv.vaults.get("rg-ai-prod", "kv-contoso-ai").properties
    assert (props.enable_soft_delete, props.soft_delete_retention_in_days, props.enable_rbac_authorization) == (True, 90, True)
    assert props.enable_purge_protection is None  # absent until turned on, as ARM shows it
    assert [v.name for v in kv.vaults.list_by_resource_group("rg-ai-dev")] == []
    with pytest.raises(ResourceNotFoundError):
        kv.vaults.get("rg-ai-prod", "kv-nope")
    assert tenant.requests[-1].operation == "vaults.get"


def test_policy_states_filtered(tenant):
    pi = PolicyInsightsClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    sub = tenant.subscription_id
    every = list(pi.policy_states.list_query_results_for_subscription("latest", sub))
    assert len(every) == 9
    dev = list(pi.policy_states.list_query_results_for_resource_group("latest", sub, "rg-ai-dev"))
    assert {s.resource_id.rsplit("/", 1)[-1] for s in dev} == {"contoso-openai-dev"}
    diag = list(pi.policy_states.list_query_results_for_subscription(
        "latest", sub, QueryOptions(filter="policyDefinitionName eq '1b4d1c4e-934c-4703-944c-27c82c06bebb' and complianceState eq 'Compliant'")))
    assert [s.resource_id.rsplit("/", 1)[-1] for s in diag] == ["contoso-openai-prod"]
    assert diag[0].is_compliant is True
    with pytest.raises(HttpResponseError) as bad:
        list(pi.policy_states.list_query_results_for_subscription("latest", sub, QueryOptions(filter="contains(resourceId, 'x')")))
    assert bad.value.status_code == 400


def test_a_twin_carries_its_policy_states(tmp_path):
    """A twin file's policy_states (as `az policy state list` prints them) are what the room answers."""
    import json

    vault = {"id": "/subscriptions/22222222-3333-4444-5555-666666666666/resourceGroups/rg-x/providers/Microsoft.KeyVault/vaults/kv-x",
             "name": "kv-x", "type": "Microsoft.KeyVault/vaults", "location": "westeurope",
             "properties": {"tenantId": "f1e2d3c4-b5a6-4978-8a6b-5c4d3e2f1a0b", "sku": {"family": "A", "name": "standard"},
                            "vaultUri": "https://kv-x.vault.azure.net/", "enablePurgeProtection": True}}
    state = {"resourceId": vault["id"], "policyDefinitionName": "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53",
             "complianceState": "Compliant", "isCompliant": True, "resourceGroup": "rg-x", "timestamp": "2026-11-01T00:00:00Z"}
    path = tmp_path / "twin.json"
    path.write_text(json.dumps({"resources": [vault], "policy_states": [state]}))
    twin = Tenant.load(path)
    pi = PolicyInsightsClient(twin.credential, twin.subscription_id, transport=twin.transport)
    states = list(pi.policy_states.list_query_results_for_subscription("latest", twin.subscription_id))
    assert [(s.resource_id, s.compliance_state) for s in states] == [(vault["id"], "Compliant")]
    kv = KeyVaultManagementClient(twin.credential, twin.subscription_id, transport=twin.transport)
    assert kv.vaults.get("rg-x", "kv-x").properties.enable_purge_protection is True


def test_policy_state_history_answers_default_within_its_range():
    """RT19-04: ``default`` answers every record in ``[$from, $to]`` (an absent ``$from`` is ``$to`` − 1 day), the
    superseded ones too; ``latest`` the last evaluation's; ``$orderby=timestamp desc`` newest first."""
    from datetime import datetime, timezone

    from firestop.sandbox.policyinsights.models import reevaluate

    tenant = Tenant.load()
    pi = PolicyInsightsClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    sub = tenant.subscription_id
    prod = f"/subscriptions/{sub}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
    definition = "037eea7a-bd0a-46c5-9a66-03aea78705d3"
    with tenant._exclusive() as state:  # noqa: SLF001 — as Azure Policy's evaluations leave them
        assert reevaluate(state, prod, definition, "Compliant", "2026-11-29T01:00:00Z") == 1
        assert reevaluate(state, prod, definition, "NonCompliant", "2026-11-29T02:00:00Z") == 1
        tenant._save_locked()  # noqa: SLF001
    where = f"resourceId eq '{prod}' and policyDefinitionName eq '{definition}'"
    at = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)

    def ask(which, **options):
        return [(s.compliance_state, s.timestamp.isoformat()) for s in
                pi.policy_states.list_query_results_for_subscription(which, sub, QueryOptions(filter=where, **options))]

    assert ask("latest") == [("NonCompliant", "2026-11-29T02:00:00+00:00")]
    assert ask("default", to=at, from_property=datetime(2026, 11, 1, tzinfo=timezone.utc), order_by="timestamp desc") == [
        ("NonCompliant", "2026-11-29T02:00:00+00:00"), ("Compliant", "2026-11-29T01:00:00+00:00"),
        ("NonCompliant", "2026-11-28T22:00:00+00:00")]
    assert ask("default", to=datetime(2026, 11, 29, 1, 30, tzinfo=timezone.utc)) == [  # $from: a day before $to
        ("Compliant", "2026-11-29T01:00:00+00:00"), ("NonCompliant", "2026-11-28T22:00:00+00:00")]
    assert ask("default", to=at, from_property=datetime(2026, 11, 29, 0, 30, tzinfo=timezone.utc),
               order_by="timestamp asc") == [("Compliant", "2026-11-29T01:00:00+00:00"),
                                             ("NonCompliant", "2026-11-29T02:00:00+00:00")]
    with pytest.raises(HttpResponseError):
        ask("default", order_by="resourceId")
