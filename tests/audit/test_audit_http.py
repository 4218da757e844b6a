"""The audit routes of function_app.py: roles, formats, drift incidents through intake (once)."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from firestop.trust import encode_principal, stamp_peer

SUB = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def api(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_AUDIT_SUBSCRIPTION", SUB)
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        yield env, server, function_app()
    env.close()


def call(api, function, method, url, *, who="oid-alice", route=None, params=None, body=None):
    from firestop.runtime import invoke_http_function

    env, server, app = api
    headers = stamp_peer({"x-ms-client-principal": encode_principal(who)} if who else {}, "127.0.0.1")
    request = func.HttpRequest(method=method, url=f"http://localhost:7071/api/{url}", headers=headers,
                               body=json.dumps(body).encode() if body is not None else b"",
                               route_params=route or {}, params=params or {})
    response = invoke_http_function(app, function, request, server=server)
    return response.status_code, response.get_body().decode(), dict(response.headers)


def test_roles_formats_and_drift_incident_once(api):
    env = api[0]
    status, body, _ = call(api, "latest_audit_http", "GET", "audits/latest", who="oid-mallory")
    assert status == 404  # none yet
    assert call(api, "run_audit_http", "POST", "audits", who=None)[0] == 401
    assert call(api, "run_audit_http", "POST", "audits", who="oid-mallory")[0] == 403  # a reader may read, not run
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    first = json.loads(body)
    assert status == 200 and first["exit_code"] == 3 and first["incidents"] == []

    cs = env.clients.cognitive_services(SUB)  # an account that was locked is opened again
    cs.accounts.begin_update("rg-ai-dev", "contoso-openai-dev", {"properties": {"networkAcls": {"defaultAction": "Deny"}}}).result()
    call(api, "run_audit_http", "POST", "audits")
    cs.accounts.begin_update("rg-ai-dev", "contoso-openai-dev", {"properties": {"networkAcls": {"defaultAction": "Allow"}}}).result()
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    drifted = json.loads(body)
    assert [k.split("|")[0] for k in drifted["drift"]["new"]] == ["network.public-access"]
    assert len(drifted["incidents"]) == 1 and drifted["incidents"][0]["status"] == "started"
    assert drifted["incidents"][0]["playbook"] == "public-network-exposure"

    # the same drift raised again (a retried timer run) joins nothing new: deduped like an alert
    from firestop.audit.store import load, records_store
    from firestop.functions.audit import open_drift_incidents

    import azure.durable_functions as df

    async def raise_again():
        client = df.DurableOrchestrationClient(api[1].client_binding_json())
        return await open_drift_incidents(client, load(records_store(env.settings), drifted["audit_id"]))

    from firestop.runtime.management import _WorkerLoop  # the SDK's aiohttp session lives on the worker loop

    again = _WorkerLoop.run(raise_again())
    assert [i["incident_id"] for i in again] == [drifted["incidents"][0]["incident_id"]]
    assert again[0]["status"] in ("duplicate", "correlated")

    status, body, headers = call(api, "get_audit_http", "GET", f"audits/{drifted['audit_id']}", who="oid-mallory",
                                 route={"audit_id": drifted["audit_id"]}, params={"format": "html"})
    assert status == 200 and "<h2>Network isolation</h2>" in body and "default-src 'none'" in headers.get("Content-Security-Policy", "")
    assert call(api, "get_audit_http", "GET", "audits/x", who="oid-mallory", route={"audit_id": "../x"})[0] == 400
    assert call(api, "latest_audit_http", "GET", "audits/latest", who="oid-mallory", params={"format": "pdf"})[0] == 400


def test_a_scope_that_does_not_exist_is_400_and_keeps_no_audit(api):
    """As audit run --resource-group/--account locally: a typo is refused before anything is read or kept."""
    account = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prdo"
    for body, field, says in (({"resource_groups": ["rg-ai-prdo"]}, "resource_groups", "no resource group 'rg-ai-prdo'"),
                              ({"accounts": [account]}, "accounts", "no Azure OpenAI account 'contoso-openai-prdo'")):
        status, answer, _ = call(api, "run_audit_http", "POST", "audits", body=body)
        assert status == 400 and json.loads(answer)["error"] == field and says in json.loads(answer)["reason"], answer
    assert call(api, "latest_audit_http", "GET", "audits/latest")[0] == 404  # nothing kept
    status, answer, _ = call(api, "run_audit_http", "POST", "audits", body={"resource_groups": ["rg-ai-prod"]})
    assert status == 200 and json.loads(answer)["results"]
