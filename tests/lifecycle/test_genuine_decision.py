"""An alert not confirmed at its source waits for one responder decision, "this alert is genuine", not one approval
per step (leftovers11 item 1; new user 10: three round trips for leaked-key at 3 a.m., evidence included).

With FIRESTOP_ALERT_SOURCE_CHECK on, intake writes ``"responder_flow": 2`` into the sealed input: the orchestrator asks
``alert.genuine`` once, before the first step that acts; evidence steps never wait on it; approved, the steps run as
for a confirmed alert (their own gates stay); rejected or timed out, no acting step runs. An input without the field
(written before it) keeps the approval per step it ran with."""

from __future__ import annotations

import json

import pytest

from firestop.cli.incidents import decide
from firestop.lifecycle.incident import GENUINE_STEP
from tests.e2e.test_webhook import ACCOUNT, alert_body, post, served, what_intake_did# noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("check_on")


@pytest.fixture
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _forged(served) -> str:  # noqa: F811
    """A leaked-key alert Azure Monitor never fired (not confirmed at its source), posted to the webhook."""
    env, server, app = served
    response = post(app, server, alert_body())
    assert response.status_code == 202, response.get_body()
    incident_id = what_intake_did(response)["id"]
    env.host.run_until_idle()
    return incident_id


def _pending(env, incident_id: str) -> dict:
    status = env.host.get_status(incident_id)
    assert status.runtime_status == "Running", status.runtime_status
    pending = status.custom_status["pending_approval"]
    assert pending is not None
    return pending


def _outcomes(timeline: list[dict], step: str) -> list[str]:
    return [e["outcome"] for e in timeline if e.get("step") == step]


def test_one_decision_lets_every_step_run_and_evidence_does_not_wait_for_it(served):  # noqa: F811
    env, _, _ = served
    keys = dict(env.tenant.account_keys(ACCOUNT))
    incident_id = _forged(served)
    assert env.host.get_status(incident_id).input["responder_flow"] == 2
    pending = _pending(env, incident_id)
    assert pending["step"] == GENUINE_STEP and pending["event"] == f"approval:{GENUINE_STEP}"
    # the why is flat (no parenthesised cause inside another) and names what the source said, whole
    assert pending["why"].startswith("alert not confirmed at its source: alert not found at its source")
    assert "(alert not" not in pending["why"] and "…" not in pending["why"]
    timeline = env.host.get_status(incident_id).custom_status["timeline"]
    assert _outcomes(timeline, "snapshot-logs") == ["done"]  # the evidence step of the group ran before the decision
    assert dict(env.tenant.account_keys(ACCOUNT)) == keys  # nothing that acts ran
    from firestop.lifecycle.view import incident_view
    from firestop.lifecycle.cli_hints import unconfirmed_hint

    status = env.host.get_status(incident_id)
    hint = unconfirmed_hint(incident_view(incident_id, "Running", status.custom_status, None))
    assert f"approve {GENUINE_STEP} if it is there" in hint and "Azure Monitor → Alerts" in hint

    view = decide(env, incident_id, GENUINE_STEP, "approve", "oid-alice", comment="seen in Azure Monitor")
    assert view["status"] == "contained", view.get("reason")
    assert dict(env.tenant.account_keys(ACCOUNT)) != keys
    record = env.host.get_status(incident_id).output
    assert [(a["step"], a["verdict"], a["by"]) for a in record["approvals"]] == [(GENUINE_STEP, "approve", "oid-alice")]
    assert any(n.startswith("alert decided genuine by oid-alice") for n in record["notes"])
    assert GENUINE_STEP not in {a["step_id"] for a in record["actions"]}  # a decision, not an action to undo


def test_a_rejected_alert_runs_no_step_that_acts(served):  # noqa: F811
    env, _, _ = served
    keys = dict(env.tenant.account_keys(ACCOUNT))
    incident_id = _forged(served)
    view = decide(env, incident_id, GENUINE_STEP, "reject", "oid-alice", comment="not in Azure Monitor: forged")
    assert view["status"] == "needs_responder"
    assert dict(env.tenant.account_keys(ACCOUNT)) == keys
    record = env.host.get_status(incident_id).output
    assert [(a["step"], a["verdict"]) for a in record["approvals"]] == [(GENUINE_STEP, "reject")]
    for step in ("rotate-keys", "lock-network"):
        assert _outcomes(record["timeline"], step) == ["not run"], step
        assert [a["error"]["kind"] for a in record["actions"] if a["step_id"] == step] == ["rejected"], step
    assert _outcomes(record["timeline"], "snapshot-logs")[0] == "done"


def test_an_input_written_before_the_flow_keeps_one_approval_per_step(served, monkeypatch):  # noqa: F811
    import firestop.lifecycle.start as start

    written = start.incident_input

    def older(*args, **kwargs):
        inp = written(*args, **kwargs)
        inp.pop("responder_flow", None)
        return inp

    monkeypatch.setattr(start, "incident_input", older)
    env, _, _ = served
    incident_id = _forged(served)
    assert "responder_flow" not in env.host.get_status(incident_id).input
    pending = _pending(env, incident_id)
    assert pending["step"] != GENUINE_STEP
    assert pending["why"].startswith("alert not confirmed at its source (")  # as it was worded then


def test_a_rejected_alert_says_it_was_judged_not_genuine_not_containment_incomplete(served):  # noqa: F811
    """New user 11: rejecting alert.genuine ended "needs_responder — containment incomplete: a responder must act on
    what does not hold" right after the responder judged the alert forged. The outcome says who judged it, that
    nothing was contained, why it was not confirmed and what to do next; ``alert_genuine`` carries the decision."""
    env, _, _ = served
    incident_id = _forged(served)
    view = decide(env, incident_id, GENUINE_STEP, "reject", "oid-alice", comment="not in Azure Monitor: forged")
    assert view["status"] == "needs_responder"  # exit 3: a responder still has to act (the webhook key)
    reason = view["reason"]
    assert "containment incomplete" not in reason
    assert reason.startswith("judged not genuine by oid-alice ('not in Azure Monitor: forged'): nothing was contained")
    assert "alert not found at its source" in reason and "webhook key" in reason and "--rerun" in reason
    record = env.host.get_status(incident_id).output
    assert record["reason"] == reason
    assert record["alert_genuine"]["decision"] == "reject" and record["alert_genuine"]["by"] == "oid-alice"
    assert record["alert_genuine"]["comment"] == "not in Azure Monitor: forged"
    assert record["alert_genuine"]["not_confirmed"].startswith("alert not found at its source")
    from firestop.records.render import render_markdown

    assert "judged not genuine by oid-alice" in render_markdown(record)  # the filed record's Markdown




def test_the_genuine_card_lists_what_each_held_step_acts_on(served, capsys):  # noqa: F811
    """leftovers12 item 3: the alert.genuine card listed step names only (the per-step flow showed each step's target):
    approving blocked an IP nobody was shown. It lists each held step's targets and parameters — CLI, console
    (escaped), the record's alert_genuine — bounded as a plan's blast radius."""
    from firestop.cli.output import print_incident
    from firestop.console.pages import approval_card
    from firestop.lifecycle.view import incident_view
    from firestop.settings import REPO_ROOT

    env, server, app = served
    body = json.loads((REPO_ROOT / "examples" / "alerts" / "content-abuse.json").read_text(encoding="utf-8"))
    body["data"]["essentials"]["alertId"] += "0"  # an alert Azure Monitor never fired: not confirmed
    response = post(app, server, json.dumps(body).encode())
    assert response.status_code == 202, response.get_body()
    incident_id = what_intake_did(response)["id"]
    env.host.run_until_idle()
    pending = _pending(env, incident_id)
    assert pending["step"] == GENUINE_STEP
    held = pending["held_steps"]
    blocking = next(items for what, items in held.items() if "(network.block_ips)" in what or "ips: " in " ".join(items))
    assert any(i.startswith("on /subscriptions/") for i in blocking) and any(i.startswith("ips: [") for i in blocking), held
    ip = json.loads(next(i for i in blocking if i.startswith("ips: "))[len("ips: "):])[0]
    status = env.host.get_status(incident_id)
    print_incident(incident_view(incident_id, "Running", status.custom_status, None))
    shown = " ".join(capsys.readouterr().out.split())
    assert "Approving lets these steps act:" in shown and ip in shown
    card = approval_card(incident_id, {**pending, "held_steps": {**held, "x (y)": ["<script>alert(1)</script>"]}},
                         may_decide=False, why_not="", token=None)
    assert "Approving lets these steps act" in card and ip in card
    assert "<script>" not in card and "&lt;script&gt;" in card
    decide(env, incident_id, GENUINE_STEP, "reject", "oid-alice")
    assert env.host.get_status(incident_id).output["alert_genuine"]["held_steps"] == held


def test_the_held_steps_stay_within_their_share_of_the_custom_status():
    """Azure caps the custom status at 8,192 characters with the timeline so far beside it: held_steps keeps at most
    HELD_STEPS_CHARS of JSON, whatever the playbook or the delivery names, and says what it left out."""
    from firestop.lifecycle.incident import HELD_STEPS_CHARS, bound_held

    huge = {f"step-{n} (network.block_ips)": [f"ips: {json.dumps([f'203.0.113.{i}' for i in range(200)])}",
                                               *(f"on /subscriptions/{'x' * 300}/{i}" for i in range(50))]
            for n in range(20)}
    kept = bound_held(huge)
    assert len(json.dumps(kept, ensure_ascii=False)) <= HELD_STEPS_CHARS
    assert any(k.startswith("… and ") and k.endswith("more step(s)") for k in kept)
    first = kept["step-0 (network.block_ips)"]
    assert first[0].endswith(", …] (+191 more)") and first[-1].endswith("more (left out)")  # cut_held_item, below
    small = {"rotate-keys (keys.rotate)": ["on /subscriptions/s/x"]}
    assert bound_held(small) == small


def test_a_cut_card_item_says_how_much_it_left_out():
    """cli13 item 3 (new user 12): an item past HELD_ITEM_CHARS ended "…" — 3 more IPs or 300? A list parameter keeps
    the values that fit and counts the rest; other text counts the characters left out. Fails before (a bare '…')."""
    from firestop.lifecycle.incident import HELD_ITEM_CHARS, cut_held_item

    ips = [f"203.0.113.{i}" for i in range(200)]
    listed = cut_held_item(f"ips: {json.dumps(ips)}")
    assert len(listed) <= HELD_ITEM_CHARS and listed.startswith('ips: ["203.0.113.0", "203.0.113.1", ')
    shown = listed[len("ips: ["):listed.index(", …]")].split(", ")
    assert [json.loads(v) for v in shown] == ips[:len(shown)] and listed.endswith(f", …] (+{200 - len(shown)} more)")
    target = "on /subscriptions/" + "x" * 300
    text = cut_held_item(target)
    assert len(text) == HELD_ITEM_CHARS and text.endswith("… (+182 more characters)") and target.startswith(text[:136])
    assert cut_held_item("x" * HELD_ITEM_CHARS) == "x" * HELD_ITEM_CHARS  # at the bound: whole


@pytest.mark.parametrize("decision", ["reject", "timeout"])
def test_later_steps_held_by_the_decision_do_not_say_an_earlier_step_failed(served, decision):  # noqa: F811
    """newuser12: rejecting alert.genuine on a suspicious-key-access alert listed "revoke-principal: not run (an earlier
    step failed)" under "does not hold" — nothing had failed; the responder had judged the alert not genuine (or
    nobody decided in time). The later group's line names that decision instead."""
    from firestop.settings import REPO_ROOT

    env, server, app = served
    response = post(app, server, (REPO_ROOT / "examples/alerts/suspicious-key-access.json").read_bytes())
    assert response.status_code == 202, response.get_body()
    incident_id = what_intake_did(response)["id"]
    env.host.run_until_idle()
    assert _pending(env, incident_id)["step"] == GENUINE_STEP
    if decision == "reject":
        decide(env, incident_id, GENUINE_STEP, "reject", "oid-alice", comment="forged")
    else:
        env.host.run_until_idle(advance_timers=True)
    record = env.host.get_status(incident_id).output
    assert record["status"] == "needs_responder"
    later = [line for line in record["does_not_hold"] if line.startswith("revoke-principal:")]
    why = ("the alert was not accepted as genuine" if decision == "reject"
           else "no responder decided in time whether the alert is genuine")
    assert later == [f"revoke-principal: not run ({why}, step {GENUINE_STEP})"], record["does_not_hold"]


def test_a_differing_delivery_after_a_rejected_incident_does_not_send_the_responder_there(served):  # noqa: F811
    """newuser12: after a responder rejected alert.genuine (the incident ended needs_responder), a differing delivery of
    the same alert id, not confirmed either, ended with "delivered while incident X … was open …: nothing runs here;
    a responder decides there" — X was not open and nothing waited there. The reason names both cases."""
    env, server, app = served
    body = json.loads(alert_body())
    first = post(app, server, json.dumps(body).encode())
    incident_id = what_intake_did(first)["id"]
    env.host.run_until_idle()
    decide(env, incident_id, GENUINE_STEP, "reject", "oid-alice", comment="forged")
    assert env.host.get_status(incident_id).runtime_status == "Completed"
    body["data"]["essentials"]["severity"] = "Sev0"  # the same alert id, other content
    second = post(app, server, json.dumps(body).encode())
    assert second.status_code == 202, second.get_body()
    variant = what_intake_did(second)["id"]
    assert variant != incident_id
    env.host.run_until_idle()
    record = env.host.get_status(variant).output
    assert record["status"] == "needs_responder", record.get("reason")
    reason = record["reason"]
    # variants14 item 2: the incident's tally says it ended, so the reason says that case only (and asks here)
    assert "was open" not in reason and f"incident {incident_id} has ended" in reason, reason
    assert "nothing waits for a responder there" in reason and "--rerun" in reason, reason
