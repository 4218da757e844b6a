"""RT8-02's leftover (approvals9): refused decisions grew an incident's history and record without bound.

Attack: an approver-role caller not among the step's approvers (carol, through ``grp-secops``) sends refused decisions
over and over. The API raised each one (to have it on the timeline): every refusal was 8 history events in two
episodes (its EventRaised, the ``verify_seal`` activity, a new timer, two episode pairs), and the replay of a
growing history made each next one dearer (200 refusals: the last 150 cost 3.65 s of CPU); each was also an
``approvals`` entry and a timeline entry of the record.

Fixed: the senders refuse at the edge and raise nothing (tests/e2e/test_http_api.py); what still reaches the
orchestrator (a stale read of ``pending_approval``, the Durable system key: raised here straight to the published
name) is bounded — after KEPT_REFUSALS kept in full, a refusal is judged without the seal-check activity, in the
episode that brought it: its EventRaised, one TimerCreated (the gate's next wait) and the episode's two markers; the
record keeps KEPT_REFUSALS + 1 summary + TAIL_REFUSALS entries and the timeline KEPT_REFUSALS + 1. A listed
approver's decision afterwards is read and acted on.
"""

from __future__ import annotations

from collections import Counter

from firestop.lifecycle.approvals import KEPT_REFUSALS, TAIL_REFUSALS, RefusalRecord
from tests.lifecycle.conftest import ALICE, lab  # noqa: F401 — the fixture
from tests.lifecycle.test_lifecycle_approvals import gated

CAROL = "oid-carol"  # approver role through grp-secops (the sandbox's demo table), not among the step's approvers
FLOOD = 40  # refusals beyond the ones kept in full
EVENT_TYPES = {0: "ExecutionStarted", 4: "TaskScheduled", 5: "TaskCompleted", 10: "TimerCreated", 11: "TimerFired",
               12: "OrchestratorStarted", 13: "OrchestratorCompleted", 15: "EventRaised"}


def history(lab, iid) -> list[str]:  # noqa: F811
    return [EVENT_TYPES.get(e["EventType"], str(e["EventType"])) for e in lab.host.get_status(iid, show_history=True).history]


def refuse(lab, iid, n: int, *, together: int = 1) -> None:  # noqa: F811
    for _ in range(n):
        for _ in range(together):
            lab.decide(iid, "lock-network", "reject", CAROL, groups=["grp-secops"])
        lab.run(iid)


def test_a_flood_of_refusals_costs_one_event_each_beyond_its_own_and_the_approver_still_decides(lab):  # noqa: F811
    iid = lab.start(gated())  # approvers: alice, bob
    lab.run(iid)
    refuse(lab, iid, KEPT_REFUSALS)
    kept = history(lab, iid)
    refuse(lab, iid, FLOOD)
    added = Counter(history(lab, iid)[len(kept):])
    # per refusal: its EventRaised, the next wait's TimerCreated, the host's episode markers — no activity, nothing else
    assert added == Counter({"OrchestratorStarted": FLOOD, "EventRaised": FLOOD, "TimerCreated": FLOOD,
                             "OrchestratorCompleted": FLOOD}), added
    waiting = lab.run(iid)
    assert waiting.runtime_status == "Running"
    assert waiting.custom_status["pending_approval"]["refused_decisions"] == KEPT_REFUSALS + FLOOD

    lab.decide(iid, "lock-network", "approve", ALICE, comment="contain it")
    done = lab.run(iid, advance_timers=True)
    record = done.output
    assert record["status"] == "contained" and lab.acls()["defaultAction"] == "Deny"
    approvals = record["approvals"]
    assert approvals[-1]["by"] == ALICE and approvals[-1]["verdict"] == "approve"
    refused = approvals[:-1]
    assert len(refused) == KEPT_REFUSALS + 1 + TAIL_REFUSALS and all(a["verdict"] == "refused" for a in refused)
    assert [a["by"] for a in refused[:KEPT_REFUSALS]] == [CAROL] * KEPT_REFUSALS  # seal checked: who really sent it
    summary = refused[KEPT_REFUSALS]
    assert summary["count"] == FLOOD - TAIL_REFUSALS and summary["by"] is None
    assert KEPT_REFUSALS + summary["count"] + TAIL_REFUSALS == KEPT_REFUSALS + FLOOD  # every refusal counted
    assert all(a["by"] is None and repr(CAROL) in a["reason"] and "seal not checked" in a["reason"] for a in refused[-TAIL_REFUSALS:])
    outcomes = Counter(e["outcome"] for e in record["timeline"] if e["step"] == "lock-network")
    assert outcomes["decision refused"] == KEPT_REFUSALS and outcomes["refusals counted"] == 1


def test_refusals_raised_together_stay_bounded_and_the_gate_keeps_listening(lab):  # noqa: F811
    """Pairs in one episode: the SDK re-hands the buffered second one and the gate moves to a fresh name (RT8-02) —
    three waits for two refusals, still no activity past the kept ones and fewer events per refusal than singles."""
    iid = lab.start(gated())
    lab.run(iid)
    refuse(lab, iid, KEPT_REFUSALS)
    kept = history(lab, iid)
    refuse(lab, iid, FLOOD // 2, together=2)
    added = Counter(history(lab, iid)[len(kept):])
    assert set(added) == {"OrchestratorStarted", "EventRaised", "TimerCreated", "OrchestratorCompleted"}, added
    assert added["EventRaised"] == FLOOD and added["TimerCreated"] <= 3 * FLOOD // 2
    assert sum(added.values()) <= 4 * FLOOD
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "contained"
    assert len(done.output["approvals"]) == KEPT_REFUSALS + 1 + TAIL_REFUSALS + 1


def test_a_forged_decision_past_the_kept_ones_is_still_refused(lab):  # noqa: F811
    """Past KEPT_REFUSALS, a decision claiming a listed approver still has its seal checked: a forgery naming alice
    (raised with the system key, unsealed) is refused, alice's own decision counts."""
    iid = lab.start(gated())
    lab.run(iid)
    refuse(lab, iid, KEPT_REFUSALS + 2)
    pending = lab.run(iid).custom_status["pending_approval"]
    lab.host.raise_event(iid, pending["event"], {"incident_id": iid, "step": "lock-network", "requested_at": pending["requested_at"],
                                                 "decision": "approve", "by": ALICE, "decision_id": "forged", "seal": "x"})
    waiting = lab.run(iid)
    assert waiting.runtime_status == "Running" and lab.acls()["defaultAction"] == "Allow"
    assert waiting.custom_status["pending_approval"]["refused_decisions"] == KEPT_REFUSALS + 3
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "contained"
    assert "not from the authenticated API" in done.output["approvals"][-2]["reason"]


def test_the_refusal_record_keeps_the_first_and_newest_and_counts_the_rest():
    others = [{"step": "other", "verdict": "approve"}]
    approvals = list(others)
    record = RefusalRecord(approvals)
    for i in range(KEPT_REFUSALS + TAIL_REFUSALS + 25):
        record.add({"step": "s", "verdict": "refused", "by": None, "reason": "same", "at": f"t{i:03}"})
    assert record.count == KEPT_REFUSALS + TAIL_REFUSALS + 25
    assert approvals[:1] == others and len(approvals) == 1 + KEPT_REFUSALS + 1 + TAIL_REFUSALS
    ats = [a["at"] for a in approvals[1:]]
    assert ats[:KEPT_REFUSALS] == [f"t{i:03}" for i in range(KEPT_REFUSALS)]
    assert ats[-TAIL_REFUSALS:] == [f"t{i:03}" for i in range(KEPT_REFUSALS + 25, KEPT_REFUSALS + 25 + TAIL_REFUSALS)]
    summary = approvals[1 + KEPT_REFUSALS]
    assert (summary["count"], summary["at"], summary["last_at"]) == (25, f"t{KEPT_REFUSALS:03}", f"t{KEPT_REFUSALS + 24:03}")


def test_a_refusal_judged_without_its_seal_keeps_a_bounded_reason(lab):  # noqa: F811
    from firestop.lifecycle.incident import REFUSAL_REASON_CHARS

    iid = lab.start(gated())
    lab.run(iid)
    refuse(lab, iid, KEPT_REFUSALS)
    pending = lab.run(iid).custom_status["pending_approval"]
    lab.host.raise_event(iid, pending["event"], {"incident_id": iid, "step": "lock-network", "requested_at": pending["requested_at"],
                                                 "decision": "approve", "by": "x" * 100_000, "decision_id": "long"})
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "contained"
    long = done.output["approvals"][-2]
    assert long["verdict"] == "refused" and len(long["reason"]) <= REFUSAL_REASON_CHARS
    assert all(len(e["detail"]) < 1000 for e in done.output["timeline"])
