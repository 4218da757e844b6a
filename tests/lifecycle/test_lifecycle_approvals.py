"""Approval gates: granted, rejected, timed out (each on_timeout), two-person rule, approvers, required_if."""

from __future__ import annotations

from .conftest import ALICE, BOB, LOCK, MALLORY, playbook


def gated(**approval) -> dict:
    return playbook({**LOCK, "approval": {"mode": "required", "approvers": [ALICE, BOB], "timeout": 600, **approval}})


def events(status, step="lock-network") -> list[str]:
    return [e["outcome"] for e in status.output["timeline"] if e["step"] == step]


def test_approval_granted_then_contained(lab):
    iid = lab.start(gated())
    waiting = lab.run(iid)
    assert waiting.runtime_status == "Running"
    pending = waiting.custom_status["pending_approval"]
    assert pending["step"] == "lock-network" and pending["event"] == "approval:lock-network"
    assert pending["changes"][0]["field"] == "properties.networkAcls"  # the dry-run the approver sees
    assert lab.acls()["defaultAction"] == "Allow"  # nothing acts before approval
    lab.decide(iid, "lock-network", "approve", ALICE, comment="go")
    done = lab.run(iid)
    assert done.output["status"] == "contained"
    assert lab.acls()["defaultAction"] == "Deny"
    assert done.output["approvals"][0]["verdict"] == "approve" and done.output["approvals"][0]["by"] == ALICE
    assert done.output["metrics"]["mtta_s"] is not None
    assert events(done)[:2] == ["awaiting approval", "approved"]


def test_approval_rejected_does_not_act(lab):
    iid = lab.start(gated())
    lab.run(iid)
    lab.decide(iid, "lock-network", "reject", BOB, comment="not now")
    done = lab.run(iid)
    assert done.output["status"] == "needs_responder"
    assert lab.acls()["defaultAction"] == "Allow"
    assert any("rejected" in line for line in done.output["does_not_hold"])
    assert "rejected" in events(done)


def test_timeout_aborts_by_default(lab):
    iid = lab.start(gated())
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "needs_responder"
    assert lab.acls()["defaultAction"] == "Allow"
    assert events(done)[-1] == "approval timed out"


def test_timeout_proceed_acts(lab):
    iid = lab.start(gated(on_timeout="proceed"))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "contained"
    assert lab.acls()["defaultAction"] == "Deny"


def test_timeout_escalate_waits_once_more_then_aborts(lab):
    iid = lab.start(gated(on_timeout="escalate"))
    done = lab.run(iid, advance_timers=True)
    outcomes = events(done)
    assert outcomes.index("escalated") < outcomes.index("approval timed out")
    assert done.output["status"] == "needs_responder"


def test_escalated_request_can_still_be_approved(lab):
    from datetime import datetime, timedelta

    iid = lab.start(gated(on_timeout="escalate"))
    pending = lab.run(iid).custom_status["pending_approval"]
    # move simulated time past the first deadline only, then approve
    lab.tenant.clock.set(datetime.fromisoformat(pending["expires_at"]) + timedelta(seconds=1))
    escalated = lab.run(iid)
    assert escalated.custom_status["pending_approval"]["escalated"] is True
    lab.decide(iid, "lock-network", "approve", ALICE)
    assert lab.run(iid).output["status"] == "contained"


def test_two_person_rule_refuses_the_requester(lab):
    iid = lab.start(gated(two_person=True), requested_by=BOB)
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", BOB)
    still = lab.run(iid)
    assert still.runtime_status == "Running"  # a refused decision does not count
    assert lab.acls()["defaultAction"] == "Allow"
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid)
    assert done.output["status"] == "contained"
    verdicts = [(a["by"], a["verdict"]) for a in done.output["approvals"]]
    assert verdicts == [(BOB, "refused"), (ALICE, "approve")]
    assert "two-person" in done.output["approvals"][0]["reason"]


def test_only_listed_approvers_or_their_groups_count(lab):
    iid = lab.start(gated(approvers=[ALICE, "grp-secops"]))
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", MALLORY)
    assert lab.run(iid).runtime_status == "Running"
    lab.decide(iid, "lock-network", "approve", "oid-carol", groups=["grp-secops"])
    done = lab.run(iid)
    assert done.output["status"] == "contained"
    assert done.output["approvals"][0]["verdict"] == "refused" and "not among the approvers" in done.output["approvals"][0]["reason"]


def test_decision_as_json_text_like_the_sdk_client_sends(lab):
    iid = lab.start(gated())
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", ALICE, as_text=True)
    assert lab.run(iid).output["status"] == "contained"


def test_required_if_gates_only_when_the_condition_holds(lab):
    cond = {"mode": "required_if", "condition": "alert.severity <= 1", "approvers": [ALICE]}
    sev1 = lab.start(gated(**cond), alert=lab.alert(severity="Sev1"))
    assert lab.run(sev1).runtime_status == "Running"
    lab.host.terminate(sev1, "test done")
    sev3 = lab.start(gated(**cond), alert=lab.alert(severity="Sev3", alertId="/subscriptions/x/alerts/sev3"))
    assert lab.run(sev3).output["status"] == "contained"


def test_required_if_fails_closed_when_it_cannot_decide(lab):
    cond = {"mode": "required_if", "condition": "target.tags.owner == 'secops'", "approvers": [ALICE]}
    iid = lab.start(gated(**cond))
    status = lab.run(iid)
    assert status.runtime_status == "Running"
    assert "cannot be decided" in status.custom_status["pending_approval"]["why"]


def test_required_if_reads_target_tags(lab):
    cond = {"mode": "required_if", "condition": "target.tags.environment == 'production'", "approvers": [ALICE]}
    iid = lab.start(gated(**cond))
    status = lab.run(iid)  # the seeded account is tagged environment=production
    assert status.runtime_status == "Running"
    assert "environment == 'production'" in status.custom_status["pending_approval"]["why"]


def test_a_buffered_refused_decision_is_not_replayed_forever(lab):
    # Raised before the gate waits: the SDK buffers it and would hand it to every later wait.
    iid = lab.start(gated())
    lab.decide(iid, "lock-network", "approve", MALLORY)
    done = lab.run(iid, advance_timers=True)
    assert done.runtime_status == "Completed"
    assert [a["verdict"] for a in done.output["approvals"]] == ["refused"]
    assert done.output["status"] == "needs_responder" and lab.acls()["defaultAction"] == "Allow"


def test_escalation_pages_the_team(firestop_home, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler

    from tests.stub_servers import HTTPServer

    from .conftest import Lab

    pages: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            pages.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setenv("FIRESTOP_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    lab = Lab()
    try:
        iid = lab.start(gated(on_timeout="escalate"))
        done = lab.run(iid, advance_timers=True)
    finally:
        lab.env.close()
        server.shutdown()
    assert len(pages) == 1 and "Approval needed: lock-network" in json.dumps(pages[0])
    escalated = next(e for e in done.output["timeline"] if e["outcome"] == "escalated")
    assert "team notified" in escalated["detail"]


def test_record_anchors_the_ledger_head(lab):
    from runbooks.ledger import Ledger

    iid = lab.start(gated(on_timeout="proceed"))
    done = lab.run(iid, advance_timers=True)
    head = done.output["ledger_head"]
    entries = Ledger(lab.env.settings.ledger_dir).entries(iid)
    assert head["entries"] >= 1
    assert entries[head["entries"] - 1]["hash"] == head["head"]  # the head before the record was filed
