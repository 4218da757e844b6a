"""RT18-02 (attacker c: a Firestop responder, no Entra admin role): the responders' API ran Firestop's Microsoft Graph
runbooks on *any* identity of the tenant with the app's own, tenant-wide Graph permissions.

``identity.disable_service_principal``, ``identity.confirm_compromised`` and ``identity.revoke_sessions`` act with
``Application.ReadWrite.All`` / ``IdentityRiskyServicePrincipal.ReadWrite.All`` / ``User.RevokeSessions.All``, which are
tenant-wide. A responder disabled the tenant's CI/CD service principal ``build-agent-ci`` (no role on any account).
Fixed (:mod:`runbooks.graph_scope`): a responder's manual run names a protected Azure OpenAI account as ``target`` and
the principal must hold a role assignment on it; an admin may act on any principal; a plan stays available and says
a run would be refused; the undo of a manual run follows the same rule.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_http_api import api  # noqa: F401 (the fixture: the API as firestop serve runs it)

BUILD_AGENT = "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"  # build-agent-ci: a tenant workload with no role on any account
REPORT_EXPORTER = "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"  # Cognitive Services Contributor on contoso-openai-prod
ALICE_USER = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"  # Cognitive Services OpenAI Contributor on contoso-openai-prod
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
ACCOUNT = f"{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DISABLE = "identity.disable_service_principal"


def _run(api, name, params, *, who="oid-bob", target=None, mode="run"):  # noqa: F811
    body = {"params": params, "mode": mode, **({"target": target} if target is not None else {})}
    return api.call("run_runbook_http", "POST", f"runbooks/{name}", who=who, route={"name": name}, body=body)


def _enabled(api, sp_id):  # noqa: F811
    status, body = _run(api, DISABLE, {"service_principal_id": sp_id}, who="oid-admin", mode="plan")
    assert status == 200, body
    return body["result"]["before"]["accountEnabled"]


def test_rt18_02_a_responder_cannot_disable_an_unrelated_service_principal(api):  # noqa: F811
    status, body = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT})
    # oid-bob holds the responder role only; build-agent-ci has nothing to do with the Azure OpenAI accounts
    assert status == 403, (status, body)
    assert body["error"] == "target" and "admin" in body["fix"]
    assert _enabled(api, BUILD_AGENT) is True  # nothing was done


@pytest.mark.parametrize("name,params", [
    (DISABLE, {"service_principal_id": BUILD_AGENT}),
    ("identity.confirm_compromised", {"service_principal_id": BUILD_AGENT}),
    ("identity.revoke_sessions", {"user_id": "2f4e6d8c-0b1a-4c3e-9d5f-7a9b1c3d5e7f"}),  # bob: no role on the account
])
def test_a_responder_naming_an_account_the_principal_holds_no_role_on_is_refused(api, name, params):  # noqa: F811
    for mode in ("run", "apply"):
        status, body = _run(api, name, params, target=ACCOUNT, mode=mode)
        assert status == 403, (mode, status, body)
        assert body["error"] in ("service_principal_id", "user_id") and "holds no role assignment" in body["reason"]
        assert "contoso-openai-prod" in body["reason"]


def test_a_responder_naming_a_target_that_is_not_an_account_is_refused(api):  # noqa: F811
    status, body = _run(api, DISABLE, {"service_principal_id": REPORT_EXPORTER}, target=f"{SUB}/resourceGroups/rg-ai-prod")
    assert status == 403 and body["error"] == "target", body
    assert _enabled(api, REPORT_EXPORTER) is True


def test_a_responder_may_act_on_a_principal_holding_a_role_on_the_named_account(api):  # noqa: F811
    status, body = _run(api, DISABLE, {"service_principal_id": REPORT_EXPORTER}, target=ACCOUNT)
    assert status == 200 and body["ok"], body
    assert _enabled(api, REPORT_EXPORTER) is False
    status, body = _run(api, "identity.revoke_sessions", {"user_id": ALICE_USER}, target=ACCOUNT)
    assert status == 200 and body["ok"], body


def test_an_admin_may_act_on_any_principal_but_firestop_itself(api):  # noqa: F811
    status, body = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, who="oid-admin")
    assert status == 200 and body["ok"], body
    assert _enabled(api, BUILD_AGENT) is False
    status, body = _run(api, DISABLE, {"service_principal_id": "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"}, who="oid-admin")
    assert status == 422 and "own identity" in body["apply"]["error"]["message"], body


def test_a_responder_plan_is_shown_and_says_the_run_would_be_refused(api):  # noqa: F811
    status, body = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, mode="plan")
    assert status == 200 and body["ok"], body
    assert body["result"]["changes"] == [{"field": "accountEnabled", "before": True, "after": False}]
    assert body["run_refused"]["error"] == "target"
    assert any("would be refused" in note for note in body["result"]["notes"])
    status, body = _run(api, DISABLE, {"service_principal_id": REPORT_EXPORTER}, target=ACCOUNT, mode="plan")
    assert status == 200 and "run_refused" not in body, body
    assert _enabled(api, BUILD_AGENT) is True


def test_the_undo_of_an_admin_run_on_an_unrelated_principal_is_refused_to_a_responder(api):  # noqa: F811
    status, run = _run(api, DISABLE, {"service_principal_id": BUILD_AGENT}, who="oid-admin")
    assert status == 200 and run["ok"], run
    day, step = run["run_id"].split("/")
    route = {"day": day, "step": step}
    status, body = api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-bob", route=route, body={})
    assert status == 403 and body["error"] == "target", body
    assert _enabled(api, BUILD_AGENT) is False
    status, body = api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-admin", route=route, body={})
    assert status == 200 and body["undo"]["ok"], body
    assert _enabled(api, BUILD_AGENT) is True


def test_every_graph_runbook_names_the_param_it_acts_on():
    from runbooks import all_runbooks

    graph = [cls for cls in all_runbooks() if cls.graph_permissions]
    assert {cls.name for cls in graph} >= {DISABLE, "identity.confirm_compromised", "identity.revoke_sessions"}
    for cls in graph:
        assert cls.principal_param in cls.Params.model_fields, cls.name


@pytest.mark.parametrize("target", [
    f"{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/no-such-account",  # not protected
    f"{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/x?api-version=1#",  # no query through
    ACCOUNT + "/" + "a" * 600,
    ACCOUNT + "\n",  # a final newline (a `$` anchor let it through, echoed in the answer; a leading space was refused)
])
def test_a_responder_naming_an_account_firestop_does_not_protect_is_refused(api, target):  # noqa: F811
    # contoso-chatbot holds Reader on rg-ai-prod: it would count on a real account there, never on a made-up one
    status, body = _run(api, DISABLE, {"service_principal_id": "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"}, target=target)
    assert status == 403 and body["error"] == "target", body
    assert len(body["reason"]) < 1000 and ("not an account Firestop protects" in body["reason"] or "is not an Azure OpenAI account" in body["reason"])
