"""R16-04: graph16's RT18-02 rule (``runbooks.graph_scope``) says a responder's manual Graph run needs the principal
to hold a role assignment on the named account "at it, on a child resource of it, or inherited from its resource
group / subscription". The code counted an assignment at the tenant root ``/`` as one above the account
(``runbooks.identity._relation("/", account)`` is "above"). A Global Administrator who once elevated access holds
User Access Administrator at ``/`` (https://learn.microsoft.com/azure/role-based-access-control/elevate-access-global-admin):
a Firestop responder could revoke the sessions of every such administrator with the app's tenant-wide Graph
permissions, by naming any protected account — the slice of Cloud Application Administrator RT18-02 closes.

The management-group case is a guard: ARM lists such an assignment at the account (``principalId eq`` returns what
applies there), and its scope path is not a prefix of the account's, so it was not counted; the simulated tenant does
not model management groups either, so only the root case fails on rough16."""

from __future__ import annotations

import pytest

from tests.e2e.test_http_api import api  # noqa: F401 (the fixture: the API as firestop serve runs it)
from tests.redteam18.test_rt18_responder_tenant_wide_graph import ACCOUNT, BUILD_AGENT, DISABLE, _enabled, _run

PLATFORM_SP = BUILD_AGENT  # build-agent-ci, here a landing-zone pipeline: Owner on a management group only
GLOBAL_ADMIN = "2f4e6d8c-0b1a-4c3e-9d5f-7a9b1c3d5e7f"  # the tenant's user bob, here elevated once: UAA at "/"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
UAA = "18d7d88d-d35e-4fb5-a5c3-7773c6a08a0a"


def _assign_above(api, scope: str, principal: str, role: str, principal_type: str) -> None:  # noqa: F811
    """An assignment at ``scope`` (above the subscription) in the simulated tenant's authorization room, as ARM lists
    it for ``principalId eq`` at the account (at, above and below)."""
    from firestop.sandbox.authorization.models import assignments, new_assignment

    state = api.env.tenant._state
    body = new_assignment(scope=scope, name="9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f" if principal == PLATFORM_SP else
                          "1f2e3d4c-5b6a-4978-8e9d-0a1b2c3d4e5f",
                          role_definition_id=f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                          principal_id=principal, principal_type=principal_type, created_on="2026-01-01T00:00:00Z",
                          created_by="b6f1a3c2-7e4d-4f5a-9c8b-1d2e3f4a5b6c", description=None)
    assignments(state)[body["id"].lower()] = body


@pytest.mark.parametrize("scope,principal,role,kind", [
    ("/providers/Microsoft.Management/managementGroups/contoso-landing-zones", PLATFORM_SP, OWNER, "ServicePrincipal"),
    ("/", GLOBAL_ADMIN, UAA, "User"),
])
def test_an_assignment_above_the_subscription_does_not_make_a_principal_a_responders_to_act_on(api, scope, principal,
                                                                                                role, kind):  # noqa: F811
    _assign_above(api, scope, principal, role, kind)
    name, params = ((DISABLE, {"service_principal_id": principal}) if kind == "ServicePrincipal" else
                    ("identity.revoke_sessions", {"user_id": principal}))
    status, body = _run(api, name, params, target=ACCOUNT)
    assert status == 403, (status, body)  # before: 200, the principal disabled / its sessions revoked
    assert body["error"] in ("service_principal_id", "user_id") and "admin" in body["fix"], body
    if kind == "ServicePrincipal":
        assert _enabled(api, principal) is True
