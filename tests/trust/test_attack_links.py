"""Issue 11 item 1, in-process: what a holder of the Durable system key can no longer do, and the paths that still work.

Each attack replays what the red team did with the management links (raise
an approval naming an approver, start the orchestrator with a pinned playbook
and ``requested_by``, start the step-group sub-orchestrator, reuse a sealed
input) straight against the local durable host — what the system key gives —
and asserts on the sandbox tenant and its request log that nothing was acted
on. The same attacks over real HTTP: ``test_attack_serve.py``.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid

import azure.functions as func
import pytest

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
PROD = f"{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DEV = f"{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
ALICE, BOB, MALLORY = "oid-alice", "oid-bob", "oid-mallory"
GATED = {"name": "gated", "match": {"rule_names": ["x"]},
         "contain": [{"id": "lock-network", "runbook": "network.lock",
                      "approval": {"mode": "required", "approvers": [ALICE], "timeout": 600}}]}
LOCK_ONLY = {"name": "lock", "match": {"rule_names": ["x"]}, "contain": [{"id": "lock-network", "runbook": "network.lock"}]}


def principal(object_id: str) -> str:
    claims = [{"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": object_id}]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


class Lab:
    """Sandbox tenant + local durable host + the Function App's HTTP functions, in-process."""

    def __init__(self, env, server, app) -> None:
        self.env, self.host, self.tenant, self.server, self.app = env, env.host, env.tenant, server, app

    # -- what intake does (trusted) -------------------------------------------------
    def incident_input(self, playbook: dict | None, *, target: str = PROD, alert_id: str | None = None) -> dict:
        from firestop.alerts import parse_alert
        from firestop.lifecycle.start import incident_input
        from firestop.playbooks import Playbook

        payload = json.loads(EXAMPLE.read_text())
        payload["data"]["essentials"]["alertTargetIDs"] = [target]
        payload["data"]["essentials"]["alertId"] = f"{SUB}/providers/Microsoft.AlertsManagement/alerts/{alert_id or uuid.uuid4()}"
        inp = incident_input(parse_alert(payload), received_at=self.tenant.clock.now(), sandbox=True)
        if playbook is not None:
            inp["playbook"] = Playbook.model_validate(playbook).model_dump(mode="json", by_alias=True)
        return inp

    def start_sealed(self, playbook: dict | None, **kwargs) -> str:
        from firestop.lifecycle import ORCHESTRATOR_NAME
        from firestop.trust.seal import Purpose, seal

        inp = self.incident_input(playbook, **kwargs)
        return self.host.start_new(ORCHESTRATOR_NAME, inp["incident_id"], seal(Purpose.INCIDENT, inp, binding=inp["incident_id"]))

    def run(self, instance: str, **kwargs):
        self.host.run_until_idle(instance, **kwargs)
        return self.host.get_status(instance)

    # -- the responders' API -----------------------------------------------------------
    def api(self, function: str, url: str, route: dict, body: dict, who: str = ALICE) -> tuple[int, dict]:
        from firestop.runtime import invoke_http_function

        from firestop.trust import stamp_peer

        headers = stamp_peer({"content-type": "application/json", "x-ms-client-principal": principal(who)}, "127.0.0.1")
        request = func.HttpRequest(method="POST", url=f"http://localhost:7071/api/{url}", body=json.dumps(body).encode(),
                                   headers=headers, route_params=route)
        response = invoke_http_function(self.app, function, request, server=self.server)
        return response.status_code, json.loads(response.get_body() or b"null")

    def approve_via_api(self, iid: str, step: str, who: str = ALICE) -> tuple[int, dict]:
        return self.api("decide_http", f"incidents/{iid}/approvals/{step}", {"incident_id": iid, "step": step},
                        {"decision": "approve", "comment": "checked"}, who)

    def stop_via_api(self, iid: str, reason: str, who: str = BOB) -> tuple[int, dict]:
        return self.api("stop_http", f"incidents/{iid}/stop", {"incident_id": iid}, {"reason": reason}, who)

    # -- what the sandbox saw ----------------------------------------------------------------
    def writes(self) -> list:
        """Requests that change the tenant (anything but GET and Log Analytics queries)."""
        return [r for r in self.tenant.requests if r.method not in ("GET", "HEAD") and "query" not in (r.operation or "")]

    def prop(self, resource: str, *path: str):
        value = self.tenant.resource(resource)["properties"]
        for key in path:
            value = (value or {}).get(key)
        return value


@pytest.fixture
def lab(firestop_home):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        yield Lab(env, server, function_app())
    env.close()


# -- forged approvals ----------------------------------------------------------------------
def test_a_forged_approval_event_is_refused_and_recorded_and_the_api_still_approves(lab, caplog):
    from firestop.lifecycle.approvals import decision_event
    from firestop.trust.seal import seal_decision

    iid = lab.start_sealed(GATED)
    pending = lab.run(iid).custom_status["pending_approval"]
    assert pending["step"] == "lock-network"
    writes_before = len(lab.writes())

    # 1. the red team's event: an approver's id in the payload, raised with the system key
    lab.host.raise_event(iid, "approval:lock-network", {"decision": "approve", "by": ALICE, "decision_id": "f1"})
    # 2. a decision sealed for another incident (captured from its history), replayed here
    other = seal_decision(decision_event("inc-other", pending, decision="approve", by=ALICE, decision_id="f2", at="x"))
    lab.host.raise_event(iid, "approval:lock-network", other)
    # 3. a genuinely sealed decision of MALLORY's, rewritten to name ALICE
    mallory = seal_decision(decision_event(iid, pending, decision="approve", by=MALLORY, decision_id="f3", at="x"))
    lab.host.raise_event(iid, "approval:lock-network", {**mallory, "by": ALICE})
    with caplog.at_level(logging.WARNING, logger="firestop.activities"):
        waiting = lab.run(iid)
    assert waiting.runtime_status == "Running"
    assert waiting.custom_status["pending_approval"]["refused_decisions"] == 3
    assert lab.prop(PROD, "networkAcls", "defaultAction") == "Allow"
    assert len(lab.writes()) == writes_before  # nothing acted on
    assert "refused approval input" in caplog.text and repr(f"{iid}/lock-network") in caplog.text

    status, body = lab.approve_via_api(iid, "lock-network")
    assert status == 202, body
    done = lab.run(iid)
    record = done.output
    assert record["status"] == "contained" and lab.prop(PROD, "networkAcls", "defaultAction") == "Deny"
    verdicts = [(a["verdict"], a["by"]) for a in record["approvals"]]
    assert verdicts == [("refused", None)] * 3 + [("approve", ALICE)]
    refused = [e["detail"] for e in record["timeline"] if e["outcome"] == "decision refused"]
    assert len(refused) == 3 and all("not from the authenticated API" in d for d in refused)
    assert "for incident 'inc-other'" in refused[1] and "seal does not match" in refused[2]
    assert sum(v == "approve" and by != ALICE for v, by in verdicts) == 0  # forged decisions accepted


def test_a_sealed_decision_cannot_answer_a_later_request(lab):
    """A decision captured from history names the request it answered (requested_at): replaying it later fails."""
    from firestop.lifecycle.approvals import decision_event
    from firestop.trust.seal import seal_decision

    iid = lab.start_sealed(GATED)
    pending = lab.run(iid).custom_status["pending_approval"]
    stale = seal_decision(decision_event(iid, {**pending, "requested_at": "2026-11-29T00:00:00+00:00"},
                                         decision="approve", by=ALICE, decision_id="old", at="x"))
    lab.host.raise_event(iid, "approval:lock-network", stale)
    assert lab.run(iid).custom_status["pending_approval"]["refused_decisions"] == 1
    assert lab.prop(PROD, "networkAcls", "defaultAction") == "Allow"


# -- direct starts ---------------------------------------------------------------------------
def test_a_direct_orchestrator_start_with_a_pinned_playbook_is_refused(lab, caplog):
    from firestop.lifecycle import ORCHESTRATOR_NAME

    pinned = {"name": "pinned", "match": {"rule_names": ["x"]},
              "contain": [{"id": "disable-auth", "runbook": "auth.disable_local_auth"}]}
    forged = {**lab.incident_input(pinned, target=DEV), "requested_by": MALLORY, "incident_id": "inc-forged"}
    before = lab.prop(DEV, "disableLocalAuth")
    with caplog.at_level(logging.WARNING, logger="firestop.activities"):
        done = lab.run(lab.host.start_new(ORCHESTRATOR_NAME, "inc-forged", forged))
    assert done.runtime_status == "Completed" and done.output["status"] == "refused"
    assert "no seal" in done.output["reason"] and done.output["actions"] == []
    assert done.custom_status["phase"] == "refused"
    assert lab.prop(DEV, "disableLocalAuth") == before and lab.tenant.requests == []  # not even a read
    assert "refused incident input for 'inc-forged'" in caplog.text and "requested_by='oid-mallory'" in caplog.text
    assert "pinned playbook='pinned'" in caplog.text


def test_a_sealed_input_cannot_be_altered_or_reused_for_another_instance(lab):
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.trust.seal import Purpose, seal

    inp = lab.incident_input(None)
    sealed = seal(Purpose.INCIDENT, inp, binding=inp["incident_id"])
    pinned = {**sealed, "requested_by": MALLORY,
              "playbook": {"name": "pinned", "match": {"rule_names": ["x"]}, "contain": [{"id": "l", "runbook": "network.lock"}]}}
    altered = lab.run(lab.host.start_new(ORCHESTRATOR_NAME, inp["incident_id"], pinned))
    reused = lab.run(lab.host.start_new(ORCHESTRATOR_NAME, "inc-elsewhere", sealed))
    assert altered.output["status"] == reused.output["status"] == "refused"
    assert "seal does not match" in altered.output["reason"] and "seal does not match" in reused.output["reason"]
    assert lab.writes() == [] and lab.prop(PROD, "networkAcls", "defaultAction") == "Allow"


def test_a_direct_step_group_start_is_refused_even_with_a_captured_seal(lab):
    from firestop.lifecycle import GROUP_ORCHESTRATOR

    forged = {"incident_id": "inc-x", "runs": [{"request": {
        "runbook": "network.lock", "action": "apply", "target": DEV, "params": {}, "incident_id": "inc-x",
        "step_id": "lock", "alert": {}}, "retry": {}, "timeout_seconds": None}]}
    done = lab.run(lab.host.start_new(GROUP_ORCHESTRATOR, "grp-forged", forged))
    assert done.output["refused"] is True and done.output["runs"] == [] and "no seal" in done.output["reason"]
    assert lab.prop(DEV, "networkAcls", "defaultAction") == "Allow" and lab.writes() == []

    # a legitimate incident seals its group for the child instance it names; that input is in history
    iid = lab.start_sealed(LOCK_ONLY, target=DEV)
    assert lab.run(iid, advance_timers=True).output["status"] == "contained"
    captured = lab.host.get_status(f"{iid}:group-1").input
    assert captured["seal"].startswith("v1.")
    requests = len(lab.tenant.requests)
    lab.run(lab.host.start_new(GROUP_ORCHESTRATOR, "grp-replayed", captured))
    replayed = lab.host.get_status("grp-replayed", show_history=True)
    assert replayed.output["refused"] is True and "seal does not match" in replayed.output["reason"]
    assert "run_runbook" not in json.dumps(replayed.history)  # no runbook was even scheduled
    assert len(lab.tenant.requests) == requests


# -- stop --------------------------------------------------------------------------------------
def test_a_stop_through_the_api_is_recorded_and_ends_the_incident(lab):
    iid = lab.start_sealed(GATED)
    lab.run(iid)
    lab.host.raise_event(iid, "stop", {"incident_id": iid, "by": MALLORY, "reason": "forged", "stop_id": "s0"})
    still = lab.run(iid)
    assert still.runtime_status == "Running"  # an unsealed stop changes nothing
    status, body = lab.stop_via_api(iid, "false positive: planned rotation")
    assert (status, body["stopping"], body["by"]) == (202, True, BOB)
    done = lab.run(iid)
    record = done.output
    assert record["status"] == "stopped" and record["stopped"]["by"] == BOB
    assert record["stopped"]["reason"] == "false positive: planned rotation"
    outcomes = {e["outcome"]: e["detail"] for e in record["timeline"]}
    assert "not from the authenticated API" in outcomes["stop refused"] and "'oid-mallory'" in outcomes["stop refused"]
    assert outcomes["stopped"] == "stopped by oid-bob: false positive: planned rotation"
    assert any(line.startswith("lock-network: not run") for line in record["does_not_hold"])
    assert lab.prop(PROD, "networkAcls", "defaultAction") == "Allow"
    assert record["record_files"], "the record is filed"
    assert lab.stop_via_api(iid, "again")[0] == 409  # finished: nothing to stop


def test_a_stop_before_the_first_step_wins_and_nothing_runs(lab):
    from firestop.trust.seal import seal_stop

    iid = lab.start_sealed(LOCK_ONLY)
    lab.host.raise_event(iid, "stop", seal_stop({"incident_id": iid, "by": BOB, "groups": [], "reason": "drill",
                                                  "stop_id": "s1", "at": "x"}))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "stopped" and done.output["contained_at"] is None
    assert lab.prop(PROD, "networkAcls", "defaultAction") == "Allow"
    assert "lock-network: not run (the incident was stopped)" in done.output["does_not_hold"]


def test_stop_needs_a_reason_and_an_incident(lab):
    iid = lab.start_sealed(GATED)
    lab.run(iid)
    assert lab.stop_via_api(iid, "")[0] == 400
    assert lab.stop_via_api(iid, "x" * 501)[0] == 400
    assert lab.stop_via_api("inc-nothing", "why")[0] == 404


@pytest.mark.parametrize("comment", ["x" * 300_000, "x" * 1001, {"nested": ["x"] * 10}, 7])
def test_an_approval_comment_is_bounded(lab, comment):
    iid = lab.start_sealed(GATED)
    lab.run(iid)
    route = {"incident_id": iid, "step": "lock-network"}
    status, body = lab.api("decide_http", f"incidents/{iid}/approvals/lock-network", route,
                           {"decision": "approve", "comment": comment})
    assert status == 400 and body["error"] == "comment" and "1,000" in body["reason"], body
    assert lab.run(iid).custom_status["pending_approval"]["step"] == "lock-network"  # nothing was decided
    status, _ = lab.api("decide_http", f"incidents/{iid}/approvals/lock-network", route,
                        {"decision": "approve", "comment": "y" * 1000})
    assert status == 202 and lab.run(iid).output["status"] == "contained"


# -- the key -----------------------------------------------------------------------------------
def test_the_seal_key_never_lands_in_history_records_or_logs(lab, caplog, firestop_home):
    from firestop.trust.seal import SEAL_KEY_FILE

    with caplog.at_level(logging.DEBUG):
        iid = lab.start_sealed(GATED)
        lab.run(iid)
        lab.host.raise_event(iid, "approval:lock-network", {"decision": "approve", "by": ALICE})
        lab.run(iid)
        assert lab.approve_via_api(iid, "lock-network")[0] == 202
        assert lab.run(iid).output["status"] == "contained"
    key = (firestop_home / SEAL_KEY_FILE).read_text().strip()
    assert len(key) >= 32
    history = json.dumps([lab.host.get_status(i.instance_id, show_history=True).history for i in lab.host.list_instances()])
    assert "verify_seal" in history and key not in history
    assert key not in caplog.text
    leaked = [p for p in firestop_home.rglob("*") if p.is_file() and p.name != SEAL_KEY_FILE and key.encode() in p.read_bytes()]
    assert leaked == []
