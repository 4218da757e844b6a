"""The responders' HTTP API of function_app.py: identity, approvals, incidents, runbooks."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from firestop.alerts import parse_alert
from firestop.intake import CorrelationKey, slot_id
from firestop.intake.correlation import alert_keys
from firestop.trust import encode_principal, stamp_peer
from firestop.settings import REPO_ROOT
from tests.gated_playbook import gated_leaked_key

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
# the webhook opens the first incident of the alert's resource (firestop.intake.accept)
INCIDENT = slot_id(alert_keys(parse_alert(EXAMPLE.read_bytes()), CorrelationKey.RESOURCE)[0])


@pytest.fixture
def api(firestop_home, tmp_path, monkeypatch):
    folder = gated_leaked_key(tmp_path / "playbooks", "{mode: required, approvers: [oid-alice, grp-secops], two_person: true}")
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        yield Api(env, server, function_app())
    env.close()


class Api:
    def __init__(self, env, server, app) -> None:
        self.env, self.server, self.app = env, server, app

    def call(self, function: str, method: str, url: str, *, who: str | None = "oid-alice", groups=(), body=None, route=None,
             params=None, peer: str | None = "127.0.0.1"):
        """Call ``function`` as ``who`` (sandbox demo roles: oid-alice responder + approver, oid-mallory reader,
        grp-secops approver) from ``peer``, as firestop serve would stamp it."""
        from firestop.runtime import invoke_http_function

        headers = {"content-type": "application/json"}
        if who:
            headers["x-ms-client-principal"] = encode_principal(who, groups=tuple(groups))
        headers = stamp_peer(headers, peer)
        request = func.HttpRequest(method=method, url=f"http://localhost:7071/api/{url}", headers=headers,
                                   body=json.dumps(body).encode() if body is not None else b"", route_params=route or {}, params=params or {})
        response = invoke_http_function(self.app, function, request, server=self.server)
        return response.status_code, json.loads(response.get_body() or b"null")

    def open_incident(self):
        status, _ = self.call("post_alert", "POST", "alerts", body=json.loads(EXAMPLE.read_text()))
        assert status == 202
        self.env.host.run_until_idle()


def test_no_identity_is_401_with_the_reason(api):
    status, body = api.call("list_incidents_http", "GET", "incidents", who=None)
    assert status == 401 and "App Service authentication" in body["reason"]
    assert "principal header" in body["fix"] and "x-functions-key" in body["fix"]  # locally both are needed


def test_approval_through_the_api(api):
    api.open_incident()
    status, incidents = api.call("list_incidents_http", "GET", "incidents", params={"status": "awaiting_approval"})
    assert status == 200 and [i["incident_id"] for i in incidents] == [INCIDENT]
    route = {"incident_id": INCIDENT, "step": "lock-network"}
    status, body = api.call("decide_http", "POST", f"incidents/{INCIDENT}/approvals/lock-network", who="oid-mallory", route=route, body={"decision": "approve"})
    assert status == 403 and body["error"] == "role" and "approver role" in body["reason"]  # a reader only
    status, body = api.call("decide_http", "POST", f"incidents/{INCIDENT}/approvals/lock-network", who="oid-bob", groups=["grp-secops-oncall"],
                            route=route, body={"decision": "approve"})
    assert status == 403 and "not among the approvers" in body["reason"]  # the approver role, but not this step's approver
    assert not _approval_events(api)  # refused at the edge: nothing raised, nothing in the orchestration's history
    status, body = api.call("decide_http", "POST", "x", route={"incident_id": INCIDENT, "step": "rotate-keys"}, body={"decision": "approve"})
    assert status == 409 and "lock-network" in body["reason"]
    status, body = api.call("decide_http", "POST", "x", route=route, body={"decision": "maybe"})
    assert status == 400 and body["error"] == "decision"
    status, body = api.call("decide_http", "POST", "x", who="oid-carol", groups=["grp-secops"], route=route, body={"decision": "approve", "comment": "go"})
    assert status == 202 and body["by"] == "oid-carol"
    api.env.host.run_until_idle()
    status, record = api.call("get_incident_http", "GET", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert status == 200 and record["status"] == "contained"
    assert [(a["by"], a["verdict"]) for a in record["approvals"]] == [("oid-carol", "approve")]
    assert len(_approval_events(api)) == 1  # carol's


def _approval_events(api) -> list:
    """The ``approval:*`` events the incident's orchestration received (its history)."""
    history = api.env.host.get_status(INCIDENT, show_history=True).history or []
    return [e for e in history if e.get("EventType") == 15 and str(e.get("Name", "")).startswith("approval:")]


def test_refused_decisions_are_answered_403_and_never_raised(api):
    """approvals9: an approver-role caller not among the step's approvers, over and over, costs the orchestration
    nothing (the API judged it against pending_approval and raised nothing); a listed approver then decides."""
    api.open_incident()
    route = {"incident_id": INCIDENT, "step": "lock-network"}
    before = len(api.env.host.get_status(INCIDENT, show_history=True).history)
    for _ in range(30):
        status, body = api.call("decide_http", "POST", "x", who="oid-bob", groups=["grp-secops-oncall"], route=route,
                                body={"decision": "reject"})
        assert status == 403 and body["error"] == "approvers" and "not among the approvers" in body["reason"]
    api.env.host.run_until_idle()
    waiting = api.env.host.get_status(INCIDENT, show_history=True)
    assert len(waiting.history) == before and not _approval_events(api)
    assert waiting.custom_status["pending_approval"]["refused_decisions"] == 0
    status, body = api.call("decide_http", "POST", "x", who="oid-carol", groups=["grp-secops"], route=route,
                            body={"decision": "approve"})
    assert status == 202
    api.env.host.run_until_idle()
    status, record = api.call("get_incident_http", "GET", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert record["status"] == "contained" and [(a["by"], a["verdict"]) for a in record["approvals"]] == [("oid-carol", "approve")]


def test_an_unknown_status_filter_is_400_naming_the_statuses(api):
    """``?status=`` with a typo answered 200 ``[]`` — "nothing waiting" — where incident list --status exits 2."""
    api.open_incident()
    status, body = api.call("list_incidents_http", "GET", "incidents", params={"status": "awaiting-approval"})
    assert status == 400 and body["error"] == "status" and "awaiting_approval" in body["fix"]
    status, incidents = api.call("list_incidents_http", "GET", "incidents", params={"status": "awaiting_approval"})
    assert status == 200 and [i["incident_id"] for i in incidents] == [INCIDENT]


def test_unknown_incident_is_404(api):
    status, body = api.call("get_incident_http", "GET", "incidents/nope", route={"incident_id": "nope"})
    assert status == 404 and body["error"] == "incident_id"


def test_runbook_plan_by_default_changes_nothing_and_apply_acts(api):
    before = api.env.tenant.resource(ACCOUNT)
    status, answer = api.call("run_runbook_http", "POST", "runbooks/network.lock", route={"name": "network.lock"}, body={"target": ACCOUNT})
    assert status == 200 and answer["action"] == "plan" and answer["requested_by"] == "oid-alice"
    assert api.env.tenant.resource(ACCOUNT) == before
    status, answer = api.call("run_runbook_http", "POST", "runbooks/network.lock", route={"name": "network.lock"}, body={"target": ACCOUNT, "mode": "apply"})
    assert status == 200 and answer["result"]["changed"] is True
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"


@pytest.mark.parametrize(
    ("name", "body", "status", "field"),
    [
        ("nope", {"target": ACCOUNT}, 404, "name"),
        ("network.lock", {"target": ACCOUNT, "mode": "yolo"}, 400, "mode"),
        ("network.lock", {"target": ACCOUNT, "params": []}, 400, "params"),
    ],
)
def test_runbook_bad_parameters(api, name, body, status, field):
    got, answer = api.call("run_runbook_http", "POST", f"runbooks/{name}", route={"name": name}, body=body)
    assert got == status and answer["error"] == field


def test_runbook_failure_is_422_with_the_mapped_error(api):
    status, answer = api.call("run_runbook_http", "POST", "runbooks/network.lock", route={"name": "network.lock"},
                              body={"target": "/subscriptions/x", "params": {"allow_ips": ["nope"]}})
    assert status == 422 and answer["error"]["kind"] == "invalid"
