"""R16-08: graph16's RT18-02 rule took "an account Firestop protects" to be one whose role assignments Firestop can
read. audit16, merged beside it, assigns Firestop's identity a read role *at the subscription* that includes
``Microsoft.Authorization/roleAssignments/read`` (``runbooks.permissions.AUDIT_ACTIONS``; the template's
``auditRoleActions``): deployed together, every Azure OpenAI account of the subscription read as protected, and a
responder naming a team's account Firestop was never given disabled (or revoked the sessions of) any principal holding
a role there, with the app's tenant-wide Graph permissions.

Fixed (integrator's decision): an account is protected when Firestop's own identity holds one of its runbooks'
containment (write) actions on it (``runbooks.permissions.account_containment_actions``), read through ARM as its
effective permissions there (Permissions - List For Resource, 2022-04-01; the sandbox's ``permissions.list``).
The first test was a strict xfail on rough16 (200: build-agent-ci disabled through ``contoso-openai-dev``)."""

from __future__ import annotations

import pytest

from tests.e2e.test_http_api import api  # noqa: F401 (the fixture: the API as firestop serve runs it)
from tests.redteam18.test_rt18_responder_tenant_wide_graph import (ACCOUNT, BUILD_AGENT, DISABLE, REPORT_EXPORTER, SUB,
                                                                   _enabled, _run)

DEV = f"{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
FIRESTOP = "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"  # the sandbox credential's own object id (Firestop's identity)
CS_USER = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/a97b65f3-24c7-4388-baec-2e87135dc908"
AUDIT_GUID = "6a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
CONTAINMENT_GUID = "7b2f3e4d-5c6b-4a79-8887-b6c5d4e3f2a1"


def _assign(api, scope, name, role_definition_id, principal=BUILD_AGENT, description=None):  # noqa: F811
    from firestop.sandbox.authorization.models import assignments, new_assignment

    body = new_assignment(scope=scope, name=name, role_definition_id=role_definition_id, principal_id=principal,
                          principal_type="ServicePrincipal", created_on="2026-01-01T00:00:00Z",
                          created_by="b6f1a3c2-7e4d-4f5a-9c8b-1d2e3f4a5b6c", description=description)
    assignments(api.env.tenant._state)[body["id"].lower()] = body


def _custom_role(api, guid, role):  # noqa: F811
    """``role`` (``az role definition`` JSON) stored as a template deployment stores a custom role; its definition ID."""
    from firestop.sandbox.authorization.routes import role_definitions

    rid = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    role_definitions(api.env.tenant._state)[rid.lower()] = {
        "id": rid, "name": guid, "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {"roleName": role["Name"], "type": "CustomRole", "assignableScopes": role["AssignableScopes"],
                       "permissions": [{"actions": role["Actions"], "notActions": role["NotActions"],
                                        "dataActions": role["DataActions"], "notDataActions": role["NotDataActions"]}]}}
    return rid


def _audit_role_at_subscription(api):  # noqa: F811
    from runbooks.permissions import audit_role_definition

    rid = _custom_role(api, AUDIT_GUID, audit_role_definition([SUB]))
    _assign(api, SUB, "8c3a4f5e-6d7c-4b8a-9998-c7d6e5f4a3b2", rid, principal=FIRESTOP, description="audit reads")


def test_a_responder_cannot_act_on_a_principal_of_an_account_firestop_holds_no_role_on(api):  # noqa: F811
    from firestop.sandbox.authorization.models import assignments

    table = assignments(api.env.tenant._state)
    assert not [a for a in table.values() if a["properties"]["principalId"] == FIRESTOP
                and a["properties"]["scope"].lower() in (DEV.lower(), DEV.lower().rsplit("/providers/", 1)[0], SUB.lower())]
    _assign(api, DEV, "3e4d5c6b-7a89-4b0c-9d1e-2f3a4b5c6d7e", CS_USER, description="the dev team's pipeline")
    status, answer = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, target=DEV)
    assert status == 403 and answer["error"] == "target", (status, answer)  # rough16: 200, build-agent-ci disabled
    assert "not an account Firestop protects" in answer["reason"] and "contoso-openai-dev" in answer["reason"]
    assert "firestop infra --account rg-ai-dev/contoso-openai-dev" in answer["fix"] and "admin" in answer["fix"]
    assert _enabled(api, BUILD_AGENT) is True


def test_an_account_where_firestop_holds_only_the_audits_read_role_is_refused(api):  # noqa: F811
    """audit16's role at the subscription reads role assignments everywhere: reading is not protecting."""
    _audit_role_at_subscription(api)
    _assign(api, DEV, "3e4d5c6b-7a89-4b0c-9d1e-2f3a4b5c6d7e", CS_USER)
    for mode in ("run", "apply"):
        status, answer = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, target=DEV, mode=mode)
        assert status == 403 and answer["error"] == "target", (mode, status, answer)
        assert "containment actions" in answer["reason"], answer
    status, answer = _run(api, "identity.revoke_sessions", {"user_id": "2f4e6d8c-0b1a-4c3e-9d5f-7a9b1c3d5e7f"}, target=DEV)
    assert status == 403 and answer["error"] == "target", answer
    status, answer = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, target=DEV, mode="plan")
    assert status == 200 and answer["run_refused"]["error"] == "target", answer
    assert _enabled(api, BUILD_AGENT) is True
    # the account Firestop protects (Cognitive Services Contributor there, seeded) is allowed as before
    status, answer = _run(api, DISABLE, {"service_principal_id": REPORT_EXPORTER}, target=ACCOUNT)
    assert status == 200 and answer["ok"], answer


def test_an_account_given_firestops_containment_role_is_allowed(api):  # noqa: F811
    """The containment role ``firestop infra`` generates, assigned at the account: the principal there may be acted on."""
    from firestop.playbooks import load_playbooks
    from firestop.settings import REPO_ROOT
    from runbooks.permissions import role_definition

    _audit_role_at_subscription(api)
    rid = _custom_role(api, CONTAINMENT_GUID, role_definition(load_playbooks(REPO_ROOT / "playbooks"), [DEV]))
    _assign(api, DEV, "9d4b5a6f-7e8d-4c9b-8aa9-d8e7f6a5b4c3", rid, principal=FIRESTOP, description="firestop infra")
    _assign(api, DEV, "3e4d5c6b-7a89-4b0c-9d1e-2f3a4b5c6d7e", CS_USER)
    status, answer = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, target=DEV)
    assert status == 200 and answer["ok"], answer
    assert _enabled(api, BUILD_AGENT) is False


@pytest.mark.parametrize("entries,expected", [
    ([{"actions": ["Microsoft.CognitiveServices/*"], "notActions": []}], True),
    ([{"actions": ["microsoft.cognitiveservices/accounts/WRITE"], "notActions": []}], True),
    ([{"actions": ["*"], "notActions": ["Microsoft.CognitiveServices/accounts/*"]}], False),
    # NotActions subtract from their own role only: a second role granting the action still grants it
    ([{"actions": ["*"], "notActions": ["Microsoft.CognitiveServices/*"]},
      {"actions": ["Microsoft.CognitiveServices/accounts/write"], "notActions": []}], True),
    ([{"actions": ["*/read", "Microsoft.Authorization/roleAssignments/read"], "notActions": []}], False),
    ([{"actions": ["Microsoft.CognitiveServices/accounts/listKeys/action"], "notActions": []}], False),
    ([{"dataActions": ["Microsoft.CognitiveServices/*"]}], False),
    ([], False),
    (["not an entry", {"actions": "Microsoft.CognitiveServices/*"}], False),
])
def test_held_actions_are_evaluated_as_arm_does(entries, expected):
    from runbooks.graph_scope import holds
    from runbooks.permissions import account_containment_actions

    wanted = account_containment_actions()
    assert "Microsoft.CognitiveServices/accounts/write" in wanted and "Microsoft.CognitiveServices/accounts/regenerateKey/action" in wanted
    assert any(holds(entries, a) for a in wanted) is expected


def test_no_audit_read_is_a_containment_action():
    from runbooks.permissions import AUDIT_ACTIONS, account_containment_actions

    assert not {a.lower() for a in AUDIT_ACTIONS} & {a.lower() for a in account_containment_actions()}
