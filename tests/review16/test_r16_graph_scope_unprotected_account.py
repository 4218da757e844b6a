"""R16-08: graph16's RT18-02 rule takes "an account Firestop protects" to be one whose role assignments Firestop can
read ("Firestop's role (roleAssignments/read) is assigned where it protects: elsewhere ARM answers 403" —
``runbooks.graph_scope``). audit16, merged beside it, assigns Firestop's identity a read role *at the subscription*
that includes ``Microsoft.Authorization/roleAssignments/read`` (``runbooks.permissions.AUDIT_ACTIONS``; the template's
``auditRoleActions``). Deployed together, every Azure OpenAI account of the subscription reads as protected: a
responder names a team's account Firestop was never given, and disables (or revokes the sessions of) any principal
holding a role there, with the app's tenant-wide Graph permissions.

The simulated tenant answers role-assignment reads anywhere (as the subscription-wide read role does): here
``contoso-openai-dev``, on which Firestop's identity holds no role, and a service principal assigned only there.

Not fixed: "protected" needs Firestop's own word — its identity holding its *responder* (write) role at or above the
account, not any readable role — or a setting naming the protected scopes; the sandbox holds no built-in role
catalogue to tell the audit's read role from the responder's. The integrator decides between graph16's rule and
audit16's role scope (the two were right alone)."""

from __future__ import annotations

import pytest

from tests.e2e.test_http_api import api  # noqa: F401 (the fixture: the API as firestop serve runs it)
from tests.redteam18.test_rt18_responder_tenant_wide_graph import BUILD_AGENT, DISABLE, SUB, _enabled, _run

DEV = f"{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
FIRESTOP = "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"  # the sandbox credential's own object id (Firestop's identity)


@pytest.mark.xfail(strict=True, reason="R16-08 (medium, not fixed): an account whose role assignments Firestop can "
                   "read counts as protected; audit16's subscription-wide read role makes that every account")
def test_a_responder_cannot_act_on_a_principal_of_an_account_firestop_holds_no_role_on(api):  # noqa: F811
    from firestop.sandbox.authorization.models import assignments, new_assignment

    table = assignments(api.env.tenant._state)
    assert not [a for a in table.values() if a["properties"]["principalId"] == FIRESTOP
                and a["properties"]["scope"].lower() in (DEV.lower(), DEV.lower().rsplit("/providers/", 1)[0], SUB.lower())]
    body = new_assignment(scope=DEV, name="3e4d5c6b-7a89-4b0c-9d1e-2f3a4b5c6d7e",
                          role_definition_id=f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
                                             "a97b65f3-24c7-4388-baec-2e87135dc908",
                          principal_id=BUILD_AGENT, principal_type="ServicePrincipal", created_on="2026-01-01T00:00:00Z",
                          created_by="b6f1a3c2-7e4d-4f5a-9c8b-1d2e3f4a5b6c", description="the dev team's pipeline")
    table[body["id"].lower()] = body
    status, answer = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, target=DEV)
    assert status == 403 and answer["error"] == "target", (status, answer)  # rough16: 200, build-agent-ci disabled
    assert _enabled(api, BUILD_AGENT) is True
