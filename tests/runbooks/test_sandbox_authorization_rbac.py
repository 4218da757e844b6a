"""The sandbox additions runbooks rely on: Microsoft.Authorization role assignments and role enforcement."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from firestop.azure.clients import ClientFactory

from .conftest import ACCOUNT

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
CHATBOT = "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"
READER = SUB + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"


@pytest.fixture
def tenant():
    from firestop.sandbox import Tenant

    return Tenant.load()


@pytest.fixture
def clients(tenant):
    return ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)


def test_role_assignments_list_filters(tenant, clients):
    ra = clients.authorization(tenant.subscription_id).role_assignments
    mine = list(ra.list_for_scope(ACCOUNT, filter=f"principalId eq '{CHATBOT}'"))
    scopes = sorted(a.scope for a in mine)
    assert scopes == [SUB + "/resourceGroups/rg-ai-prod", ACCOUNT, ACCOUNT]  # inherited Reader + two on the account
    at_scope = list(ra.list_for_scope(SUB + "/resourceGroups/rg-ai-prod", filter="atScope()"))
    assert [a.name for a in at_scope] == ["3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f"]  # nothing below the group
    with pytest.raises(HttpResponseError) as bad:
        list(ra.list_for_scope(ACCOUNT, filter="roleDefinitionId eq 'x'"))
    assert bad.value.status_code == 400 and bad.value.error.code == "UnsupportedQuery"


def test_role_assignment_delete_create_get(tenant, clients):
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    ra = clients.authorization(tenant.subscription_id).role_assignments
    name = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
    deleted = ra.delete(ACCOUNT, name)
    assert deleted.principal_id == CHATBOT
    assert ra.delete(ACCOUNT, name) is None  # 204: already gone
    with pytest.raises(ResourceNotFoundError):
        ra.get(ACCOUNT, name)
    created = ra.create(ACCOUNT, name, RoleAssignmentCreateParameters(
        role_definition_id=deleted.role_definition_id, principal_id=CHATBOT, principal_type="ServicePrincipal"))
    assert created.id == deleted.id and ra.get(ACCOUNT, name).role_definition_id == deleted.role_definition_id
    with pytest.raises(HttpResponseError) as dup:  # same role, principal and scope under another name
        ra.create(ACCOUNT, "9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f", RoleAssignmentCreateParameters(
            role_definition_id=deleted.role_definition_id, principal_id=CHATBOT))
    assert dup.value.status_code == 409
    with pytest.raises(HttpResponseError) as changed:
        ra.create(ACCOUNT, name, RoleAssignmentCreateParameters(role_definition_id=READER, principal_id=CHATBOT))
    assert changed.value.error.code == "RoleAssignmentUpdateNotPermitted"
    assert not tenant.unrouted


def test_every_route_operation_maps_to_an_azure_action(tenant):
    from firestop.sandbox.authorization.rbac import OPERATION_ACTIONS

    operations = {r.operation for r in tenant._router.routes if r.service != "graph"}  # Graph: not Azure RBAC
    # mapped per path: LRO status per provider (a security alert's state change is one operation per action now)
    assert operations - set(OPERATION_ACTIONS) == {"operations.get"}


def test_enforced_role_refuses_actions_outside_it(tenant, clients):
    role = {
        "Name": "t", "Actions": ["Microsoft.CognitiveServices/accounts/read"], "NotActions": [],
        "DataActions": [], "NotDataActions": [], "AssignableScopes": [SUB],
    }
    tenant.enforce_role(role)
    accounts = clients.cognitive_services(tenant.subscription_id).accounts
    assert accounts.get("rg-ai-prod", "contoso-openai-prod").name == "contoso-openai-prod"
    keys_before = tenant.account_keys(ACCOUNT)
    with pytest.raises(HttpResponseError) as refused:
        accounts.regenerate_key("rg-ai-prod", "contoso-openai-prod", key_name="Key1")
    assert refused.value.status_code == 403 and refused.value.error.code == "AuthorizationFailed"
    assert "Microsoft.CognitiveServices/accounts/regenerateKey/action" in refused.value.error.message
    assert tenant.account_keys(ACCOUNT) == keys_before  # refused requests change nothing
    with pytest.raises(HttpResponseError) as vault:
        clients.secrets("https://kv-contoso-ai.vault.azure.net").get_secret("openai-api-key")
    assert vault.value.status_code == 403 and "ForbiddenByRbac" in str(vault.value)
    tenant.enforce_role(None)
    accounts.list_keys("rg-ai-prod", "contoso-openai-prod")  # enforcement off again


def test_role_scope_and_not_actions(tenant, clients):
    from firestop.sandbox.authorization.rbac import allows

    role = {"Actions": ["Microsoft.CognitiveServices/*"], "NotActions": ["*/listKeys/action"],
            "DataActions": ["Microsoft.KeyVault/vaults/secrets/*"], "AssignableScopes": [SUB + "/resourceGroups/rg-ai-dev"]}
    assert allows(role, "Microsoft.CognitiveServices/accounts/write", False)
    assert not allows(role, "microsoft.cognitiveservices/accounts/LISTKEYS/action", False)
    assert not allows(role, "Microsoft.KeyVault/vaults/secrets/getSecret/action", False)  # Actions never grant data actions
    assert allows(role, "Microsoft.KeyVault/vaults/secrets/getSecret/action", True)
    tenant.enforce_role(role)
    accounts = clients.cognitive_services(tenant.subscription_id).accounts
    assert accounts.get("rg-ai-dev", "contoso-openai-dev").name == "contoso-openai-dev"
    with pytest.raises(HttpResponseError) as outside:  # prod is outside the role's scope
        accounts.get("rg-ai-prod", "contoso-openai-prod")
    assert outside.value.status_code == 403
    with pytest.raises(ValueError, match="AssignableScopes"):
        tenant.enforce_role({"Actions": ["*"]})


def test_several_roles_each_at_its_own_scopes(tenant, clients):
    """An identity holding several roles (containment on one account, a narrow key role on the other) may do what
    one of them allows where that one is assigned — never one role's action at another role's scope."""
    dev, prod = SUB + "/resourceGroups/rg-ai-dev", SUB + "/resourceGroups/rg-ai-prod"
    read = {"Name": "read", "Actions": ["Microsoft.CognitiveServices/accounts/read"], "AssignableScopes": [dev, prod]}
    keys = {"Name": "keys", "Actions": ["Microsoft.CognitiveServices/accounts/listKeys/action"], "AssignableScopes": [dev]}
    tenant.enforce_role([read, keys])
    accounts = clients.cognitive_services(tenant.subscription_id).accounts
    assert accounts.get("rg-ai-prod", "contoso-openai-prod").name == "contoso-openai-prod"
    assert accounts.list_keys("rg-ai-dev", "contoso-openai-dev").key1
    with pytest.raises(HttpResponseError) as outside:  # keys is assigned on dev only
        accounts.list_keys("rg-ai-prod", "contoso-openai-prod")
    assert outside.value.status_code == 403 and "listKeys/action" in outside.value.error.message
    with pytest.raises(ValueError, match="at least one role"):
        tenant.enforce_role([])
