"""A16-04 (a Firestop responder, no Entra role): graph16's bound counts roles *inherited* from the subscription.

RT18-02 bounded a responder's manual Graph runbooks to principals holding a role assignment that applies to a named
protected account — at it, below it, **or above it** (``graph_scope.refusal``: ``_relation != "none"``). The principals
with roles above every account are the tenant's most powerful: the CI/CD pipeline with Contributor on the
subscription, Owners, a platform team's automation, a Global Administrator who elevated access at ``/``. RT18-02's
own example, ``build-agent-ci`` (tenant CI), once given Contributor at the subscription as CI agents usually are, is
disabled by any responder naming ``contoso-openai-prod`` — it never touched the account. Fixed: an assignment counts at
the account, below it, or at its own resource group; above that an admin acts.
"""

from __future__ import annotations

from tests.e2e.test_http_api import api  # noqa: F401
from tests.redteam18.test_rt18_responder_tenant_wide_graph import ACCOUNT, BUILD_AGENT, DISABLE, SUB, _enabled, _run

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"  # Azure built-in role Contributor


def test_a16_04_a_subscription_wide_role_does_not_make_any_principal_a_responders_to_disable(api):  # noqa: F811
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    api.env.clients.authorization(SUB.rsplit("/", 1)[1]).role_assignments.create(
        SUB, "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", RoleAssignmentCreateParameters(
            role_definition_id=f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
            principal_id=BUILD_AGENT, principal_type="ServicePrincipal"))
    status, body = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, target=ACCOUNT)
    assert status == 403, (status, body)
    assert _enabled(api, BUILD_AGENT) is True


def test_a16_04_a_role_on_the_accounts_resource_group_still_counts(api):  # noqa: F811
    # svc-chatbot holds Reader on rg-ai-prod (and roles at the account): the resource group's own roles stay related
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    api.env.clients.authorization(SUB.rsplit("/", 1)[1]).role_assignments.create(
        f"{SUB}/resourceGroups/rg-ai-prod", "1c2d3e4f-5061-4b72-8c83-a4b5c6d7e8f9", RoleAssignmentCreateParameters(
            role_definition_id=f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
            principal_id=BUILD_AGENT, principal_type="ServicePrincipal"))
    status, body = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, target=ACCOUNT)
    assert status == 200 and body["ok"], body
    assert _enabled(api, BUILD_AGENT) is False
