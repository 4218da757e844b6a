"""The sandbox's Permissions - List For Resource Group / For Resource (REST 2022-04-01, azure-mgmt-authorization
``permissions``): the *caller's* role permissions at the scope, from its role assignments at or above it and their role
definitions (the tenant's custom roles, the built-ins the sandbox knows); under enforcement, the enforced roles."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from firestop.azure.clients import ClientFactory
from firestop.sandbox.authorization.models import assignments, new_assignment

SUB_ID = "11111111-2222-3333-4444-555555555555"
SUB = f"/subscriptions/{SUB_ID}"
DEV = f"{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
FIRESTOP = "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"  # the sandbox credential's object id
READER = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
CS_CONTRIBUTOR_ACTIONS = "Microsoft.CognitiveServices/*"


@pytest.fixture
def tenant():
    from firestop.sandbox import Tenant

    return Tenant.load()


@pytest.fixture
def permissions(tenant):
    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    return clients.authorization(SUB_ID).permissions


def _assign(tenant, scope, name, role, principal=FIRESTOP):
    body = new_assignment(scope=scope, name=name, role_definition_id=role, principal_id=principal,
                          principal_type="ServicePrincipal", created_on="2026-01-01T00:00:00Z", created_by=principal)
    assignments(tenant._state)[body["id"].lower()] = body  # noqa: SLF001


def _actions(pages):
    return sorted(tuple(p.actions) for p in pages)


def test_the_callers_roles_at_and_above_the_scope_answer(tenant, permissions):
    # seeded: Cognitive Services Contributor for Firestop's identity at contoso-openai-prod only
    prod = list(permissions.list_for_resource("rg-ai-prod", "Microsoft.CognitiveServices", "", "accounts", "contoso-openai-prod"))
    assert [CS_CONTRIBUTOR_ACTIONS in p.actions for p in prod] == [True]
    assert list(permissions.list_for_resource_group("rg-ai-prod")) == []  # the account's role is below the group
    assert list(permissions.list_for_resource("rg-ai-dev", "Microsoft.CognitiveServices", "", "accounts", "contoso-openai-dev")) == []
    _assign(tenant, SUB, "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b", READER)  # Reader at the subscription
    _assign(tenant, DEV, "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", READER.replace("acdd72a7-3385-48ef-bd42-f606fba81ae7",
            "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68"), principal="7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b")  # someone else's
    dev = list(permissions.list_for_resource("rg-ai-dev", "Microsoft.CognitiveServices", "", "accounts", "contoso-openai-dev"))
    assert _actions(dev) == [("*/read",)] and dev[0].not_actions == []
    assert _actions(permissions.list_for_resource_group("rg-ai-dev")) == [("*/read",)]


def test_an_unknown_account_is_not_found(permissions):
    with pytest.raises(ResourceNotFoundError):
        list(permissions.list_for_resource("rg-ai-dev", "Microsoft.CognitiveServices", "", "accounts", "no-such-account"))


def test_under_enforcement_the_enforced_roles_answer_where_they_hold_permissions_read(tenant, permissions):
    role = {"Name": "narrow", "Actions": ["Microsoft.CognitiveServices/accounts/write", "Microsoft.Authorization/permissions/read"],
            "NotActions": ["x/*"], "DataActions": [], "NotDataActions": [], "AssignableScopes": [DEV]}
    audit = {"Name": "reads", "Actions": ["Microsoft.Authorization/roleAssignments/read"], "NotActions": [],
             "DataActions": [], "NotDataActions": [], "AssignableScopes": [SUB]}
    tenant.enforce_role([role, audit])
    try:
        dev = list(permissions.list_for_resource("rg-ai-dev", "Microsoft.CognitiveServices", "", "accounts", "contoso-openai-dev"))
        with pytest.raises(HttpResponseError) as refused:  # the seeded Contributor is not enforced; the reads lack it
            list(permissions.list_for_resource("rg-ai-prod", "Microsoft.CognitiveServices", "", "accounts", "contoso-openai-prod"))
    finally:
        tenant.enforce_role(None)
    assert sorted(map(sorted, (p.actions for p in dev))) == [
        ["Microsoft.Authorization/permissions/read", "Microsoft.CognitiveServices/accounts/write"],
        ["Microsoft.Authorization/roleAssignments/read"]]
    assert [p.not_actions for p in dev if "Microsoft.CognitiveServices/accounts/write" in p.actions] == [["x/*"]]
    assert refused.value.status_code == 403 and "Microsoft.Authorization/permissions/read" in refused.value.error.message
